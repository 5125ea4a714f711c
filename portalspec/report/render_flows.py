"""Write flows drawn: a Mermaid ``sequenceDiagram`` for Markdown, an inline SVG sequence for HTML.

Both draw the same thing: the page on the left, the portal API on the right, one request arrow
and one answer arrow per step (blocked writes answered by portalspec are marked), and the value
lineage as notes (Mermaid) or as arrows from the answer that gave a value to the request that
sent it back (SVG).
"""

from __future__ import annotations

import re
from html import escape
from typing import Any, Iterator

from ..writeflows.kinds import flow_kinds

FLOWS_SHOWN = 20  # kinds of flows drawn, the most common first, each by one flow; report.json holds them all
KINDS_LISTED = 200  # kinds listed in the HTML (report.md lists as many as its room holds)
KIND_WRITES_SHOWN = 12  # a kind's first writes named in its row; report.json names them all
STEPS_SHOWN = 60  # and their first steps
LINKS_LISTED = 50  # a flow's traced values listed in a table under it
MERMAID_TEXT_MAX = 40_000  # a diagram's text: Mermaid draws "Maximum text size in diagram exceeded" past 50,000
_MORE_RESERVED = 64  # the closing lines
_ROW = 34
_BR = re.compile(r"(?i)<(\s*br\s*/?\s*)>")  # Mermaid's line break
_TOP = 40


def report_kinds(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The kinds of the report's flows: made from them when they are a list (a report read back, or changed
    since), else ``flow_kinds``, which the report made as it read its flows (``collect.FlowList``)."""
    flows = report.get("flows") or []
    made = report.get("flow_kinds")
    return flow_kinds(flows) if made is None or isinstance(flows, list) else made


def kind_writes(kind: dict[str, Any]) -> tuple[list[str], int]:
    """A kind's writes as its row names them (its first ``KIND_WRITES_SHOWN``), and how many more it makes."""
    writes = kind["writes"]
    return writes[:KIND_WRITES_SHOWN], max(len(writes) - KIND_WRITES_SHOWN, 0)


