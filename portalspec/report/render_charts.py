"""The report's pictures: inline SVG for the HTML (drawn here, nothing loaded from elsewhere) and
Mermaid for the Markdown. Each reads the findings (``by_spec``, ``timeline``) and only draws."""

from __future__ import annotations

from html import escape
from typing import Any

KIND_COLOURS = ("#175cd3", "#b54708", "#b42318", "#067647", "#6941c6", "#c11574", "#0e9384", "#4e5ba6", "#854a0e", "#5b6475")
SEVERITY_COLOURS = {"error": "#b42318", "warning": "#b54708", "info": "#175cd3"}
_LABEL_W, _BAR_W, _ROW_H, _NUM_W = 230, 560, 20, 190


def _e(s: Any) -> str:
    return escape(str(s), quote=True)


def _label(text: str, n: int = 32) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _frame(title: str, height: int, body: list[str], width: int = _LABEL_W + _BAR_W + _NUM_W, cls: str = "") -> str:
    return (f'<svg class="chart {cls}" role="img" aria-label="{_e(title)}" viewBox="0 0 {width} {height}" '
            f'width="100%" style="max-width:{width}px" xmlns="http://www.w3.org/2000/svg"><title>{_e(title)}</title>'
            + "".join(body) + "</svg>")


def _legend(items: list[tuple[str, str]], y: int) -> list[str]:
    out, x = [], _LABEL_W
    for name, colour in items:
        out.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{colour}"/>'
                   f'<text x="{x + 14}" y="{y}" class="legend">{_e(name)}</text>')
        x += 22 + 7 * len(name)
    return out


def coverage_svg(groups: list[dict[str, Any]]) -> str:
    """Per spec: operations seen, in code only (when code routes exist), never seen."""
    rows = [g for g in groups if g["spec"] is not None and g["operations_total"]]
    body: list[str] = []
    y = 24
    for g in rows:
        total = g["operations_total"]
        seen, code = g["operations_seen"], g.get("operations_in_code_only", 0)
        never = max(0, total - seen - code)
        x = _LABEL_W
        body.append(f'<text x="{_LABEL_W - 8}" y="{y + 14}" text-anchor="end" class="lbl">{_e(_label(g["spec"]))}'
                    f'<title>{_e(g["spec"])}</title></text>')
        for part, colour, name in ((seen, "#067647", "seen"), (code, "#6941c6", "in code only"), (never, "#d0d5dd", "never seen")):
            w = _BAR_W * part / total
            if w > 0:
                body.append(f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{_ROW_H - 6}" fill="{colour}" '
                            f'class="seg-{name.replace(" ", "-")}"><title>{_e(g["spec"])}: {part} {name}</title></rect>')
            x += w
        pct = 100.0 * seen / total
        body.append(f'<text x="{_LABEL_W + _BAR_W + 8}" y="{y + 14}" class="num">{seen} of {total} ({pct:.0f}%)</text>')
        y += _ROW_H
    if not rows:
        body.append(f'<text x="{_LABEL_W}" y="{y + 14}" class="num">no spec has operations</text>')
        y += _ROW_H
    body += _legend([("seen", "#067647"), ("in code only", "#6941c6"), ("never seen", "#d0d5dd")], y + 18)
    return _frame("Coverage per spec: operations seen, in code only, never seen", y + 28, body, cls="coverage")


def drift_svg(groups: list[dict[str, Any]]) -> str:
    """Per spec with drift: findings by kind (coloured), with the count per severity beside."""
    rows = [g for g in groups if g["drift"]]
    kinds = sorted({k for g in rows for k in g["drift_by_kind"]})
    colour = {k: KIND_COLOURS[i % len(KIND_COLOURS)] for i, k in enumerate(kinds)}
    top = max((g["drift"] for g in rows), default=1)
    body: list[str] = []
    y = 24
    for g in rows:
        body.append(f'<text x="{_LABEL_W - 8}" y="{y + 14}" text-anchor="end" class="lbl">{_e(_label(g["spec"] or "-"))}'
                    f'<title>{_e(g["spec"])}</title></text>')
        x = _LABEL_W
        for k in kinds:
            n = g["drift_by_kind"].get(k, 0)
            if n:
                w = max(1.0, _BAR_W * n / top)
                body.append(f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{_ROW_H - 6}" fill="{colour[k]}">'
                            f'<title>{_e(g["spec"])}: {n} {_e(k)}</title></rect>')
                x += w
        sev = g["drift_by_severity"]
        parts = [(s, sev.get(s, 0)) for s in ("error", "warning", "info") if sev.get(s)]
        text = "".join(f'<tspan fill="{SEVERITY_COLOURS[s]}">{n} {s}{"s" if n > 1 else ""} </tspan>' for s, n in parts)
        body.append(f'<text x="{_LABEL_W + _BAR_W + 8}" y="{y + 14}" class="num">{text}</text>')
        y += _ROW_H
    if not rows:
        body.append(f'<text x="{_LABEL_W}" y="{y + 14}" class="num">no drift</text>')
        y += _ROW_H
    legend_rows = [kinds[i:i + 4] for i in range(0, len(kinds), 4)]
    for i, chunk in enumerate(legend_rows):
        body += _legend([(k, colour[k]) for k in chunk], y + 18 + 16 * i)
    return _frame("Drift per spec by kind, with severities", y + 28 + 16 * max(0, len(legend_rows) - 1), body, cls="drift")


