"""A closed write flow, read: each step's role, and where the values it sends came from.

Roles: ``write`` (POST/PUT/PATCH/DELETE), ``export`` (a write that starts an export or a job),
``poll`` (a GET after a write on an id that write returned, or on a status URL a 202 pointed to,
when it asks for a status or is repeated), ``read`` otherwise.

Lineage: for each write and each call after the first write, every value it sends (body JSON
pointer, path parameter, query parameter, header) that an earlier step's answer gave (body JSON
pointer or header) is linked to the step and place where that value was first seen. Values
shorter than 4 characters, booleans, numbers under 1000 and common words are not linked;
redacted values link through their placeholders (one secret, one placeholder in a session).

A flow is read once, when it closes (``compact``), and then only its rows are kept. Answers are
parsed only when their text holds a value a later step sends (a substring test first), so a page
of large list reads costs little. Path values are found by position; the names of the template's
parameters are given at the end (``finish``), when undocumented templates are known.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable, Iterator
from urllib.parse import parse_qsl, unquote

from ..jsoncodec import loads_or_none
from ..specs.model import WRITE_METHODS

if TYPE_CHECKING:
    from .collect import Segment, Step

MAX_LEAVES = 2000
MAX_LINKS = 500
MAX_WANTED = 2000
COMMON = frozenset("""true false null none undefined enabled disabled active inactive default all any yes no
ok success succeeded failed pending running completed complete ready new open closed user users admin
string text value name type json application global tenant public private read write""".split())
_EXPORT = re.compile(r"(?i)export|download|job|bulk")
_STATUS_WORDS = re.compile(r"(?i)status|state|progress|operation|result|poll")
_ID_LIKE = re.compile(r"[0-9A-Za-z<>:_.-]{8,}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}|$)")  # times say when, not where a value came from
_ODATA_VALUES = re.compile(r"""(?:^|[(,=])\s*'?([^'=,()]+?)'?\s*(?=[,)])""")
_RESP_HEADERS_KEPT = frozenset({"etag", "location", "content-location", "operation-location", "azure-asyncoperation"})
_REQ_HEADERS_SKIPPED = frozenset({"accept", "accept-encoding", "accept-language", "user-agent", "referer", "origin",
                                  "cookie", "authorization", "content-type", "content-length", "host", "connection",
                                  "cache-control", "pragma", "priority", "te", "upgrade-insecure-requests",
                                  "x-requested-with", "traceparent", "tracestate", "request-id", "baggage",
                                  "x-ms-client-request-id", "client-request-id", "x-ms-correlation-id",
                                  "x-correlation-id", "x-request-id"})


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
    if len(s) < 4 or s.lower() in COMMON or _DATE.match(s):
        return None
    return s


@lru_cache(maxsize=4096)
def _sent_header(name: str) -> bool:
    n = name.lower()
    return n not in _REQ_HEADERS_SKIPPED and not n.startswith(("sec-", ":"))


@lru_cache(maxsize=4096)
def _answer_header(name: str) -> bool:
    return name.lower() in _RESP_HEADERS_KEPT


def _headers(raw: Any, keep: Callable[[str], bool]) -> list[tuple[str, str]]:
    out = []
    for h in raw or ():
        if type(h) is dict:
            name = h.get("name")
            if type(name) is str and keep(name):
                out.append((name, str(h.get("value", ""))))
    return out


def _answer_headers(step: Step) -> list[tuple[str, str]]:
    return [] if step.synthetic else [(n.lower(), v) for n, v in _headers(step.resp_headers, _answer_header)]


def gives(step: Step, wanted: set[str] | None = None) -> list[tuple[str, str, str]]:
    """``(location, pointer, value)`` the answer of ``step`` holds (synthetic answers included: a page
    sends back what it was given, even when portalspec gave it). With ``wanted``, only those values,
    and the body is parsed only when its text holds one of them."""
    out: list[tuple[str, str, str]] = []
    text = step.resp_text
    if text and (wanted is None or _may_hold(text, wanted)):
        body = loads_or_none(text)
        if body is not None:
            for n, (ptr, v) in enumerate(_leaves(body)):
                if n >= MAX_LEAVES:
                    break
                s = linkable(v)
                if s is not None and (wanted is None or s in wanted):
                    out.append(("body", ptr, s))
    for name, value in _answer_headers(step):
        s = linkable(value)
        if s is not None and (wanted is None or s in wanted):
            out.append(("header", name, s))
    return out


_JSON_STRING = re.compile(r'"([^"\\]{4,512})"|(-?\d{4,})')


def _may_hold(text: str, wanted: set[str]) -> bool:
    """Whether a JSON text may hold one of ``wanted`` as a value: one regex pass over its plain
    strings and long numbers (a text with escapes is parsed anyway)."""
    if "\\" in text:
        return True
    return any((a or b) in wanted for a, b in _JSON_STRING.findall(text))


def _segment_values(seg: str) -> list[str]:
    seg = unquote(seg)
    if "(" in seg and seg.endswith(")"):
        return [m.group(1).strip() for m in _ODATA_VALUES.finditer(seg[seg.index("("):])]
    return [seg]


