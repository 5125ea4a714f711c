"""Secrets the redactor has seen, and a fast answer to "which of them occur in this text".

Every value redacted in a structured place (a cookie, a token header, a secret-named field) is
remembered with its URL and base64 forms, so the same secret is also caught where no rule would
see it (echoed in a body, inside an error message). Each entry is checked against all of them.

Two structures, one answer (the set of remembered variants that occur in a text, exactly):

- *Few secrets* (a session's cookies and token: the usual case): a Hyperscan literal database,
  about 1-2 us a scan. Compiling costs about 11 us a literal, so new secrets are first looked up
  one by one and folded into the database in batches.
- *Many secrets* (every call with its own token, cookie and signed URL): compiling would be paid
  again for every batch, and that grew with the number remembered (947 compiles, 25 of 34 s for
  1,941 such calls). Past ``SMALL_MAX`` variants the memory switches, once, to an *anchor index*:
  every remembered form is at least 8 bytes long, so each occurrence starts with the form's first
  8 bytes. Those anchors are hashed into a bitmap; a scan hashes every 8-byte window of the text
  with numpy (about 9 us for 4.5 KB) and checks the few windows whose bit is set against a dict
  of anchors, then the whole form. Adding or forgetting a secret is O(1), whatever the count.

The memory is bounded (``limit`` variants, oldest forgotten first); a forgotten secret is no
longer swept out of later calls (SECURITY.md says what that means).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any

from .. import jsoncodec
from .triggers import _hs

PENDING_MAX = 32  # looked up one by one until a small database is built
PENDING_LOOKUPS = 2000  # or until they have been looked up this often (about what a build costs)
SMALL_MAX = 512  # past this many variants, the anchor index takes over
ANCHOR = 8  # bytes; every remembered variant is at least this long (``_MIN_SWEEP_LEN``)
_BITS = 1 << 21  # bitmap slots: 8 MB, about one false window in 1,000 at 8,192 anchors
_MULT = 0x9E3779B97F4A7C15  # Fibonacci hashing of the 64-bit window
_MASK = (1 << 64) - 1


def escaped_forms(v: str) -> tuple[str, ...]:
    """How ``v`` looks inside serialised JSON (orjson's form, and the standard library's if other)."""
    if v.isprintable() and '"' not in v and "\\" not in v:
        return (v,)  # neither serialiser escapes anything in it
    std = json.dumps(v, ensure_ascii=False)[1:-1]
    fast = jsoncodec.dumps_str(v)[1:-1]
    return tuple(dict.fromkeys(f for f in (v, fast, std)))


def _raw_forms(v: str) -> tuple[bytes, ...]:
    if v.isascii() and v.isprintable() and '"' not in v and "\\" not in v:
        return (v.encode(),)  # the common case: one form, ASCII
    return tuple(f.encode("utf-8", "surrogatepass") for f in escaped_forms(v))


def _on_match(i: int, _from: int, _to: int, _flags: int, ctx: tuple[list[str], set[str]]) -> None:
    ctx[1].add(ctx[0][i])


class _Literals:
    """One compiled literal database: which of its words occur in a text."""

    def __init__(self, words: list[str]) -> None:
        self.owner: list[str] = []
        self.odd: list[tuple[str, bytes]] = []  # forms holding a NUL byte, which the binding cannot pass
        data: list[bytes] = []
        for w in words:
            for raw in _raw_forms(w):
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


class _AnchorIndex:
    """Remembered forms by an 8-byte anchor taken from each, with a hashed bitmap of the anchors.

    A form's anchor is the 8 bytes at an offset chosen so that anchors rarely share a bucket
    (every JWT starts ``eyJhbGci``: its last 8 bytes are the signature's, and differ).
    """

    def __init__(self) -> None:
        import numpy as np  # only sessions with many distinct secrets pay for loading it

        self._np = np
        self._mult = np.uint64(_MULT)
        self._bit_shift = 64 - (_BITS.bit_length() - 1)
        self._shift = np.uint64(self._bit_shift)
        self.bits = np.zeros(_BITS, dtype=np.bool_)
        self.anchors: dict[bytes, list[tuple[bytes, str, int]]] = {}  # anchor -> (form, owner, offset)
        self.heads: dict[str, list[bytes]] = {}  # owner -> its forms' anchors
        self.short: list[tuple[bytes, str]] = []  # forms under ``ANCHOR`` bytes, looked up one by one
        self.stale = 0  # anchors forgotten whose bit is still set
        self.rebuilds = 0

    def _slots(self, data: bytes, stride: int) -> Any:
        np = self._np
        n = (len(data) - ANCHOR) // stride + 1
        windows = np.ndarray(shape=(n,), dtype="<u8", buffer=data, strides=(stride,))
        return ((windows * self._mult) >> self._shift).astype(np.intp)

    def add(self, owner: str, forms: tuple[bytes, ...]) -> None:
        heads = self.heads.setdefault(owner, [])
        anchors = self.anchors
        for raw in forms:
            if len(raw) < ANCHOR:
                self.short.append((raw, owner))
                continue
            best = -1
            for k in (len(raw) - ANCHOR, (len(raw) - ANCHOR) // 2, 0):
                bucket = anchors.get(raw[k:k + ANCHOR])
                if bucket is None:
                    best = k
                    break
                if best < 0 or len(bucket) < len(anchors[raw[best:best + ANCHOR]]):
                    best = k
            head = raw[best:best + ANCHOR]
            bucket = anchors.get(head)
            if bucket is None:
                anchors[head] = [(raw, owner, best)]
                self.bits[((int.from_bytes(head, "little") * _MULT) & _MASK) >> self._bit_shift] = True
            else:
                bucket.append((raw, owner, best))
            heads.append(head)

    def forget(self, owner: str) -> None:
        if self.short:
            self.short = [p for p in self.short if p[1] != owner]
        for head in self.heads.pop(owner, ()):
            bucket = self.anchors.get(head)
            if bucket is None:
                continue
            if len(bucket) > 1:
                bucket[:] = [p for p in bucket if p[1] != owner]
            if len(bucket) == 1 and bucket[0][1] == owner or not bucket:
                del self.anchors[head]
                self.stale += 1
        if self.stale > len(self.anchors) + 1024:
            self._rebuild()

    def _rebuild(self) -> None:
        self.bits[:] = False
        if self.anchors:
            self.bits[self._slots(b"".join(self.anchors), ANCHOR)] = True
        self.stale = 0
        self.rebuilds += 1

    def find(self, blob: bytes, out: set[str]) -> None:
        if self.short:
            out.update(owner for raw, owner in self.short if raw in blob)
        if len(blob) < ANCHOR:
            return
        hits = self.bits[self._slots(blob, 1)].nonzero()[0]
        anchors = self.anchors
        for pos in hits.tolist():
            bucket = anchors.get(blob[pos:pos + ANCHOR])
            if bucket is not None:
                for raw, owner, k in bucket:
                    if pos >= k and blob.startswith(raw, pos - k):
                        out.add(owner)


class KnownSecrets:
    """Remembered secret variants, each mapped to its placeholder; oldest forgotten past ``limit``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.map: OrderedDict[str, str] = OrderedDict()
        self.builds = 0  # Hyperscan databases compiled (bounded: they stop at ``SMALL_MAX`` variants)
        self._pending: list[tuple[str, tuple[bytes, ...]]] = []
        self._lookups = 0
        self._small_words: list[str] = []
        self._small: _Literals | None = None
        self._index: _AnchorIndex | None = None

    def __len__(self) -> int:
        return len(self.map)

    def __contains__(self, v: object) -> bool:
        return v in self.map

    def get(self, v: str) -> str | None:
        return self.map.get(v)

    @property
    def index_rebuilds(self) -> int:
        return self._index.rebuilds if self._index is not None else 0

    def add(self, v: str, placeholder: str) -> None:
        if v in self.map:
            return
        self.map[v] = placeholder
        forms = _raw_forms(v)
        index = self._index
        if index is not None:
            index.add(v, forms)
            while len(self.map) > self.limit:
                index.forget(self.map.popitem(last=False)[0])
            return
        while len(self.map) > self.limit:
            self.map.popitem(last=False)
        self._pending.append((v, forms))
        if len(self._pending) > PENDING_MAX:
            self._fold()
        elif _hs is None:
            self._pending = [p for p in self._pending if p[0] in self.map]

    def _fold(self) -> None:
        """Move the pending secrets into the small database, or everything into the anchor index."""
        words = [w for w in self._small_words if w in self.map] + [w for w, _ in self._pending if w in self.map]
        self._pending, self._lookups = [], 0
        if _hs is None or len(words) > SMALL_MAX:
            self._index = _AnchorIndex()
            for w in self.map:
                self._index.add(w, _raw_forms(w))
            self._small_words, self._small = [], None
            return
        self._small_words = words
        self._small = _Literals(words) if words else None
        self.builds += 1

    def find(self, blob: bytes) -> set[str]:
        """The remembered variants that occur in ``blob`` (UTF-8; as they are or JSON-escaped)."""
        found: set[str] = set()
        if not self.map:
            return found
        if self._index is not None:
            self._index.find(blob, found)
            return found
        if self._small is not None:
            self._small.find(blob, found)
        for v, forms in self._pending:
            if any(f in blob for f in forms):
                found.add(v)
        self._lookups += len(self._pending)
        if self._lookups > PENDING_LOOKUPS:
            self._fold()
        return {v for v in found if v in self.map}
