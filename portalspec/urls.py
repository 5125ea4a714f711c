"""Splitting a call's URL into origin, path and query: the matcher's and the ingest step's one way."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
_URL_RE = re.compile(r"^(?:([a-zA-Z][a-zA-Z0-9+.-]*):)?(?://([^/?#]*))?([^?#]*)(?:\?([^#]*))?")


def split_url(url: str) -> tuple[str, str, str]:
    """``(host[:port] without a default port, path, query)``; the query never leaks into the path."""
    i = url.find("://")
    if 0 < i < 12:
        j = url.find("/", i + 3)
        origin, rest = (url, "/") if j < 0 else (url[:j], url[j:])
        q = origin.find("?")
        if q >= 0:  # https://host?x (no path)
            origin, rest = origin[:q], "/" + origin[q:]
        netloc = _ORIGINS.get(origin)
        if netloc is None:
            netloc = _normalise_origin(origin)
            if len(_ORIGINS) < 4096:
                _ORIGINS[origin] = netloc
        h = rest.find("#")
        if h >= 0:
            rest = rest[:h]
        q = rest.find("?")
        return (netloc, rest, "") if q < 0 else (netloc, rest[:q], rest[q + 1:])
    m = _URL_RE.match(url)
    assert m is not None
    return _normalise_origin(f"{m.group(1) or ''}://{m.group(2) or ''}"), m.group(3), m.group(4) or ""


_ORIGINS: dict[str, str] = {}


def _normalise_origin(origin: str) -> str:
    scheme, _, netloc = origin.partition("://")
    if "@" in netloc:
        netloc = netloc.rsplit("@", 1)[1]
    netloc = netloc.lower()
    if ":" in netloc and not netloc.endswith("]"):
        host, _, port = netloc.rpartition(":")
        if not port or (port.isdigit() and _DEFAULT_PORTS.get(scheme.lower()) == int(port)):
            netloc = host
    return netloc


def referer_page(entry: dict[str, Any]) -> str | None:
    """The page a call was made from: its Referer as a full page URL, as nodoc's browsedPages give it
    (the query is left out), or None when the call has no Referer."""
    for h in (entry.get("request") or {}).get("headers") or ():
        if isinstance(h, dict) and str(h.get("name", "")).lower() == "referer":
            parts = urlsplit(str(h.get("value") or ""))
            page = parts.path + (f"#{parts.fragment}" if parts.fragment else "")
            return f"{parts.scheme}://{parts.netloc}{page or '/'}" if parts.netloc else page or "/"
    return None
