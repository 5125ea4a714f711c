"""Redaction results kept by input, with the effects they had on their entry, for repeats.

Most headers repeat from call to call, and a call's URL comes again in its ``:path`` header: a
result is computed once and replayed (counts, token summaries, cookie names, remembered secrets)
into each entry that meets the same input again.
"""

from __future__ import annotations

from typing import Any, Generic, Hashable, TypeVar

K = TypeVar("K", bound=Hashable)
Hit = tuple[str, Any]  # (redacted text, effects or None)


class Memo(Generic[K]):
    """Two generations of at most ``size`` results each: where every call brings new inputs (a
    token per call), a clear would also drop the inputs every call repeats."""

    __slots__ = ("size", "cur", "old")

    def __init__(self, size: int) -> None:
        self.size = size
        self.cur: dict[K, Hit] = {}
        self.old: dict[K, Hit] = {}

    def get(self, key: K) -> Hit | None:
        hit = self.cur.get(key)
        if hit is None and self.old:
            hit = self.old.get(key)
            if hit is not None:  # brought back into the current generation
                self.put(key, hit)
        return hit

    def put(self, key: K, hit: Hit) -> None:
        if len(self.cur) >= self.size:
            self.old, self.cur = self.cur, {}
        self.cur[key] = hit
