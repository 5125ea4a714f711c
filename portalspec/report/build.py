"""Findings from captures: one streaming pass over the calls, then aggregates (the report's facts).

Memory is bounded by what is reported (operations, templates, distinct findings), never by the
number of calls: each call is matched, checked and folded into counters, then dropped.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence
from urllib.parse import urlsplit

from .. import jsoncodec
from ..fixtures.store import CaptureReader, iter_shard_spans
from ..matching.calls import call_from_entry
from ..matching.matcher import Match
from ..shapes.drift import DriftChecker, Finding, check_call, fold_pointer, response_for, media_schema, STANDARD_HEADERS
from ..shapes.infer import SchemaAccumulator, is_placeholder_schema
from ..shapes.paths import PAGES_KEPT, Shape, TemplateInferrer, spec_literals, spec_param_names
from ..specs.index import SpecIndex
from ..specs.model import WRITE_METHODS, Operation
from ..urls import referer_page
from ..writeflows.collect import DEFAULT_GAP_S, FlowCollector, epoch
from ..writeflows.pages import page_of
from . import examples

TIMELINE_SLOT_S = 10  # the finest time bin of the report's timeline


def _body_value(body: dict[str, Any] | None) -> Any:
    if not body or not isinstance(body.get("text"), str) or body.get("_truncated"):
        return None
    text = body["text"]
    if not text.strip():
        return None
    try:
        return jsoncodec.loads(text)
    except (ValueError, RecursionError):
        return None


def _example_body(body: dict[str, Any], pointers: list[str]) -> dict[str, Any]:
    """``{"body": ...}`` for an example: the body's JSON value, shortened (``examples``, and then
    ``"shortened": true``) when its text is long, else its text, cut."""
    value = _body_value(body)
    if value is None:
        return {"body": examples.trimmed(body.get("text"))}
    if len(body["text"]) > examples.LIMIT:
        short = examples.shortened(value, pointers)
        return {"body": short, "shortened": True} if short is not None else {"body": examples.trimmed(body["text"])}
    return {"body": value}


def example_of(entry: dict[str, Any], ref: dict[str, Any], findings: Sequence[Finding] = ()) -> dict[str, Any]:
    """A redacted example call, small enough for a report and ready to paste as an ``examples`` value;
    a long body keeps the places ``findings`` point to."""
    req, resp = entry.get("request") or {}, entry.get("response") or {}
    content = resp.get("content") or {}
    request = {"method": req.get("method"), "url": req.get("url"),
               "headers": {h["name"]: h["value"] for h in req.get("headers") or [] if isinstance(h, dict)},
               **_example_body(req.get("postData") or {}, [f.pointer for f in findings if f.location == "request"])}
    synthetic = (entry.get("_portalspec") or {}).get("synthetic")
    if synthetic:  # portalspec's own answer to a blocked write: not the API's
        return {"ref": ref, "started": entry.get("startedDateTime"), "synthetic": synthetic, "request": request,
                "response": {"status": None, "mimeType": None, "body": None}}
    return {"ref": ref, "started": entry.get("startedDateTime"), "request": request,
            "response": {"status": resp.get("status"), "mimeType": content.get("mimeType"),
                         **_example_body(content, [f.pointer for f in findings if f.location == "response"])}}


def header_profile(entry: dict[str, Any]) -> dict[str, list[str]]:
    """Which portal headers and cookies a call needed, as names only."""
    req = entry.get("request") or {}
    names = sorted({h["name"] for h in req.get("headers") or [] if isinstance(h, dict)
                    and h.get("name", "").lower() not in STANDARD_HEADERS and not h.get("name", "").lower().startswith(("sec-", ":"))})
    cookies = ((entry.get("_portalspec") or {}).get("redaction") or {}).get("cookies", {}).get("request", [])
    auth = [h["value"].split(" ", 1)[0] for h in req.get("headers") or []
            if isinstance(h, dict) and h.get("name", "").lower() == "authorization"]
    return {"headers": names, "cookies": sorted(cookies), "authorization": sorted(set(auth))}


@dataclass
class OpStats:
    op: Operation
    calls: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    blocked: int = 0
    first_seen: str | None = None
    last_seen: str | None = None
    request: SchemaAccumulator | None = None
    response: SchemaAccumulator | None = None
    mutation_example: dict[str, Any] | None = None
    mutation_profile: dict[str, list[str]] | None = None
    browsed: dict[str, None] = field(default_factory=dict)  # the first ``PAGES_KEPT`` pages, in order
    variants: Counter[str] = field(default_factory=Counter)


@dataclass
class FindingAgg:
    spec: str
    operationId: str | None
    method: str
    path: str
    location: str
    status: int | None
    pointer: str
    kind: str
    expected: Any
    observed: Any
    severity: str
    calls: int = 0
    first_seen: str | None = None
    last_seen: str | None = None
    example: dict[str, Any] | None = None
    source_file: str | None = None
    source_pointer: str | None = None


@dataclass
class Facts:
    """Everything a report says, before rendering."""

    index: SpecIndex
    captures: list[str]
    calls: int = 0
    matched: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    blocked: int = 0
    hosts: Counter[str] = field(default_factory=Counter)
    portals: Counter[str] = field(default_factory=Counter)
    first: str | None = None
    last: str | None = None
    ops: dict[str, OpStats] = field(default_factory=dict)
    findings: dict[tuple[Any, ...], FindingAgg] = field(default_factory=dict)
    inferrer: TemplateInferrer = field(default_factory=TemplateInferrer)
    warnings: list[str] = field(default_factory=list)
    notes: Counter[str] = field(default_factory=Counter)  # fixture notes by kind (truncated body, ...)
    flows: FlowCollector = field(default_factory=FlowCollector)
    spec_calls: Counter[str] = field(default_factory=Counter)  # documented calls per spec
    spec_headers: Counter[tuple[str, str]] = field(default_factory=Counter)  # (spec, header) -> calls that sent it
    spec_hosts: Counter[tuple[str, str]] = field(default_factory=Counter)  # (spec, host) -> documented calls
    timeline: Counter[tuple[int, str]] = field(default_factory=Counter)  # (10 s slot, calls|writes|blocked) -> calls


@dataclass
class Made:
    """The keys of the examples a builder has made (mutations by operation, drift by finding). A worker
    keeps them across the ranges it reads for one report: ranges are taken and merged in order and the
    first example wins, so a later range's example for one of these keys would be dropped."""

    mutations: set[str] = field(default_factory=set)
    findings: set[tuple[Any, ...]] = field(default_factory=set)


