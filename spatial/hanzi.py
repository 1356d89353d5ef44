"""Simplified-character rendering of Chinese text for the reader (OpenCC, config ``t2s``).

Rule quotes stay verbatim (some seeds are in traditional characters); what a person reads —
the web page, the report, the CLI table — shows ``to_simplified(quote)`` next to it. The
converter is built once; callers convert at rule-load time, not per screening.
"""

from __future__ import annotations

from functools import lru_cache

import opencc


@lru_cache(maxsize=1)
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """``text`` with traditional characters converted to simplified (OpenCC t2s)."""
    return str(_converter().convert(text)) if text else text
