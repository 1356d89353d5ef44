"""API tokens with roles, stored hashed (sha256) in the catalogue; the clear token is shown once.

Roles: ``gis_admin`` (upload, activate, roll back layers; everything a reviewer may do) and
``reviewer`` (list and re-run screenings). Anonymous callers may screen and read a screening by
its unguessable id.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Literal

from spatial import catalogue
from spatial.errors import InputError, NotFoundError
from spatial.layers.store import LayerStore, audit, now_iso

Role = Literal["gis_admin", "reviewer"]
ROLES: tuple[str, ...] = ("gis_admin", "reviewer")
_PREFIX = "rl_"


@dataclass(frozen=True)
class TokenInfo:
    """A token's public record (never the token itself)."""

    id: str
    name: str
    role: str
    created_at: str
    revoked_at: str | None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    """Create, check, list and revoke tokens."""

    def __init__(self, store: LayerStore):
        self.store = store

    def create(self, name: str, role: str, *, actor: str = "cli") -> tuple[str, TokenInfo]:
        """A new token; returns the clear token (shown once) and its record."""
        if role not in ROLES:
            raise InputError(f"角色无效：{role}，可选 {', '.join(ROLES)}", f"Invalid role {role}",
                             code="token.role_invalid")
        if not name.strip():
            raise InputError("令牌名称不能为空", "Token name must not be empty", code="token.name_empty")
        token = _PREFIX + secrets.token_urlsafe(32)
        digest = _digest(token)
        info = TokenInfo(digest[:12], name.strip(), role, now_iso(), None)
        with self.store.connect() as con:
            catalogue.insert_token(con, info.id, info.name, role, digest, info.created_at)
            audit(con, actor, "token_create", None, None, {"token_id": info.id, "role": role})
        return token, info

    def check(self, token: str) -> TokenInfo | None:
        """The active token's record, or None for unknown or revoked tokens."""
        if not token.startswith(_PREFIX) or len(token) > 200:
            return None
        with self.store.connect(write=False) as con:
            row = catalogue.token_by_hash(con, _digest(token))
        if row is None or row[4] is not None:
            return None
        return TokenInfo(*row)

    def revoke(self, token_id: str, *, actor: str = "cli") -> TokenInfo:
        """Revoke by id; the token stops working at once."""
        with self.store.connect() as con:
            if not catalogue.revoke_token(con, token_id, now_iso()):
                raise NotFoundError(f"令牌不存在或已撤销：{token_id}", f"No active token {token_id}",
                                    code="token.not_found")
            audit(con, actor, "token_revoke", None, None, {"token_id": token_id})
            row = catalogue.token_by_id(con, token_id)
        assert row is not None  # revoked just now, in this transaction
        return TokenInfo(*row)

    def list(self) -> list[TokenInfo]:
        """All tokens, newest first."""
        with self.store.connect(write=False) as con:
            rows = catalogue.token_rows(con)
        return [TokenInfo(*r) for r in rows]
