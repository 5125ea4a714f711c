"""A closed write flow, read: each step's role, and where the values it sends came from.

Roles: ``write`` (POST/PUT/PATCH/DELETE), ``export`` (a write that starts an export or a job),
``poll`` (a GET after a write on an id that write returned, or on a status URL a 202 pointed to,
when it asks for a status or is repeated), ``read`` otherwise.

Lineage: for each write and each call after the first write, every value it sends (body JSON
pointer, path parameter (any path segment of an undocumented call), query parameter, header)
that an earlier step's answer gave (body JSON pointer or header) is linked to the step and place
where that value was first seen. Values shorter than 4 characters, booleans, numbers under 1000
and common words are not linked; redacted values link through their placeholders (one secret,
one placeholder in a session).

A flow is read once, when it closes (``compact``), and then only its rows are kept. A value sent
is first looked for in all the flow's answers as one text (their tokens, for a large flow where many
values are sent), and an answer is parsed only when its text holds a value a later step sends and
no earlier answer gave, and read only until it has given each, so a page of large list reads costs
little. Pages send the same request and get the same answer again and again (polls, lists read again):
within a flow, a request sent again is read for its values once, an answer given again is read once
for what it gives, and the text searched holds each answer once. Path values are found by position;
the names of the template's parameters are given at the end (``finish``), when undocumented templates
are known.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Callable, Iterator
from urllib.parse import parse_qsl, unquote

from ..jsoncodec import loads_or_none
from ..pointers import escape
from ..specs.model import WRITE_METHODS

if TYPE_CHECKING:
    from .collect import Step

MAX_LEAVES = 200_000  # leaves of one body looked at, in document order (a long list answer is read whole)
MAX_LINKS = 500
MAX_WANTED = 2000
COMMON = frozenset("""true false null none undefined enabled disabled active inactive default all any yes no
ok success succeeded failed pending running completed complete ready new open closed user users admin
string text value name type json application global tenant public private read write""".split())
_COMMON_MAX = max(map(len, COMMON))
_EXPORT_WORDS = ("export", "download", "job", "bulk")
_EXPORT = re.compile("(?i)" + "|".join(_EXPORT_WORDS))
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


def _walk(root: Any, keep: Callable[[Any], str | None], left: set[str] | None = None) -> list[tuple[str, str]]:
    """``(JSON pointer, value as linked)`` of the leaves ``keep`` takes, among the first ``MAX_LEAVES``
    leaves in document order; a pointer is built only for a leaf taken. With ``left`` (a set ``keep``
    empties as it takes its values), the walk ends when it is empty."""
    if type(root) is not dict and type(root) is not list:
        s = keep(root)
        return [] if s is None else [("", s)]
    out: list[tuple[str, str]] = []
    count = 0
    keys: list[Any] = []  # the keys from the root to the container being read
    stack: list[Iterator[tuple[Any, Any]]] = [iter(root.items()) if type(root) is dict else enumerate(root)]
    while stack:
        for k, v in stack[-1]:
            tv = type(v)
            if tv is dict or tv is list:
                keys.append(k)
                stack.append(iter(v.items()) if tv is dict else enumerate(v))
                break
            count += 1
            if count > MAX_LEAVES:
                return out
            s = keep(v)
            if s is not None:
                out.append(("".join(f"/{escape(x)}" for x in keys) + f"/{escape(k)}", s))
                if left is not None and not left:
                    return out
        else:
            stack.pop()
            if keys:
                keys.pop()
    return out


def _values(root: Any, keep: Callable[[Any], str | None]) -> list[str]:
    """The values ``_walk`` gives, without their pointers (the same leaves, in the same order). Its own
    loop, since keeping no keys is what makes it cheaper: reading the corpus's write answers for their ids
    through ``_walk`` made compacting its 6,672 flows 0.93-0.99 s against 0.84-0.88 s (three pairs)."""
    if type(root) is not dict and type(root) is not list:
        s = keep(root)
        return [] if s is None else [s]
    out: list[str] = []
    count = 0
    stack: list[Iterator[Any]] = [iter(root.values()) if type(root) is dict else iter(root)]
    while stack:
        for v in stack[-1]:
            tv = type(v)
            if tv is dict or tv is list:
                stack.append(iter(v.values()) if tv is dict else iter(v))
                break
            count += 1
            if count > MAX_LEAVES:
                return out
            s = keep(v)
            if s is not None:
                out.append(s)
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


_NAME = itemgetter("name")
_At = tuple[int, tuple[tuple[int, str], ...]]  # a list's length, and the (position, name as kept) of the headers kept


def _headers(raw: Any, keep: Callable[[str], str | None], kept: dict[str, _At]) -> list[tuple[str, str]]:
    """``(name as keep gives it, value)`` of the headers ``keep`` takes. Calls of one page send the same
    header names in the same order: which to keep is decided once per list of names (``kept``, found by
    the names joined, with the list's length, so that no other list can give the same key)."""
    try:  # the fixture format: a list of {name, value} strings
        names = "\n".join(map(_NAME, raw))
        at = kept.get(names)
        if at is None:
            at = len(raw), tuple((i, k) for i, h in enumerate(raw) if (k := keep(h["name"])) is not None)
            if len(kept) >= 4096:
                kept.clear()
            kept[names] = at
        n, where = at
        if n == len(raw):
            if not where:
                return []
            fast = [(k, raw[i]["value"]) for i, k in where]
            for _, v in fast:
                if type(v) is not str:
                    break
            else:
                return fast
    except (TypeError, KeyError, AttributeError, IndexError):
        pass
    out = []
    for h in raw or ():
        if type(h) is dict:
            name = h.get("name")
            if type(name) is str and (k := keep(name)) is not None:
                out.append((k, str(h.get("value", ""))))
    return out


def _sent_header(name: str) -> str | None:
    n = name.lower()
    return None if n in _REQ_HEADERS_SKIPPED or n.startswith(("sec-", ":")) else name


def _answer_header(name: str) -> str | None:
    n = name.lower()
    return n if n in _RESP_HEADERS_KEPT else None


_SENT_KEPT: dict[str, _At] = {}
_ANSWER_KEPT: dict[str, _At] = {}


def sent_headers(raw: Any) -> list[tuple[str, str]]:
    """The request headers whose values lineage follows (not cookies, tokens or the browser's own)."""
    return _headers(raw, _sent_header, _SENT_KEPT)


def answer_headers(raw: Any) -> list[tuple[str, str]]:
    """The response headers that can give a value (etags, locations), by lower-case name."""
    return _headers(raw, _answer_header, _ANSWER_KEPT)


def gives(step: Step, body: Any = None) -> list[tuple[str, str, str]]:
    """``(location, pointer, value)`` the answer of ``step`` holds (synthetic answers included: a page
    sends back what it was given, even when portalspec gave it); ``body``: its body, if parsed already."""
    out: list[tuple[str, str, str]] = []
    text = step.resp_text
    if text:
        if body is None:
            body = loads_or_none(text)
        if body is not None:
            out += [("body", ptr, v) for ptr, v in _walk(body, linkable)]
    for name, value in step.answer_headers:
        s = linkable(value)
        if s is not None:
            out.append(("header", name, s))
    return out


def given_values(step: Step, body: Any) -> list[str]:
    """The values ``gives`` gives, without where; ``body``: the answer's body, parsed (``_body``)."""
    out = [] if body is None else _values(body, linkable)
    for _, value in step.answer_headers:
        s = linkable(value)
        if s is not None:
            out.append(s)
    return out


def _body(step: Step) -> Any:
    """The answer's body, parsed (None if it has none or it is not JSON)."""
    return loads_or_none(step.resp_text) if step.resp_text else None


_UNREAD: Any = object()


def first_given(step: Step, wanted: set[str], body: Any = _UNREAD) -> list[tuple[str, str, str]]:
    """``(location, pointer, value)`` of the first place in the answer of ``step`` (as ``gives`` orders
    them) that gives each of ``wanted``, and maybe later ones. The body is parsed (unless given) only
    when its text may hold one of them (``_may_hold``), and read only until it has given all it may hold."""
    out: list[tuple[str, str, str]] = []
    text = step.resp_text
    if text:
        want = _may_hold(text, wanted)
        if want and body is _UNREAD:
            body = loads_or_none(text)
        elif not want:
            body = None
        if body is not None:

            def keep(v: Any) -> str | None:
                if type(v) is str:  # most leaves are strings no later step sends: the cheap test first
                    s = v.strip()
                    if s not in want or linkable(v) is None:
                        return None
                else:
                    n = linkable(v)
                    if n is None or n not in want:
                        return None
                    s = n
                want.discard(s)
                return s

            out += [("body", ptr, v) for ptr, v in _walk(body, keep, want)]
    for name, value in step.answer_headers:
        s = linkable(value)
        if s is not None and s in wanted:
            out.append(("header", name, s))
    return out


_MAY_HOLD_TESTS = 32  # substring tests on one answer before parsing it is the cheaper way


def _may_hold(text: str, wanted: set[str]) -> set[str]:
    """Which of ``wanted`` a JSON text may hold: a text without escapes holds a string or an integer as
    written; with escapes, for a value that may be a float written otherwise (``1.5e3``), or when
    there are many to look for, the text may hold it."""
    if "\\" in text or len(wanted) > _MAY_HOLD_TESTS:
        return set(wanted)
    return {v for v in wanted if v in text or _floaty(v)}


_FLOAT = re.compile(r"-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|-?(?:inf|nan)")


def _floaty(v: str) -> bool:
    """Whether ``v`` may be a float as Python writes it, which a JSON text may write otherwise."""
    return v[0] in "-0123456789in" and ("." in v or "e" in v or "n" in v) and _FLOAT.fullmatch(v) is not None


HAY_SCANNED = 256 * 1024  # answers of a flow searched as one text, value by value, up to this size
SEARCHES = 64  # beyond it, values searched that way before the set of the answers' tokens is made (a
# search of 170 KB takes about 0.03 ms, making its tokens about 2.6 ms)
_TOKENS = re.compile(r'"([^"]*)"|(-?\d[\d.eE+-]{3,})')


class _Answers:
    """What the answers of a flow's steps could give, for a first cheap test of a value sent: one text
    of them all (answers without escapes as written, with escapes by their values), searched for
    each value, or, for large flows where many values are sent, the set of their strings and numbers
    (made once, costing about as much as ``SEARCHES`` searches). A value that passes is then looked
    for exactly."""

    def __init__(self, steps: list[Step], bodies: dict[int, Any], alike: list[int]) -> None:
        self.read: dict[int, list[tuple[str, str, str]]] = {}  # answers with escapes, read once here
        texts: list[str] = []
        values: list[str] = []
        for i, s in enumerate(steps):
            if alike[i] != i:  # an answer given again (``_first_alike``): its text and values are there already
                continue
            text = s.resp_text
            if text:
                if "\\" in text:
                    got = self.read[i] = gives(s, bodies.get(i))  # a write's body is parsed already
                    values += [v for _, _, v in got]
                else:
                    texts.append(text)
            values += [v for _, v in s.answer_headers]
        self.hay = "\x00".join(texts + values)
        self._texts, self._values = texts, values
        self.searches_left = SEARCHES if len(self.hay) > HAY_SCANNED else math.inf
        self.tokens: set[str] | None = None
        self.kept: dict[Any, str | None] = {}  # a value sent -> as linked, or None (most values repeat)
        self.segments: dict[str, tuple[str, ...]] = {}

    def __bool__(self) -> bool:
        return bool(self.hay)

    def keep(self, v: Any) -> str | None:
        """The value as linked when some answer of the flow may hold it, else None."""
        try:
            return self.kept[v]
        except KeyError:
            pass
        except TypeError:  # not hashable: never linked
            return None
        s = linkable(v)
        if s is not None and not (_floaty(s) or self._holds(s)):
            s = None
        if type(v) is str:  # True, 1 and 1.0 are one key: numbers are not remembered
            self.kept[v] = s
        return s

    def _holds(self, s: str) -> bool:
        if self.tokens is None:
            if self.searches_left > 0:
                self.searches_left -= 1
                return s in self.hay
            self.tokens = self._token_set()
        return s in self.tokens

    def _token_set(self) -> set[str]:
        tokens = {v.strip() for v in self._values}
        for text in self._texts:
            for a, b in _TOKENS.findall(text):
                if not b:
                    tokens.add(a.strip())
                elif isinstance(n := loads_or_none(b), (int, float)):
                    tokens.add(str(n))
        return tokens

    def segment(self, seg: str) -> tuple[str, ...]:
        """The values a path segment sends that some answer may hold."""
        out = self.segments.get(seg)
        if out is None:
            out = self.segments[seg] = tuple(s for v in _segment_sends(seg) if (s := self.keep(v)) is not None)
        return out


_ALIKE_MAX = 16 * 1024  # a longer answer is not compared with others: hashing it costs about what searching it does


def _first_alike(steps: list[Step]) -> list[int]:
    """For each step, the first step whose answer is the same (text and headers); an answer longer than
    ``_ALIKE_MAX`` is its own (keyed by their whole texts, the long-list day's 170 KB answers added 0.47%
    to its report)."""
    out: list[int] = []
    first: dict[Any, int] = {}
    for i, s in enumerate(steps):
        text, headers = s.resp_text, s.answer_headers
        if text is not None and len(text) > _ALIKE_MAX:
            out.append(i)
        else:  # most answers have no headers kept: their text alone is the key (a tuple never equals it)
            out.append(first.setdefault((text, *headers) if headers else text, i))
    return out


def _segment_values(seg: str) -> list[str]:
    seg = unquote(seg)
    if "(" in seg and seg.endswith(")"):
        return [m.group(1).strip() for m in _ODATA_VALUES.finditer(seg[seg.index("("):])]
    return [seg]


@lru_cache(maxsize=8192)
def _segment_sends(seg: str) -> tuple[str, ...]:
    return tuple(s for s in map(linkable, _segment_values(seg)) if s is not None)


def _value_segments(path: str, template: str | None) -> list[tuple[int, str]]:
    """``(position, segment)`` of the path's segments that may send a value: for a documented call, those
    where its template has a parameter (a literal segment is the API's, not a value the page chose); for
    an undocumented one, or a path its template does not line up with (``template_regex``), every segment."""
    if template is not None and "{" not in template:
        return []
    segs = path.split("/")
    if template is not None:
        m = template_regex(template)[0].search(path)
        if m is not None:
            base = path.count("/", 0, m.start())  # parameters hold no "/": each is as many segments on as in the template
            return [(base + at, segs[base + at]) for at in _param_segments(template)]
    return [(i, seg) for i, seg in enumerate(segs) if seg]


@lru_cache(maxsize=4096)
def _param_segments(template: str) -> tuple[int, ...]:
    """The positions of the template's segments that hold a parameter (``_PARAM``, as ``template_regex``),
    counted from its start: the "/" of its text before each, outside the parameters."""
    at: set[int] = set()
    slashes = last = 0
    for m in _PARAM.finditer(template):
        slashes += template.count("/", last, m.start())
        last = m.end()
        at.add(slashes)
    return tuple(sorted(at))


def _query(query: str) -> list[tuple[str, str]]:
    if "%" in query or "+" in query:
        return parse_qsl(query, keep_blank_values=True)
    return [(name, value) for name, _, value in (p.partition("=") for p in query.split("&") if p)]


def sends(step: Step, answers: _Answers | None = None) -> list[tuple[str, str, str]]:
    """``(location, pointer, value)`` the request of ``step`` sends; with ``answers``, only the values
    some answer may hold. Path values by segment position (``#3``: the fourth segment), named at the end."""
    out: list[tuple[str, str, str]] = []
    keep: Callable[[Any], str | None] = linkable if answers is None else answers.keep
    segment = _segment_sends if answers is None else answers.segment
    for i, seg in _value_segments(step.path, step.template):
        for v in segment(seg):
            out.append(("path", f"#{i}", v))
    if step.query:
        for name, value in _query(step.query):
            s = keep(value)
            if s is not None:
                out.append(("query", name, s))
    for name, value in step.sent_headers:
        s = keep(value)
        if s is not None:
            out.append(("header", name, s))
    if step.req_text:
        body = loads_or_none(step.req_text)
        if body is not None:
            out += [("body", ptr or "/", v) for ptr, v in _walk(body, keep)]
    return out


def _is_export(path: str, operation_id: str | None) -> bool:
    low = path.lower()
    return any(w in low for w in _EXPORT_WORDS) or bool(operation_id and _export_op(operation_id))


@lru_cache(maxsize=4096)
def _export_op(operation_id: str) -> bool:
    return bool(_EXPORT.search(operation_id))


def roles(steps: list[Step], answers: dict[int, list[str]] | None = None) -> list[str]:
    """Each step's role; ``answers``: what each write's answer gave (``given_values``), by step, where known."""
    out: list[str] = []
    ids: set[str] = set()
    locations: set[str] = set()
    gets: dict[str, int] = {}
    for s in steps:
        if s.method == "GET":
            gets[s.path] = gets.get(s.path, 0) + 1
    for n, s in enumerate(steps):
        if s.method in WRITE_METHODS:
            out.append("export" if _is_export(s.path, s.operation_id) else "write")
            given = answers[n] if answers is not None and n in answers else given_values(s, _body(s))
            ids |= {v for v in given if _ID_LIKE.fullmatch(v)}  # ids the write's answer gave
            locations |= {v for name, v in s.answer_headers if name != "etag"}  # URLs it points to
            continue
        if s.method != "GET" or not (ids or locations):
            out.append("read")
            continue
        pointed = bool(locations) and any(s.url == loc or s.url.endswith(loc) for loc in locations)
        on_id = bool(ids) and any(i in s.path or i in s.query for i in ids)
        out.append("poll" if pointed or (on_id and (_STATUS_WORDS.search(s.path) or gets[s.path] > 1)) else "read")
    return out


def _links(steps: list[Step], writes: dict[int, Any], alike: list[int] | None = None) -> list[list[Any]]:
    """Every value a step from the first write on sends that an earlier answer gave, linked to where
    it was first seen: ``[from step, location, pointer, to step, location, pointer, value]``;
    ``writes``: the writes' answers' bodies, parsed (``_body``), by step; ``alike``: ``_first_alike``'s."""
    first = max(min(writes, default=len(steps)), 1)
    if first >= len(steps):
        return []
    alike = _first_alike(steps) if alike is None else alike
    answers = _Answers(steps[:-1], writes, alike)  # the last answer gives nothing to a later call
    if not answers:
        return []
    sent: dict[int, list[tuple[str, str, str]]] = {}
    asked: dict[tuple[Any, ...], list[tuple[str, str, str]]] = {}  # a request sent again sends the same values
    for i in range(first, len(steps)):
        s = steps[i]
        key = (s.path, s.template, s.query, s.req_text, *s.sent_headers)
        got = asked.get(key)
        if got is None:
            got = asked[key] = sends(s, answers)
        sent[i] = got
    wanted = {v for row in sent.values() for _, _, v in row}
    if len(wanted) > MAX_WANTED:  # each answer is tested for each wanted value: keep that bounded
        wanted = set(sorted(wanted, key=lambda v: (-len(v), v))[:MAX_WANTED])
    last = {v: i for i, row in sent.items() for _, _, v in row}  # a value -> the last step that sends it
    done: dict[int, list[str]] = {}  # a step -> the values no step after it sends
    for v in wanted:
        done.setdefault(last[v], []).append(v)
    seen: dict[str, tuple[int, str, str]] = {}  # a value -> where it was first seen
    links: list[list[Any]] = []
    for i, s in enumerate(steps):
        for loc, ptr, v in sent.get(i, ()):
            if len(links) >= MAX_LINKS:
                return links
            src = seen.get(v)
            if src is not None:
                links.append([src[0] + 1, src[1], src[2], i + 1, loc, ptr, v])
        wanted.difference_update(done.get(i, ()))  # now: the values not seen yet that a later step sends
        if wanted and i < len(steps) - 1:
            if alike[i] != i:  # an answer given again gives nothing the first did not
                continue
            known = answers.read.get(i)
            given = first_given(s, wanted, writes.get(i, _UNREAD)) if known is None else [g for g in known if g[2] in wanted]
            for loc, ptr, v in given:
                if v in wanted:
                    seen[v] = (i, loc, ptr)
                    wanted.discard(v)
    return links


def compact(page: str, t: float, steps: list[Step], writes_seen: int, dropped: int) -> dict[str, Any]:
    """A closed flow (its steps, trimmed) as the report gives it, but for what only the end of the
    pass knows: the templates of undocumented steps (``_name``) and the names of path values sent to
    them (``_paths``), which ``finish`` adds. Its steps' texts are not kept."""
    alike = _first_alike(steps)
    writes: dict[int, Any] = {}  # the writes' answers, parsed once, read twice
    given: dict[int, list[str]] = {}  # the values each gave (an answer given again: read once)
    for i, s in enumerate(steps):
        if s.method in WRITE_METHODS:
            j = alike[i]
            if j in given:
                writes[i], given[i] = writes[j], given[j]
            else:
                writes[i] = _body(s)
                given[i] = given_values(s, writes[i])
    role = roles(steps, given)
    rows = [{"index": n, "started": s.started, "method": s.method, "url": s.url, "template": s.template,
             "operationId": s.operation_id, "spec": s.spec, "status": s.status, "blocked": s.blocked,
             "synthetic": s.synthetic, "role": r} for n, (s, r) in enumerate(zip(steps, role), 1)]
    lineage: list[dict[str, Any]] = []
    names: dict[int, dict[str, str]] = {}
    paths: list[list[Any]] = []
    for src, src_loc, src_ptr, to, loc, ptr, value in _links(steps, writes, alike):
        if loc == "path":
            step = steps[to - 1]
            if step.template is None and not step.params:  # named at the end, when undocumented templates are known
                paths.append([len(lineage), to, value])
                ptr = f"segment {ptr[1:]}"
            else:
                if to not in names:
                    names[to] = _by_value(step.params or path_params(step.template, step.path))
                ptr = names[to].get(value, f"segment {ptr[1:]}")
        lineage.append({"from": {"step": src, "location": src_loc, "pointer": src_ptr},
                        "to": {"step": to, "location": loc, "pointer": ptr}})
    out = {"page": page, "t": t, "started": steps[0].started if steps else None,
           "writes": writes_seen, "blocked": sum(1 for s in steps if s.blocked), "steps_dropped": dropped,
           "steps": rows, "lineage": lineage}
    unnamed = [[n, s.host, s.path] for n, s in enumerate(steps, 1) if s.template is None]
    if unnamed:
        out["_name"] = unnamed
        if paths:
            out["_paths"] = paths
    return out


_PARAM = re.compile(r"\{([^}]*)\}")


@lru_cache(maxsize=4096)
def template_regex(template: str) -> tuple[re.Pattern[str], tuple[str, ...]]:
    """A path template as a regex (a group per parameter, ``_PARAM``, an optional trailing slash) and the
    names of its parameters, as the template writes them."""
    parts: list[str] = []
    names: list[str] = []
    last = 0
    for m in _PARAM.finditer(template):
        parts += [re.escape(template[last:m.start()]), f"(?P<p{len(names)}>[^/]+?)"]
        names.append(m.group(1))
        last = m.end()
    parts.append(re.escape(template[last:]))
    return re.compile("".join(parts) + "/?$"), tuple(names)


def _by_value(params: dict[str, str]) -> dict[str, str]:
    """Path parameters by their value as lineage links it (an OData key without its quotes)."""
    return {v.strip("'"): k for k, v in params.items()}


def path_params(template: str | None, path: str) -> dict[str, str]:
    """The values of ``template``'s parameters in ``path`` (the template may lack the server's base path)."""
    if not template or "{" not in template:
        return {}
    rx, names = template_regex(template)
    m = rx.search(unquote(path))
    return {n: m.group(f"p{i}") for i, n in enumerate(names)} if m else {}


def finish(flow: dict[str, Any], number: int, template_of: Callable[[str, str, str], str | None]) -> dict[str, Any]:
    """The report's flow from a compacted one (``compact``), which it leaves as it is: undocumented
    steps named by their template, path values sent to them by parameter name."""
    steps, lineage = flow["steps"], flow["lineage"]
    unnamed = flow.get("_name")
    if unnamed:
        steps = list(steps)
        found: dict[int, tuple[str | None, str]] = {}
        for n, host, path in unnamed:
            template = template_of(host, steps[n - 1]["method"], path)
            if template is not None:
                steps[n - 1] = {**steps[n - 1], "template": template}
            found[n] = (template, path)
        names: dict[int, dict[str, str]] = {}
        if flow.get("_paths"):
            lineage = list(lineage)
            for at, to, value in flow["_paths"]:
                if to not in names:
                    names[to] = _by_value(path_params(*found[to]))
                if value in names[to]:
                    link = lineage[at]
                    lineage[at] = {"from": link["from"], "to": {**link["to"], "pointer": names[to][value]}}
    return {"id": f"flow-{number}", "page": flow["page"], "started": flow["started"], "writes": flow["writes"],
            "blocked": flow["blocked"], "steps_dropped": flow["steps_dropped"], "steps": steps, "lineage": lineage}
