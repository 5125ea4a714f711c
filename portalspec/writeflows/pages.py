"""A write flow's page, as flows name it: the call's Referer page and, where known, the browser's tab
(``"https://portal/#/x [page_3]"``); ``untabbed`` gives the page alone, as the kinds count pages."""

from __future__ import annotations

from typing import Any


def page_of(entry: dict[str, Any], referer: str | None) -> str:
    """A flow's page: the call's Referer page (``urls.referer_page``) and the browser's page ref (tab)
    where known."""
    tab = entry.get("pageref") or (entry.get("_portalspec") or {}).get("tab")
    page = referer.partition("#")[0] if referer else "(no referer)"  # a browser's Referer has no fragment
    return page + (f" [{tab}]" if tab else "")


def untabbed(page: str) -> str:
    """The page of ``page_of`` without its tab: a page's tabs are one page."""
    return page.rpartition(" [")[0] if page.endswith("]") and " [" in page else page
