"""A closed write flow, read: each step's role, and where the values it sends came from.

Roles: ``write`` (POST/PUT/PATCH/DELETE), ``export`` (a write that starts an export or a job),
``poll`` (a GET after a write on an id that write returned, or on a status URL a 202 pointed to,
when it asks for a status or is repeated), ``read`` otherwise.

Lineage: for each write and each call after the first write, every value it sends (body JSON
pointer, path parameter, query parameter, header) that an earlier step's response gave (body
JSON pointer or header) is linked to the step and place where that value was first seen.
Values shorter than 4 characters, booleans, numbers under 1000 and common words are not linked;
redacted values link through their placeholders (one secret, one placeholder in a session).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any, Iterator
from urllib.parse import parse_qsl, unquote

from ..specs.model import WRITE_METHODS
from .collect import Segment, Step

MAX_LEAVES = 2000
MAX_LINKS = 500
COMMON = frozenset("""true false null none undefined enabled disabled active inactive default all any yes no
ok success succeeded failed pending running completed complete ready new open closed user users admin
string text value name type json application global tenant public private read write""".split())
_EXPORT = re.compile(r"(?i)export|download|job|bulk")
_STATUS_WORDS = re.compile(r"(?i)status|state|progress|operation|result|poll")
_ID_LIKE = re.compile(r"[0-9A-Za-z<>:_.-]{8,}")


def _leaves(value: Any, pointer: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, f"{pointer}/{str(k).replace('~', '~0').replace('/', '~1')}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaves(v, f"{pointer}/{i}")
    else:
        yield pointer, value


def linkable(v: Any) -> str | None:
    """The value as it is compared, or None when it is too plain to say where it came from."""
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float)):
        return str(v) if abs(v) >= 1000 else None
    if not isinstance(v, str):
        return None
    s = v.strip()
    if len(s) < 4 or s.lower() in COMMON:
        return None
    return s


def _json(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def gives(step: Step) -> list[tuple[str, str, str]]:
    """``(location, pointer, value)`` the response of ``step`` holds (synthetic answers included: a
    page sends back what it was given, even when portalspec gave it)."""
    out: list[tuple[str, str, str]] = []
    body = _json(step.resp_text)
    if body is not None:
        for n, (ptr, v) in enumerate(_leaves(body)):
            if n >= MAX_LEAVES:
                break
            s = linkable(v)
            if s is not None:
                out.append(("body", ptr, s))
    for name, value in step.resp_headers:
        s = linkable(value)
        if s is not None:
            out.append(("header", name, s))
    return out


def sends(step: Step) -> list[tuple[str, str, str]]:
    """``(location, pointer, value)`` the request of ``step`` sends."""
    out: list[tuple[str, str, str]] = []
    for name, value in step.params.items():
        s = linkable(unquote(str(value)).strip("'"))
        if s is not None:
            out.append(("path", name, s))
    for name, value in parse_qsl(step.query, keep_blank_values=True):
        s = linkable(value)
        if s is not None:
            out.append(("query", name, s))
    for name, value in step.req_headers:
        s = linkable(value)
        if s is not None:
            out.append(("header", name, s))
    body = _json(step.req_text)
    if body is not None:
        for n, (ptr, v) in enumerate(_leaves(body)):
            if n >= MAX_LEAVES:
                break
            s = linkable(v)
            if s is not None:
                out.append(("body", ptr or "/", s))
    return out


def roles(steps: list[Step], given: list[list[tuple[str, str, str]]]) -> list[str]:
    out: list[str] = []
    ids_from_writes: set[str] = set()
    locations: set[str] = set()
    gets = Counter((s.method, s.path) for s in steps if s.method == "GET")
    for s, g in zip(steps, given):
        if s.method in WRITE_METHODS:
            out.append("export" if _EXPORT.search(f"{s.path} {s.operation_id or ''}") else "write")
            ids_from_writes |= {v for loc, _, v in g if _ID_LIKE.fullmatch(v)}
            locations |= {v for loc, name, v in g if loc == "header" and name != "etag"}
            continue
        on_id = any(i in s.path or i in s.query for i in ids_from_writes) if ids_from_writes else False
        pointed = any(s.url == loc or s.url.endswith(loc) for loc in locations)
        if s.method == "GET" and (pointed or (on_id and (_STATUS_WORDS.search(s.path) or gets[(s.method, s.path)] > 1))):
            out.append("poll")
        else:
            out.append("read")
    return out


def path_params(template: str | None, path: str) -> dict[str, str]:
    """The values of ``template``'s parameters in ``path`` (the template may lack the server's base path)."""
    if not template or "{" not in template:
        return {}
    names: list[str] = []

    def slot(m: re.Match[str]) -> str:
        names.append(m.group(1))
        return f"(?P<p{len(names) - 1}>[^/]+?)"

    rx = re.sub(r"\\\{([^}]*)\\\}", slot, re.escape(template))
    m = re.search(rx + "/?$", unquote(path))
    return {n: m.group(f"p{i}") for i, n in enumerate(names)} if m else {}


def flow_dict(seg: Segment, number: int, template_of: Any) -> dict[str, Any]:
    """The report's row for one flow; ``template_of(step)`` names an undocumented step's template."""
    steps = seg.steps
    templates = [s.template or template_of(s) for s in steps]
    for s, tpl in zip(steps, templates):
        if not s.params and tpl:
            s.params = path_params(tpl, s.path)
    given = [gives(s) for s in steps]
    role = roles(steps, given)
    first_write = next((i for i, s in enumerate(steps) if s.method in WRITE_METHODS), len(steps))
    seen: dict[str, tuple[int, str, str]] = {}
    lineage: list[dict[str, Any]] = []
    for i, s in enumerate(steps):
        if i >= first_write and len(lineage) < MAX_LINKS:
            for loc, ptr, v in sends(s):
                src = seen.get(v)
                if src is not None and src[0] < i:
                    lineage.append({"from": {"step": src[0] + 1, "location": src[1], "pointer": src[2]},
                                    "to": {"step": i + 1, "location": loc, "pointer": ptr}})
                    if len(lineage) >= MAX_LINKS:
                        break
        for loc, ptr, v in given[i]:
            seen.setdefault(v, (i, loc, ptr))
    rows = []
    for i, (s, r) in enumerate(zip(steps, role)):
        rows.append({"index": i + 1, "started": s.started, "method": s.method, "url": s.url,
                     "template": templates[i], "operationId": s.operation_id, "spec": s.spec,
                     "status": s.status, "blocked": s.blocked, "synthetic": s.synthetic, "role": r})
    return {"id": f"flow-{number}", "page": seg.page, "started": steps[0].started if steps else None,
            "writes": sum(1 for s in steps if s.method in WRITE_METHODS),
            "blocked": sum(1 for s in steps if s.blocked), "steps_dropped": seg.dropped,
            "steps": rows, "lineage": lineage}
