"""Calls grouped into write flows: the calls of one page (Referer and the browser's tab where known),
cut at idle gaps, that hold at least one write.

Memory does not grow with the number of calls: a page keeps only its current segment (at most
``MAX_READS_BEFORE_WRITE`` reads before its first write, ``MAX_STEPS`` steps in all), and a
step keeps its bodies as text (bounded) until its flow is closed; only then are values read
out for roles and lineage (``lineage.py``). Collectors of consecutive byte ranges merge in
order (``merge``), so a parallel report finds the same flows as a serial one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from ..specs.model import WRITE_METHODS

DEFAULT_GAP_S = 60.0
MAX_READS_BEFORE_WRITE = 50
MAX_STEPS = 300
BODY_KEPT = 16 * 1024
_REQ_HEADERS_SKIPPED = frozenset({"accept", "accept-encoding", "accept-language", "user-agent", "referer", "origin",
                                  "cookie", "authorization", "content-type", "content-length", "host", "connection",
                                  "cache-control", "pragma", "priority", "te", "upgrade-insecure-requests",
                                  "x-requested-with", "traceparent", "tracestate", "request-id", "baggage",
                                  "x-ms-client-request-id", "client-request-id", "x-ms-correlation-id",
                                  "x-correlation-id", "x-request-id"})
_RESP_HEADERS_KEPT = frozenset({"etag", "location", "content-location", "operation-location", "azure-asyncoperation"})


@dataclass
class Step:
    """One call of a page, compact: what a flow shows and what lineage reads."""

    t: float
    started: str
    method: str
    url: str
    host: str
    path: str
    query: str
    template: str | None
    operation_id: str | None
    spec: str | None
    status: int
    blocked: bool
    synthetic: str | None
    params: dict[str, str]
    req_headers: list[tuple[str, str]]
    resp_headers: list[tuple[str, str]]
    req_text: str | None
    resp_text: str | None


@dataclass
class Segment:
    page: str
    steps: list[Step] = field(default_factory=list)
    writes: int = 0
    dropped: int = 0

    @property
    def first_t(self) -> float:
        return self.steps[0].t

    @property
    def last_t(self) -> float:
        return self.steps[-1].t

    def append(self, step: Step) -> None:
        if step.method in WRITE_METHODS:
            self.writes += 1
        elif not self.writes and len(self.steps) >= MAX_READS_BEFORE_WRITE:
            self.steps.pop(0)  # reads long before any write: the oldest go
        if len(self.steps) >= MAX_STEPS:
            self.dropped += 1
            return
        self.steps.append(step)

    def join(self, later: "Segment") -> "Segment":
        out = Segment(self.page, [], 0, self.dropped + later.dropped)
        for s in self.steps + later.steps:
            out.append(s)
        return out


def epoch(started: Any) -> float | None:
    if not isinstance(started, str) or not started:
        return None
    try:
        return datetime.fromisoformat(started.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def page_of(entry: dict[str, Any]) -> str:
    """The page a call was made from: its Referer without query, and the browser's page ref (tab) where known."""
    ref = ""
    for h in (entry.get("request") or {}).get("headers") or []:
        if isinstance(h, dict) and str(h.get("name", "")).lower() == "referer":
            p = urlsplit(str(h.get("value") or ""))
            ref = f"{p.scheme}://{p.netloc}{p.path}" if p.netloc else p.path
            break
    tab = entry.get("pageref") or (entry.get("_portalspec") or {}).get("tab")
    return f"{ref or '(no referer)'}" + (f" [{tab}]" if tab else "")


def _text(body: Any) -> str | None:
    if not isinstance(body, dict) or not isinstance(body.get("text"), str) or body.get("_truncated"):
        return None
    t = body["text"]
    return t if 0 < len(t) <= BODY_KEPT else None


