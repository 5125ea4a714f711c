"""Markdown report: readable on a code-hosting site, tables and collapsible details.

It stays within ``MD_MAX_BYTES``, the most GitHub renders (its Markdown API documents 400 KB at
most; users report larger generated files shown as raw text): the head (summary, charts) is whole,
and each listing (undocumented endpoints per spec, code routes, drift, mutations, flows, coverage,
operations) shows what matters most (the most called endpoints, the most severe drift, else the
first) while its share of the room lasts (``budget.Room``), then says how many it left out.
report.html lists more and report.json holds everything."""

from __future__ import annotations

import json
from typing import Any, Callable, Iterable

from .budget import Room, pretty, text_size
from .groups import anchor, spec_anchor
from .render_charts import calls_pie_mermaid, coverage_mermaid, timeline_mermaid
from .render_flows import FLOWS_SHOWN, LINKS_LISTED, drawn, kind_writes, mermaid, report_kinds

MD_MAX_BYTES = 400_000
UNDOC_PER_GROUP = 200
CODE_SHOWN = 300
NEVER_SEEN_LISTED = 500
HOSTS_LISTED = 500  # in the head, which is always whole
GROUP_ROOM_MIN = 3000  # a spec's undocumented endpoints get at least this much, for their first rows
FLOW_DIAGRAMS_SHARE = 70  # percent of the flows' room their diagrams may take; the kinds' table takes the rest
ROWS_SHARE = 60  # percent of a listing's room its rows may take before details (schemas, examples) get the rest
_SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}
_ALWAYS = 6000  # bytes kept back for the headings, intros and notes every listing has
_ALWAYS_PER_SPEC = 700  # and for each spec section's heading, counts and note
# each listing's share of the room the head leaves, in the order they come; room one leaves goes to the next
_SHARES = {"groups": 30, "code": 7, "drift": 22, "mutations": 12, "session": 3, "flows": 14, "coverage": 5,
           "operations": 7}


def _n(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _cell(v: Any) -> str:
    s = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, default=str)
    return s.replace("|", "\\|").replace("\n", " ")


def _code(v: Any) -> str:
    return f"```json\n{pretty(v)}\n```"


