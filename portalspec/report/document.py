"""The report document: the facts as one JSON-able dict. Every renderer reads only this."""

from __future__ import annotations

from collections import Counter
from typing import Any
from urllib.parse import unquote

from .. import __version__
from ..paths import display_path
from ..specs.model import WRITE_METHODS
from ..writeflows.kinds import flow_kinds
from ..writeflows.lineage import template_regex
from ..coderoutes.match import code_routes
from .build import Facts
from .groups import attention, by_spec, timeline

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def _op_id(spec: str, method: str, path: str) -> str:
    return f"{spec}:{method}:{path}"


SESSION_SHARE = 0.9  # a header sent on this share of a spec's calls belongs to the session, not to an operation
SESSION_MIN_CALLS = 3


def session_headers(facts: Facts) -> list[dict[str, Any]]:
    """Headers sent on (nearly) every call to a spec: one finding per spec, not one per operation."""
    out = []
    for (spec, name), n in sorted(facts.spec_headers.items()):
        total = facts.spec_calls.get(spec, 0)
        if total >= SESSION_MIN_CALLS and n >= SESSION_SHARE * total:
            out.append({"spec": spec, "header": name, "calls": n, "of": total})
    return out


def to_report(facts: Facts) -> dict[str, Any]:
    index = facts.index
    templates = facts.inferrer.templates()
    total_ops = sum(len(s.operations) for s in index.specs)
    session = session_headers(facts)
    plumbing = {(h["spec"], h["header"]) for h in session}
    findings = sorted((a for a in facts.findings.values()
                       if not (a.kind == "undocumented_parameter" and a.location == "header" and (a.spec, a.pointer) in plumbing)),
                      key=lambda a: (a.spec, a.path, a.method, SEVERITY_ORDER.get(a.severity, 3), -a.calls, a.pointer, a.kind))
    by_op_calls = {k: st.calls for k, st in facts.ops.items()}
    findings.sort(key=lambda a: (-by_op_calls.get(f"{a.spec} {a.method} {a.path}", 0), a.spec, a.path, a.method,
                                 SEVERITY_ORDER.get(a.severity, 3), -a.calls, a.pointer, a.kind))

    operations = []
    for key, st in sorted(facts.ops.items(), key=lambda kv: (-kv[1].calls, kv[0])):
        op = st.op
        d: dict[str, Any] = {
            "id": _op_id(op.spec, op.method, op.path), "spec": op.spec, "operationId": op.operation_id,
            "method": op.method, "path": op.path, "calls": st.calls,
            "statuses": {str(k): v for k, v in sorted(st.statuses.items())},
            "blocked": st.blocked, "deprecated": op.deprecated, "first_seen": st.first_seen, "last_seen": st.last_seen,
            "browsed_pages": sorted(st.browsed), "source_file": display_path(op.source_file), "source_pointer": op.source_pointer,
        }
        if st.variants:
            d["graphql_operations"] = dict(st.variants.most_common())
        if st.request is not None:
            d["inferred_request_schema"] = st.request.schema()
        if st.response is not None:
            d["inferred_response_schema"] = st.response.schema()
        operations.append(d)

    undocumented: list[dict[str, Any]] = []
    for t in templates:
        sh = t.shape
        undocumented.append({
            "id": f"undoc:{t.method}:{t.host}{t.template}", "host": t.host, "method": t.method, "template": t.template,
            "calls": t.calls, "blocked": sh.blocked, "params": t.params,
            "statuses": {str(k): v for k, v in sorted(sh.statuses.items())},
            "request_schema": sh.request.schema() if sh.request.count else None,
            "response_schema": sh.response.schema() if sh.response.count else None,
            "example": sh.example, "first_seen": sh.first_seen, "last_seen": sh.last_seen,
            "browsed_pages": sorted(sh.referers), "reason": (sh.example or {}).get("reason"),
            "nearest": (sh.example or {}).get("nearest"),
        })

    drift: list[dict[str, Any]] = []
    for i, a in enumerate(findings):
        drift.append({
            "id": f"drift-{i + 1}", "spec": a.spec, "operationId": a.operationId, "method": a.method, "path": a.path,
            "location": a.location, "status": a.status, "pointer": a.pointer, "kind": a.kind, "expected": a.expected,
            "observed": a.observed, "severity": a.severity, "calls": a.calls, "first_seen": a.first_seen,
            "last_seen": a.last_seen, "example": a.example, "source_file": display_path(a.source_file), "source_pointer": a.source_pointer,
        })

    mutations: list[dict[str, Any]] = []
    for st in sorted(facts.ops.values(), key=lambda s: (-s.calls, s.op.key)):
        if st.op.method in WRITE_METHODS and st.mutation_example is not None:
            ex = st.mutation_example
            mutations.append({
                "operationId": st.op.operation_id, "spec": st.op.spec, "method": st.op.method, "template": st.op.path,
                "documented": True, "calls": st.calls, "blocked": st.blocked > 0, "blocked_calls": st.blocked,
                "request_example": ex["request"], "headers_profile": st.mutation_profile,
                "response_status": ex["response"]["status"], "response_example": ex["response"]["body"],
                "synthetic": ex.get("synthetic"),
            })
    for u in undocumented:
        if u["method"] in WRITE_METHODS and u["example"]:
            ex = u["example"]
            mutations.append({
                "operationId": None, "spec": None, "method": u["method"], "template": u["template"], "host": u["host"],
                "documented": False, "calls": u["calls"], "blocked": u["blocked"] > 0, "blocked_calls": u["blocked"],
                "request_example": ex["request"], "headers_profile": ex.get("profile"),
                "response_status": ex["response"]["status"], "response_example": ex["response"]["body"],
                "synthetic": ex.get("synthetic"),
            })

    coverage: list[dict[str, Any]] = []
    seen_keys = set(facts.ops)
    for s in index.specs:
        keys = [op.key for op in s.operations]
        seen = [k for k in keys if k in seen_keys]
        coverage.append({
            "spec": s.name, "title": s.title, "operations": len(keys), "seen": len(seen),
            "percent": round(100.0 * len(seen) / len(keys), 1) if keys else 0.0,
            "never_seen": [f"{op.method} {op.path}" for op in s.operations if op.key not in seen_keys],
            "deprecated_called": [f"{op.method} {op.path}" for op in s.operations if op.deprecated and op.key in seen_keys],
        })

    flows = _flows(facts, templates)
    kinds_of_flows = flow_kinds(flows)
    called = set(facts.ops)
    routes, in_code = code_routes(index, facts.captures, called, undocumented, facts.warnings.append)
    for c in coverage:
        c["in_code"] = in_code.get(c["spec"], 0)

    kinds = Counter(d["kind"] for d in drift)
    severities = Counter(d["severity"] for d in drift)
    summary = {
        "portalspec": __version__,
        "captures": facts.captures,
        "calls": facts.calls,
        "matched": facts.matched,
        "undocumented": facts.calls - facts.matched,
        "not_matched_by_reason": dict(sorted(facts.reasons.items())),
        "undocumented_templates": len(undocumented),
        "blocked_writes": facts.blocked,
        "mutations": len(mutations),
        "operations_seen": len(facts.ops),
        "operations_total": total_ops,
        "drift_findings": len(drift),
        "drift_by_kind": dict(sorted(kinds.items())),
        "drift_by_severity": {k: severities.get(k, 0) for k in ("error", "warning", "info")},
        "portals": dict(facts.portals.most_common()),
        "hosts": dict(facts.hosts.most_common()),
        "first_call": facts.first,
        "last_call": facts.last,
        "warnings": facts.warnings[:100],
        "entry_notes": dict(facts.notes.most_common()),
        "flows": len(flows),
        "flow_kinds": len(kinds_of_flows),
        "code_routes": len(routes),
        "code_routes_undocumented": sum(1 for r in routes if not r["documented"]),
        "code_routes_not_called": sum(1 for r in routes if r["documented"] and not r["called"]),
        "session_headers": len(session),
        "spec_errors": sum(len(s.errors) for s in index.specs),
        "spec_paths_lost": sum(len(s.paths_lost) for s in index.specs),
    }
    specs = [{"spec": s.name, "title": s.title, "root": display_path(s.root), "operations": len(s.operations),
              "warnings": s.warnings, "errors": s.errors, "paths_lost": s.paths_lost} for s in index.specs]
    groups = by_spec(index, facts, undocumented, drift, coverage)
    return {"summary": summary, "attention": attention(summary, undocumented), "by_spec": groups,
            "timeline": timeline(facts), "specs": specs, "operations": operations, "undocumented": undocumented,
            "drift": drift, "mutations": mutations, "coverage": coverage, "flows": flows, "flow_kinds": kinds_of_flows,
            "session_headers": session,
            "code_routes": routes}


def _flows(facts: Facts, templates: list[Any]) -> Any:
    """The write flows, each step named by its operation or its undocumented template."""
    by_hm: dict[tuple[str, str], list[str]] = {}
    for t in templates:
        by_hm.setdefault((t.host, t.method), []).append(t.template)

    def template_of(host: str, method: str, path: str) -> str | None:
        path = unquote(path)
        return next((tpl for tpl in by_hm.get((host, method), ()) if template_regex(tpl)[0].fullmatch(path)), None)

    return facts.flows.flows(template_of)
