"""What a reader navigates a day's report by: per spec (portal family), then host, then path prefix;
the session's calls over time; what to look at first. Computed once for every renderer."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timezone
from typing import Any, Callable

from ..specs.hosts import HostServers
from ..specs.index import SpecIndex
from ..specs.model import WRITE_METHODS
from .build import TIMELINE_SLOT_S, Facts

TIMELINE_BINS = 60
_NICE_BINS = (10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


def prefix_of(template: str, depth: int = 2) -> str:
    """The first ``depth`` literal segments of a template (``/apiproxy/mtp/...`` -> ``/apiproxy/mtp``)."""
    out: list[str] = []
    for seg in template.split("/"):
        if not seg:
            continue
        if "{" in seg or len(out) == depth:
            break
        out.append(seg)
    return "/" + "/".join(out)


def spec_for_host(index: SpecIndex) -> Callable[[str, str], str | None]:
    """Which spec an undocumented call belongs to, by the rule the overlay places it with
    (``specs.hosts``): None when no spec serves its host."""
    hosts = HostServers(index)
    names = {s.root: s.name for s in index.specs}

    def find(host: str, template: str) -> str | None:
        where = hosts.spec_for(host, template)
        return names.get(where[0]) if where else None

    return find


def _group(spec: str | None, title: str | None, seen: int = 0, total: int = 0, in_code: int = 0) -> dict[str, Any]:
    return {"spec": spec, "title": title, "calls": 0, "operations_seen": seen, "operations_total": total,
            "operations_in_code_only": in_code, "undocumented_endpoints": 0, "undocumented_calls": 0, "drift": 0,
            "drift_by_severity": {"error": 0, "warning": 0, "info": 0}, "drift_by_kind": Counter(),
            "writes": 0, "blocked": 0, "hosts": {}}


def anchor(s: str) -> str:
    """An id for the HTML and Markdown: letters and digits, the rest dashes."""
    return "".join(c if c.isalnum() else "-" for c in s).strip("-").lower()


def spec_anchor(group: dict[str, Any]) -> str:
    """The id of a spec's section (``spec-<name>``; ``spec-unserved-hosts`` for hosts no spec serves)."""
    return "spec-" + (anchor(group["spec"]) if group.get("spec") else "unserved-hosts")


def by_spec(index: SpecIndex, facts: Facts, undocumented: list[dict[str, Any]], drift: list[dict[str, Any]],
            coverage: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One group per spec (and one for hosts no spec serves): its counts, and its undocumented endpoints
    by host, then path prefix, sorted by calls. Sets ``spec`` and ``prefix`` on each undocumented row."""
    find = spec_for_host(index)
    cov = {c["spec"]: c for c in coverage}
    groups: dict[str | None, dict[str, Any]] = {}
    for s in index.specs:
        c = cov.get(s.name, {})
        groups[s.name] = _group(s.name, s.title, c.get("seen", 0), c.get("operations", len(s.operations)),
                                c.get("in_code", 0))
    for st in facts.ops.values():
        g = groups.get(st.op.spec)
        if g is None:
            continue
        g["calls"] += st.calls
        g["blocked"] += st.blocked
        if st.op.method in WRITE_METHODS:
            g["writes"] += st.calls
    for (name, host), n in facts.spec_hosts.items():
        if name in groups:
            groups[name]["hosts"].setdefault(host, {"host": host, "calls": 0, "prefixes": defaultdict(list)})["calls"] += n
    for u in undocumented:
        spec = find(u["host"], u["template"])
        u["spec"], u["prefix"] = spec, prefix_of(u["template"])
        g = groups.get(spec)
        if g is None:
            g = groups[None] = groups.get(None) or _group(None, "Hosts no spec serves")
        h = g["hosts"].setdefault(u["host"], {"host": u["host"], "calls": 0, "prefixes": defaultdict(list)})
        h["prefixes"][u["prefix"]].append(u)
        g["undocumented_endpoints"] += 1
        g["undocumented_calls"] += u["calls"]
        if spec is None:
            h["calls"] += u["calls"]
            g["calls"] += u["calls"]
            g["blocked"] += u["blocked"]
            if u["method"] in WRITE_METHODS:
                g["writes"] += u["calls"]
    for d in drift:
        g = groups.get(d["spec"])
        if g is not None:
            g["drift"] += 1
            g["drift_by_severity"][d["severity"]] = g["drift_by_severity"].get(d["severity"], 0) + 1
            g["drift_by_kind"][d["kind"]] += 1
    out = []
    for g in groups.values():
        hosts = []
        for h in sorted(g["hosts"].values(), key=lambda h: (-h["calls"], h["host"])):
            prefixes = [{"prefix": p, "calls": sum(u["calls"] for u in rows),
                         "endpoints": [u["id"] for u in sorted(rows, key=lambda u: (-u["calls"], u["template"], u["method"]))]}
                        for p, rows in h["prefixes"].items()]
            prefixes.sort(key=lambda p: (-p["calls"], p["prefix"]))
            hosts.append({"host": h["host"], "calls": h["calls"], "prefixes": prefixes})
        out.append({**g, "drift_by_kind": dict(sorted(g["drift_by_kind"].items())), "hosts": hosts})
    named = sorted((g for g in out if g["spec"] is not None),
                   key=lambda g: (-(g["calls"] + g["undocumented_calls"]), g["spec"]))
    return named + [g for g in out if g["spec"] is None]


def timeline(facts: Facts, bins: int = TIMELINE_BINS) -> dict[str, Any]:
    """Calls, writes and blocked writes over the session, in at most ``bins`` bins of a round width."""
    slots = sorted({m for m, _ in facts.timeline})
    if not slots:
        return {"start": None, "bin_seconds": TIMELINE_SLOT_S, "bins": []}
    first, last = slots[0] * TIMELINE_SLOT_S, slots[-1] * TIMELINE_SLOT_S
    span = last - first + TIMELINE_SLOT_S
    width = next((w for w in _NICE_BINS if span / w <= bins), _NICE_BINS[-1] * (1 + int(span // (_NICE_BINS[-1] * bins))))
    start = first // width * width
    n = int((last - start) // width) + 1
    rows: list[dict[str, Any]] = [{"t": _iso(start + i * width), "calls": 0, "writes": 0, "blocked": 0}
                                  for i in range(n)]
    for (slot, kind), count in facts.timeline.items():
        rows[int((slot * TIMELINE_SLOT_S - start) // width)][kind] += count
    return {"start": _iso(start), "bin_seconds": width, "bins": rows}


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def attention(summary: dict[str, Any], undocumented: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The top of the page: what should be looked at first, most serious first, only what is there."""
    items = [
        ("spec_errors", summary.get("spec_errors", 0), "spec-errors",
         "spec errors: specs that did not load whole (their calls look undocumented)"),
        ("drift_errors", summary["drift_by_severity"].get("error", 0), "drift",
         "drift errors: answers the spec says cannot happen"),
        ("undocumented_writes", sum(1 for u in undocumented if u["method"] in WRITE_METHODS), "spec-groups",
         "undocumented writes: endpoints that change the tenant and no spec describes"),
        ("blocked_writes", summary.get("blocked_writes", 0), "mutations",
         "blocked writes: answered locally, never sent (their payloads are in Mutations)"),
        ("undocumented_endpoints", summary.get("undocumented_templates", 0), "spec-groups",
         "undocumented endpoints"),
    ]
    return [{"kind": k, "count": n, "anchor": a, "text": t} for k, n, a, t in items if n]
