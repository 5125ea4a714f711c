"""Secrets the redactor has seen, and a fast answer to "which of them occur in this text".

Every value redacted in a structured place (a cookie, a token header, a secret-named field) is
remembered with its URL and base64 forms, so the same secret is also caught where no rule would
see it (echoed in a body, inside an error message). Each entry is checked against all of them.

Two structures, one answer (the set of remembered variants that occur in a text, exactly):

- *Few secrets* (a session's cookies and token: the usual case): a Hyperscan literal database,
  about 1-2 us a scan. Compiling costs about 11 us a literal, so new secrets are first looked up
  one by one and folded into the database in batches, each at least as large as the database
  (a few builds, not one per 32 secrets, before the index takes over).
- *Many secrets* (every call with its own token, cookie and signed URL): compiling would be paid
  again for every batch, and that grew with the number remembered (947 compiles, 25 of 34 s for
  1,941 such calls). Past ``SMALL_MAX`` variants the memory switches, once, to an *anchor index*:
  every remembered form is at least 8 bytes long, so each occurrence starts with the form's first
  8 bytes. Those anchors are hashed into a bitmap; a scan hashes every 8-byte window of the text
  with numpy (about 9 us for 4.5 KB) and checks the few windows whose bit is set against a dict
  of anchors, then the whole form. Adding or forgetting a secret is O(1), whatever the count.

The memory is bounded (``limit`` variants, oldest forgotten first); a secret and its encodings
are remembered and forgotten together; a forgotten secret is no longer swept out of later calls
(SECURITY.md says what that means).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any, Iterable

from .. import jsoncodec
from .triggers import _hs

PENDING_MAX = 32  # looked up one by one until a small database is built (or as many as it holds)
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
            self.db.scan(blob, match_event_handler=_on_match, context=(self.owner, out))  # type: ignore[arg-type]
        out.update(w for w, raw in self.odd if raw in blob)


class _AnchorIndex:
    """Remembered forms by an 8-byte anchor taken from each, with a hashed bitmap of the anchors.

    A form's anchor is the 8 bytes at an offset chosen so that anchors rarely share a bucket
    (every JWT starts ``eyJhbGci``: its last 8 bytes are the signature's, and differ). Forms are
    added and forgotten by group (a secret with its encodings), under the group's number.
    """

    def __init__(self) -> None:
        import numpy as np  # only sessions with many distinct secrets pay for loading it

        self._np = np
        self._mult = np.uint64(_MULT)
        self._bit_shift = 64 - (_BITS.bit_length() - 1)
        self._shift = np.uint64(self._bit_shift)
        self._raw_bits = bytearray(_BITS)  # set one slot at a time from Python, read through ``bits``
        self.bits = np.frombuffer(self._raw_bits, dtype=np.bool_)
        self.anchors: dict[bytes, list[tuple[bytes, str, int, int]]] = {}  # anchor -> (form, variant, offset, group)
        self.heads: dict[int, list[bytes]] = {}  # group -> its forms' anchors
        self.short: list[tuple[bytes, str, int]] = []  # forms under ``ANCHOR`` bytes, looked up one by one
        self.stale = 0  # anchors forgotten whose bit is still set
        self.rebuilds = 0

    def _slots(self, data: bytes, stride: int) -> Any:
        np = self._np
        n = (len(data) - ANCHOR) // stride + 1
        windows = np.ndarray(shape=(n,), dtype="<u8", buffer=data, strides=(stride,))
        return ((windows * self._mult) >> self._shift).astype(np.intp)

    def add(self, group: int, variants: Iterable[str]) -> None:
        heads = self.heads.setdefault(group, [])
        anchors = self.anchors
        bits, shift = self._raw_bits, self._bit_shift
        for variant in variants:
            for raw in _raw_forms(variant):
                n = len(raw) - ANCHOR
                if n < 0:
                    self.short.append((raw, variant, group))
                    continue
                head = raw[n:]
                bucket = anchors.get(head)
                best = n
                if bucket is not None:  # try the middle and the start for a bucket of its own
                    for k in (n // 2, 0):
                        other = anchors.get(raw[k:k + ANCHOR])
                        if other is None:
                            best, bucket = k, None
                            break
                        if len(other) < len(bucket):
                            best, bucket = k, other
                    head = raw[best:best + ANCHOR]
                if bucket is None:
                    anchors[head] = [(raw, variant, best, group)]
                    bits[((int.from_bytes(head, "little") * _MULT) & _MASK) >> shift] = 1
                else:
                    bucket.append((raw, variant, best, group))
                heads.append(head)

    def forget(self, group: int) -> None:
        if self.short:
            self.short = [p for p in self.short if p[2] != group]
        anchors = self.anchors
        for head in self.heads.pop(group, ()):
            bucket = anchors.get(head)
            if bucket is None:
                continue
            if len(bucket) > 1:
                bucket[:] = [p for p in bucket if p[3] != group]
            if not bucket or len(bucket) == 1 and bucket[0][3] == group:
                del anchors[head]
                self.stale += 1
        if self.stale > len(anchors) + 1024:
            self._rebuild()

    def _rebuild(self) -> None:
        self.bits[:] = False
        if self.anchors:
            self.bits[self._slots(b"".join(self.anchors), ANCHOR)] = True
        self.stale = 0
        self.rebuilds += 1

    def find(self, blob: bytes, out: set[str]) -> None:
        if self.short:
            out.update(variant for raw, variant, _ in self.short if raw in blob)
        if len(blob) < ANCHOR:
            return
        hits = self.bits[self._slots(blob, 1)].nonzero()[0]
        anchors = self.anchors
        for pos in hits.tolist():
            bucket = anchors.get(blob[pos:pos + ANCHOR])
            if bucket is not None:
                for raw, variant, k, _ in bucket:
                    if pos >= k and blob.startswith(raw, pos - k):
                        out.add(variant)


class KnownSecrets:
    """Remembered secret variants, each mapped to its placeholder; oldest forgotten past ``limit``.

    A secret and its encodings are one group: remembered together, forgotten together.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.map: dict[str, str] = {}  # variant -> placeholder
        self._groups: OrderedDict[int, list[str]] = OrderedDict()  # oldest first
        self._next = 0
        self.builds = 0  # Hyperscan databases compiled (bounded: they stop at ``SMALL_MAX`` variants)
        self._pending: list[str] = []
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
        self.add_all((v,), placeholder)

    def add_all(self, variants: Iterable[str], placeholder: str) -> None:
        """Remember ``variants`` (a secret and its encodings) as one group under ``placeholder``."""
        known = self.map
        new = [v for v in variants if v not in known]
        if not new:
            return
        known.update(dict.fromkeys(new, placeholder))
        group = self._next
        self._next += 1
        self._groups[group] = new
        index = self._index
        if index is not None:
            index.add(group, new)
            if len(known) > self.limit:
                self._evict()
            return
        self._pending += new
        if len(known) > self.limit:
            self._evict()
        # Folded when pending outgrows the database (so builds double in size: log-many of them)
        # or when looking pending up one by one has cost about what a build does.
        if len(self._pending) > max(PENDING_MAX, len(self._small_words)):
            self._fold()
        elif _hs is None:
            self._pending = [v for v in self._pending if v in known]

    def _evict(self) -> None:
        known, groups, index = self.map, self._groups, self._index
        while len(known) > self.limit and len(groups) > 1:
            group, gone = groups.popitem(last=False)
            for v in gone:
                del known[v]
            if index is not None:
                index.forget(group)

    def _fold(self) -> None:
        """Move the pending secrets into the small database, or everything into the anchor index."""
        words = [w for w in self._small_words if w in self.map] + [w for w in self._pending if w in self.map]
        self._pending, self._lookups = [], 0
        if _hs is None or len(words) > SMALL_MAX:
            self._index = _AnchorIndex()
            for group, variants in self._groups.items():
                self._index.add(group, variants)
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
        for v in self._pending:
            if any(f in blob for f in _raw_forms(v)):
                found.add(v)
        self._lookups += len(self._pending)
        if self._lookups > PENDING_LOOKUPS:
            self._fold()
        return {v for v in found if v in self.map}
