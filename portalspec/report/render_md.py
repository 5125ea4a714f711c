"""Markdown report: readable on a code-hosting site, tables and collapsible details."""

from __future__ import annotations

import json
from typing import Any

from .render_flows import FLOWS_SHOWN, mermaid


def _cell(v: Any) -> str:
    s = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, default=str)
    return s.replace("|", "\\|").replace("\n", " ")


def _code(v: Any) -> str:
    text = v if isinstance(v, str) else json.dumps(v, indent=2, ensure_ascii=False, default=str)
    return f"```json\n{text}\n```"


def render_markdown(r: dict[str, Any]) -> str:
    s = r["summary"]
    out = ["# portalspec report", ""]
    broken = [sp for sp in r["specs"] if sp.get("errors")]
    if broken:
        out += [f"> **Spec errors: {s.get('spec_errors', 0)}.** These specs did not load whole; "
                f"{s.get('spec_paths_lost', 0)} path items were lost and their calls show as undocumented.", ">"]
        for sp in broken:
            lost = f" ({len(sp.get('paths_lost') or [])} path items lost)" if sp.get("paths_lost") else ""
            out += [f"> - `{sp['spec']}`{lost}: " + "; ".join(_cell(e) for e in sp["errors"][:10])]
        out += [""]
    out += [
        "## Summary", "",
        "| measure | value |", "| --- | --- |",
        f"| calls | {s['calls']} |",
        f"| matched | {s['matched']} |",
        f"| undocumented | {s['undocumented']} |",
        f"| undocumented templates | {s['undocumented_templates']} |",
        f"| blocked writes | {s['blocked_writes']} |",
        f"| mutations | {s['mutations']} |",
        f"| operations seen | {s['operations_seen']} of {s['operations_total']} |",
        f"| drift findings | {s['drift_findings']} |",
        f"| capture dates | {s['first_call'] or '-'} to {s['last_call'] or '-'} |",
        "",
    ]
    if s["drift_by_kind"]:
        out += ["Drift by kind: " + ", ".join(f"`{k}` {v}" for k, v in s["drift_by_kind"].items()) + "  ",
                "Drift by severity: " + ", ".join(f"{k} {v}" for k, v in s["drift_by_severity"].items()), ""]
    out += ["Hosts: " + (", ".join(f"`{h}` {n}" for h, n in s["hosts"].items()) or "-") + "  ",
            "Portals: " + (", ".join(f"{p} {n}" for p, n in s["portals"].items()) or "-"), ""]
    if s.get("entry_notes"):
        out += ["Notes on the captured calls: " + "; ".join(f"{k} ({v})" for k, v in s["entry_notes"].items()), ""]
    if s.get("warnings"):
        out += ["Warnings while reading: " + "; ".join(s["warnings"][:20]), ""]

    out += ["## Undocumented endpoints", ""]
    if not r["undocumented"]:
        out += ["None.", ""]
    for u in r["undocumented"]:
        out += [f"### <a id=\"{_anchor(u['id'])}\"></a>`{u['method']} {u['template']}`", "",
                f"Host `{u['host']}`, {u['calls']} calls, statuses {_cell(u['statuses'])}"
                + (f", {u['blocked']} blocked" if u["blocked"] else "") + ".", ""]
        if u["params"]:
            out += ["| parameter | evidence | distinct values | examples |", "| --- | --- | --- | --- |"]
            out += [f"| `{n}` | {p['evidence']} | {p['distinct_values']} | {_cell(', '.join(p['examples']))} |"
                    for n, p in u["params"].items()]
            out += [""]
        for label, key in (("Request schema", "request_schema"), ("Response schema", "response_schema")):
            if u[key]:
                out += [f"<details><summary>{label}</summary>", "", _code(u[key]), "", "</details>", ""]
        if u["example"]:
            out += ["<details><summary>Example (redacted)</summary>", "", _code(_ex(u["example"])), "", "</details>", ""]

    out += ["## Drift", ""]
    if not r["drift"]:
        out += ["None.", ""]
    else:
        groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        for d in r["drift"]:
            groups.setdefault((d["spec"], d["method"], d["path"]), []).append(d)
        for (spec, method, path), findings in groups.items():
            op_id = findings[0]["operationId"]
            out += ["", f"### {spec}: `{method} {path}`" + (f" ({op_id})" if op_id else ""), "",
                    "| kind | severity | location | status | pointer | expected | observed | calls | example |",
                    "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
            examples: dict[str, tuple[str, dict[str, Any]]] = {}
            for d in findings:
                ex = d.get("example") or {}
                ref = json.dumps(ex.get("ref"), sort_keys=True)
                if ref not in examples:
                    examples[ref] = (f"{d['id']}-example", ex)
                link = f"[example](#{examples[ref][0]})" if ex else ""
                out.append(f"| <a id=\"{d['id']}\"></a>`{d['kind']}` | {d['severity']} | {d['location']} | {d['status'] or ''} | "
                           f"`{_cell(d['pointer']) or '/'}` | {_cell(d['expected'])} | {_cell(d['observed'])} | {d['calls']} | {link} |")
            for anchor, ex in examples.values():
                out += ["", f"<details><summary><a id=\"{anchor}\"></a>Example call (redacted)</summary>", "",
                        _code(_ex(ex)), "", "</details>"]
        out += [""]

    out += ["## Mutations", ""]
    if not r["mutations"]:
        out += ["None.", ""]
    for mu in r["mutations"]:
        name = mu["operationId"] or "undocumented"
        out += [f"### `{mu['method']} {mu['template']}` ({name})", "",
                f"{mu['calls']} calls, " + (f"answered locally ({mu['synthetic']}: portalspec's answer, not the portal's)"
                                            if mu.get("synthetic") else f"response status {mu['response_status']}")
                + (f", blocked ({mu['blocked_calls']} calls never sent)" if mu["blocked"] else "") + ".", ""]
        prof = mu.get("headers_profile") or {}
        if prof:
            out += [f"Needs headers {', '.join(f'`{h}`' for h in prof.get('headers', [])) or '-'}; "
                    f"cookies {', '.join(f'`{c}`' for c in prof.get('cookies', [])) or '-'}; "
                    f"authorization {', '.join(prof.get('authorization', [])) or '-'}.", ""]
        out += ["<details><summary>Request example (redacted)</summary>", "", _code(mu["request_example"].get("body")), "",
                "</details>", ""]
        if mu["response_example"] is not None:
            out += ["<details><summary>Response example (redacted)</summary>", "", _code(mu["response_example"]), "",
                    "</details>", ""]

    session = r.get("session_headers") or []
    if session:
        out += ["## Session headers", "", "Sent on (nearly) every call to a spec: the session's headers, one finding per spec.", "",
                "| spec | header | calls | of |", "| --- | --- | --- | --- |"]
        out += [f"| {h['spec']} | `{_cell(h['header'])}` | {h['calls']} | {h['of']} |" for h in session]
        out += [""]
    flows = r.get("flows") or []
    out += [f"## Write flows ({len(flows)})", ""]
    if not flows:
        out += ["None.", ""]
    elif len(flows) > FLOWS_SHOWN:
        out += [f"The first {FLOWS_SHOWN} of {len(flows)} are drawn; report.json holds them all.", ""]
    for fl in flows[:FLOWS_SHOWN]:
        out += [f"### {fl['id']}: {fl.get('writes', 0)} writes on `{_cell(fl['page'])}`", "",
                f"Started {fl['started']}; {len(fl['steps'])} steps, {fl.get('blocked', 0)} blocked, "
                f"{len(fl['lineage'])} values traced to an earlier answer.", "", mermaid(fl), ""]
        if fl["lineage"]:
            out += ["| sent by | place | came from | place |", "| --- | --- | --- | --- |"]
            out += [f"| step {lk['to']['step']} | {lk['to']['location']} `{_cell(lk['to']['pointer'])}` | step {lk['from']['step']} | "
                    f"{lk['from']['location']} `{_cell(lk['from']['pointer'])}` |" for lk in fl["lineage"][:50]]
            out += [""]

    out += ["## Coverage", "", "| spec | seen | operations | percent |", "| --- | --- | --- | --- |"]
    out += [f"| {c['spec']} | {c['seen']} | {c['operations']} | {c['percent']}% |" for c in r["coverage"]]
    out += [""]
    for c in r["coverage"]:
        if c["deprecated_called"]:
            out += [f"Deprecated operations still called in {c['spec']}: " + ", ".join(f"`{x}`" for x in c["deprecated_called"]), ""]
        if c["never_seen"]:
            out += [f"<details><summary>{c['spec']}: {len(c['never_seen'])} operations never seen</summary>", ""]
            out += [f"- `{x}`" for x in c["never_seen"][:500]]
            out += ["", "</details>", ""]
    out += ["## Operations seen", "", "| spec | operation | method | path | calls | statuses |", "| --- | --- | --- | --- | --- | --- |"]
    out += [f"| {o['spec']} | {o['operationId'] or '-'} | {o['method']} | `{_cell(o['path'])}` | {o['calls']} | {_cell(o['statuses'])} |"
            for o in r["operations"]]
    return "\n".join(out) + "\n"


def _anchor(s: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in s).strip("-").lower()


def _ex(e: dict[str, Any]) -> dict[str, Any]:
    return {"request": e.get("request"), "response": e.get("response")}
