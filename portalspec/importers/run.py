"""``portalspec import``: a HAR or flow file through redaction into a capture folder."""

from __future__ import annotations

import hashlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from .. import gcpolicy
from ..errors import PortalspecError
from ..fixtures.entries import DEFAULT_BODY_LIMIT, EntryError, normalise_har_entry
from ..fixtures.store import CaptureReader, CaptureWriter, is_capture
from ..redaction import Redactor
from .flows import SCRIPT_KEY, iter_flows
from .har import is_zlib, iter_har, iter_har_texts
from ..coderoutes.bundles import BundleLog, bundle_record, script_of
from ..coderoutes.extract import Extractor
from .ingest import prepare

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
    if name.endswith((".har", ".json", ".har.gz", ".zhar")):
        return "har"
    with open(path, "rb") as f:
        head = f.read(64)
    return "har" if head.lstrip()[:1] in (b"{", b"\x1f") or head.startswith(b"\xef\xbb\xbf") or is_zlib(head) else "flows"


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


PARALLEL_MIN_BYTES = 16 * 1024 * 1024
CHUNK = 256
_worker_state: dict[str, Any] = {}
_NOT_JSON = "not JSON"


def _worker_init(key: bytes, pseudonymize: list[str], limit: int, kind: str, name: str,
                 routes: tuple[list[str], list[str]] | None = None) -> None:
    gcpolicy.streaming()
    _worker_state.update(redactor=Redactor(key=key, pseudonymize=pseudonymize), limit=limit, kind=kind, name=name)
    _set_extractor(routes)


def _entry_line(raw: Any, redactor: Redactor, limit: int, kind: str, source: dict[str, Any], session: str
                ) -> tuple[bytes, str | None, dict[str, Any] | None]:
    """One parsed entry as its fixture line, portal family and, for a script, its bundle record (the
    script scanned whole for routes; the entry keeps its size and sha256, not its text); raises
    ``EntryError`` when unusable. The one per-entry step of both the serial loop and the workers."""
    script = script_of(raw) if kind == "har" else raw.pop(SCRIPT_KEY, None)
    entry = normalise_har_entry(raw, limit) if kind == "har" else raw
    bundle = None
    if script is not None:
        data, page = script
        sha = hashlib.sha256(data).hexdigest()
        if sha not in _SCANNED:  # the same bundle again (another page loaded it): scanned once
            _SCANNED.add(sha)
            bundle = bundle_record(entry["request"]["url"], page, data, _extractor(), redactor.redact_url,
                                   redactor.redact_string, sha256=sha)
        content = entry["response"]["content"]
        entry["response"]["content"] = {"size": len(data), "mimeType": content.get("mimeType", ""),
                                        "text": "", "_sha256": sha, "_script": True}
    return prepare(entry, redactor, source=source, session=session), entry["_portalspec"].get("portal"), bundle


_EXTRACTORS: list[Any] = []
_SCANNED: set[str] = set()  # bundles this process has scanned


def _set_extractor(routes: tuple[list[str], list[str]] | None) -> None:
    """``routes``: the specs' first path segments and hosts (scripts are scanned for those), or None:
    every path-like literal (the report keeps those the specs know)."""
    _EXTRACTORS[:] = [Extractor(*routes) if routes else Extractor()]
    _SCANNED.clear()


def _extractor() -> Any:
    if not _EXTRACTORS:
        _EXTRACTORS.append(Extractor())
    return _EXTRACTORS[0]


def _worker(chunk: list[tuple[int, Any]], session: str, digest: str
            ) -> list[tuple[int, bytes | None, str | None, str | None, dict[str, Any] | None]]:
    """Normalise, redact and serialise a chunk: ``(index, line, portal, error)`` per entry, in order.

    HAR entries arrive as their JSON text (cheaper to send between processes than the object).
    """
    from .. import jsoncodec

    st = _worker_state
    out: list[tuple[int, bytes | None, str | None, str | None, dict[str, Any] | None]] = []
    for index, raw in chunk:
        if isinstance(raw, str):
            try:
                raw = jsoncodec.loads(raw)
            except (ValueError, RecursionError):
                out.append((index, None, None, _NOT_JSON, None))
                continue
        source = {"file": st["name"], "sha256": digest, "index": index}
        try:
            line, portal, bundle = _entry_line(raw, st["redactor"], st["limit"], st["kind"], source, session)
        except EntryError as e:
            out.append((index, None, None, str(e), None))
            continue
        out.append((index, line, portal, None, bundle))
    return out


