"""Self-contained HTML report: inline CSS, JS and SVG, no network fetches; grouped per spec, filterable.

At a day's size the page lists the first findings of each kind (and the most called endpoints,
mutations, operations, flows) with counts; report.json holds them all."""

from __future__ import annotations

import json
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from .budget import pretty
from .groups import anchor, spec_anchor
from .render_charts import coverage_svg, drift_svg, timeline_svg
from .render_flows import FLOWS_SHOWN, KINDS_LISTED, LINKS_LISTED, drawn, kind_writes, report_kinds, svg

DRIFT_PER_KIND = 300
UNDOC_PER_GROUP = 200
MUTATIONS_SHOWN = 200
OPERATIONS_SHOWN = 500
CODE_ROUTES_SHOWN = 300


def _short(v: Any, n: int = 120) -> str:
    if v is None:
        return "-"
    s = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, default=str)
    return s if len(s) <= n else s[: n - 1] + "…"



def _first_per(rows: list[dict[str, Any]], n: int, key: str) -> list[dict[str, Any]]:
    """The first ``n`` rows of each ``key`` value, in their order."""
    seen: dict[Any, int] = {}
    out = []
    for r in rows:
        k = r.get(key)
        if seen.get(k, 0) < n:
            seen[k] = seen.get(k, 0) + 1
            out.append(r)
    return out


def render_html(report: dict[str, Any]) -> str:
    env = Environment(loader=PackageLoader("portalspec.report", "templates"), autoescape=select_autoescape(["j2", "html"]))
    env.filters.update(pretty=pretty, short=_short, anchor=anchor, flow_svg=lambda f: Markup(svg(f)), kind_writes=kind_writes,
                       first_per=_first_per, spec_anchor=spec_anchor, coverage_svg=lambda g: Markup(coverage_svg(g or [])),
                       drift_svg=lambda g: Markup(drift_svg(g or [])),
                       timeline_svg=lambda t: Markup(timeline_svg(t or {})))
    undoc = {u["id"]: u for u in report.get("undocumented") or []}
    flow_kinds = report_kinds(report)
    return env.get_template("report.html.j2").render(
        r=report, s=report["summary"], kinds=flow_kinds, drawn=list(drawn(report.get("flows") or [], flow_kinds[:FLOWS_SHOWN])),
        kinds_listed=KINDS_LISTED, flows_shown=FLOWS_SHOWN, links_listed=LINKS_LISTED, undoc=undoc, undoc_per_group=UNDOC_PER_GROUP,
        drift_per_kind=DRIFT_PER_KIND, mutations_shown=MUTATIONS_SHOWN, operations_shown=OPERATIONS_SHOWN,
        code_shown=CODE_ROUTES_SHOWN)
