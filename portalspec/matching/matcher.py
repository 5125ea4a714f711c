"""Matching calls to operations.

The index is keyed by host pattern, then method and segment count, then the casefolded first
segment, so a call is compared with a handful of templates rather than every path of every spec.
Among fitting templates: direct paths beat aliases, literal segments beat parameters (left to
right), fewer variables beat more, exact case beats case-insensitive, an exact trailing slash
beats a differing one. A tie between different operations is reported as ambiguous.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, Iterable
from urllib.parse import parse_qsl, unquote

from ..specs.model import METHODS, Operation, Server
from ..urls import split_url
from .templates import LITERAL, MIXED, PARAM, Segment, Template, compile_template, join_base, split_path

_EMPTY_PARAMS: dict[str, str] = {}
_EMPTY_LIST: list[Any] = []


@dataclass(slots=True)
class Candidate:
    template: Template
    op: Operation
    server: Server
    alias: bool
    required_query: tuple[tuple[str, tuple[str, ...] | None], ...] = ()
    # For templates of literal and whole-segment parameters only (most of them): the literal
    # segments and the parameter values are read with one itemgetter call each.
    simple: bool = False
    lit_get: Any = None
    lit_texts: Any = None
    par_get: Any = None
    par_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        segs = self.template.segments
        if any(s.kind == MIXED for s in segs):
            return
        lits = [i for i, s in enumerate(segs) if s.kind == LITERAL]
        pars = [i for i, s in enumerate(segs) if s.kind == PARAM]
        self.simple = True
        if lits:
            self.lit_get = itemgetter(*lits)
            texts = tuple(segs[i].text for i in lits)
            self.lit_texts = texts if len(texts) > 1 else texts[0]
        if pars:
            self.par_get = itemgetter(*pars) if len(pars) > 1 else itemgetter(pars[0], pars[0])  # always a tuple
            self.par_names = tuple(segs[i].names[0] for i in pars)


class Match:
    """The outcome for one call: an operation, or why there is none.

    Defaults are class attributes (an instance stores only what a match sets): creating one per
    call is a measurable part of matching."""

    op: Operation | None = None
    server: str | None = None
    template: str | None = None
    params: dict[str, str] = _EMPTY_PARAMS
    how: list[str] = _EMPTY_LIST  # replaced, never appended to, until matched
    reason: str | None = None
    nearest: str | None = None
    candidates: list[str] = _EMPTY_LIST
    variant: dict[str, Any] | None = None
    inner: list[Match] = _EMPTY_LIST

    def __init__(self, method: str, url: str) -> None:
        self.method, self.url = method, url

    @property
    def matched(self) -> bool:
        return self.op is not None

    def as_dict(self) -> dict[str, Any]:
        op = self.op
        d: dict[str, Any] = {
            "method": self.method,
            "url": self.url,
            "spec": op.spec if op else None,
            "operationId": op.operation_id if op else None,
            "template": op.path if op else None,
            "server": self.server,
            "params": self.params,
            "match": "+".join(self.how) if op else (self.reason or "undocumented"),
            "reason": self.reason,
        }
        if self.nearest:
            d["nearest"] = self.nearest
        if self.candidates:
            d["candidates"] = self.candidates
        if self.variant:
            d["variant"] = self.variant
        return d


@dataclass(slots=True)
class Call:
    method: str
    url: str
    body: str | None = None
    mime: str = ""


class _Node:
    """A segment trie node: literal children by casefolded text, pattern children in order."""

    __slots__ = ("lit", "pat", "leaves")

    def __init__(self) -> None:
        self.lit: dict[str, _Node] = {}
        self.pat: list[tuple[Segment, _Node]] = []
        self.leaves: list[Candidate] = []


class _NearNode:
    """A node of the trie ``Matcher._nearest`` walks (every method's templates in one): literal children
    by casefolded text, other children by segment (every ``{param}`` is one child), and, of the templates
    in its subtree, the first (in ``_Bucket.all`` order) of each length (``{length: position}``)."""

    __slots__ = ("lit", "pat", "firsts")

    def __init__(self) -> None:
        self.lit: dict[str, _NearNode] = {}
        self.pat: dict[tuple[int, str], tuple[Segment, _NearNode]] = {}
        self.firsts: dict[int, int] = {}


class _Bucket:
    """Templates of one host pattern, as one segment trie per method."""

    __slots__ = ("roots", "all", "_near")

    def __init__(self) -> None:
        self.roots: dict[str, _Node] = {}
        self.all: list[Candidate] = []
        self._near: _NearNode | None = None

    def add(self, c: Candidate) -> None:
        node = self.roots.setdefault(c.op.method, _Node())
        for seg in c.template.segments:
            if seg.kind == LITERAL:
                node = node.lit.setdefault(seg.folded, _Node())
                continue
            for other, child in node.pat:
                if other.folded == seg.folded:
                    node = child
                    break
            else:
                child = _Node()
                node.pat.append((seg, child))
                node = child
        node.leaves.append(c)
        self.all.append(c)
        self._near = None

    def near(self) -> _NearNode:
        """The trie ``Matcher._nearest`` walks, made on first use."""
        if self._near is None:
            root = _NearNode()
            for at, c in enumerate(self.all):
                segs = c.template.segments
                node = root
                node.firsts.setdefault(len(segs), at)
                for seg in segs:
                    if seg.kind == LITERAL:
                        node = node.lit.setdefault(seg.folded, _NearNode())
                    else:
                        key = (PARAM, "") if seg.kind == PARAM else (seg.kind, seg.text)
                        node = node.pat.setdefault(key, (seg, _NearNode()))[1]
                    node.firsts.setdefault(len(segs), at)
            self._near = root
        return self._near


def _walk(node: _Node, segs: list[str], folded: list[str], i: int, out: list[Candidate]) -> None:
    n = len(segs)
    while i < n:
        child = node.lit.get(folded[i])
        if not node.pat:  # literal children only: descend without recursion
            if child is None:
                return
            node, i = child, i + 1
            continue
        if child is not None:
            _walk(child, segs, folded, i + 1, out)
        seg_i = segs[i]
        for seg, child in node.pat:
            if seg.kind == PARAM:
                if seg_i:
                    _walk(child, segs, folded, i + 1, out)
            elif seg.iregex is not None and seg.iregex.fullmatch(seg_i):
                _walk(child, segs, folded, i + 1, out)
        return
    out.extend(node.leaves)


class Matcher:
    def __init__(self, operations: Iterable[Operation]) -> None:
        self._buckets: dict[str | None, _Bucket] = {}
        self._host_cache: dict[str, list[_Bucket]] = {}
        self.operations = list(operations)
        for op in self.operations:
            paths = [(op.path, False)]
            ctx = op.context
            for alias in [ctx.get("canonicalPath"), *(ctx.get("pathAliases") or [])]:
                if isinstance(alias, str) and alias.startswith("/") and alias != op.path:
                    paths.append((alias, True))
            for server in op.servers or [Server("", None, "", None)]:
                for path, is_alias in paths:
                    full = join_base(server.base_path, path)
                    cand = Candidate(compile_template(full), op, server, is_alias, _required_query(op))
                    self._buckets.setdefault(server.host_regex, _Bucket()).add(cand)
        self._host_res = {h: re.compile(h) for h in self._buckets if h is not None}

    def _buckets_for(self, netloc: str) -> list[_Bucket]:
        hit = self._host_cache.get(netloc)
        if hit is None:
            hit = [self._buckets[h] for h, rx in self._host_res.items() if rx.fullmatch(netloc)]
            if None in self._buckets:
                hit.append(self._buckets[None])
            if len(self._host_cache) < 4096:
                self._host_cache[netloc] = hit
        return hit

    def match(self, call: Call) -> Match:
        method = call.method.upper()
        netloc, path, query = split_url(call.url)
        if path.startswith("/") and not path.endswith("/") and "%" not in path:  # the common case, inline
            segs, trailing = path[1:].split("/"), False
            folded = path[1:].lower().split("/") if path.isascii() else [s.casefold() for s in segs]
        else:
            segs, trailing = split_path(path or "/")
            if "%" in path:
                segs = [unquote(s) if "%" in s else s for s in segs]
            folded = [s.casefold() for s in segs]
        buckets = self._buckets_for(netloc)
        result = Match(method, call.url)
        if not buckets:
            result.reason = "host_not_in_specs"
            return result
        scored = self._scored(buckets, method, segs, folded, trailing, query)
        if not scored:
            for other in (m.upper() for m in METHODS if m.upper() != method):
                found = self._scored(buckets, other, segs, folded, trailing, "")
                if found:
                    result.reason = "path_documented_method_missing"
                    result.nearest = f"{other} {found[0][1].op.path}"
                    return result
            result.reason = "undocumented"
            result.nearest = self._nearest(buckets, segs, folded)
            return result
        top_key, top, params = scored[0]
        if len(scored) > 1 and len({id(c.op) for k, c, _ in scored if k == top_key}) > 1:
            result.reason = "ambiguous"
            result.candidates = sorted({f"{c.op.spec}:{c.op.label}" for k, c, _ in scored if k == top_key})
            return result
        _, q_ok, _, _, exact, slash_ok = top_key
        how = ["alias" if top.alias else "exact"]
        if not exact:
            how.append("case-insensitive")
        if not slash_ok:
            how.append("trailing-slash")
        if not q_ok:
            how.append("query-mismatch")
        result.op, result.server, result.template = top.op, top.server.url, top.template.text
        result.params, result.how = params, how
        if top.op.context.get("variants"):
            _request_shape_variant(result, top.op.context["variants"], query, call.body)
        if call.body and method == "POST":
            self._body_variants(result, call)
        return result

    def _scored(self, buckets: list[_Bucket], method: str, segs: list[str], folded: list[str], trailing: bool,
                query: str) -> list[tuple[tuple[Any, ...], Candidate, dict[str, str]]]:
        """Fitting candidates, best first, each with its sort key and path parameters."""
        scored = []
        found: list[Candidate] = []
        for bucket in buckets:
            root = bucket.roots.get(method)
            if root is not None:
                _walk(root, segs, folded, 0, found)
        for c in found:
            if c.simple:  # the walk has checked the literals (folded) and that no parameter is empty
                exact = 1 if c.lit_get is None or c.lit_get(segs) == c.lit_texts else 0
                params = dict(zip(c.par_names, c.par_get(segs))) if c.par_get is not None else {}
                q_ok = _query_fits(c.required_query, query) if c.required_query else True
                scored.append(((not c.alias, q_ok, c.template.rank, -c.template.nvars, exact,
                                c.template.trailing_slash == trailing), c, params))
                continue
            params = {}
            exact = 1
            for tseg, seg, f in zip(c.template.segments, segs, folded):
                if tseg.kind == LITERAL:
                    if seg != tseg.text:
                        exact = 0
                    continue
                r = tseg.match(seg, f)
                if r is None:
                    break
                exact &= r[0]
                params.update(r[1])
            else:
                q_ok = _query_fits(c.required_query, query) if c.required_query else True
                key = (not c.alias, q_ok, c.template.rank, -c.template.nvars, exact,
                       c.template.trailing_slash == trailing)
                scored.append((key, c, params))
        if len(scored) > 1:
            scored.sort(key=lambda t: t[0], reverse=True)
        return scored

    def _nearest(self, buckets: list[_Bucket], segs: list[str], folded: list[str]) -> str | None:
        """The documented template most like the path: 1 for each leading literal it shares and 0.5 for
        each parameter, up to the first segment that differs, less 0.25 for each segment of difference in
        length; the first (in the buckets' order) of those scoring most, if above 1.

        Each bucket's ``near`` trie is walked along the path: a node's templates score at least its score
        so far less their difference in length, exactly that if they leave the path there; those that go
        on along it are met again further down with more. So the first of each length is all a node offers."""
        n = len(segs)
        best: tuple[int, int] | None = None  # (bucket, position) of the best so far
        best_score = 1.0
        for b, bucket in enumerate(buckets):
            stack = [(bucket.near(), 0, 0.0)]
            while stack:
                node, d, acc = stack.pop()
                if acc >= best_score:  # no template below scores more than acc
                    for length, at in node.firsts.items():
                        score = acc - abs(length - n) * 0.25
                        if score > best_score or (score == best_score and best is not None and (b, at) < best):
                            best, best_score = (b, at), score
                if d < n:
                    child = node.lit.get(folded[d])
                    if child is not None:
                        stack.append((child, d + 1, acc + 1))
                    for seg, child in node.pat.values():
                        if seg.kind == PARAM or (seg.iregex is not None and seg.iregex.fullmatch(segs[d])):
                            stack.append((child, d + 1, acc + 0.5))
        if best is None:
            return None
        c = buckets[best[0]].all[best[1]]
        return f"{c.op.method} {c.op.path}"

    def _body_variants(self, result: Match, call: Call) -> None:
        assert result.op is not None
        path = result.op.path.rstrip("/")
        if not (path.endswith("/graphql") or path.endswith("$batch")):
            return
        try:
            body = json.loads(call.body or "")
        except (ValueError, RecursionError):
            return
        if path.endswith("/graphql") and isinstance(body, dict):
            name = body.get("operationName")
            ext = body.get("extensions")
            pq = ext.get("persistedQuery") if isinstance(ext, dict) else None
            pq = pq if isinstance(pq, dict) else {}
            result.variant = {"graphql": name, "persistedQuery": pq.get("sha256Hash")}
            result.how.append("graphql")
        elif path.endswith("$batch") and isinstance(body, dict) and isinstance(body.get("requests"), list):
            base = call.url.split("?")[0].rsplit("/", 1)[0]
            result.inner = []
            for req in body["requests"][:1000]:
                if not isinstance(req, dict) or not isinstance(req.get("url"), str):
                    continue
                url = req["url"]
                full = url if re.match(r"^[a-z]+://", url) else f"{base}/{url.lstrip('/')}"
                inner_body = req.get("body")
                inner = self.match(Call(str(req.get("method") or "GET"), full,
                                        json.dumps(inner_body) if inner_body is not None else None))
                if inner.op is not None:
                    inner.how.append("batch-inner")
                result.inner.append(inner)
            result.how.append("batch")


def _request_shape_variant(result: Match, variants: Any, query: str, body: str | None) -> None:
    """Which of an operation's ``x-nodoc-operation-context.variants`` selectors the call used."""
    if not isinstance(variants, list):
        return
    given = dict(parse_qsl(query, keep_blank_values=True)) if query else {}
    parsed: Any = None
    seen: dict[str, Any] = {}
    for v in variants:
        if not isinstance(v, dict) or not isinstance(v.get("selector"), str):
            continue
        sel = v["selector"]
        if v.get("location") == "query" and sel in given:
            seen[sel] = given[sel]
        elif v.get("location") == "body" and body:
            if parsed is None:
                try:
                    parsed = json.loads(body)
                except (ValueError, RecursionError):
                    parsed = {}
            if isinstance(parsed, dict) and sel in parsed:
                seen[sel] = parsed[sel] if isinstance(parsed[sel], (str, int, float, bool)) else "present"
    if seen:
        result.variant = {**(result.variant or {}), "selectors": seen}
        result.how.append("variant")


def _required_query(op: Operation) -> tuple[tuple[str, tuple[str, ...] | None], ...]:
    out = []
    for p in op.parameters:
        if p.get("in") == "query" and p.get("required") and isinstance(p.get("name"), str):
            enum = (p.get("schema") or {}).get("enum") if isinstance(p.get("schema"), dict) else None
            out.append((p["name"], tuple(str(e) for e in enum) if isinstance(enum, list) and enum else None))
    return tuple(out)


def _query_fits(required: tuple[tuple[str, tuple[str, ...] | None], ...], query: str) -> bool:
    """Required query parameters are present and, where they have an enum, take one of its values."""
    given = dict(parse_qsl(query, keep_blank_values=True))
    for name, enum in required:
        if name not in given or (enum is not None and given[name] not in enum):
            return False
    return True
