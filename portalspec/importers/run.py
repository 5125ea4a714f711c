"""``portalspec import``: a HAR or flow file through redaction into a capture folder."""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from ..errors import PortalspecError
from ..fixtures.entries import DEFAULT_BODY_LIMIT, EntryError, normalise_har_entry
from ..fixtures.store import CaptureReader, CaptureWriter, is_capture
from ..redaction import Redactor
from .flows import iter_flows
from .har import iter_har
from .ingest import Ingestor

FLOW_SUFFIXES = (".flows", ".flow", ".mitm", ".dump")


@dataclass
class ImportResult:
    imported: int = 0
    skipped: int = 0
    resumed_after: int = -1
    warnings: int = 0


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _already_imported(out: Path, digest: str) -> int:
    """The highest source index of ``digest`` already in the capture (a re-run resumes after it)."""
    if not is_capture(out):
        return -1
    best = -1
    for e in CaptureReader(out, warn=lambda m: None):
        src = (e.get("_portalspec") or {}).get("source") or {}
        if src.get("sha256") == digest and isinstance(src.get("index"), int):
            best = max(best, src["index"])
    return best


def _kind(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(FLOW_SUFFIXES):
        return "flows"
    if name.endswith((".har", ".json", ".har.gz")):
        return "har"
    with open(path, "rb") as f:
        head = f.read(64).lstrip()
    return "har" if head[:1] in (b"{", b"\x1f") else "flows"


class _Progress:
    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.enabled, self.last = max(total, 1), enabled, -1

    def __call__(self, pos: int) -> None:
        pct = min(100, pos * 100 // self.total)
        if self.enabled and pct != self.last:
            self.last = pct
            bar = "#" * (pct // 4)
            print(f"\rimport [{bar:<25}] {pct:3d}%", end="", file=sys.stderr, flush=True)

    def done(self) -> None:
        if self.enabled and self.last >= 0:
            print(file=sys.stderr)


def import_file(
    path: Path | str,
    out: Path | str,
    pseudonymize: Iterable[str] = (),
    limit: int = DEFAULT_BODY_LIMIT,
    warn: Callable[[str], None] | None = None,
    progress: bool | None = None,
) -> ImportResult:
    path, out = Path(path), Path(out)
    if not path.exists():
        raise PortalspecError("no such file", str(path))
    if path.is_dir():
        raise PortalspecError("is a folder, expected a HAR or mitmproxy flow file", str(path))
    res = ImportResult()

    def _warn(msg: str) -> None:
        res.warnings += 1
        (warn or (lambda m: print(f"warning: {m}", file=sys.stderr)))(msg)

    digest = file_digest(path)
    res.resumed_after = _already_imported(out, digest)
    kind = _kind(path)
    bar = _Progress(path.stat().st_size, sys.stderr.isatty() if progress is None else progress)
    source: Iterator[tuple[int, Any]]
    if kind == "har":
        source = iter_har(path, _warn, bar)
    else:
        source = iter_flows(path, limit, _warn, bar)
    redactor = Redactor(pseudonymize=pseudonymize)
    options = {"pseudonymize": sorted(set(pseudonymize)), "body_limit": limit, "kind": kind}
    with CaptureWriter(out, kind="import", source=path.name, options=options, fsync="batch") as writer:
        ingest = Ingestor(writer, redactor)
        for index, raw in source:
            if index <= res.resumed_after:
                continue
            try:
                entry = normalise_har_entry(raw, limit) if kind == "har" else raw
            except EntryError as e:
                _warn(f"{path}: entry {index}: {e}; skipped")
                res.skipped += 1
                continue
            ingest.add(entry, source={"file": path.name, "sha256": digest, "index": index})
            res.imported += 1
    bar.done()
    return res
