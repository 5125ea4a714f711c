"""Secrets the redactor has seen, and a fast answer to "which of them occur in this text".

Every value redacted in a structured place (a cookie, a token header, a secret-named field) is
remembered with its URL and base64 forms, so the same secret is also caught where no rule would
see it (echoed in a body, inside an error message). Each entry is checked against all of them.

The check is a Hyperscan literal scan (about 1-2 us for a 2 KB entry whether 10 or 8,192
secrets are remembered; pyahocorasick, used before, took 16-115 us here). Compiling is the
cost (about 1 ms for 10 literals, 215 ms for 8,192), so new secrets go through generations: the
newest are looked up one by one, a small database holds the recent ones (rebuilt often,
cheaply), a big one holds the rest (rebuilt rarely). Without Hyperscan every lookup is one by one.
"""

from __future__ import annotations

import json
from collections import OrderedDict

from .. import jsoncodec
from .triggers import _hs

PENDING_MAX = 32  # looked up one by one until a small database is built
PENDING_LOOKUPS = 2000  # or until they have been looked up this often (about what a build costs)
SMALL_MAX = 512  # then folded into the big database


def escaped_forms(v: str) -> tuple[str, ...]:
    """How ``v`` looks inside serialised JSON (orjson's form, and the standard library's if other)."""
    std = json.dumps(v, ensure_ascii=False)[1:-1]
    fast = jsoncodec.dumps_str(v)[1:-1]
    return tuple(dict.fromkeys(f for f in (v, fast, std)))


def _on_match(i: int, _from: int, _to: int, _flags: int, ctx: tuple[list[str], set[str]]) -> None:
    ctx[1].add(ctx[0][i])


class _Literals:
    """One compiled literal database: which of its words occur in a text."""

    def __init__(self, words: list[str]) -> None:
        self.owner: list[str] = []
        self.odd: list[tuple[str, bytes]] = []  # forms holding a NUL byte, which the binding cannot pass
        data: list[bytes] = []
        for w in words:
            for form in escaped_forms(w):
                raw = form.encode("utf-8", "surrogatepass")
                if b"\x00" in raw:
                    self.odd.append((w, raw))
                else:
                    self.owner.append(w)
                    data.append(raw)
        self.db = None
        if data:
            self.db = _hs.Database(mode=_hs.HS_MODE_BLOCK)
            self.db.compile(expressions=data, ids=list(range(len(data))), elements=len(data),
                            flags=_hs.HS_FLAG_SINGLEMATCH, literal=True)

    def find(self, blob: bytes, out: set[str]) -> None:
        if self.db is not None:
            self.db.scan(blob, match_event_handler=_on_match, context=(self.owner, out))
        out.update(w for w, raw in self.odd if raw in blob)


class KnownSecrets:
    """Remembered secret variants, each mapped to its placeholder; oldest forgotten past ``limit``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.map: OrderedDict[str, str] = OrderedDict()
        self._pending: list[tuple[str, tuple[bytes, ...]]] = []
        self._lookups = 0
        self._small_words: list[str] = []
        self._small: _Literals | None = None
        self._big: _Literals | None = None

    def __len__(self) -> int:
        return len(self.map)

    def __contains__(self, v: object) -> bool:
        return v in self.map

    def get(self, v: str) -> str | None:
        return self.map.get(v)

    def add(self, v: str, placeholder: str) -> None:
        if v in self.map:
            return
        self.map[v] = placeholder
        while len(self.map) > self.limit:
            self.map.popitem(last=False)
        self._pending.append((v, tuple(f.encode("utf-8", "surrogatepass") for f in escaped_forms(v))))
        if len(self._pending) > PENDING_MAX:
            self._fold()
        elif _hs is None:
            self._pending = [p for p in self._pending if p[0] in self.map]

    def _fold(self) -> None:
        """Move the pending secrets into the small database (and that into the big one when full)."""
        if _hs is None:
            return
        self._small_words += [w for w, _ in self._pending if w in self.map]
        self._pending, self._lookups = [], 0
        if len(self._small_words) > SMALL_MAX:
            self._big, self._small_words, self._small = _Literals(list(self.map)), [], None
        elif self._small_words:
            self._small = _Literals(self._small_words)

    def find(self, blob: bytes) -> set[str]:
        """The remembered variants that occur in ``blob`` (UTF-8; as they are or JSON-escaped)."""
        found: set[str] = set()
        if not self.map:
            return found
        for lit in (self._big, self._small):
            if lit is not None:
                lit.find(blob, found)
        for v, forms in self._pending:
            if any(f in blob for f in forms):
                found.add(v)
        self._lookups += len(self._pending)
        if self._lookups > PENDING_LOOKUPS:
            self._fold()
        return {v for v in found if v in self.map}
