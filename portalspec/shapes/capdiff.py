"""``portalspec diff``: what changed between two captures, per operation or undocumented template.

Compares what was observed, not what the spec says, so it spots drift even where the spec is
loose (``additionalProperties: true``, empty schemas).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..report.build import Facts, FactsBuilder
from .infer import SchemaAccumulator


def _observed(facts: Facts) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for st in facts.ops.values():
        op = st.op
        out[f"{op.spec}: {op.method} {op.path}"] = {
            "statuses": {str(k) for k in st.statuses},
            "request": _ptrs(st.request), "response": _ptrs(st.response), "calls": st.calls}
    for t in facts.inferrer.templates():
        out[f"undocumented {t.host}: {t.method} {t.template}"] = {
            "statuses": {str(k) for k in t.shape.statuses},
            "request": _ptrs(t.shape.request), "response": _ptrs(t.shape.response), "calls": t.calls}
    return out


def _ptrs(acc: SchemaAccumulator | None) -> dict[str, str]:
    return acc.pointers() if acc is not None and acc.count else {}


def diff_facts(old: Facts, new: Facts) -> list[dict[str, Any]]:
    a, b = _observed(old), _observed(new)
    changes: list[dict[str, Any]] = []
    for key in sorted(a.keys() - b.keys()):
        changes.append({"endpoint": key, "change": "only_in_old", "calls": a[key]["calls"]})
    for key in sorted(b.keys() - a.keys()):
        changes.append({"endpoint": key, "change": "only_in_new", "calls": b[key]["calls"]})
    for key in sorted(a.keys() & b.keys()):
        x, y = a[key], b[key]
        for s in sorted(y["statuses"] - x["statuses"]):
            changes.append({"endpoint": key, "change": "status_added", "status": s})
        for s in sorted(x["statuses"] - y["statuses"]):
            changes.append({"endpoint": key, "change": "status_removed", "status": s})
        for loc in ("request", "response"):
            px, py = x[loc], y[loc]
            if not px or not py:
                continue
            for p in sorted(py.keys() - px.keys()):
                changes.append({"endpoint": key, "change": "property_added", "location": loc, "pointer": p, "new": py[p]})
            for p in sorted(px.keys() - py.keys()):
                changes.append({"endpoint": key, "change": "property_removed", "location": loc, "pointer": p, "old": px[p]})
            for p in sorted(px.keys() & py.keys()):
                if px[p] != py[p] and "null" not in (px[p], py[p]):
                    kind = "format_changed" if px[p].split("/")[0] == py[p].split("/")[0] else "type_changed"
                    changes.append({"endpoint": key, "change": kind, "location": loc, "pointer": p, "old": px[p], "new": py[p]})
    return changes


def run_diff(a: argparse.Namespace) -> int:
    from ..specs.index import SpecIndex
    from ..specs.model import Spec
    from ..matching.matcher import Matcher

    index = SpecIndex.load(a.specs) if a.specs else SpecIndex([Spec("none", "none", "", "", [], [], [])], Matcher([]))
    old = FactsBuilder(index, [a.old], infer_all=True, flow_gap=None).add_captures([a.old])
    new = FactsBuilder(index, [a.new], infer_all=True, flow_gap=None).add_captures([a.new])
    changes = diff_facts(old, new)
    if a.json:
        print(json.dumps(changes, indent=2))
    else:
        for c in changes:
            detail = " ".join(f"{k}={v}" for k, v in c.items() if k not in ("endpoint", "change"))
            print(f"{c['change']:18} {c['endpoint']}  {detail}")
        print(f"{len(changes)} changes between {a.old} and {a.new}")
    return 0
