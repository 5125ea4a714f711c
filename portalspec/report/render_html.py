"""Self-contained HTML report: inline CSS and JS, no network fetches, filterable findings."""

from __future__ import annotations

import json
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from .render_flows import FLOWS_SHOWN, svg


def _pretty(v: Any) -> str:
    if isinstance(v, str):
        return v
    return json.dumps(v, indent=2, ensure_ascii=False, default=str)


def _short(v: Any, n: int = 120) -> str:
    if v is None:
        return "-"
    s = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, default=str)
    return s if len(s) <= n else s[: n - 1] + "…"


def _anchor(s: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in s).strip("-").lower()


def render_html(report: dict[str, Any]) -> str:
    env = Environment(loader=PackageLoader("portalspec.report", "templates"), autoescape=select_autoescape(["j2", "html"]))
    env.filters.update(pretty=_pretty, short=_short, anchor=_anchor, flow_svg=lambda f: Markup(svg(f)))
    return env.get_template("report.html.j2").render(r=report, s=report["summary"], flows_shown=FLOWS_SHOWN)
