"""Route candidates from the portal's code, matched to the specs (templates against templates) and to
the captured calls: what the code can call that is documented, called, both or neither."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable

from ..matching.templates import LITERAL, PARAM, Template, compile_template, join_base, split_path
from ..specs.index import SpecIndex
from ..specs.model import Operation
from ..urls import split_url
from .bundles import read_bundles
from .extract import GENERIC_FIRST, spec_terms

_SENTINEL = "\x01"
_VAR = re.compile(r"\{[^{}]*\}")


@dataclass
class _Route:
    template: str
    method: str | None
    hosts: set[str] = field(default_factory=set)
    bundles: set[str] = field(default_factory=set)
    pages: set[str] = field(default_factory=set)
    page_hosts: set[str] = field(default_factory=set)


@dataclass
class _SpecOp:
    op: Operation
    template: Template
    hosts: list[re.Pattern[str]]


_Probe = tuple[tuple[str, str] | None, ...]  # a candidate's segments as _fits reads them


def _probe(cand: list[str]) -> _Probe:
    """A candidate's segments, read once for every template they are fitted to: None where the code puts a
    value (any spec parameter or literal fits), else the segment with its values as a sentinel, and folded."""
    out: list[tuple[str, str] | None] = []
    for seg in cand:
        if _VAR.fullmatch(seg):
            out.append(None)
        else:
            probe = _VAR.sub(_SENTINEL, seg)
            out.append((probe, probe.casefold()))
    return tuple(out)


def _fits(cand: _Probe, tpl: Template) -> int | None:
    """How well a candidate's segments (``_probe``) fit a template's (literal matches), or None when they do not."""
    if len(cand) != len(tpl.segments):
        return None
    score = 0
    for seg, spec in zip(cand, tpl.segments):
        if seg is None:
            continue
        if spec.match(seg[0], seg[1]) is None:
            return None
        score += spec.kind != PARAM
    return score


class _Pools:
    """Items with a template, found by a candidate's segments: those of its length with its literal at one place
    or a parameter there, at the place that leaves the fewest (a literal segment of a candidate fits no other)."""

    def __init__(self, items: Iterable[tuple[Any, Template]]) -> None:
        self.by_len: dict[int, list[tuple[Any, Template]]] = defaultdict(list)
        self.by_pos: dict[tuple[int, int, str | None], list[tuple[Any, Template]]] = defaultdict(list)
        for item, tpl in items:
            n = len(tpl.segments)
            self.by_len[n].append((item, tpl))
            for i, seg in enumerate(tpl.segments):
                self.by_pos[(n, i, seg.folded if seg.kind == LITERAL else None)].append((item, tpl))

    def pool(self, segs: list[str]) -> list[tuple[Any, Template]]:
        n = len(segs)
        best, size = None, len(self.by_len.get(n, ()))  # a value in every segment: every template of that length
        for i, seg in enumerate(segs):
            if not _VAR.search(seg):
                key = (n, i, seg.casefold())
                here = len(self.by_pos.get(key, ())) + len(self.by_pos.get((n, i, None), ()))
                if here < size:
                    best, size = key, here
        if best is None:
            return self.by_len.get(n, [])
        return self.by_pos.get(best, []) + self.by_pos.get((n, best[1], None), [])


class CodeRouteMatcher:
    def __init__(self, index: SpecIndex) -> None:
        ops: list[tuple[_SpecOp, Template]] = []
        self.firsts: set[str] = set(GENERIC_FIRST) | {f.casefold() for f in spec_terms(index)[0]}
        self.api_hosts: list[re.Pattern[str]] = []
        for op in index.operations:
            hosts, bases = [], set()
            for s in op.servers or []:
                if s.host_regex and s.host_regex != "[^/]+":
                    hosts.append(re.compile(s.host_regex, re.I))
                bases.add(s.base_path)
            self.api_hosts += hosts
            for base in bases or {""}:
                tpl = compile_template(join_base(base, op.path))
                ops.append((_SpecOp(op, tpl, hosts), tpl))
        self.api_hosts = list({r.pattern: r for r in self.api_hosts}.values())
        self.ops = _Pools(ops)
        self._hosts: dict[str, bool] = {}  # a host -> whether a spec's server serves it

    def is_api(self, template: str, host: str | None) -> bool:
        """A route of an API the specs describe: on one of their hosts, or under one of their first segments."""
        if host and self._api_host(host):
            return True
        segs, _ = split_path(template)
        return bool(segs) and "{" not in segs[0] and segs[0].casefold() in self.firsts

    def _api_host(self, host: str) -> bool:
        known = self._hosts.get(host)
        if known is None:
            known = self._hosts[host] = any(r.fullmatch(host) or r.fullmatch(host.rsplit(":", 1)[0]) for r in self.api_hosts)
        return known

    def documented(self, template: str, method: str | None, hosts: Iterable[str]) -> list[Operation]:
        """The operations a candidate is, best fit first (every method when the code names none)."""
        segs, _ = split_path(template)
        hosts = [h for h in hosts if h]
        scored = []
        probe = _probe(segs)
        for sop, _ in self.ops.pool(segs):
            if method and sop.op.method != method:
                continue
            score = _fits(probe, sop.template)
            if score is None:
                continue
            on_host = not hosts or not sop.hosts or any(r.fullmatch(h) or r.fullmatch(h.rsplit(":", 1)[0])
                                                          for r in sop.hosts for h in hosts)
            scored.append((on_host, score, sop.op.method == "GET", sop.op))
        scored.sort(key=lambda t: (not t[0], -t[1], not t[2], t[3].key))
        if scored and scored[0][0]:
            scored = [t for t in scored if t[0]]
        return [t[3] for t in scored]


def code_routes(index: SpecIndex, captures: Iterable[str], called_ops: set[str],
                undocumented: list[dict[str, Any]], warn: Any = None) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """One row per candidate template and method from the captures' bundles (``code-routes.jsonl``), and
    per spec the documented operations the code can call that the capture never did."""
    routes: dict[tuple[str, str | None, str | None], _Route] = {}
    for cap in captures:
        for b in read_bundles(cap, warn):
            page_host = split_url(b["page"])[0] if b.get("page") else None
            for c in b.get("candidates") or []:
                template, method, host = c.get("template"), c.get("method"), c.get("host")
                if not isinstance(template, str) or not template.startswith("/"):
                    continue
                r = routes.get((template, method, host))
                if r is None:
                    r = routes[(template, method, host)] = _Route(template, method)
                if host:
                    r.hosts.add(host)
                r.bundles.add(b["url"])
                if b.get("page"):
                    r.pages.add(b["page"])
                if page_host:
                    r.page_hosts.add(page_host)
    if not routes:
        return [], {}
    m = CodeRouteMatcher(index)
    undoc = _Pools([(u, compile_template(u["template"])) for u in undocumented])
    rows = []
    in_code: dict[str, set[str]] = defaultdict(set)
    for r in routes.values():
        host = next(iter(r.hosts), None)
        if not m.is_api(r.template, host):
            continue
        ops = m.documented(r.template, r.method, r.hosts or r.page_hosts)
        segs, _ = split_path(r.template)
        if ops:
            called = any(op.key in called_ops for op in ops) if r.method is None else ops[0].key in called_ops
            if not called:
                for op in ops if r.method is None else ops[:1]:
                    in_code[op.spec].add(op.key)
        else:
            hosts = r.hosts or r.page_hosts
            probe = _probe(segs)
            called = any((r.method is None or u["method"] == r.method) and (not hosts or u["host"] in hosts)
                         and _fits(probe, t) is not None for u, t in undoc.pool(segs))
        rows.append({"template": r.template, "method": r.method,
                     "hosts": sorted(r.hosts or r.page_hosts), "documented": bool(ops), "called": called,
                     "operationId": ops[0].operation_id if ops else None, "spec": ops[0].spec if ops else None,
                     "path": ops[0].path if ops else None, "bundles": sorted(r.bundles), "pages": sorted(r.pages)[:10]})
    rows.sort(key=lambda d: (d["documented"], d["called"], d["spec"] or "", d["template"], d["method"] or ""))
    return rows, {k: len(v) for k, v in in_code.items()}
