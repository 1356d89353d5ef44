"""Values cached per long-lived object, keyed by the object's identity.

Rules, their filters, rule sets and catalogues live as long as the rule set: what is derived
from one (a memo key, a filter mask, the rules a project concerns) is computed once and found
again by ``id``, which costs nothing where hashing the object would cost much or is impossible
(dicts). The object is kept with its value, so while the entry exists no other object can take
its id; past ``maxsize`` entries the cache starts over, so throwaway objects never pile up.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class IdentityCache(Generic[V]):
    """``get``/``put`` values per (object identity, key)."""

    __slots__ = ("_entries", "_maxsize")

    def __init__(self, maxsize: int):
        self._entries: dict[tuple[int, Hashable], tuple[object, V]] = {}
        self._maxsize = maxsize

    def get(self, obj: object, key: Hashable = None) -> tuple[V] | None:
        """``(value,)`` stored for ``obj`` and ``key``, or None (values may themselves be None)."""
        hit = self._entries.get((id(obj), key))
        return (hit[1],) if hit is not None and hit[0] is obj else None

    def put(self, obj: object, value: V, key: Hashable = None) -> V:
        """Store and return ``value`` for ``obj`` and ``key``."""
        if len(self._entries) >= self._maxsize:
            self._entries.clear()
        self._entries[(id(obj), key)] = (obj, value)
        return value
