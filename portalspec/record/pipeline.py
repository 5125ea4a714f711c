"""The per-call steps of recording, shared by every transport (the mitmproxy addon, a CDP attach).

A transport turns what it sees into plain values and asks, in order: is this call in scope
(``in_scope``), is it a write to block (``blocks``), what is the client-safe answer (``answer``),
then hands the HAR entry it built to ``record``, which redacts it, appends it to the capture and
counts it for the status line. Nothing here sends a request.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import threading
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Iterable

from ..fixtures.entries import DEFAULT_BODY_LIMIT
from ..fixtures.store import CaptureWriter
from ..importers.ingest import Ingestor
from ..redaction import Redactor
from ..specs.model import WRITE_METHODS
from ..urls import split_url
from .replies import Reply, synthetic_reply
from .scope import Scope

log = logging.getLogger("portalspec")
BLOCKED_STATUS = 409
WRITE_REPLIES = ("spec", "409")
STATUS_PREFIX = "portalspec-status "  # the addon's status lines on mitmdump's stdout


@dataclass
class Settings:
    """What a recording session is asked to do (the ``record`` and ``attach`` options)."""

    out: str | None = None
    specs: list[str] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    portals: list[str] = field(default_factory=list)
    include_assets: bool = False
    block_writes: bool = True
    write_reply: str = "spec"
    allow_write: list[str] = field(default_factory=list)
    body_limit: int = DEFAULT_BODY_LIMIT
    pseudonymize: list[str] = field(default_factory=list)

    def capture_options(self) -> dict[str, Any]:
        """The options a capture's metadata keeps (as earlier versions wrote them)."""
        d = asdict(self)
        return {k: d[k] for k in ("specs", "hosts", "portals", "block_writes", "allow_write", "body_limit",
                                  "pseudonymize", "include_assets")}


@dataclass
class Stats:
    """The running figures of a session: the live status line and the closing summary."""

    calls: int = 0
    matched: int = 0
    undocumented: int = 0
    blocked: int = 0
    forwarded_writes: int = 0
    redacted: int = 0
    scripts: int = 0  # the portal's scripts read for routes

    def line(self) -> str:
        return (f"{self.calls} calls in scope, {self.matched} matched, {self.undocumented} undocumented, "
                f"{self.blocked} writes blocked, {self.redacted} secrets redacted"
                + (f", {self.scripts} scripts read for routes" if self.scripts else ""))