def step_of(entry: dict[str, Any], match: Any, host: str, path: str, query: str, t: float) -> Step:
    req, resp = entry.get("request") or {}, entry.get("response") or {}
    ext = entry.get("_portalspec") or {}
    op = match.op
    synthetic = ext.get("synthetic")
    return Step(
        t=t, started=str(entry.get("startedDateTime") or ""), method=str(req.get("method") or "GET").upper(),
        url=str(req.get("url") or ""), host=host, path=path, query=query,
        template=op.path if op is not None else None, operation_id=op.operation_id if op is not None else None,
        spec=op.spec if op is not None else None, status=int(resp.get("status") or 0), blocked=bool(ext.get("blocked")),
        synthetic=synthetic, params=dict(match.params or {}),
        req_headers=[(str(h.get("name")), str(h.get("value"))) for h in req.get("headers") or []
                     if isinstance(h, dict) and str(h.get("name", "")).lower() not in _REQ_HEADERS_SKIPPED
                     and not str(h.get("name", "")).lower().startswith(("sec-", ":"))],
        resp_headers=[] if synthetic else [(str(h.get("name")).lower(), str(h.get("value"))) for h in resp.get("headers") or []
                                           if isinstance(h, dict) and str(h.get("name", "")).lower() in _RESP_HEADERS_KEPT],
        req_text=_text(req.get("postData")), resp_text=_text(resp.get("content")),
    )


@dataclass
class FlowCollector:
    """Per page: its first segment (``heads``, kept whole: a range before may continue it), the
    flows closed in between, and its current segment (``tails``)."""

    gap: float = DEFAULT_GAP_S
    heads: dict[str, Segment] = field(default_factory=dict)
    head_closed: set[str] = field(default_factory=set)
    tails: dict[str, Segment] = field(default_factory=dict)
    closed: list[Segment] = field(default_factory=list)

    def add(self, page: str, step: Step) -> None:
        tail = self.tails.get(page)
        if tail is not None and step.t - tail.last_t > self.gap:
            self._close(page, tail)
            tail = None
        if tail is None:
            tail = self.tails[page] = Segment(page)
            if page not in self.heads:
                self.heads[page] = tail
        tail.append(step)

    def _close(self, page: str, seg: Segment) -> None:
        del self.tails[page]
        if self.heads.get(page) is seg:
            self.head_closed.add(page)  # kept: the range before may end with the same page
        elif seg.writes:
            self.closed.append(seg)

    def merge(self, later: "FlowCollector") -> None:
        """Fold the collector of the next byte range into this one."""
        self.closed.extend(later.closed)
        for page, head in later.heads.items():
            tail = self.tails.pop(page, None)
            later_tail = later.tails.get(page)
            head_open = page not in later.head_closed
            if tail is not None and head.first_t - tail.last_t <= self.gap:
                joined = tail.join(head)
                if self.heads.get(page) is tail:
                    self.heads[page] = joined
                if head_open:
                    self.tails[page] = joined
                    continue
                self._keep(page, joined)
            else:
                if tail is not None:
                    self._keep(page, tail)
                if head_open:
                    if page not in self.heads:
                        self.heads[page] = head
                    self.tails[page] = head
                    continue
                if page not in self.heads:
                    self.heads[page] = head
                    self.head_closed.add(page)
                elif head.writes:
                    self.closed.append(head)
            if later_tail is not None:
                self.tails[page] = later_tail

    def _keep(self, page: str, seg: Segment) -> None:
        if self.heads.get(page) is seg:
            self.head_closed.add(page)
        elif seg.writes:
            self.closed.append(seg)

    def segments(self) -> list[Segment]:
        """Every segment with a write, heads and open tails included, in time order."""
        out = list(self.closed)
        seen = {id(s) for s in out}
        for seg in list(self.heads.values()) + list(self.tails.values()):
            if seg.writes and id(seg) not in seen:
                out.append(seg)
                seen.add(id(seg))
        out.sort(key=lambda s: (s.first_t, s.page))
        return out