def _seen(obj: Any, started: str | None) -> None:
    if started:
        obj.first_seen = min(filter(None, [obj.first_seen, started]))
        obj.last_seen = max(filter(None, [obj.last_seen, started]))


class FactsBuilder:
    """Folds calls into Facts. ``infer_all`` infers schemas for every operation (capture diffs need them)."""

    def __init__(self, index: SpecIndex, captures: list[str], infer_all: bool = False,
                 flow_gap: float | None = DEFAULT_GAP_S, spill: bool = False, checker: DriftChecker | None = None,
                 words: tuple[frozenset[str], dict[str, str]] | None = None, made: Made | None = None,
                 ranged: bool = False) -> None:
        """``flow_gap=None``: no write flows (``report --no-flows``). A worker that reads many ranges passes
        what it keeps between them: its ``checker``, the specs' ``words`` (``spec_words``) and what it ``made``;
        ``ranged``: its calls are one byte range of a parallel report (``FlowCollector.ranged``)."""
        literals, names = words or spec_words(index)
        flows = FlowCollector(flow_gap or DEFAULT_GAP_S, spill=spill, ranged=ranged)
        self.facts = Facts(index=index, captures=captures, flows=flows, inferrer=TemplateInferrer(literals, names))
        self.flows = flow_gap is not None
        self._t = 0.0  # the last call's time, for calls that have none
        self.checker = checker or DriftChecker()
        self.made = made or Made()
        self.infer_all = infer_all

    def add_captures(self, captures: Iterable[str | Path]) -> Facts:
        for cap in captures:
            reader = CaptureReader(cap, warn=self.facts.warnings.append)
            for shard in reader.shards():
                self.add_range(str(cap), shard)
        return self.facts

    def add_range(self, cap: str, shard: Path, start: int = 0, end: int | None = None, first_line: int = 1) -> None:
        """Fold the calls of one shard's byte range; examples point at their capture, shard and line."""
        for line, offset, length, entry in iter_shard_spans(shard, self.facts.warnings.append, start, end, first_line):
            self.add(entry, {"capture": cap, "shard": shard.name, "line": line}, (shard, offset, length))

    def add(self, entry: dict[str, Any], ref: dict[str, Any], span: tuple[Path, int, int] | None = None) -> None:
        """Fold one call; ``span``: where its line is (a write flow may read it again)."""
        f = self.facts
        m = f.index.matcher.match(call_from_entry(entry))
        started = entry.get("startedDateTime")
        ext = entry.get("_portalspec") or {}
        page = referer_page(entry)  # read once: browsed pages and write flows both use it
        f.calls += 1
        parts = urlsplit(m.url)
        host = parts.netloc
        f.hosts[host] += 1
        if ext.get("portal"):
            f.portals[ext["portal"]] += 1
        if started:
            f.first = min(filter(None, [f.first, started]))
            f.last = max(filter(None, [f.last, started]))
        blocked = bool(ext.get("blocked"))
        f.blocked += blocked
        t = epoch(started)
        if t is not None:
            slot = int(t // TIMELINE_SLOT_S)
            f.timeline[(slot, "calls")] += 1
            if m.method in WRITE_METHODS:
                f.timeline[(slot, "writes")] += 1
                f.timeline[(slot, "blocked")] += blocked
        for note in ext.get("notes") or []:
            f.notes[note_kind(str(note))] += 1
        if m.op is not None:
            f.matched += 1
            f.spec_hosts[(m.op.spec, host)] += 1
            self._documented(m, m.op, entry, ref, started, blocked, page)
            for inner in m.inner:
                if inner.op is not None:
                    st = self._stats(inner.op)
                    st.calls += 1
        else:
            f.reasons[m.reason or "undocumented"] += 1
            self._undocumented(m, entry, ref, started, blocked, host, parts.path, page)
        if self.flows:
            self._t = t if t is not None else self._t
            f.flows.add_call(page_of(entry, page), self._t, entry, m, host, parts.path, parts.query, span)

    def _stats(self, op: Operation) -> OpStats:
        st = self.facts.ops.get(op.key)
        if st is None:
            st = self.facts.ops[op.key] = OpStats(op)
        return st

    def _documented(self, m: Match, op: Operation, entry: dict[str, Any], ref: dict[str, Any], started: str | None,
                    blocked: bool, page: str | None) -> None:
        st = self._stats(op)
        st.calls += 1
        f = self.facts
        f.spec_calls[op.spec] += 1
        for name in {str(h.get("name", "")).lower() for h in (entry.get("request") or {}).get("headers") or []
                     if isinstance(h, dict)}:
            if name not in STANDARD_HEADERS and not name.startswith(("sec-", ":")) and name not in op.known_headers:
                f.spec_headers[(op.spec, name)] += 1
        synthetic = bool((entry.get("_portalspec") or {}).get("synthetic"))
        status = int((entry.get("response") or {}).get("status") or 0)
        if not synthetic:  # a synthetic answer is portalspec's, not evidence of the API
            st.statuses[status] += 1
        st.blocked += blocked
        _seen(st, started)
        if page and len(st.browsed) < PAGES_KEPT:
            st.browsed[page] = None
        if m.variant and m.variant.get("graphql"):
            st.variants[str(m.variant["graphql"])] += 1
        if op.method in WRITE_METHODS and op.key not in self.made.mutations:  # made: this builder, or a range before
            self.made.mutations.add(op.key)
            st.mutation_example = example_of(entry, ref)
            st.mutation_profile = header_profile(entry)
        example: dict[str, Any] | None = None
        findings = check_call(self.checker, op, entry)
        for fd in findings:
            key = (op.key, fd.location, fd.status, fold_pointer(fd.pointer), fd.kind, json.dumps(fd.expected, default=str))
            agg = self.facts.findings.get(key)
            if agg is None:
                made = key in self.made.findings
                if not made:
                    self.made.findings.add(key)
                    example = example or example_of(entry, ref, findings)
                agg = self.facts.findings[key] = FindingAgg(
                    op.spec, op.operation_id, op.method, op.path, fd.location, fd.status, fold_pointer(fd.pointer),
                    fd.kind, fd.expected, fd.observed, fd.severity, example=None if made else example,
                    source_file=op.source_file, source_pointer=op.source_pointer)
            agg.calls += 1
            _seen(agg, started)
        # Inference for operations whose schemas document nothing.
        req_body = _body_value((entry.get("request") or {}).get("postData"))
        if req_body is not None and (self.infer_all or op.request_body is None or is_placeholder_schema(
                media_schema((op.request_body or {}).get("content"), "application/json")[0])):
            st.request = st.request or SchemaAccumulator()
            st.request.add(req_body)
        resp_body = None if synthetic else _body_value((entry.get("response") or {}).get("content"))
        if resp_body is not None and 200 <= status < 300:
            robj, _ = response_for(op, status)
            schema = media_schema((robj or {}).get("content"), "application/json")[0] if robj else None
            if self.infer_all or is_placeholder_schema(schema):
                st.response = st.response or SchemaAccumulator()
                st.response.add(resp_body)

    def _undocumented(self, m: Match, entry: dict[str, Any], ref: dict[str, Any], started: str | None,
                      blocked: bool, host: str, path: str, page: str | None) -> None:
        if ((entry.get("response") or {}).get("content") or {}).get("_script"):
            return  # a script the page loaded (its routes are in code-routes.jsonl), not an endpoint
        shape = self.facts.inferrer.add(host, m.method, path)
        if shape is None:
            return
        _add_to_shape(shape, entry, ref, started, blocked, m.reason, m.nearest, page)


def _add_to_shape(shape: Shape, entry: dict[str, Any], ref: dict[str, Any], started: str | None, blocked: bool,
                  reason: str | None, nearest: str | None = None, page: str | None = None) -> None:
    req_body = _body_value((entry.get("request") or {}).get("postData"))
    if req_body is not None:
        shape.request.add(req_body)
    if (entry.get("_portalspec") or {}).get("synthetic"):  # the request side is real; the answer was ours
        status, resp_body = 0, None
    else:
        status = int((entry.get("response") or {}).get("status") or 0)
        shape.statuses[status] += 1
        resp_body = _body_value((entry.get("response") or {}).get("content"))
    if resp_body is not None and 200 <= status < 300:
        shape.response.add(resp_body)
    if shape.example is None:
        shape.example = {**example_of(entry, ref), "profile": header_profile(entry), "reason": reason, "nearest": nearest}
    shape.blocked += blocked
    if started:
        shape.first_seen = min(filter(None, [shape.first_seen, started]))
        shape.last_seen = max(filter(None, [shape.last_seen, started]))
    if page and len(shape.referers) < PAGES_KEPT:
        shape.referers[page] = None


def note_kind(note: str) -> str:
    """A fixture note without its specifics: ``response.content: body of 3145728 bytes truncated to 1048576``
    becomes ``response.content: body truncated``."""
    where, _, what = note.partition(": ")
    if "truncated" in what:
        return f"{where}: body truncated"
    what = re.sub(r"\d+", "N", what)
    return f"{where}: {what}" if what else where


def spec_words(index: SpecIndex) -> tuple[frozenset[str], dict[str, str]]:
    """The specs' literal segments and the parameter names they give after them (``TemplateInferrer``)."""
    return spec_literals(index.operations), spec_param_names(op.path for op in index.operations)


def build_facts(index: SpecIndex, captures: list[str], flow_gap: float | None = DEFAULT_GAP_S) -> Facts:
    return FactsBuilder(index, captures, flow_gap=flow_gap, spill=True).add_captures(captures)