def sends(step: Step) -> list[tuple[str, str, str]]:
    """``(location, pointer, value)`` the request of ``step`` sends; path values by segment position
    (``#3``: the fourth segment), named at the end."""
    out: list[tuple[str, str, str]] = []
    for i, seg in enumerate(step.path.split("/")):
        for value in _segment_values(seg) if seg else ():
            s = linkable(value)
            if s is not None:
                out.append(("path", f"#{i}", s))
    for name, value in parse_qsl(step.query, keep_blank_values=True):
        s = linkable(value)
        if s is not None:
            out.append(("query", name, s))
    for name, value in _headers(step.req_headers, _sent_header):
        s = linkable(value)
        if s is not None:
            out.append(("header", name, s))
    body = loads_or_none(step.req_text)
    if body is not None:
        for n, (ptr, v) in enumerate(_leaves(body)):
            if n >= MAX_LEAVES:
                break
            s = linkable(v)
            if s is not None:
                out.append(("body", ptr or "/", s))
    return out


def _write_ids(step: Step) -> tuple[set[str], set[str]]:
    """Ids a write's answer gave and the URLs its headers point to (for telling polls)."""
    ids = {v for _, _, v in gives(step) if _ID_LIKE.fullmatch(v)}
    locations = {v for name, v in _answer_headers(step) if name != "etag"}
    return ids, locations


def roles(steps: list[Step]) -> list[str]:
    out: list[str] = []
    ids: set[str] = set()
    locations: set[str] = set()
    gets: dict[str, int] = {}
    for s in steps:
        if s.method == "GET":
            gets[s.path] = gets.get(s.path, 0) + 1
    for s in steps:
        if s.method in WRITE_METHODS:
            out.append("export" if _EXPORT.search(f"{s.path} {s.operation_id or ''}") else "write")
            more_ids, more_locations = _write_ids(s)
            ids |= more_ids
            locations |= more_locations
            continue
        pointed = any(s.url == loc or s.url.endswith(loc) for loc in locations)
        on_id = bool(ids) and any(i in s.path or i in s.query for i in ids)
        if s.method == "GET" and (pointed or (on_id and (_STATUS_WORDS.search(s.path) or gets[s.path] > 1))):
            out.append("poll")
        else:
            out.append("read")
    return out


def compact(seg: Segment) -> dict[str, Any]:
    """A closed flow as rows and lineage; its steps' texts are not kept."""
    steps = seg.trimmed()
    role = roles(steps)
    first_write = next((i for i, s in enumerate(steps) if s.method in WRITE_METHODS), len(steps))
    sent = [sends(s) if i >= first_write else [] for i, s in enumerate(steps)]
    wanted = {v for row in sent for _, _, v in row}
    if len(wanted) > MAX_WANTED:  # each answer is tested for each wanted value: keep that bounded
        wanted = set(sorted(wanted, key=lambda v: (-len(v), v))[:MAX_WANTED])
    seen: dict[str, tuple[int, str, str]] = {}
    lineage: list[dict[str, Any]] = []
    for i, s in enumerate(steps):
        for loc, ptr, v in sent[i]:
            if len(lineage) >= MAX_LINKS:
                break
            src = seen.get(v)
            if src is not None:
                lineage.append({"from": {"step": src[0] + 1, "location": src[1], "pointer": src[2]},
                                "to": {"step": i + 1, "location": loc, "pointer": ptr, "value": v}})
        if wanted and i < len(steps) - 1:
            for loc, ptr, v in gives(s, wanted):
                seen.setdefault(v, (i, loc, ptr))
    rows = [{"index": i + 1, "started": s.started, "method": s.method, "url": s.url, "template": s.template,
             "operationId": s.operation_id, "spec": s.spec, "status": s.status, "blocked": s.blocked,
             "synthetic": s.synthetic, "role": r, "_host": s.host, "_path": s.path, "_params": s.params}
            for i, (s, r) in enumerate(zip(steps, role))]
    return {"page": seg.page, "t": seg.first_t, "started": steps[0].started if steps else None,
            "writes": seg.writes, "blocked": sum(1 for s in steps if s.blocked), "steps_dropped": seg.dropped,
            "steps": rows, "lineage": lineage}


@lru_cache(maxsize=4096)
def _template_rx(template: str) -> tuple[re.Pattern[str], tuple[str, ...]]:
    names: list[str] = []

    def slot(m: re.Match[str]) -> str:
        names.append(m.group(1))
        return f"(?P<p{len(names) - 1}>[^/]+?)"

    rx = re.sub(r"\\\{([^}]*)\\\}", slot, re.escape(template))
    return re.compile(rx + "/?$"), tuple(names)


def path_params(template: str | None, path: str) -> dict[str, str]:
    """The values of ``template``'s parameters in ``path`` (the template may lack the server's base path)."""
    if not template or "{" not in template:
        return {}
    rx, names = _template_rx(template)
    m = rx.search(unquote(path))
    return {n: m.group(f"p{i}") for i, n in enumerate(names)} if m else {}


def finish(flow: dict[str, Any], number: int, template_of: Callable[[str, str, str], str | None]) -> dict[str, Any]:
    """The report's row: undocumented steps named by their template, path values by parameter name."""
    names: dict[int, dict[str, str]] = {}
    for row in flow["steps"]:
        if row["template"] is None:
            row["template"] = template_of(row["_host"], row["method"], row["_path"])
        params = row["_params"] or path_params(row["template"], row["_path"])
        names[row["index"]] = {v.strip("'"): k for k, v in params.items()}
        for key in ("_host", "_path", "_params"):
            del row[key]
    for link in flow["lineage"]:
        to = link["to"]
        value = to.pop("value")
        if to["location"] == "path":
            to["pointer"] = names.get(to["step"], {}).get(value, f"segment {to['pointer'][1:]}")
    out = {"id": f"flow-{number}", **{k: v for k, v in flow.items() if k != "t"}}
    return out
