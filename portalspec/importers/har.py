"""Streaming HAR reader: entries one at a time, good ones kept when the file is damaged."""

from __future__ import annotations

import gzip
import io
import json
import zlib
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator

import ijson

from ..errors import PortalspecError


class _Utf8Repair(io.RawIOBase):
    """Passes bytes through, replacing invalid UTF-8 with U+FFFD (and counting replacements)."""

    def __init__(self, raw: BinaryIO) -> None:
        import codecs

        self.raw = raw
        self.pos = 0
        self.replaced = 0
        self._dec = codecs.getincrementaldecoder("utf-8")("replace")

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        chunk = self.raw.read(max(1, len(b) // 2))
        self.pos += len(chunk)
        text = self._dec.decode(chunk, final=not chunk)
        if "\ufffd" in text:
            self.replaced += text.count("\ufffd")
        data = text.encode("utf-8", "surrogatepass")
        n = len(data)
        b[:n] = data
        return n


def open_maybe_gzip(path: Path) -> BinaryIO:
    f = open(path, "rb")
    if f.peek(2)[:2] == b"\x1f\x8b":  # type: ignore[attr-defined]
        return gzip.open(f)  # type: ignore[return-value]
    return f


def iter_har(path: Path, warn: Callable[[str], None], progress: Callable[[int], None] | None = None
             ) -> Iterator[tuple[int, Any]]:
    """Yield ``(index, raw entry)``; a damaged file ends with a warning naming the place."""
    state = {"index": -1, "pos": 0}
    try:
        yield from _iter_har(path, warn, progress, state)
    except (OSError, EOFError, zlib.error) as e:
        msg = f"cannot read ({type(e).__name__}: {e})"
        if state["index"] < 0:
            raise PortalspecError(msg, str(path), f"near byte {state['pos']}") from None
        warn(f"{path}: after entry {state['index']} (near byte {state['pos']}): {msg}; "
             f"the {state['index'] + 1} entries before it were kept")


def _iter_har(path: Path, warn: Callable[[str], None], progress: Callable[[int], None] | None,
              state: dict[str, int]) -> Iterator[tuple[int, Any]]:
    with open_maybe_gzip(path) as f:
        head = f.peek(64)[:64] if hasattr(f, "peek") else b""  # type: ignore[attr-defined]
        if head and not head.lstrip()[:1] in (b"{", b"\xef"):
            raise PortalspecError("not a HAR file (it does not start with a JSON object)", str(path), "byte 0")
        src = _Utf8Repair(f)
        reader = io.BufferedReader(src, 1 << 16)
        index = -1
        replaced = 0
        try:
            for index, raw in enumerate(ijson.items(reader, "log.entries.item", use_float=True)):
                state["index"], state["pos"] = index, src.pos
                if src.replaced != replaced and "\ufffd" in json.dumps(raw, ensure_ascii=False, default=str):
                    warn(f"{path}: entry {index}: invalid UTF-8 bytes replaced with U+FFFD")
                    replaced = src.replaced
                if progress:
                    progress(src.pos)
                yield index, raw
        except ijson.JSONError as e:
            place = f"after entry {index}" if index >= 0 else "before the first entry"
            msg = str(e).splitlines()[0] if str(e) else type(e).__name__
            if index < 0:
                raise PortalspecError(f"not a readable HAR ({msg})", str(path), f"near byte {src.pos}") from None
            warn(f"{path}: {place} (near byte {src.pos}): file is damaged or truncated ({msg}); "
                 f"the {index + 1} entries before it were kept")
        if index < 0:
            warn(f"{path}: no entries found under log.entries")