def _chunks(source: Iterator[tuple[int, Any]], skip_to: int) -> Iterator[list[tuple[int, Any]]]:
    chunk: list[tuple[int, Any]] = []
    for index, raw in source:
        if index <= skip_to:
            continue
        chunk.append((index, raw))
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def import_file(
    path: Path | str,
    out: Path | str,
    pseudonymize: Iterable[str] = (),
    limit: int = DEFAULT_BODY_LIMIT,
    warn: Callable[[str], None] | None = None,
    progress: bool | None = None,
    jobs: int | None = None,
    specs: Iterable[str] = (),
) -> ImportResult:
    """Import one file. ``jobs``: worker processes (None: 2 when the file is large and cores allow).

    With several jobs, placeholders stay stable (the workers share the session's key, in memory);
    the sweep of remembered secrets then works per worker.
    """
    path, out = Path(path), Path(out)
    if not path.exists():
        raise PortalspecError("no such file", str(path))
    if path.is_dir():
        raise PortalspecError("is a folder, expected a HAR or mitmproxy flow file", str(path))
    kind = _kind(path)
    if jobs is None:
        jobs = min(2, os.cpu_count() or 1) if path.stat().st_size >= PARALLEL_MIN_BYTES else 1
    key = os.urandom(32)
    routes = None
    if specs:
        from ..specs.index import SpecIndex

        routes = Extractor.for_index(SpecIndex.load(list(specs))).terms()
    _set_extractor(routes)
    pool = _start_pool(jobs, key, list(pseudonymize), limit, kind, path.name, routes) if jobs > 1 else None
    try:
        with gcpolicy.streaming_section():
            return _import(path, out, kind, key, pool, jobs, list(pseudonymize), limit, warn, progress)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)


def _import(path: Path, out: Path, kind: str, key: bytes, pool: Any, jobs: int, pseudonymize: list[str], limit: int,
            warn: Callable[[str], None] | None, progress: bool | None) -> ImportResult:
    res = ImportResult()

    def _warn(msg: str) -> None:
        res.warnings += 1
        (warn or (lambda m: print(f"warning: {m}", file=sys.stderr)))(msg)

    digest = file_digest(path)  # while the workers start
    res.resumed_after = _already_imported(out, digest)
    bar = _Progress(path.stat().st_size, sys.stderr.isatty() if progress is None else progress)
    options = {"pseudonymize": sorted(set(pseudonymize)), "body_limit": limit, "kind": kind, "jobs": jobs}
    # fsync every few thousand entries: a crash loses at most those, and the re-run resumes.
    with CaptureWriter(out, kind="import", source=path.name, options=options, fsync="batch", batch=8192) as writer:
        bundles = BundleLog(out)
        if pool is not None:
            def texts(prove_from: int, warn_: Callable[[str], None]) -> Iterator[tuple[int, Any]]:
                if kind == "har":
                    return ((i, text) for i, _, text in iter_har_texts(path, warn_, bar, prove_from))
                return iter_flows(path, limit, _warn, bar)
            _parallel(pool, texts, writer, bundles, res, _warn, path, (writer.session_id, digest), jobs)
            bar.done()
            return res
        source: Iterator[tuple[int, Any]]
        if kind == "har":
            source = iter_har(path, _warn, bar)
        else:
            source = iter_flows(path, limit, _warn, bar)
        redactor = Redactor(key=key, pseudonymize=pseudonymize)
        lines: list[bytes] = []
        portals: list[str | None] = []
        for index, raw in source:
            if index <= res.resumed_after:
                continue
            origin = {"file": path.name, "sha256": digest, "index": index}
            try:
                line, portal, bundle = _entry_line(raw, redactor, limit, kind, origin, writer.session_id)
            except EntryError as e:
                _warn(f"{path}: entry {index}: {e}; skipped")
                res.skipped += 1
                continue
            lines.append(line)
            portals.append(portal)
            res.imported += 1
            if bundle is not None:
                bundles.add(bundle)
            if len(lines) >= CHUNK:
                writer.append_lines(lines, portals)
                lines, portals = [], []
        if lines:
            writer.append_lines(lines, portals)
    bar.done()
    return res