class Pipeline:
    """Scope, block decision, client-safe answer, redaction and append, for one capture."""

    def __init__(self, settings: Settings, source: str, session: dict[str, Any] | None = None) -> None:
        self.settings = settings
        self.index: Any = None
        regexes: list[str] = []
        if settings.specs:
            from ..specs.index import SpecIndex

            self.index = SpecIndex.load(list(settings.specs))
            regexes = [s.host_regex for op in self.index.operations for s in op.servers if s.host_regex]
        self.scope = Scope.build(regexes, settings.hosts, settings.portals, settings.include_assets)
        if not regexes and not settings.hosts:
            log.warning("portalspec: no specs and no hosts given: nothing will be recorded")
        self.stats = Stats()
        self.forwarded: list[str] = []  # writes that reached the portal, listed in the session summary
        self._replies = 0
        self._lock = threading.Lock()  # a transport may record from more than one thread
        self.writer: CaptureWriter | None = None
        self.ingest: Ingestor | None = None
        self.bundles: Any = None
        if settings.out:
            from ..coderoutes.bundles import BundleScanner
            from ..coderoutes.extract import Extractor

            self.writer = CaptureWriter(settings.out, kind="record", source=source,
                                        options=settings.capture_options(), fsync="interval")
            redactor = Redactor(pseudonymize=settings.pseudonymize)
            self.ingest = Ingestor(self.writer, redactor)
            extractor = Extractor.for_index(self.index) if self.index is not None else Extractor()
            self.bundles = BundleScanner(settings.out, extractor, redactor.redact_url, redactor.redact_string,
                                         self._lock, on_error=lambda m: log.warning(f"portalspec: {m}"),
                                         on_scanned=self._scanned)
            log.info(f"portalspec: recording to {settings.out}")
        self._session = session or {}

    # -- decisions -------------------------------------------------------------------------------
    def in_scope(self, netloc: str, path: str, fetch_dest: str | None = None, mime: str | None = None) -> bool:
        """A portal API call: its host is in scope and it is not an asset or telemetry."""
        return self.scope.host_in_scope(netloc) and not self.scope.is_asset(path, fetch_dest, mime)

    def is_asset_type(self, mime: str | None) -> bool:
        return self.scope.is_asset("", None, mime)

    def allowed(self, method: str, path: str) -> bool:
        path = path.split("?", 1)[0]
        for pattern in self.settings.allow_write:
            m, _, p = pattern.partition(" ") if " " in pattern else ("*", "", pattern)
            if fnmatch.fnmatchcase(method, m.upper()) and fnmatch.fnmatch(path, p):
                return True
        return False

    def blocks(self, method: str, path: str) -> bool:
        """An in-scope write that is answered here and never forwarded."""
        method = method.upper()
        return self.settings.block_writes and method in WRITE_METHODS and not self.allowed(method, path)

    def answer(self, method: str, url: str, body: bytes | None, content_type: str = "") -> Reply:
        """The answer a blocked write gets: client-safe (``spec``) or a refusal (``409``)."""
        method = method.upper()
        log.info(f"portalspec: blocked {method} {url}")
        op = self._match(method, url, body.decode("utf-8", "replace") if body else None, content_type)
        matched = None if self.index is None else op is not None  # ``record`` counts it without matching again
        if self.settings.write_reply == "409":
            msg = {"error": {"code": "portalspec_blocked_write",
                             "message": f"portalspec blocked this {method}: block-writes mode is on, "
                                        "the request was recorded and never sent to the portal."}}
            return Reply(BLOCKED_STATUS, json.dumps(msg).encode(),
                         {"content-type": "application/json", "x-portalspec-blocked": "1"}, "", matched)
        with self._lock:
            self._replies += 1
            n = self._replies
        return replace(synthetic_reply(op, method, url, body, n), matched=matched)

    def _match(self, method: str, url: str, body: str | None = None, content_type: str = "") -> Any:
        """The documented operation of a call (None: undocumented, or no specs)."""
        if self.index is None:
            return None
        from ..matching.matcher import Call

        return self.index.matcher.match(Call(method, url, body, content_type)).op

    def _scanned(self) -> None:
        self.stats.scripts += 1  # called by the scanner with the lock held

    def wants_bundle(self, url: str, page: str | None) -> bool:
        """A script to scan for routes: from an in-scope host, or loaded by an in-scope page (its CDN)."""
        if self.bundles is None:
            return False
        return self.scope.host_in_scope(split_url(url)[0]) or bool(page and self.scope.host_in_scope(split_url(page)[0]))

    def bundle(self, url: str, page: str | None, raw: bytes, encoding: str = "") -> None:
        """Scan a script the browser loaded, whole, in the background; it is never written as a call."""
        if self.bundles is not None and raw:
            self.bundles.submit(url, page, raw, encoding)

    # -- recording -------------------------------------------------------------------------------
    def record(self, entry: dict[str, Any], blocked: bool = False, synthetic: str | None = None,
               matched: bool | None = None, **ext: Any) -> None:
        """Redact ``entry`` (a HAR entry not yet redacted), append it and count it; never raises.
        ``matched``: whether it is documented, when ``answer`` already knows (a blocked write)."""
        req = entry["request"]
        method, url = req["method"].upper(), req["url"]
        try:
            if matched is None and self.index is not None:
                matched = self._match(method, url) is not None
            ctype = next((h.get("value", "") for h in (entry.get("response") or {}).get("headers") or ()
                          if str(h.get("name", "")).lower() == "content-type"), "")
            if "text/event-stream" in ctype:  # a server-sent event stream: how many events it carried
                text = ((entry.get("response") or {}).get("content") or {}).get("text") or ""
                ext["sse_events"] = sum(1 for line in text.splitlines() if line.startswith("data:"))
            with self._lock:
                if self.ingest is not None:
                    self.ingest.add(entry, blocked=True if blocked else None, synthetic=synthetic or None, **ext)
                s = self.stats
                s.calls += 1
                if matched is not None:
                    s.matched += matched
                    s.undocumented += not matched
                s.blocked += bool(blocked)
                s.redacted += sum(((entry.get("_portalspec") or {}).get("redaction") or {}).get("counts", {}).values())
                if method in WRITE_METHODS and not blocked:
                    s.forwarded_writes += 1
                    self.forwarded.append(f"{method} {req['url']}")  # redacted by now
                    log.warning(f"portalspec: a write reached the portal: {self.forwarded[-1]}")
        except Exception as e:  # noqa: BLE001 - one bad call must not stop the recording
            log.error(f"portalspec: could not record {method} {url}: {e}")

    def close(self, session: dict[str, Any] | None = None) -> None:
        if self.bundles is not None:
            self.bundles.close()
        with self._lock:
            if self.writer is not None:
                self.writer.close({**self._session, **(session or {}), "forwarded_writes": self.forwarded,
                                   "stats": asdict(self.stats)})
                self.writer, self.ingest = None, None


def status_json(stats: Stats) -> str:
    return json.dumps(asdict(stats), separators=(",", ":"))


def parse_status(line: str) -> Stats | None:
    try:
        return Stats(**json.loads(line))
    except (ValueError, TypeError):
        return None


def next_command(out: str, specs: Iterable[str]) -> str:
    spec_args = "".join(f" --specs {s}" for s in specs)
    return f"portalspec report {out}{spec_args} --out reports/{out.rstrip('/').rsplit('/', 1)[-1]}"
