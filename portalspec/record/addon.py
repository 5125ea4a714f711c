"""The mitmproxy transport: one addon that hands each flow to the shared recording pipeline.

Options are mitmproxy options (``portalspec_*``), so they show in ``mitmproxy --options`` and can be
changed live. The per-call steps (scope, block decision, client-safe answer, redaction, append) are
``pipeline.Pipeline``'s, shared with ``portalspec attach``. Nothing here alters a request or a
response that is let through, and nothing sends a request.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Sequence
from typing import Any, Optional

from mitmproxy import ctx, http
from mitmproxy.addonmanager import Loader

from ..fixtures.entries import DEFAULT_BODY_LIMIT
from ..coderoutes.bundles import is_javascript
from ..fixtures.flow_entry import flow_to_entry
from .pipeline import STATUS_PREFIX, WRITE_REPLIES, Pipeline, Settings, status_json

log = logging.getLogger("portalspec")
_META_SCOPE = "portalspec_in_scope"
_META_BLOCKED = "portalspec_blocked"
_META_SYNTHETIC = "portalspec_synthetic"
_META_MATCHED = "portalspec_matched"
_STATUS_EVERY = 1.0


class RecordAddon:
    """Marks portal API calls, answers blocked writes locally, records every in-scope call."""

    def __init__(self) -> None:
        self.pipeline: Pipeline | None = None
        self._status_at = 0.0
        self._status_last = ""

    def load(self, loader: Loader) -> None:
        loader.add_option("portalspec_specs", Sequence[str], [], "Spec folders or files; their servers' hosts are recorded.")
        loader.add_option("portalspec_host", Sequence[str], [], "Extra host patterns to record (fnmatch, e.g. '*.contoso.com').")
        loader.add_option("portalspec_portal", Sequence[str], [], "Record only these portal families (e.g. defender-xdr).")
        loader.add_option("portalspec_include_assets", bool, False, "Also record scripts, styles, images, fonts and telemetry.")
        loader.add_option("portalspec_block_writes", bool, True,
                          "Answer POST, PUT, PATCH and DELETE to portal hosts locally; never forward them "
                          "(on unless set to false: every write is a real change to a real tenant).")
        loader.add_option("portalspec_write_reply", str, "spec",
                          "How a blocked write is answered: 'spec' (the operation's documented success, or the "
                          "request echoed) or '409' (a refusal).", choices=list(WRITE_REPLIES))
        loader.add_option("portalspec_allow_write", Sequence[str], [],
                          "With block-writes: let these through, as 'METHOD /path-glob' or '/path-glob' (reads sent as POST).")
        loader.add_option("portalspec_out", Optional[str], None,  # type: ignore[arg-type]  # mitmproxy takes Optional
                          "Capture folder to write (captures/NAME).")
        loader.add_option("portalspec_body_limit", int, DEFAULT_BODY_LIMIT, "Keep bodies up to this many bytes; mark longer ones truncated.")
        loader.add_option("portalspec_pseudonymize", Sequence[str], [], "Also pseudonymise PII: upn, email, tenant.")
        loader.add_option("portalspec_status", bool, False,
                          f"Print the session's figures as '{STATUS_PREFIX.strip()} {{json}}' lines on stdout (for portalspec record).")

    def configure(self, updated: set[str]) -> None:
        if not any(u.startswith("portalspec_") and u != "portalspec_status" for u in updated):
            return
        self._close()
        o = ctx.options
        settings = Settings(out=o.portalspec_out, specs=list(o.portalspec_specs), hosts=list(o.portalspec_host),
                            portals=list(o.portalspec_portal), include_assets=o.portalspec_include_assets,
                            block_writes=o.portalspec_block_writes, write_reply=o.portalspec_write_reply,
                            allow_write=list(o.portalspec_allow_write), body_limit=o.portalspec_body_limit,
                            pseudonymize=list(o.portalspec_pseudonymize))
        from mitmproxy import version

        self.pipeline = Pipeline(settings, source="mitmproxy", session={"mitmproxy": version.VERSION})

    # -- per flow -------------------------------------------------------------------------------
    def requestheaders(self, flow: http.HTTPFlow) -> None:
        req, p = flow.request, self.pipeline
        netloc = f"{req.pretty_host}:{req.port}" if req.port not in (80, 443) else req.pretty_host
        flow.metadata[_META_SCOPE] = p is not None and p.in_scope(netloc, req.path, req.headers.get("sec-fetch-dest"))

    def request(self, flow: http.HTTPFlow) -> None:
        req, p = flow.request, self.pipeline
        if p is None or not flow.metadata.get(_META_SCOPE) or not p.blocks(req.method, req.path):
            return
        flow.metadata[_META_BLOCKED] = True
        reply = p.answer(req.method, req.pretty_url, req.get_content(strict=False), req.headers.get("content-type", ""))
        flow.response = http.Response.make(reply.status, reply.body, reply.headers)
        if reply.kind:
            flow.metadata[_META_SYNTHETIC] = reply.kind
        flow.metadata[_META_MATCHED] = reply.matched

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        p = self.pipeline
        if p is not None and flow.metadata.get(_META_SCOPE) and flow.response is not None \
                and not flow.metadata.get(_META_BLOCKED) and p.is_asset_type(flow.response.headers.get("content-type")):
            flow.metadata[_META_SCOPE] = False

    def _record(self, flow: http.HTTPFlow, **ext: Any) -> None:
        p = self.pipeline
        if p is None or not flow.metadata.get(_META_SCOPE) or flow.metadata.get("portalspec_recorded"):
            return
        flow.metadata["portalspec_recorded"] = True
        try:
            entry = flow_to_entry(flow, p.settings.body_limit)
        except Exception as e:  # noqa: BLE001 - one bad call must not stop the recording
            log.error(f"portalspec: could not record {flow.request.method} {flow.request.pretty_url}: {e}")
            return
        p.record(entry, blocked=bool(flow.metadata.get(_META_BLOCKED)), synthetic=flow.metadata.get(_META_SYNTHETIC),
                 matched=flow.metadata.get(_META_MATCHED), **ext)
        self._status()

    def response(self, flow: http.HTTPFlow) -> None:
        if flow.websocket is None:
            self._bundle(flow)
            self._record(flow)

    def _bundle(self, flow: http.HTTPFlow) -> None:
        """A script the page loaded: its bytes are handed over as they came (decoded and scanned for
        routes in a worker, after this hook lets the response go on); never recorded as a call."""
        p, req, resp = self.pipeline, flow.request, flow.response
        if p is None or resp is None or resp.raw_content is None or not 200 <= resp.status_code < 300:
            return
        if not is_javascript(resp.headers.get("content-type"), req.path, req.headers.get("sec-fetch-dest")):
            return
        page = req.headers.get("referer")
        if p.wants_bundle(req.pretty_url, page):
            p.bundle(req.pretty_url, page, resp.raw_content, resp.headers.get("content-encoding", ""))

    def error(self, flow: http.HTTPFlow) -> None:
        self._record(flow, error=flow.error.msg if flow.error else "error")

    def websocket_end(self, flow: http.HTTPFlow) -> None:
        self._record(flow, websocket=True)

    # -- status and end -------------------------------------------------------------------------
    def _status(self, final: bool = False) -> None:
        if self.pipeline is None or not ctx.options.portalspec_status:
            return
        now = time.monotonic()
        if not final and now - self._status_at < _STATUS_EVERY:
            return  # the figures are put into a line at most once a second, not on every call
        line = status_json(self.pipeline.stats)
        if final or line != self._status_last:
            self._status_at, self._status_last = now, line
            sys.stdout.write(STATUS_PREFIX + line + "\n")
            sys.stdout.flush()

    def running(self) -> None:
        self._status(final=True)

    def _close(self) -> None:
        if self.pipeline is not None:
            self._status(final=True)
            self.pipeline.close()
            self.pipeline = None

    def done(self) -> None:
        self._close()


def addons() -> list[object]:
    return [RecordAddon()]