def _start_pool(jobs: int, key: bytes, pseudonymize: list[str], limit: int, kind: str, name: str,
                routes: tuple[list[str], list[str]] | None = None) -> Any:
    """The worker pool, its processes started now (a no-op each) so that they load while this
    process hashes the file and opens the capture."""
    from concurrent.futures import ProcessPoolExecutor

    from ..pool import worker_context

    pool = ProcessPoolExecutor(jobs, mp_context=worker_context(__name__), initializer=_worker_init,
                               initargs=(key, pseudonymize, limit, kind, name, routes))
    for _ in range(jobs):
        pool.submit(int)
    return pool


class _Unproven(Exception):
    """An entry's text, cut by the layout guess, did not parse: read again from it, with proof."""

    def __init__(self, index: int) -> None:
        self.index = index


def _parallel(pool: Any, texts: Callable[[int, Callable[[str], None]], Iterator[tuple[int, Any]]], writer: CaptureWriter,
              bundles: BundleLog, res: ImportResult, warn: Callable[[str], None], path: Path, context: tuple[str, str], jobs: int) -> None:
    """Workers parse, redact and serialise chunks; this process reads and writes in order.

    The reader does not parse the entries it hands out (the workers do): it cuts them where the
    file's layout says they end. A cut that does not parse sends the reader back to that entry,
    with proof from there on; the reader's warnings wait until the entries they follow are in.
    """
    prove_from = 1 << 62
    skip_to = res.resumed_after
    told = -1  # warnings about entries before this one were given in an earlier pass
    while True:
        held: list[tuple[int, str]] = []  # (the entry a warning comes before, the warning)
        seen = [-1]

        def hold(msg: str) -> None:
            held.append((seen[0] + 1, msg))

        def counted(source: Iterator[tuple[int, Any]]) -> Iterator[tuple[int, Any]]:
            for item in source:
                seen[0] = item[0]
                yield item

        try:
            for results in _bounded_map(pool, _chunks(counted(texts(prove_from, hold)), skip_to), jobs * 4, context):
                _write_results(results, writer, bundles, res, warn, path, prove_from)
                skip_to = results[-1][0]
                if held and held[0][0] <= skip_to:  # warnings about entries now in are final
                    told = _tell(held, told, skip_to + 1, warn)
        except _Unproven as e:
            _tell(held, told, e.index, warn)
            prove_from, skip_to, told = e.index, e.index - 1, e.index
            continue
        _tell(held, told, 1 << 62, warn)
        return


def _tell(held: list[tuple[int, str]], told: int, upto: int, warn: Callable[[str], None]) -> int:
    """Give the held warnings about entries from ``told`` up to ``upto`` (they are taken from ``held``);
    returns the new ``told``."""
    keep = [(at, msg) for at, msg in held if at >= upto]
    for at, msg in held:
        if told <= at < upto:
            warn(msg)
    held[:] = keep
    return max(told, upto)


def _write_results(results: list[tuple[int, bytes | None, str | None, str | None, dict[str, Any] | None]],
                   writer: CaptureWriter, bundles: BundleLog, res: ImportResult, warn: Callable[[str], None], path: Path,
                   prove_from: int) -> None:
    lines: list[bytes] = []
    portals: list[str | None] = []
    for index, line, portal, error, bundle in results:
        if line is None:
            if error == _NOT_JSON and index < prove_from:
                writer.append_lines(lines, portals)
                res.imported += len(lines)
                raise _Unproven(index)
            warn(f"{path}: entry {index}: {error}; skipped")
            res.skipped += 1
            continue
        lines.append(line)
        portals.append(portal)
        if bundle is not None:
            bundles.add(bundle)
    writer.append_lines(lines, portals)
    res.imported += len(lines)


def _bounded_map(pool: Any, chunks: Iterator[Any], window: int, context: tuple[str, str]) -> Iterator[Any]:
    """``pool.map`` in order with at most ``window`` chunks in flight (memory stays flat)."""
    from collections import deque

    pending: deque[Any] = deque()
    try:
        for chunk in chunks:
            pending.append(pool.submit(_worker, chunk, *context))
            if len(pending) >= window:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:  # left early (a pass started again): what is still queued is not needed
        for future in pending:
            future.cancel()
