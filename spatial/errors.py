"""Domain errors: each carries a stable code and a Chinese and English message.

The web layer maps these classes to HTTP statuses in one place (``app/errors.py``); the
engine never mentions HTTP.
"""

from __future__ import annotations

from typing import Any


class RedlineError(Exception):
    """Base class: a stable ``code`` plus user messages in Chinese and English."""

    default_code = "error"

    def __init__(
        self,
        message_zh: str,
        message_en: str,
        *,
        code: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message_en)
        self.code = code or self.default_code
        self.message_zh = message_zh
        self.message_en = message_en
        self.details = details or {}


class InputError(RedlineError, ValueError):
    """The caller's input (site, project, file) cannot be used as given."""

    default_code = "invalid_input"


class TooLargeError(InputError):
    """An input exceeds a documented size limit (bytes, vertices, area)."""

    default_code = "too_large"


class NotFoundError(RedlineError, LookupError):
    """A screening, layer kind or version does not exist."""

    default_code = "not_found"


class ConflictError(RedlineError):
    """The request contradicts the current state (e.g. activating a refused version)."""

    default_code = "conflict"


class RuleFileError(RedlineError):
    """A rule or catalogue file is invalid; raised at load time, never mid-request."""

    default_code = "rules.invalid"

    def __init__(self, problems: list[str]) -> None:
        text = "\n".join(problems)
        super().__init__(f"规则文件校验失败：\n{text}", f"Rule files are invalid:\n{text}")
        self.problems = problems


class AuthError(RedlineError):
    """No valid credentials were given for an operation that needs them."""

    default_code = "auth.required"


class ForbiddenError(RedlineError):
    """The caller's role does not allow the operation."""

    default_code = "auth.forbidden"


class RequestTimeout(RedlineError):
    """The work took longer than its time limit."""

    default_code = "request.timeout"


class SandboxError(RedlineError):
    """The worker process screening a request failed (it died, or hit a bug)."""

    default_code = "screening.worker_failed"


class StoreBusyError(RedlineError):
    """The data store is locked or unavailable; retrying later may succeed."""

    default_code = "store.busy"


class DataError(RedlineError):
    """A layer file or the data store is unusable (corrupt, unmappable, wrong CRS)."""

    default_code = "data.invalid"


class LayerTamperedError(DataError):
    """A stored layer version's file differs from the sha256 recorded when it was stored
    (edited, damaged or missing): the version is refused, never screened."""

    default_code = "layer.tampered"
