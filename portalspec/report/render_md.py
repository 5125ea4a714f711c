"""Markdown report: readable on a code-hosting site, tables and collapsible details."""

from __future__ import annotations

import json
from typing import Any

from .groups import anchor, spec_anchor
from .render_charts import calls_pie_mermaid, coverage_mermaid, timeline_mermaid
from .render_flows import FLOWS_SHOWN, LINKS_LISTED, mermaid


UNDOC_PER_GROUP = 200
CODE_SHOWN = 300


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
    attention = r.get("attention") or []
    if attention:
        out += ["## Look at first", ""]
        out += [f"- **{a['count']}** [{a['text']}](#{a['anchor']})" for a in attention]
        out += [""]
    groups = [g for g in r.get("by_spec") or [] if g["calls"] or g["undocumented_endpoints"] or g["drift"]]
    out += ["Contents: [Summary](#summary) · [Charts](#charts) · "
            + "".join(f"[{g['spec'] or g['title']}](#{spec_anchor(g)}) · " for g in groups)
            + "[Drift](#drift) · [Mutations](#mutations) · [Write flows](#write-flows) · [Coverage](#coverage) · "
              "[Operations seen](#operations-seen)", ""]
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
    hosts = list(s["hosts"].items())
    out += [f"{len(hosts)} hosts" + (", most called: " + ", ".join(f"`{h}` {n}" for h, n in hosts[:5]) if hosts else "") + "  ",
            "Portals: " + (", ".join(f"{p} {n}" for p, n in s["portals"].items()) or "-"), ""]
    if len(hosts) > 5:
        out += [f"<details><summary>all {len(hosts)} hosts</summary>", "", "| host | calls |", "| --- | --- |"]
        out += [f"| `{h}` | {n} |" for h, n in hosts] + ["", "</details>", ""]
    if s.get("entry_notes"):
        out += ["Notes on the captured calls: " + "; ".join(f"{k} ({v})" for k, v in s["entry_notes"].items()), ""]
    if s.get("warnings"):
        out += ["Warnings while reading: " + "; ".join(s["warnings"][:20]), ""]

    out += ["## Charts", "", calls_pie_mermaid(s), coverage_mermaid(r.get("by_spec") or []),
            timeline_mermaid(r.get("timeline") or {})]
    drifting = [g for g in groups if g["drift"]]
    if drifting:
        out += ["Drift per spec:", "", "| spec | errors | warnings | info | kinds |", "| --- | --- | --- | --- | --- |"]
        out += [f"| {g['spec']} | {g['drift_by_severity'].get('error', 0)} | {g['drift_by_severity'].get('warning', 0)} | "
                f"{g['drift_by_severity'].get('info', 0)} | " + ", ".join(f"`{k}` {n}" for k, n in g["drift_by_kind"].items()) + " |"
                for g in drifting]
        out += [""]

    undoc = {u["id"]: u for u in r["undocumented"]}
    out += ["<a id=\"spec-groups\"></a>", ""]
    for g in groups:
        out += [f"## <a id=\"{spec_anchor(g)}\"></a>{g['spec'] or g['title']}" + (f" ({g['title']})" if g["spec"] and g["title"] else ""), ""]
        counts = [f"{g['calls']} calls"]
        if g["spec"]:
            counts.append(f"{g['operations_seen']} of {g['operations_total']} operations seen")
        counts.append(f"{g['undocumented_endpoints']} undocumented endpoints ({g['undocumented_calls']} calls)")
        if g["spec"]:
            sev = g["drift_by_severity"]
            counts.append(f"drift: {sev.get('error', 0)} errors, {sev.get('warning', 0)} warnings, {sev.get('info', 0)} info")
        counts.append(f"{g['writes']} writes" + (f", {g['blocked']} blocked" if g["blocked"] else ""))
        out += [" · ".join(counts), ""]
        shown = 0
        for h in g["hosts"]:
            if not h["prefixes"]:
                continue
            out += [f"### `{h['host']}` ({h['calls']} calls)", ""]
            for p in h["prefixes"]:
                out += [f"`{p['prefix']}`: {len(p['endpoints'])} endpoints, {p['calls']} calls", "",
                        "| method | undocumented endpoint | calls | statuses |", "| --- | --- | --- | --- |"]
                details: list[str] = []
                for uid in p["endpoints"]:
                    if shown >= UNDOC_PER_GROUP:
                        break
                    shown += 1
                    u = undoc[uid]
                    out.append(f"| {u['method']} | <a id=\"{anchor(u['id'])}\"></a>`{_cell(u['template'])}` | {u['calls']}"
                               + (f" ({u['blocked']} blocked)" if u["blocked"] else "") + f" | {_cell(u['statuses'])} |")
                    details += _undoc_details(u)
                out += [""] + details
        if g["undocumented_endpoints"] > shown:
            out += [f"The {shown} most called of {g['undocumented_endpoints']} undocumented endpoints are listed; "
                    "report.json holds them all.", ""]

    routes = r.get("code_routes") or []
    if routes:
        new = [c for c in routes if not c["documented"] and not c["called"]]
        todo = [c for c in routes if c["documented"] and not c["called"]]
        out += ["## <a id=\"code-never-called\"></a>Seen in code, never called", "",
                f"Routes in the JavaScript the portal loaded that no captured call used (bundle-discovered, not confirmed "
                f"traffic): {len(new)} undocumented, {len(todo)} documented (next section).", ""]
        if new:
            out += ["| method | route in code | hosts | bundle |", "| --- | --- | --- | --- |"]
            out += [f"| {c['method'] or '?'} | `{_cell(c['template'])}` | {_cell(', '.join(c['hosts'])) or '-'} | "
                    f"`{_cell(c['bundles'][0])}`" + (f" +{len(c['bundles']) - 1}" if len(c["bundles"]) > 1 else "") + " |"
                    for c in new[:CODE_SHOWN]]
            out += [""]
        out += ["## <a id=\"code-not-exercised\"></a>Documented, in code, not exercised", "",
                "What to click next: documented operations the portal's code can call that this capture never called.", ""]
        if todo:
            out += ["| spec | operation | method | route in code |", "| --- | --- | --- | --- |"]
            out += [f"| {c['spec']} | {c['operationId'] or '-'} | {c['method'] or 'any'} | `{_cell(c['template'])}` |"
                    for c in todo[:CODE_SHOWN]]
        else:
            out += ["None."]
        out += [""]
        if max(len(new), len(todo)) > CODE_SHOWN:
            out += [f"The first {CODE_SHOWN} of each are listed; report.json holds them all.", ""]

    out += ["## <a id=\"drift\"></a>Drift", ""]
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
            for ex_id, ex in examples.values():
                out += ["", f"<details><summary><a id=\"{ex_id}\"></a>Example call (redacted)</summary>", "",
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
        cut = ", shortened" if mu["request_example"].get("shortened") else ""
        out += [f"<details><summary>Request example (redacted{cut})</summary>", "", _code(mu["request_example"].get("body")), "",
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
                    f"{lk['from']['location']} `{_cell(lk['from']['pointer'])}` |" for lk in fl["lineage"][:LINKS_LISTED]]
            out += [""]
            if len(fl["lineage"]) > LINKS_LISTED:
                out += [f"The first {LINKS_LISTED} of {len(fl['lineage'])} traced values are listed; report.json holds them all.", ""]

    out += ["## Coverage", "", "| spec | called | in code only | neither | operations | percent called |",
            "| --- | --- | --- | --- | --- | --- |"]
    out += [f"| {c['spec']} | {c['seen']} | {c.get('in_code', 0)} | {c['operations'] - c['seen'] - c.get('in_code', 0)} | "
            f"{c['operations']} | {c['percent']}% |" for c in r["coverage"]]
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


def _undoc_details(u: dict[str, Any]) -> list[str]:
    body: list[str] = []
    if u["params"]:
        body += ["| parameter | evidence | distinct values | examples |", "| --- | --- | --- | --- |"]
        body += [f"| `{n}` | {p['evidence']} | {p['distinct_values']} | {_cell(', '.join(p['examples']))} |"
                 for n, p in u["params"].items()]
        body += [""]
    for label, key in (("Request schema", "request_schema"), ("Response schema", "response_schema")):
        if u[key]:
            body += [f"{label}:", "", _code(u[key]), ""]
    if u["example"]:
        body += ["Example (redacted):", "", _code(_ex(u["example"])), ""]
    if not body:
        return []
    return [f"<details><summary><code>{u['method']} {_html(u['template'])}</code></summary>", ""] + body + ["</details>", ""]


def _html(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _ex(e: dict[str, Any]) -> dict[str, Any]:
    return {"request": e.get("request"), "response": e.get("response")}
