"""Kinds of write flows: flows that make the same writes, in the same order, are one kind.

A portal's wizard run fifty times in a day is fifty flows and one kind; the report lists the kinds, the
most common first, and draws each once, by the flow of that kind that traces the most values (the
earliest of those). A flow's kind is made where it is compacted (``collect.Closed``), so flows on disk
are not read again for it.
"""

from __future__ import annotations

from typing import Any

from ..urls import split_url
from .pages import untabbed

Kind = tuple[str, ...]  # the distinct writes of a flow, "METHOD template", in the order first made


def kind_of(flow: dict[str, Any]) -> Kind:
    """A flow's kind: its write and export steps' ``METHOD template`` (the URL's path where there is no
    template), each once, in the order first made."""
    out: dict[str, None] = {}
    for s in flow["steps"]:
        role = s["role"]
        if role == "write" or role == "export":
            out.setdefault(f"{s['method']} {s['template'] or split_url(s['url'])[1]}")
    return tuple(out)


class Kinds:
    """Flows added in the report's order, by kind; ``result`` gives the kinds as report.json lists them."""

    def __init__(self) -> None:
        self._by: dict[Kind, list[Any]] = {}  # kind -> [flows, pages, example, its links, first]

    def add(self, flow_id: str, kind: Kind, links: int, page: str) -> None:
        """A flow, the next in the report's order, of ``kind``, tracing ``links`` values, on ``page``."""
        page = untabbed(page)
        k = self._by.get(kind)
        if k is None:
            self._by[kind] = [1, {page}, flow_id, links, flow_id]
            return
        k[0] += 1
        k[1].add(page)
        if links > k[3]:
            k[2], k[3] = flow_id, links

    def result(self) -> list[dict[str, Any]]:
        """Each kind: its writes, how many flows and pages, the flow that draws it (``example``) and its first
        flow; the most common kinds first, then by their first flow."""
        order = {kind: i for i, kind in enumerate(self._by)}  # kinds were added in the order of their first flow
        rows = sorted(self._by.items(), key=lambda kv: (-kv[1][0], order[kv[0]]))
        return [{"writes": list(kind), "flows": n, "pages": len(pages), "example": example, "first": first}
                for kind, (n, pages, example, _links, first) in rows]


def flow_kinds(flows: Any) -> list[dict[str, Any]]:
    """The kinds of ``flows`` (a list of the report's flows, or a ``collect.FlowList``, which has them
    made already)."""
    made = getattr(flows, "kinds", None)
    if made is not None:
        return made()  # type: ignore[no-any-return]
    out = Kinds()
    for f in flows:
        out.add(f["id"], kind_of(f), len(f["lineage"]), f["page"])
    return out.result()
