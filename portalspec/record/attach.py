"""The DevTools transport: record from a browser the user already runs and is signed in to.

Every tab, frame and worker is followed through the Network domain (bodies read from the browser
with ``getResponseBody``, never requested again); with block-writes, requests are paused in the
Fetch domain so that an in-scope write is answered here (``fulfillRequest``) and never reaches the
portal. The per-call steps are the shared ``Pipeline``'s. Nothing is opened or closed in the
browser: on Ctrl-C the domains are disabled and the sessions detached.
"""

from __future__ import annotations

import base64
import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlsplit

from ..fixtures.cdp_entry import cdp_to_entry
from ..specs.model import WRITE_METHODS
from .cdp import CDPClient, CDPError, Event
from .pipeline import Pipeline

log = logging.getLogger("portalspec")

# CDP resource types as the Sec-Fetch-Dest the proxy path judges assets by.
_DEST = {"Document": "document", "Script": "script", "Stylesheet": "style", "Image": "image", "Font": "font",
         "Media": "video", "Manifest": "manifest", "TextTrack": "track"}
_FOLLOWED = {"page", "iframe", "worker", "shared_worker", "service_worker"}
_EXTRA_KEPT = 4096  # ExtraInfo events whose request was not (yet) seen, bounded


@dataclass
class _Pending:
    request: dict[str, Any]
    wall_time: float
    started: float
    rtype: str
    headers: dict[str, Any] | None = None
    response: dict[str, Any] | None = None
    response_headers: dict[str, Any] | None = None
    bundle: str | None = None  # a script to scan for routes: the page that loaded it


@dataclass
class _Session:
    sid: str
    kind: str
    pending: dict[str, _Pending] = field(default_factory=dict)
    extra_req: dict[str, dict[str, Any]] = field(default_factory=dict)
    extra_resp: dict[str, dict[str, Any]] = field(default_factory=dict)
    blocked: set[str] = field(default_factory=set)  # network ids answered from the Fetch domain


def _netloc_path(url: str) -> tuple[str, str]:
    u = urlsplit(url)
    netloc = u.hostname or ""
    if u.port and u.port not in (80, 443):
        netloc = f"{netloc}:{u.port}"
    return netloc, (u.path or "/") + (f"?{u.query}" if u.query else "")


def _header(message: dict[str, Any], name: str) -> Any:
    """A header of a DevTools request or response (its ``headers`` object; names in any case)."""
    return next((v for k, v in (message.get("headers") or {}).items() if k.lower() == name), None)


def _post_bytes(request: dict[str, Any]) -> bytes | None:
    entries = request.get("postDataEntries")
    if entries:
        return b"".join(base64.b64decode(e.get("bytes", "")) for e in entries)
    post = request.get("postData")
    return post.encode("utf-8") if isinstance(post, str) else None