def drawn(flows: Any, kinds: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """``(kind, flow)`` for each kind in order and the flow that draws it (its ``example``), read as they are
    asked for: ``flows`` is a list of the report's flows or a ``collect.FlowList``, whose flow ``flow-N`` is
    its N-th."""
    by_id = {f["id"]: f for f in flows} if isinstance(flows, list) else None
    for k in kinds:
        if by_id is not None:
            f = by_id.get(k["example"])
        else:
            n = int(k["example"].removeprefix("flow-")) - 1
            f = flows[n] if 0 <= n < len(flows) else None
        if f is not None:
            yield k, f


def _label(step: dict[str, Any]) -> str:
    name = step.get("template") or step["url"]
    return f"{step['index']} {step['method']} {name}"


def _answer(step: dict[str, Any]) -> str:
    if step.get("synthetic"):
        return f"{step['status']} synthetic ({step['synthetic']}), never sent"
    return str(step["status"])


def _link_text(link: dict[str, Any]) -> str:
    f, t = link["from"], link["to"]
    return f"step {t['step']} {t['location']} {t['pointer']} <- step {f['step']} {f['location']} {f['pointer']}"


def mermaid_text(s: str) -> str:
    """Text as a Mermaid message or note shows it: no ``;`` or ``#`` (its statement and entity syntax), one line
    (a ``<br>`` would break it)."""
    return _BR.sub(r"‹\1›", s.replace(";", ",").replace("#", "No.").replace("\n", " "))[:160]


def _js_length(line: str) -> int:
    """A line's length, newline included, as Mermaid counts it (UTF-16 code units)."""
    return len(line.encode("utf-16-le")) // 2 + 1


def mermaid(flow: dict[str, Any]) -> str:
    """The flow as a Mermaid ``sequenceDiagram``: its first ``STEPS_SHOWN`` steps, as many as fit in
    ``MERMAID_TEXT_MAX`` characters, and a note saying how many more report.json holds."""
    head = ["```mermaid", "sequenceDiagram", "    participant Page", "    participant API as Portal API"]
    lines: list[str] = []
    size = sum(map(_js_length, head)) + _MORE_RESERVED
    links_to: dict[int, list[dict[str, Any]]] = {}
    for link in flow["lineage"]:
        links_to.setdefault(link["to"]["step"], []).append(link)
    shown = 0
    for step in flow["steps"][:STEPS_SHOWN]:
        role = step["role"] + (", blocked" if step["blocked"] else "")
        block = [f"    Note over Page,API: {mermaid_text(_link_text(link))}" for link in links_to.get(step["index"], [])[:6]]
        block += [f"    Page->>API: {mermaid_text(_label(step))} ({role})", f"    API-->>Page: {mermaid_text(_answer(step))}"]
        size += sum(map(_js_length, block))
        if size > MERMAID_TEXT_MAX:
            break
        lines += block
        shown += 1
    if len(flow["steps"]) > shown:
        lines.append(f"    Note over Page,API: {len(flow['steps']) - shown} more steps in report.json")
    return "\n".join(head + lines + ["```"])


def svg(flow: dict[str, Any], width: int = 1100) -> str:
    """The flow as a sequence: requests right, answers left, lineage arrows in the left margin."""
    steps = flow["steps"][:STEPS_SHOWN]
    more = len(flow["steps"]) - len(steps)
    page_x, api_x = 260, width - 140
    height = _TOP + _ROW * 2 * len(steps) + 20 + (_ROW if more else 0)
    y_req = {s["index"]: _TOP + _ROW * 2 * i + 14 for i, s in enumerate(steps)}
    y_ans = {k: v + _ROW for k, v in y_req.items()}
    out = [f'<svg class="flow" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
           f'width="100%" role="img" aria-label="write flow {escape(flow["id"])}">',
           '<defs><marker id="ah" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto">'
           '<path d="M0,0 L8,4 L0,8 z" fill="currentColor"/></marker></defs>',
           f'<text x="{page_x}" y="18" text-anchor="middle" class="lane">Page</text>',
           f'<text x="{api_x}" y="18" text-anchor="middle" class="lane">Portal API</text>',
           f'<line x1="{page_x}" y1="24" x2="{page_x}" y2="{height - 6}" class="life"/>',
           f'<line x1="{api_x}" y1="24" x2="{api_x}" y2="{height - 6}" class="life"/>']
    for s in steps:
        y, ya = y_req[s["index"]], y_ans[s["index"]]
        cls = f'req role-{s["role"]}' + (" blocked" if s["blocked"] else "")
        label = _label(s)
        label = label if len(label) <= 95 else label[:94] + "…"
        out.append(f'<g class="step" data-step="{s["index"]}"><title>{escape(s["url"])}</title>'
                   f'<line x1="{page_x}" y1="{y}" x2="{api_x}" y2="{y}" class="{cls}" marker-end="url(#ah)"/>'
                   f'<text x="{page_x + 8}" y="{y - 5}" class="msg">{escape(label)} · {escape(s["role"])}'
                   f'{" · blocked" if s["blocked"] else ""}</text>'
                   f'<line x1="{api_x}" y1="{ya}" x2="{page_x}" y2="{ya}" class="ans{" synthetic" if s["synthetic"] else ""}" '
                   f'marker-end="url(#ah)"/>'
                   f'<text x="{api_x - 8}" y="{ya - 5}" text-anchor="end" class="msg">{escape(_answer(s))}</text></g>')
    for n, link in enumerate(flow["lineage"][:40]):
        y1, y2 = y_ans.get(link["from"]["step"]), y_req.get(link["to"]["step"])
        if y1 is None or y2 is None:
            continue
        x = page_x - 12 - (n % 6) * 14
        out.append(f'<g class="lineage"><title>{escape(_link_text(link))}</title>'
                   f'<path d="M{page_x},{y1} C{x - 40},{y1} {x - 40},{y2} {page_x - 2},{y2}" class="link" marker-end="url(#ah)"/>'
                   f'<text x="{x - 46}" y="{(y1 + y2) / 2 + 4}" text-anchor="end" class="linktext">'
                   f'{escape(link["to"]["pointer"])} ← {escape(link["from"]["pointer"])}</text></g>')
    if more:
        out.append(f'<text x="{(page_x + api_x) // 2}" y="{height - 14}" text-anchor="middle" class="msg">'
                   f'{more} more steps in report.json</text>')
    out.append("</svg>")
    return "".join(out)
