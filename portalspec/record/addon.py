"""mitmproxy addons: ``PortalScope`` (what is a portal call), ``WriteBlocker`` (block-writes mode) and
``Recorder`` (redact and append each call). Options are mitmproxy options (``portalspec_*``), so
they show in ``mitmproxy --options`` and can be changed live.

Nothing here alters a request or a response that is let through, and nothing sends a request.
"""

from __future__ import annotations

import fnmatch
import json
import logging
from collections.abc import Sequence
from typing import Any, Optional

from mitmproxy import ctx, http
from mitmproxy.addonmanager import Loader

from ..fixtures.entries import DEFAULT_BODY_LIMIT
from ..fixtures.flow_entry import flow_to_entry
from ..fixtures.store import CaptureWriter
from ..importers.ingest import Ingestor
from ..redaction import Redactor
from ..specs.model import WRITE_METHODS
from .scope import Scope

log = logging.getLogger("portalspec")
BLOCKED_STATUS = 409
_META_SCOPE = "portalspec_in_scope"
_META_BLOCKED = "portalspec_blocked"
_META_SYNTHETIC = "portalspec_synthetic"
WRITE_REPLIES = ("spec", "409")


class PortalScope:
    """Marks each flow that is a portal API call; the other addons act only on those."""

    def __init__(self) -> None:
        self.scope = Scope()
        self.spec_ops: list[Any] = []
        self.index: Any = None  # the loaded specs, for client-safe answers

    def load(self, loader: Loader) -> None:
        loader.add_option("portalspec_specs", Sequence[str], [], "Spec folders or files; their servers' hosts are recorded.")
        loader.add_option("portalspec_host", Sequence[str], [], "Extra host patterns to record (fnmatch, e.g. '*.contoso.com').")
        loader.add_option("portalspec_portal", Sequence[str], [], "Record only these portal families (e.g. defender-xdr).")
        loader.add_option("portalspec_include_assets", bool, False, "Also record scripts, styles, images, fonts and telemetry.")

    def configure(self, updated: set[str]) -> None:
        if not updated & {"portalspec_specs", "portalspec_host", "portalspec_portal", "portalspec_include_assets"}:
            return
        regexes: list[str] = []
        if ctx.options.portalspec_specs:
            from ..specs.index import SpecIndex

            index = SpecIndex.load(list(ctx.options.portalspec_specs))
            self.index = index
            self.spec_ops = index.operations
            regexes = [s.host_regex for op in index.operations for s in op.servers if s.host_regex]
        self.scope = Scope.build(regexes, ctx.options.portalspec_host, ctx.options.portalspec_portal,
                                 ctx.options.portalspec_include_assets)
        if not regexes and not ctx.options.portalspec_host:
            log.warning("portalspec: no specs and no hosts given: nothing will be recorded")

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        req = flow.request
        in_scope = self.scope.host_in_scope(f"{req.pretty_host}:{req.port}" if req.port not in (80, 443) else req.pretty_host)
        if in_scope and self.scope.is_asset(req.path, req.headers.get("sec-fetch-dest"), None):
            in_scope = False
        flow.metadata[_META_SCOPE] = in_scope

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        if flow.metadata.get(_META_SCOPE) and flow.response is not None and not flow.metadata.get(_META_BLOCKED):
            if self.scope.is_asset("", None, flow.response.headers.get("content-type")):
                flow.metadata[_META_SCOPE] = False


class WriteBlocker:
    """Block-writes mode: POST/PUT/PATCH/DELETE to portal hosts are answered here, never forwarded.

    The answer is client-safe (``portalspec_write_reply=spec``, see ``replies.py``) so the page goes on,
    or the refusal of earlier versions (``409``).
    """

    def __init__(self, scope: PortalScope | None = None) -> None:
        self.scope = scope
        self.calls = 0

    def load(self, loader: Loader) -> None:
        loader.add_option("portalspec_block_writes", bool, True,
                          "Answer POST, PUT, PATCH and DELETE to portal hosts locally; never forward them "
                          "(on unless set to false: every write is a real change to a real tenant).")
        loader.add_option("portalspec_write_reply", str, "spec",
                          "How a blocked write is answered: 'spec' (the operation's documented success, or the "
                          "request echoed) or '409' (a refusal).", choices=list(WRITE_REPLIES))
        loader.add_option("portalspec_allow_write", Sequence[str], [],
                          "With block-writes: let these through, as 'METHOD /path-glob' or '/path-glob' (reads sent as POST).")

    def allowed(self, method: str, path: str) -> bool:
        path = path.split("?", 1)[0]
        for pattern in ctx.options.portalspec_allow_write:
            m, _, p = pattern.partition(" ") if " " in pattern else ("*", "", pattern)
            if fnmatch.fnmatchcase(method, m.upper()) and fnmatch.fnmatch(path, p):
                return True
        return False

    def request(self, flow: http.HTTPFlow) -> None:
        req = flow.request
        if not (ctx.options.portalspec_block_writes and flow.metadata.get(_META_SCOPE)):
            return
        if req.method.upper() not in WRITE_METHODS or self.allowed(req.method.upper(), req.path):
            return
        flow.metadata[_META_BLOCKED] = True
        if ctx.options.portalspec_write_reply == "409":
            body = {"error": {"code": "portalspec_blocked_write",
                              "message": f"portalspec blocked this {req.method}: block-writes mode is on, "
                                         "the request was recorded and never sent to the portal."}}
            flow.response = http.Response.make(BLOCKED_STATUS, json.dumps(body).encode(),
                                               {"content-type": "application/json", "x-portalspec-blocked": "1"})
        else:
            from .replies import synthetic_reply

            op = None
            index = self.scope.index if self.scope is not None else None
            content = req.get_content(strict=False)  # decoded once: matched on, and echoed back
            if index is not None:
                from ..matching.matcher import Call

                text = content.decode("utf-8", "replace") if content else None
                op = index.matcher.match(Call(req.method.upper(), req.pretty_url, text,
                                              req.headers.get("content-type", ""))).op
            self.calls += 1
            reply = synthetic_reply(op, req.method.upper(), req.pretty_url, content, self.calls)
            flow.response = http.Response.make(reply.status, reply.body, reply.headers)
            flow.metadata[_META_SYNTHETIC] = reply.kind
        log.info(f"portalspec: blocked {req.method} {req.pretty_url}")