class Attach:
    """Follows the browser's targets and turns their traffic into fixtures through ``pipeline``."""

    def __init__(self, client: CDPClient, pipeline: Pipeline, on_record: Callable[[], None] | None = None) -> None:
        self.client = client
        self.pipeline = pipeline
        self.on_record = on_record or (lambda: None)
        self.sessions: dict[str, _Session] = {}
        self._control: queue.Queue[Event | None] = queue.Queue()
        self._network: queue.Queue[Event | None] = queue.Queue()
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        self.pause_writes = pipeline.settings.block_writes

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        for target, q in ((self._dispatch, None), (self._work, self._control), (self._work, self._network)):
            threading.Thread(target=target, args=(q,) if q is not None else (), daemon=True).start()
        self.client.send("Target.setAutoAttach", {"autoAttach": True, "waitForDebuggerOnStart": True, "flatten": True})

    def wait(self, timeout: float | None = None) -> bool:
        """Until the browser goes away (True) or ``timeout`` passes (False)."""
        return self.client.closed.wait(timeout)

    def detach(self) -> None:
        """Leave the browser as it was: domains off, sessions detached, nothing closed."""
        self.stopping.set()
        deadline = time.monotonic() + 3
        while self._control.unfinished_tasks and time.monotonic() < deadline:  # answer the writes already paused
            time.sleep(0.02)
        deadline = time.monotonic() + 2
        while self._answered_unrecorded() and time.monotonic() < deadline:  # and record the calls already answered
            time.sleep(0.02)
        if not self.client.closed.is_set():
            try:
                self.client.send("Target.setAutoAttach", {"autoAttach": False, "waitForDebuggerOnStart": False}, timeout=5)
            except CDPError:
                pass
            with self._lock:
                sessions = list(self.sessions)
            for sid in sessions:
                for method in ("Fetch.disable", "Network.disable"):
                    try:
                        self.client.send(method, session=sid, timeout=5)
                    except CDPError:
                        pass
                try:
                    self.client.send("Target.detachFromTarget", {"sessionId": sid}, timeout=5)
                except CDPError:
                    pass
        self._control.put(None)
        self._network.put(None)
        self.client.close()

    def _answered_unrecorded(self) -> bool:
        """Whether events wait to be read (from the browser, or by the network worker), or a call is still
        open (its end is recorded when it comes): a stop right after a page's last call must not lose it."""
        if not self.client.events.empty() or self._network.unfinished_tasks:
            return True
        with self._lock:
            sessions = list(self.sessions.values())
        return any(p.bundle is None for s in sessions for p in list(s.pending.values()))

    # -- threads ---------------------------------------------------------------------------------
    def _dispatch(self) -> None:
        """Pauses and attachments go to the control worker (they hold the page up); the rest is recording."""
        while True:
            ev = self.client.events.get()
            if ev is None:
                self._control.put(None)
                self._network.put(None)
                return
            if ev.method.startswith("Network."):
                self._network.put(ev)
            else:
                self._control.put(ev)

    def _work(self, q: queue.Queue[Event | None]) -> None:
        while True:
            ev = q.get()
            if ev is None:
                q.task_done()
                return
            try:
                handler = getattr(self, "_on_" + ev.method.replace(".", "_"), None)
                if handler is not None:
                    handler(ev.params, ev.session)
            except CDPError as e:
                if not self.stopping.is_set() and not self.client.closed.is_set():
                    log.warning(f"portalspec attach: {ev.method}: {e}")
            except Exception as e:  # noqa: BLE001 - one bad event must not stop the recording
                log.error(f"portalspec attach: {ev.method}: {e}")
            finally:
                q.task_done()

    # -- targets ---------------------------------------------------------------------------------
    def _on_Target_attachedToTarget(self, p: dict[str, Any], _parent: str | None) -> None:
        sid, info = p["sessionId"], p.get("targetInfo") or {}
        kind = info.get("type", "")
        if kind not in _FOLLOWED or self.stopping.is_set():
            if p.get("waitingForDebugger"):
                self.client.send("Runtime.runIfWaitingForDebugger", session=sid)
            return
        with self._lock:
            self.sessions[sid] = _Session(sid, kind)
        send = self.client.send
        try:
            send("Network.enable", {"maxPostDataSize": self.pipeline.settings.body_limit}, session=sid)
            if self.pause_writes:  # every request: a write is a write whatever the page calls it
                send("Fetch.enable", {"patterns": [{"urlPattern": "*", "requestStage": "Request"}]}, session=sid)
            if kind in ("page", "iframe"):
                send("Target.setAutoAttach", {"autoAttach": True, "waitForDebuggerOnStart": True, "flatten": True},
                     session=sid)
        finally:
            if p.get("waitingForDebugger"):
                send("Runtime.runIfWaitingForDebugger", session=sid)

    def _on_Target_detachedFromTarget(self, p: dict[str, Any], _parent: str | None) -> None:
        with self._lock:
            self.sessions.pop(p.get("sessionId", ""), None)

    # -- writes (Fetch) --------------------------------------------------------------------------
    def _on_Fetch_requestPaused(self, p: dict[str, Any], sid: str | None) -> None:
        try:
            self._paused(p, sid)
        except CDPError:
            raise
        except Exception:
            # Never let a write through because something here went wrong: refuse it in the browser.
            if str(p.get("request", {}).get("method", "")).upper() in WRITE_METHODS:
                self.client.send("Fetch.failRequest", {"requestId": p["requestId"], "errorReason": "BlockedByClient"},
                                 session=sid)
            else:
                self.client.send("Fetch.continueRequest", {"requestId": p["requestId"]}, session=sid)
            raise

    def _paused(self, p: dict[str, Any], sid: str | None) -> None:
        req = p["request"]
        netloc, path = _netloc_path(req["url"])
        rtype = p.get("resourceType", "")
        pl = self.pipeline
        if not (pl.in_scope(netloc, path, _DEST.get(rtype)) and pl.blocks(req["method"], path)):
            self.client.send("Fetch.continueRequest", {"requestId": p["requestId"]}, session=sid)
            return
        session = self.sessions.get(sid or "")
        if session is not None and p.get("networkId"):
            session.blocked.add(p["networkId"])
        started, wall = time.monotonic(), time.time()
        post = _post_bytes(req)
        ctype = _header(req, "content-type") or ""
        reply = pl.answer(req["method"], req["url"], post, ctype)
        self.client.send("Fetch.fulfillRequest", {
            "requestId": p["requestId"], "responseCode": reply.status,
            "responseHeaders": [{"name": k, "value": v} for k, v in reply.headers.items()],
            "body": base64.b64encode(reply.body).decode()}, session=sid)
        response = {"status": reply.status, "statusText": "", "protocol": "http/1.1"}
        entry = cdp_to_entry(req, None, post, response, reply.headers, reply.body, wall,
                             (time.monotonic() - started) * 1000, pl.settings.body_limit)
        pl.record(entry, blocked=True, synthetic=reply.kind or None, matched=reply.matched)
        self.on_record()

    # -- everything else (Network) ---------------------------------------------------------------
    def _on_Network_requestWillBeSent(self, p: dict[str, Any], sid: str | None) -> None:
        s = self.sessions.get(sid or "")
        if s is None:
            return
        rid = p["requestId"]
        prev = s.pending.pop(rid, None)
        if prev is not None and prev.bundle is None and p.get("redirectResponse"):  # the previous hop ended in a redirect
            prev.response = p["redirectResponse"]
            prev.response_headers = s.extra_resp.pop(rid, None)
            self._finish(s, rid, prev, b"", p.get("timestamp"))
        req = p["request"]
        netloc, path = _netloc_path(req["url"])
        rtype = p.get("type", "")
        page = p.get("documentURL") or _header(req, "referer")
        if rtype == "Script" and self.pipeline.wants_bundle(req["url"], page):
            s.pending[rid] = _Pending(req, p.get("wallTime") or time.time(), p.get("timestamp") or 0.0, rtype,
                                      bundle=page or "")
            return
        if rid in s.blocked or not self.pipeline.in_scope(netloc, path, _DEST.get(rtype)):
            s.extra_req.pop(rid, None)
            return
        s.pending[rid] = _Pending(req, p.get("wallTime") or time.time(), p.get("timestamp") or 0.0, rtype,
                                  headers=s.extra_req.pop(rid, None))

    def _on_Network_requestWillBeSentExtraInfo(self, p: dict[str, Any], sid: str | None) -> None:
        self._extra_info(p, sid, "headers", "extra_req")

    def _on_Network_responseReceivedExtraInfo(self, p: dict[str, Any], sid: str | None) -> None:
        self._extra_info(p, sid, "response_headers", "extra_resp")

    def _extra_info(self, p: dict[str, Any], sid: str | None, attr: str, early: str) -> None:
        """The raw headers (with cookies) of a call; they may come before the call's own event."""
        s = self.sessions.get(sid or "")
        if s is None:
            return
        pend = s.pending.get(p["requestId"])
        if pend is not None:
            setattr(pend, attr, p.get("headers"))
        else:
            self._keep(getattr(s, early), p["requestId"], p.get("headers") or {})

    def _on_Network_responseReceived(self, p: dict[str, Any], sid: str | None) -> None:
        s = self.sessions.get(sid or "")
        pend = s.pending.get(p["requestId"]) if s else None
        if s is None or pend is None:
            return
        resp = p["response"]
        mime = _header(resp, "content-type") or resp.get("mimeType")
        if pend.bundle is None and self.pipeline.is_asset_type(mime):
            del s.pending[p["requestId"]]
            s.extra_resp.pop(p["requestId"], None)
            return
        pend.response = resp
        pend.response_headers = pend.response_headers or s.extra_resp.pop(p["requestId"], None)

    def _take(self, sid: str | None, rid: str) -> tuple[_Session | None, _Pending | None]:
        """The call that just ended, unless it was answered from the Fetch domain (recorded there)."""
        s = self.sessions.get(sid or "")
        if s is None:
            return None, None
        pend = s.pending.pop(rid, None)
        if rid in s.blocked:
            s.blocked.discard(rid)
            return s, None
        return s, pend

    def _on_Network_loadingFinished(self, p: dict[str, Any], sid: str | None) -> None:
        s, pend = self._take(sid, p["requestId"])
        if s is None or pend is None:
            return
        body = b""
        notes: list[str] = []
        status = int((pend.response or {}).get("status") or 0)
        if pend.bundle is not None:  # read from the browser, scanned in the background, never recorded
            if 200 <= status < 300:
                data = self._response_body(p["requestId"], sid)
                self.pipeline.bundle(pend.request["url"], pend.bundle or None, data)
            return
        if pend.request.get("method") != "HEAD" and status not in (204, 304):
            try:
                body = self._response_body(p["requestId"], sid)
            except CDPError as e:
                notes.append(f"response.content: the browser no longer holds the body ({e})")
        self._finish(s, p["requestId"], pend, body, p.get("timestamp"), notes=notes)

    def _on_Network_loadingFailed(self, p: dict[str, Any], sid: str | None) -> None:
        s, pend = self._take(sid, p["requestId"])
        if s is None or pend is None or pend.bundle is not None:
            return
        self._finish(s, p["requestId"], pend, None, p.get("timestamp"), error=p.get("errorText") or "failed")

    def _finish(self, s: _Session, rid: str, pend: _Pending, body: bytes | None, ts: float | None,
                notes: list[str] | None = None, error: str | None = None) -> None:
        s.extra_req.pop(rid, None)
        s.extra_resp.pop(rid, None)
        post = _post_bytes(pend.request)
        if post is None and pend.request.get("hasPostData"):
            try:
                r = self.client.send("Network.getRequestPostData", {"requestId": rid}, session=s.sid)
                post = r.get("postData", "").encode("utf-8")
            except CDPError:
                pass
        elapsed = ((ts or pend.started) - pend.started) * 1000 if pend.started else 0.0
        entry = cdp_to_entry(pend.request, pend.headers, post, pend.response,
                             pend.response_headers, body, pend.wall_time, elapsed, self.pipeline.settings.body_limit, notes)
        ext: dict[str, Any] = {"error": error} if error is not None else {}
        self.pipeline.record(entry, **ext)
        self.on_record()

    def _response_body(self, rid: str, sid: str | None) -> bytes:
        r = self.client.send("Network.getResponseBody", {"requestId": rid}, session=sid)
        return base64.b64decode(r["body"]) if r.get("base64Encoded") else r.get("body", "").encode("utf-8")

    @staticmethod
    def _keep(d: dict[str, dict[str, Any]], rid: str, headers: dict[str, Any]) -> None:
        d[rid] = headers
        if len(d) > _EXTRA_KEPT:
            for k in list(d)[: len(d) // 2]:
                del d[k]