def timeline_svg(tl: dict[str, Any]) -> str:
    """Calls per time bin, writes over them, blocked writes marked."""
    bins = tl.get("bins") or []
    width, height, left, bottom = _LABEL_W + _BAR_W + _NUM_W, 200, 50, 30
    plot_w, plot_h = width - left - 20, height - bottom - 30
    body: list[str] = []
    if not bins:
        body.append(f'<text x="{left}" y="40" class="num">no timed calls</text>')
        return _frame("Calls over the session", 60, body, width, cls="timeline")
    top = max(b["calls"] for b in bins) or 1
    bw = plot_w / len(bins)
    base = 20 + plot_h
    body.append(f'<line x1="{left}" y1="{base}" x2="{left + plot_w}" y2="{base}" class="axis"/>'
                f'<text x="{left - 6}" y="{24}" text-anchor="end" class="num">{top}</text>'
                f'<text x="{left - 6}" y="{base}" text-anchor="end" class="num">0</text>')
    for i, b in enumerate(bins):
        x = left + i * bw
        label = f'{_clock(b["t"], tl["bin_seconds"])}: {b["calls"]} calls, {b["writes"]} writes, {b["blocked"]} blocked'
        for n, cls in ((b["calls"], "calls"), (b["writes"], "writes")):
            if n:
                h = max(1.0, plot_h * n / top)
                body.append(f'<rect x="{x + 1:.1f}" y="{base - h:.1f}" width="{max(1.0, bw - 2):.1f}" height="{h:.1f}" '
                            f'class="{cls}"><title>{_e(label)}</title></rect>')
        if b["blocked"]:
            cx = x + bw / 2
            body.append(f'<path d="M{cx - 4:.1f},12 L{cx + 4:.1f},12 L{cx:.1f},19 Z" class="blocked-mark">'
                        f'<title>{_e(label)}</title></path>')
    step = max(1, len(bins) // 6)
    for i in range(0, len(bins), step):
        body.append(f'<text x="{left + i * bw:.1f}" y="{base + 16}" class="num">{_e(_clock(bins[i]["t"], tl["bin_seconds"]))}</text>')
    body.append(f'<text x="{left + plot_w}" y="12" text-anchor="end" class="num">'
                f'{bins[0]["t"][:10]}, {_width(tl["bin_seconds"])} a bar (UTC)</text>')
    legend = [f'<rect x="{left + 10}" y="{height - 10}" width="10" height="10" class="calls"/>'
              f'<text x="{left + 24}" y="{height - 1}" class="legend">calls</text>',
              f'<rect x="{left + 80}" y="{height - 10}" width="10" height="10" class="writes"/>'
              f'<text x="{left + 94}" y="{height - 1}" class="legend">writes</text>',
              f'<path d="M{left + 150},{height - 10} L{left + 160},{height - 10} L{left + 155},{height - 1} Z" class="blocked-mark"/>'
              f'<text x="{left + 166}" y="{height - 1}" class="legend">blocked writes</text>']
    return _frame("Calls over the session, writes and blocked writes marked", height + 6, body + legend, width,
                  cls="timeline")


def _width(seconds: int) -> str:
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    return f"{seconds // 60} min" if seconds % 60 == 0 else f"{seconds} s"


def _clock(t: str, seconds: int) -> str:
    return t[11:19] if seconds < 60 else t[11:16]


# -- Markdown ----------------------------------------------------------------------------------
def _q(s: str) -> str:
    return '"' + s.replace('"', "'") + '"'


def coverage_mermaid(groups: list[dict[str, Any]]) -> str:
    rows = [g for g in groups if g["spec"] is not None and g["operations_total"]]
    if not rows:
        return ""
    names = ", ".join(_q(_label(g["spec"], 28)) for g in rows)
    values = ", ".join(f"{100.0 * g['operations_seen'] / g['operations_total']:.1f}" for g in rows)
    return ("```mermaid\nxychart-beta horizontal\n    title \"Operations seen per spec (%)\"\n"
            f"    x-axis [{names}]\n    y-axis \"seen %\" 0 --> 100\n    bar [{values}]\n```\n")


def timeline_mermaid(tl: dict[str, Any]) -> str:
    bins = tl.get("bins") or []
    if not bins:
        return ""
    labels = ", ".join(_q(_clock(b["t"], tl["bin_seconds"])) for b in bins)
    return ("```mermaid\nxychart-beta\n"
            f"    title \"Calls over the session ({_width(tl['bin_seconds'])} a bar; line: writes)\"\n"
            f"    x-axis [{labels}]\n    y-axis \"calls\"\n"
            f"    bar [{', '.join(str(b['calls']) for b in bins)}]\n"
            f"    line [{', '.join(str(b['writes']) for b in bins)}]\n```\n")


def calls_pie_mermaid(summary: dict[str, Any]) -> str:
    if not summary.get("calls"):
        return ""
    return (f"```mermaid\npie title Calls ({summary['calls']})\n"
            f"    \"matched\" : {summary['matched']}\n    \"undocumented\" : {summary['undocumented']}\n```\n")