class Recorder:
    """Redacts each in-scope call and appends it to the capture, one fsync'd line per call."""

    def __init__(self) -> None:
        self.writer: CaptureWriter | None = None
        self.ingest: Ingestor | None = None
        self.forwarded: list[str] = []  # writes that reached the portal, listed in the session summary

    def load(self, loader: Loader) -> None:
        loader.add_option("portalspec_out", Optional[str], None, "Capture folder to write (captures/NAME).")
        loader.add_option("portalspec_body_limit", int, DEFAULT_BODY_LIMIT, "Keep bodies up to this many bytes; mark longer ones truncated.")
        loader.add_option("portalspec_pseudonymize", Sequence[str], [], "Also pseudonymise PII: upn, email, tenant.")

    def configure(self, updated: set[str]) -> None:
        if "portalspec_out" in updated or "portalspec_pseudonymize" in updated:
            self._close()
            if ctx.options.portalspec_out:
                self._open()

    def _open(self) -> None:
        o = ctx.options
        options = {k: (list(v) if isinstance(v, (list, tuple)) else v) for k, v in (
            ("specs", o.portalspec_specs), ("hosts", o.portalspec_host), ("portals", o.portalspec_portal),
            ("block_writes", o.portalspec_block_writes), ("allow_write", o.portalspec_allow_write),
            ("body_limit", o.portalspec_body_limit), ("pseudonymize", o.portalspec_pseudonymize),
            ("include_assets", o.portalspec_include_assets))}
        self.writer = CaptureWriter(o.portalspec_out, kind="record", source="mitmproxy", options=options,
                                    fsync="interval")
        self.ingest = Ingestor(self.writer, Redactor(pseudonymize=o.portalspec_pseudonymize))
        log.info(f"portalspec: recording to {o.portalspec_out}")

    def _record(self, flow: http.HTTPFlow, **ext: Any) -> None:
        if self.ingest is None or not flow.metadata.get(_META_SCOPE) or flow.metadata.get("portalspec_recorded"):
            return
        flow.metadata["portalspec_recorded"] = True
        try:
            entry = flow_to_entry(flow, ctx.options.portalspec_body_limit)
            if flow.response is not None and "text/event-stream" in flow.response.headers.get("content-type", ""):
                text = entry["response"]["content"].get("text") or ""
                ext["sse_events"] = sum(1 for line in text.splitlines() if line.startswith("data:"))
            self.ingest.add(entry, blocked=True if flow.metadata.get(_META_BLOCKED) else None,
                            synthetic=flow.metadata.get(_META_SYNTHETIC), **ext)
            if entry["request"]["method"] in WRITE_METHODS and not flow.metadata.get(_META_BLOCKED):
                self.forwarded.append(f"{entry['request']['method']} {entry['request']['url']}")  # redacted URL
                log.warning(f"portalspec: a write reached the portal: {self.forwarded[-1]}")
        except Exception as e:  # noqa: BLE001 - one bad call must not stop the recording
            log.error(f"portalspec: could not record {flow.request.method} {flow.request.pretty_url}: {e}")

    def response(self, flow: http.HTTPFlow) -> None:
        if flow.websocket is None:
            self._record(flow)

    def error(self, flow: http.HTTPFlow) -> None:
        self._record(flow, error=flow.error.msg if flow.error else "error")

    def websocket_end(self, flow: http.HTTPFlow) -> None:
        self._record(flow, websocket=True)

    def _close(self) -> None:
        if self.writer is not None:
            from mitmproxy import version

            self.writer.close({"mitmproxy": version.VERSION, "forwarded_writes": self.forwarded})
            self.writer, self.ingest, self.forwarded = None, None, []

    def done(self) -> None:
        self._close()


def addons() -> list[object]:
    scope = PortalScope()
    return [scope, WriteBlocker(scope), Recorder()]