class _Plan:
    """The room each listing gets: its share of what the head and the listings before it left, after the
    lines every listing always has (``_ALWAYS``, and ``_ALWAYS_PER_SPEC`` for each spec's section)."""

    def __init__(self, head: list[str], specs: int) -> None:
        self.left = MD_MAX_BYTES - text_size(head) - _ALWAYS - _ALWAYS_PER_SPEC * specs
        self.shares = dict(_SHARES)

    def listing(self, name: str, render: Callable[[Room], list[str]]) -> list[str]:
        share = self.shares.pop(name)
        room = Room(max(self.left, 0) * share // (share + sum(self.shares.values())))
        out = render(room)
        self.left -= room.used
        return out


def render_markdown(r: dict[str, Any]) -> str:
    groups = [g for g in r.get("by_spec") or [] if g["calls"] or g["undocumented_endpoints"] or g["drift"]]
    out = _head(r, groups)
    plan = _Plan(out, len(groups))
    out += plan.listing("groups", lambda room: _groups(r, groups, room))
    out += plan.listing("code", lambda room: _code_routes(r.get("code_routes") or [], room))
    out += plan.listing("drift", lambda room: _drift(r["drift"], room))
    out += plan.listing("mutations", lambda room: _mutations(r["mutations"], room))
    out += plan.listing("session", lambda room: _session(r.get("session_headers") or [], room))
    out += plan.listing("flows", lambda room: _flows(r.get("flows") or [], report_kinds(r), room))
    out += plan.listing("coverage", lambda room: _coverage(r["coverage"], room))
    out += plan.listing("operations", lambda room: _operations(r["operations"], room))
    return "\n".join(out) + "\n"


def _left_out(shown: int, total: int, what: str, which: str = "first") -> list[str]:
    """What a listing leaves out: "The first 3 of 10 ...", "The 3 most called of 10 ..."."""
    if total <= shown:
        return []
    some = f"None of the {total}" if not shown else f"The first {shown} of {total}" if which == "first" else \
        f"The {shown} {which} of {total}"
    return [f"{some} {what} are listed here; report.json holds them all.", ""]


def _head(r: dict[str, Any], groups: list[dict[str, Any]]) -> list[str]:
    s = r["summary"]
    out = ["# portalspec report", ""]
    broken = [sp for sp in r["specs"] if sp.get("errors")]
    if broken:
        out += ["<a id=\"spec-errors\"></a>", "",
                f"> **Spec errors: {s.get('spec_errors', 0)}.** These specs did not load whole; "
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
        out += [f"| `{h}` | {n} |" for h, n in hosts[:HOSTS_LISTED]]
        out += ([f"| … {len(hosts) - HOSTS_LISTED} more in report.json | |"] if len(hosts) > HOSTS_LISTED else []) + ["", "</details>", ""]
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
    return out


def _groups(r: dict[str, Any], groups: list[dict[str, Any]], room: Room) -> list[str]:
    """A section per spec (and one for hosts no spec serves): its counts, then its undocumented endpoints by
    host and path prefix, most called first. Their rows come first: each spec's get a part of
    ``ROWS_SHARE`` percent of the room, by its number of endpoints; then their details (schemas,
    example), the first endpoint of each spec, then the second, while the rest lasts."""
    undoc = {u["id"]: u for u in r["undocumented"]}
    out = room.force(["<a id=\"spec-groups\"></a>", ""])
    heads = [room.force(_group_head(g)) for g in groups]
    counts = [g["undocumented_endpoints"] for g in groups]
    rows_room = Room(room.left * ROWS_SHARE // 100)
    tables: list[list[tuple[list[str], str, str]]] = []
    for n, g in enumerate(groups):
        own = rows_room.part(sum(counts[n:]), counts[n], GROUP_ROOM_MIN)
        tables.append(_undocumented_rows(g, undoc, own))
        rows_room.spend(own)
    room.spend(rows_room)
    details: dict[str, list[str]] = {}
    for rank in range(max(map(len, tables), default=0)):
        for table in tables:
            if room.full:
                break
            if rank < len(table) and (d := _undoc_details(undoc[table[rank][2]])) and room.take(d):
                details[table[rank][2]] = d
    for g, head, table in zip(groups, heads, tables):
        out += head
        for i, (above, row, uid) in enumerate(table):
            out += above + [row]
            if i + 1 == len(table) or table[i + 1][0]:  # the prefix's table ends: its endpoints' details follow it
                start = max(j for j in range(i + 1) if table[j][0])
                out += [""] + [line for _, _, u in table[start:i + 1] for line in details.get(u, [])]
        out += room.force(_left_out(len(table), g["undocumented_endpoints"], "undocumented endpoints", "most called"))
    return out


def _group_head(g: dict[str, Any]) -> list[str]:
    counts = [f"{g['calls']} calls"]
    if g["spec"]:
        counts.append(f"{g['operations_seen']} of {g['operations_total']} operations seen")
    counts.append(f"{g['undocumented_endpoints']} undocumented endpoints ({g['undocumented_calls']} calls)")
    if g["spec"]:
        sev = g["drift_by_severity"]
        counts.append(f"drift: {sev.get('error', 0)} errors, {sev.get('warning', 0)} warnings, {sev.get('info', 0)} info")
    counts.append(f"{g['writes']} writes" + (f", {g['blocked']} blocked" if g["blocked"] else ""))
    return [f"## <a id=\"{spec_anchor(g)}\"></a>{g['spec'] or g['title']}" + (f" ({g['title']})" if g["spec"] and g["title"] else ""),
            "", " · ".join(counts), ""]


def _undocumented_rows(g: dict[str, Any], undoc: dict[str, dict[str, Any]], room: Room) -> list[tuple[list[str], str, str]]:
    """A spec's undocumented endpoints by host and path prefix, most called first, as many rows as fit:
    ``(the headings the row comes after (a new host, a new prefix), row, endpoint id)``."""
    order = [(h, p, uid) for h in g["hosts"] for p in h["prefixes"] for uid in p["endpoints"]][:UNDOC_PER_GROUP]
    out: list[tuple[list[str], str, str]] = []
    for i, (h, p, uid) in enumerate(order):
        new_host = i == 0 or order[i - 1][0] is not h
        above = [f"### `{h['host']}` ({h['calls']} calls)", ""] if new_host else []
        if new_host or order[i - 1][1] is not p:
            above += [f"`{p['prefix']}`: {len(p['endpoints'])} endpoints, {p['calls']} calls", "",
                      "| method | undocumented endpoint | calls | statuses |", "| --- | --- | --- | --- |"]
        u = undoc[uid]
        row = (f"| {u['method']} | <a id=\"{anchor(u['id'])}\"></a>`{_cell(u['template'])}` | {u['calls']}"
               + (f" ({u['blocked']} blocked)" if u["blocked"] else "") + f" | {_cell(u['statuses'])} |")
        if not room.take(above + [row, ""] if above else [row]):
            break
        out.append((above, row, uid))
    return out


def _code_routes(routes: list[dict[str, Any]], room: Room) -> list[str]:
    if not routes:
        return []
    new = [c for c in routes if not c["documented"] and not c["called"]]
    todo = [c for c in routes if c["documented"] and not c["called"]]
    out = room.force(["## <a id=\"code-never-called\"></a>Seen in code, never called", "",
                      f"Routes in the JavaScript the portal loaded that no captured call used (bundle-discovered, not "
                      f"confirmed traffic): {len(new)} undocumented, {len(todo)} documented (next section).", ""])
    half = room.part(2)
    rows = (f"| {c['method'] or '?'} | `{_cell(c['template'])}` | {_cell(', '.join(c['hosts'])) or '-'} | "
            f"`{_cell(c['bundles'][0])}`" + (f" +{len(c['bundles']) - 1}" if len(c["bundles"]) > 1 else "") + " |"
            for c in new[:CODE_SHOWN])
    table, listed = _table(["| method | route in code | hosts | bundle |", "| --- | --- | --- | --- |"], rows, half)
    out += table + room.force(_left_out(listed, len(new), "routes seen in code, never called"))
    room.spend(half)
    out += room.force(["## <a id=\"code-not-exercised\"></a>Documented, in code, not exercised", "",
                       "What to click next: documented operations the portal's code can call that this capture never called.", ""])
    rest = room.part(1)
    rows = (f"| {c['spec']} | {c['operationId'] or '-'} | {c['method'] or 'any'} | `{_cell(c['template'])}` |"
            for c in todo[:CODE_SHOWN])
    table, listed = _table(["| spec | operation | method | route in code |", "| --- | --- | --- | --- |"], rows, rest)
    room.spend(rest)
    out += table if todo else room.force(["None.", ""])
    return out + room.force(_left_out(listed, len(todo), "documented routes in code not exercised"))


def _table(top: list[str], rows: Iterable[str], room: Room, end: tuple[str, ...] = ("",)) -> tuple[list[str], int]:
    """The first rows that fit, under ``top`` and above ``end`` (no table when none does), and how many."""
    out: list[str] = []
    for row in rows:
        if not room.take((top + [*end] if not out else []) + [row]):
            break
        out.append(row)
    return (top + out + [*end] if out else []), len(out)


def _drift(drift: list[dict[str, Any]], room: Room) -> list[str]:
    """Drift findings by operation, in the report's order. Which are listed: the most severe (errors first,
    then in the report's order), their rows while ``ROWS_SHARE`` percent of the room lasts; then an
    example call (redacted) for them in the same order while the rest does, shared by findings with the
    same example."""
    out = room.force(["## <a id=\"drift\"></a>Drift", ""])
    if not drift:
        return out + room.force(["None.", ""])
    op = [(d["spec"], d["method"], d["path"]) for d in drift]
    severe = sorted(range(len(drift)), key=lambda i: (_SEVERITY_RANK.get(drift[i]["severity"], 3), i))
    room_rows = Room(room.left * ROWS_SHARE // 100)
    chosen: list[int] = []
    opened: set[tuple[str, str, str]] = set()
    for i in severe:  # a row is counted with a link to an example, as most have
        d = drift[i]
        if not room_rows.take(([] if op[i] in opened else _drift_top(d)) + [_drift_row(d, f"[example](#{d['id']}-example)")]):
            break
        opened.add(op[i])
        chosen.append(i)
    room.spend(room_rows)
    shown_at: dict[str, str | None] = {}  # an example's call -> the anchor it is shown at (None: not shown)
    blocks: dict[int, list[str]] = {}  # a finding -> the example shown after its operation's table
    refs = {i: json.dumps((drift[i].get("example") or {}).get("ref"), sort_keys=True) for i in chosen}
    for i in chosen:
        ex, ref = drift[i].get("example") or {}, refs[i]
        if ex and ref not in shown_at and not room.full:
            ex_id = f"{drift[i]['id']}-example"
            block = ["", f"<details><summary><a id=\"{ex_id}\"></a>Example call (redacted)</summary>", "", _code(_ex(ex)),
                     "", "</details>"]
            shown_at[ref] = ex_id if room.take(block) else None
            if shown_at[ref]:
                blocks[i] = block
    by_op: dict[tuple[str, str, str], list[int]] = {}
    for i in sorted(chosen):
        by_op.setdefault(op[i], []).append(i)
    for found in by_op.values():
        out += _drift_top(drift[found[0]])
        for i in found:
            at = shown_at.get(refs[i]) if drift[i].get("example") else None
            out.append(_drift_row(drift[i], f"[example](#{at})" if at else ""))
        out += [line for i in found for line in blocks.get(i, [])]
    out += [""]
    return out + room.force(_left_out(len(chosen), len(drift), "drift findings", "most severe"))


def _drift_top(d: dict[str, Any]) -> list[str]:
    op_id = d["operationId"]
    return ["", f"### {d['spec']}: `{d['method']} {d['path']}`" + (f" ({op_id})" if op_id else ""), "",
            "| kind | severity | location | status | pointer | expected | observed | calls | example |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]


def _drift_row(d: dict[str, Any], link: str) -> str:
    return (f"| <a id=\"{d['id']}\"></a>`{d['kind']}` | {d['severity']} | {d['location']} | {d['status'] or ''} | "
            f"`{_cell(d['pointer']) or '/'}` | {_cell(d['expected'])} | {_cell(d['observed'])} | {d['calls']} | {link} |")


def _mutations(mutations: list[dict[str, Any]], room: Room) -> list[str]:
    out = room.force(["## Mutations", ""])
    if not mutations:
        return out + room.force(["None.", ""])
    shown = 0
    for mu in mutations:
        name = mu["operationId"] or "undocumented"
        block = [f"### `{mu['method']} {mu['template']}` ({name})", "",
                 f"{mu['calls']} calls, " + (f"answered locally ({mu['synthetic']}: portalspec's answer, not the portal's)"
                                             if mu.get("synthetic") else f"response status {mu['response_status']}")
                 + (f", blocked ({mu['blocked_calls']} calls never sent)" if mu["blocked"] else "") + ".", ""]
        prof = mu.get("headers_profile") or {}
        if prof:
            block += [f"Needs headers {', '.join(f'`{h}`' for h in prof.get('headers', [])) or '-'}; "
                      f"cookies {', '.join(f'`{c}`' for c in prof.get('cookies', [])) or '-'}; "
                      f"authorization {', '.join(prof.get('authorization', [])) or '-'}.", ""]
        cut = ", shortened" if mu["request_example"].get("shortened") else ""
        block += [f"<details><summary>Request example (redacted{cut})</summary>", "", _code(mu["request_example"].get("body")), "",
                  "</details>", ""]
        if mu["response_example"] is not None:
            block += ["<details><summary>Response example (redacted)</summary>", "", _code(mu["response_example"]), "",
                      "</details>", ""]
        if not room.take(block):
            break
        out += block
        shown += 1
    return out + room.force(_left_out(shown, len(mutations), "mutations"))


def _session(session: list[dict[str, Any]], room: Room) -> list[str]:
    if not session:
        return []
    out = room.force(["## Session headers", "", "Sent on (nearly) every call to a spec: the session's headers, one finding per spec.", ""])
    rows = (f"| {h['spec']} | `{_cell(h['header'])}` | {h['calls']} | {h['of']} |" for h in session)
    table, listed = _table(["| spec | header | calls | of |", "| --- | --- | --- | --- |"], rows, room)
    return out + table + room.force(_left_out(listed, len(session), "session headers"))


def _flows(flows: Any, kinds: list[dict[str, Any]], room: Room) -> list[str]:
    """The kinds of flows, the most common first (a table), then each kind drawn by its flow that traces the
    most values, while ``FLOW_DIAGRAMS_SHARE`` percent of the room lasts; the table takes the rest."""
    out = room.force([f"## Write flows ({len(flows)})", ""])
    if not flows:
        return out + room.force(["None.", ""])
    out += room.force([f"{_n(len(flows), 'flow')} of {_n(len(kinds), 'kind')}. A kind is the writes a flow makes, in "
                       "order; each kind is drawn once below, by its flow that traces the most values.", ""])
    diagrams = room.part(100, FLOW_DIAGRAMS_SHARE)
    blocks: list[str] = []
    shown: set[str] = set()
    for k, fl in drawn(flows, kinds[:FLOWS_SHOWN]):
        block = [f"### <a id=\"{fl['id']}\"></a>{fl['id']}: {fl.get('writes', 0)} writes on `{_cell(fl['page'])}`", "",
                 _kind_line(k) + f"Started {fl['started']}; {len(fl['steps'])} steps, {fl.get('blocked', 0)} blocked, "
                 f"{len(fl['lineage'])} values traced to an earlier answer.", "", mermaid(fl), ""]
        if fl["lineage"]:
            block += ["| sent by | place | came from | place |", "| --- | --- | --- | --- |"]
            block += [f"| step {lk['to']['step']} | {lk['to']['location']} `{_cell(lk['to']['pointer'])}` | step {lk['from']['step']} | "
                      f"{lk['from']['location']} `{_cell(lk['from']['pointer'])}` |" for lk in fl["lineage"][:LINKS_LISTED]]
            block += [""]
            if len(fl["lineage"]) > LINKS_LISTED:
                block += [f"The first {LINKS_LISTED} of {len(fl['lineage'])} traced values are listed; report.json holds them all.", ""]
        if not diagrams.take(block):
            break
        blocks += block
        shown.add(k["example"])
    room.spend(diagrams)
    rows = (f"| {_kind_cell(k)} | {k['flows']} | {k['pages']} | "
            + (f"[{k['example']}](#{k['example']}) |" if k["example"] in shown else f"{k['example']} |") for k in kinds)
    table, listed = _table(["| writes, in order | flows | pages | drawn by |", "| --- | --- | --- | --- |"], rows, room)
    out += table + room.force(_left_out(listed, len(kinds), "kinds", "most common"))
    note = [f"The {len(shown)} most common of {len(kinds)} kinds are drawn; report.json holds every flow.", ""] \
        if len(kinds) > len(shown) else []
    return out + room.force(note) + blocks


def _kind_line(k: dict[str, Any]) -> str:
    if k["flows"] == 1:
        return "The only flow of its kind. "
    return f"One of the {k['flows']} flows, on {_n(k['pages'], 'page')}, that make these writes (the first: {k['first']}). "


def _kind_cell(kind: dict[str, Any]) -> str:
    writes, more = kind_writes(kind)
    return " → ".join(f"`{_cell(w)}`" for w in writes) + (f" → … {more} more" if more else "")


def _coverage(coverage: list[dict[str, Any]], room: Room) -> list[str]:
    out = room.force(["## Coverage", "", "| spec | called | in code only | neither | operations | percent called |",
                      "| --- | --- | --- | --- | --- | --- |"])
    out += room.force([f"| {c['spec']} | {c['seen']} | {c.get('in_code', 0)} | {c['operations'] - c['seen'] - c.get('in_code', 0)} | "
                       f"{c['operations']} | {c['percent']}% |" for c in coverage] + [""])
    for c in coverage:
        if c["deprecated_called"]:
            out += room.force([f"Deprecated operations still called in {c['spec']}: " + ", ".join(f"`{x}`" for x in c["deprecated_called"]), ""])
    for n, c in enumerate(c for c in coverage if c["never_seen"]):
        never = c["never_seen"][:NEVER_SEEN_LISTED]
        own = room.part(sum(1 for x in coverage if x["never_seen"]) - n)
        top = [f"<details><summary>{c['spec']}: {len(c['never_seen'])} operations never seen</summary>", ""]
        rows = [f"- `{x}`" for i, x in enumerate(never) if own.take((top + ["", "</details>", ""] if i == 0 else []) + [f"- `{x}`"])]
        room.spend(own)
        if rows:
            more = len(c["never_seen"]) - len(rows)
            out += top + rows + room.force([f"- … {more} more in report.json"] if more else []) + ["", "</details>", ""]
    return out


def _operations(operations: list[dict[str, Any]], room: Room) -> list[str]:
    out = room.force(["## Operations seen", ""])
    rows = (f"| {o['spec']} | {o['operationId'] or '-'} | {o['method']} | `{_cell(o['path'])}` | {o['calls']} | {_cell(o['statuses'])} |"
            for o in operations)
    table, listed = _table(["| spec | operation | method | path | calls | statuses |", "| --- | --- | --- | --- | --- | --- |"],
                           rows, room, end=())
    note = _left_out(listed, len(operations), "operations seen")
    return out + (table or room.force(["None.", ""])) + room.force([""] + note if note and table else note)


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
