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
from operator import itemgetter
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
_COMMON_MAX = max(map(len, COMMON))
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


def _esc(key: Any) -> str:
    k = key if type(key) is str else str(key)
    return k.replace("~", "~0").replace("/", "~1") if "~" in k or "/" in k else k


def _walk(root: Any, keep: Callable[[Any], str | None]) -> list[tuple[str, str]]:
    """``(JSON pointer, value as linked)`` of the leaves ``keep`` takes, among the first ``MAX_LEAVES``
    leaves in document order; a pointer is built only for a leaf taken."""
    if type(root) is not dict and type(root) is not list:
        s = keep(root)
        return [] if s is None else [("", s)]
    out: list[tuple[str, str]] = []
    count = 0
    stack: list[tuple[str, Iterator[tuple[Any, Any]]]] = [
        ("", iter(root.items()) if type(root) is dict else enumerate(root))]
    while stack:
        prefix, items = stack[-1]
        for k, v in items:
            tv = type(v)
            if tv is dict or tv is list:
                stack.append((f"{prefix}/{_esc(k)}", iter(v.items()) if tv is dict else enumerate(v)))
                break
            count += 1
            if count > MAX_LEAVES:
                return out
            s = keep(v)
            if s is not None:
                out.append((f"{prefix}/{_esc(k)}", s))
        else:
            stack.pop()
    return out


def linkable(v: Any) -> str | None:
    """The value as it is compared, or None when it is too plain to say where it came from."""
    t = type(v)
    if t is str:
        s = v.strip()
        n = len(s)
        if n < 4 or (n <= _COMMON_MAX and s.lower() in COMMON) or (s[0].isdigit() and _DATE.match(s)):
            return None
        return s
    if t is int or t is float:
        return str(v) if abs(v) >= 1000 else None
    return None


@lru_cache(maxsize=4096)
def _sent_header(name: str) -> bool:
    n = name.lower()
    return n not in _REQ_HEADERS_SKIPPED and not n.startswith(("sec-", ":"))


@lru_cache(maxsize=4096)
def _answer_header(name: str) -> bool:
    return name.lower() in _RESP_HEADERS_KEPT


_NAME = itemgetter("name")
_KEPT: dict[tuple[Callable[[str], bool], tuple[str, ...]], tuple[int, ...]] = {}  # which of a header list to keep


def _headers(raw: Any, keep: Callable[[str], bool]) -> list[tuple[str, str]]:
    """The ``(name, value)`` of the headers ``keep`` takes. Calls of one page send the same header
    names in the same order: which positions to keep is decided once per list of names."""
    try:  # the fixture format: a list of {name, value} strings
        names = tuple(map(_NAME, raw))
        key = (keep, names)
        at = _KEPT.get(key)
        if at is None:
            at = tuple(i for i, name in enumerate(names) if keep(name))
            if len(_KEPT) >= 4096:
                _KEPT.clear()
            _KEPT[key] = at
        fast = [(names[i], raw[i]["value"]) for i in at]
        if all(type(v) is str for _, v in fast):
            return fast
    except (TypeError, KeyError, AttributeError, IndexError):
        pass
    out = []
    for h in raw or ():
        if type(h) is dict:
            name = h.get("name")
            if type(name) is str and keep(name):
                out.append((name, str(h.get("value", ""))))
    return out


def sent_headers(raw: Any) -> list[tuple[str, str]]:
    """The request headers whose values lineage follows (not cookies, tokens or the browser's own)."""
    return _headers(raw, _sent_header)


def answer_headers(raw: Any) -> list[tuple[str, str]]:
    """The response headers that can give a value (etags, locations), by lower-case name."""
    try:  # most answers have none: one look at all the names, lower-cased at once
        names = "\n".join(map(_NAME, raw)).lower()
        if not any(k in names for k in _RESP_HEADERS_KEPT):
            return []
    except (TypeError, KeyError):
        pass
    return [(n.lower(), v) for n, v in _headers(raw, _answer_header)]


def gives(step: Step, wanted: set[str] | None = None) -> list[tuple[str, str, str]]:
    """``(location, pointer, value)`` the answer of ``step`` holds (synthetic answers included: a page
    sends back what it was given, even when portalspec gave it). With ``wanted``, only those values,
    and the body is parsed only when its text holds one of them."""
    out: list[tuple[str, str, str]] = []
    text = step.resp_text
    if text and (wanted is None or _may_hold(text, wanted)):
        body = loads_or_none(text)
        if body is not None:
            if wanted is None:
                keep = linkable
            else:
                def keep(v: Any) -> str | None:
                    s = linkable(v)
                    return s if s in wanted else None  # type: ignore[operator]
            out += [("body", ptr, v) for ptr, v in _walk(body, keep)]
    for name, value in step.answer_headers:
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


@lru_cache(maxsize=4096)
def _path_sends(path: str) -> tuple[tuple[str, str, str], ...]:
    return tuple(("path", f"#{i}", s) for i, seg in enumerate(path.split("/")) if seg
                 for s in map(linkable, _segment_values(seg)) if s is not None)


def sends(step: Step) -> list[tuple[str, str, str]]:
    """``(location, pointer, value)`` the request of ``step`` sends; path values by segment position
    (``#3``: the fourth segment), named at the end."""
    out: list[tuple[str, str, str]] = list(_path_sends(step.path))
    if step.query:
        for name, value in parse_qsl(step.query, keep_blank_values=True):
            s = linkable(value)
            if s is not None:
                out.append(("query", name, s))
    for name, value in step.sent_headers:
        s = linkable(value)
        if s is not None:
            out.append(("header", name, s))
    if step.req_text:
        body = loads_or_none(step.req_text)
        if body is not None:
            out += [("body", ptr or "/", v) for ptr, v in _walk(body, linkable)]
    return out


def roles(steps: list[Step], answers: dict[int, list[tuple[str, str, str]]] | None = None) -> list[str]:
    """Each step's role; ``answers``: what each write's answer gave (``gives``), by step, where known."""
    out: list[str] = []
    ids: set[str] = set()
    locations: set[str] = set()
    gets: dict[str, int] = {}
    for s in steps:
        if s.method == "GET":
            gets[s.path] = gets.get(s.path, 0) + 1
    for n, s in enumerate(steps):
        if s.method in WRITE_METHODS:
            out.append("export" if _EXPORT.search(f"{s.path} {s.operation_id or ''}") else "write")
            given = answers[n] if answers is not None and n in answers else gives(s)
            ids |= {v for _, _, v in given if _ID_LIKE.fullmatch(v)}  # ids the write's answer gave
            locations |= {v for name, v in s.answer_headers if name != "etag"}  # URLs it points to
            continue
        pointed = bool(locations) and any(s.url == loc or s.url.endswith(loc) for loc in locations)
        on_id = bool(ids) and any(i in s.path or i in s.query for i in ids)
        if s.method == "GET" and (pointed or (on_id and (_STATUS_WORDS.search(s.path) or gets[s.path] > 1))):
            out.append("poll")
        else:
            out.append("read")
    return out


def compact(seg: Segment) -> dict[str, Any]:
    """A closed flow as rows and lineage; its steps' texts are not kept."""
    steps = seg.trimmed()
    writes = {i: gives(s) for i, s in enumerate(steps) if s.method in WRITE_METHODS}  # read once, used twice
    role = roles(steps, writes)
    first_write = min(writes, default=len(steps))
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
            given = [g for g in writes[i] if g[2] in wanted] if i in writes else gives(s, wanted)
            for loc, ptr, v in given:
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
