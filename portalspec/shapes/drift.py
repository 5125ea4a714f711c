"""Drift: where a call's bodies, status and parameters differ from its operation in the spec.

Kinds (other tools depend on these names): ``undocumented_property``, ``missing_required``,
``type_mismatch``, ``nullable_mismatch``, ``enum_value``, ``format_mismatch``, ``array_item``,
``undocumented_status``, ``content_type_mismatch``, ``undocumented_parameter``, ``missing_parameter``.

A property documented in any ``allOf`` branch is documented; ``oneOf``/``anyOf`` pick the branch
the value fits best (or the one a ``discriminator`` names); ``readOnly`` properties are not
required in requests nor ``writeOnly`` ones in responses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .. import jsoncodec
from ..pointers import escape
from ..specs.model import Operation

MAX_DEPTH = 64
SEVERITY = {
    "type_mismatch": "error", "nullable_mismatch": "error", "missing_required": "error", "array_item": "error",
    "undocumented_property": "warning", "enum_value": "warning", "format_mismatch": "warning",
    "undocumented_status": "warning", "content_type_mismatch": "warning", "missing_parameter": "warning",
    "undocumented_parameter": "info",
}
# Query parameters browsers and portals add that are not part of an API.
CACHE_BUSTERS = frozenset({"_", "_t", "t", "ts", "cb", "nocache", "_dc", "rnd", "random", "timestamp", "cachebuster"})
STANDARD_HEADERS = frozenset({
    "accept", "accept-encoding", "accept-language", "user-agent", "referer", "origin", "cookie", "authorization",
    "content-type", "content-length", "host", "connection", "cache-control", "pragma", "priority", "dnt", "te",
    "if-none-match", "if-modified-since", "if-match", "upgrade-insecure-requests", "x-requested-with", "range",
    "proxy-authorization", "proxy-connection", "keep-alive", "upgrade", "sec-websocket-key", "sec-websocket-version",
    "sec-websocket-extensions", "traceparent", "tracestate", "request-id", "request-context", "baggage", "purpose",
    # correlation ids and page hints: request plumbing, not API parameters
    "x-ms-client-request-id", "client-request-id", "x-ms-correlation-id", "x-correlation-id", "x-request-id",
    "x-ms-client-session-id", "x-client-session-id", "x-clientpage",
    # anti-forgery tokens: the session's plumbing (the security schemes' business), sent on every call
    "x-xsrf-token", "x-csrf-token",
})
_FORMATS: dict[str, re.Pattern[str]] = {
    "uuid": re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"),
    "email": re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+"),
    "uri": re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*:[^\s]*"),
    "ipv4": re.compile(r"(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)"),
    "date": re.compile(r"\d{4}-\d{2}-\d{2}"),
}


@dataclass(slots=True)
class Finding:
    kind: str
    location: str  # request, response, query, header, status
    pointer: str
    expected: Any
    observed: Any
    severity: str
    status: int | None = None


def format_ok(fmt: str, v: str) -> bool:
    if fmt == "date-time":
        try:
            datetime.fromisoformat(v.replace("Z", "+00:00"))
            return "T" in v or " " in v
        except ValueError:
            return False
    rx = _FORMATS.get(fmt)
    return True if rx is None else rx.fullmatch(v) is not None


def json_type(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "integer" if v.is_integer() else "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def _types(schema: dict[str, Any]) -> tuple[set[str], bool]:
    t = schema.get("type")
    types = set(t) if isinstance(t, list) else ({t} if isinstance(t, str) else set())
    nullable = bool(schema.get("nullable")) or "null" in types
    types.discard("null")
    return types, nullable


class _Merged:
    """An ``allOf`` folded into one view: properties and required unioned across branches."""

    __slots__ = ("schema", "properties", "required", "additional", "types", "nullable")

    def __init__(self, schema: dict[str, Any], seen: set[int] | None = None) -> None:
        seen = seen or set()
        self.schema = schema
        self.properties: dict[str, Any] = {}
        self.required: set[str] = set()
        self.additional: Any = None
        self.types, self.nullable = _types(schema)
        self._fold(schema, seen)

    def _fold(self, s: dict[str, Any], seen: set[int]) -> None:
        if id(s) in seen:
            return
        seen.add(id(s))
        props = s.get("properties")
        if isinstance(props, dict):
            for k, v in props.items():
                self.properties.setdefault(k, v)
        req = s.get("required")
        if isinstance(req, list):
            self.required.update(r for r in req if isinstance(r, str))
        if "additionalProperties" in s and self.additional in (None, False):
            self.additional = s["additionalProperties"]
        if s is not self.schema:
            t, n = _types(s)
            self.types |= t
            self.nullable |= n
        for branch in s.get("allOf") or []:
            if isinstance(branch, dict):
                self._fold(branch, seen)


class DriftChecker:
    """Checks JSON values against resolved schemas; one instance caches the allOf folds."""

    def __init__(self) -> None:
        self._merged: dict[int, _Merged] = {}

    def merged(self, schema: dict[str, Any]) -> _Merged:
        m = self._merged.get(id(schema))
        if m is None or m.schema is not schema:
            m = _Merged(schema)
            if len(self._merged) < 100000:
                self._merged[id(schema)] = m
        return m

    def check(self, schema: Any, value: Any, location: str, mode: str, status: int | None = None) -> list[Finding]:
        out: list[Finding] = []
        if isinstance(schema, dict):
            self._check(schema, value, "", location, mode, status, out, 0)
        return out

    def _check(self, schema: dict[str, Any], value: Any, ptr: str, loc: str, mode: str, status: int | None,
               out: list[Finding], depth: int, item: bool = False) -> None:
        if depth > MAX_DEPTH or not schema or "x-portalspec-broken-ref" in schema:
            return
        alts = schema.get("oneOf") or schema.get("anyOf")
        if isinstance(alts, list) and alts:
            self._alternatives(schema, alts, value, ptr, loc, mode, status, out, depth)
            return
        m = self.merged(schema)
        if value is None:
            if not m.nullable and m.types:
                out.append(Finding("nullable_mismatch", loc, ptr, sorted(m.types), "null", SEVERITY["nullable_mismatch"], status))
            return
        vt = json_type(value)
        if m.types and not (vt in m.types or (vt == "integer" and "number" in m.types)):
            kind = "array_item" if item else "type_mismatch"
            out.append(Finding(kind, loc, ptr, "|".join(sorted(m.types)), vt, SEVERITY[kind], status))
            return
        enum = schema.get("enum")
        if isinstance(enum, list) and enum and value not in enum:
            out.append(Finding("enum_value", loc, ptr, enum[:20], value if len(str(value)) < 200 else vt,
                               SEVERITY["enum_value"], status))
        fmt = schema.get("format")
        if vt == "string" and isinstance(fmt, str) and not format_ok(fmt, value):
            out.append(Finding("format_mismatch", loc, ptr, fmt, _shape(value), SEVERITY["format_mismatch"], status))
        if vt == "object":
            self._object(m, value, ptr, loc, mode, status, out, depth)
        elif vt == "array":
            items = schema.get("items")
            if isinstance(items, dict) and items:
                for i, v in enumerate(value):
                    self._check(items, v, f"{ptr}/{i}", loc, mode, status, out, depth + 1, item=True)

    def _object(self, m: _Merged, value: dict[str, Any], ptr: str, loc: str, mode: str, status: int | None,
                out: list[Finding], depth: int) -> None:
        props = m.properties
        for key in sorted(m.required):
            if key in value:
                continue
            p = props.get(key)
            if isinstance(p, dict) and ((mode == "request" and p.get("readOnly")) or (mode == "response" and p.get("writeOnly"))):
                continue
            out.append(Finding("missing_required", loc, f"{ptr}/{escape(key)}", key, None, SEVERITY["missing_required"], status))
        add = m.additional
        if not props and add not in (None, False):
            # A map (additionalProperties only): its keys are data, not properties.
            if isinstance(add, dict):
                for k, v in value.items():
                    self._check(add, v, f"{ptr}/{escape(k)}", loc, mode, status, out, depth + 1)
            return
        if not props and add is None:
            return  # an open object with nothing documented: a placeholder, inference proposes its schema
        for k, v in value.items():
            sub = props.get(k)
            if isinstance(sub, dict):
                self._check(sub, v, f"{ptr}/{escape(k)}", loc, mode, status, out, depth + 1)
                continue
            sev = "info" if add not in (None, False) else SEVERITY["undocumented_property"]
            out.append(Finding("undocumented_property", loc, f"{ptr}/{escape(k)}", None, json_type(v), sev, status))
            if isinstance(add, dict) and add:
                self._check(add, v, f"{ptr}/{escape(k)}", loc, mode, status, out, depth + 1)

    def _alternatives(self, schema: dict[str, Any], alts: list[Any], value: Any, ptr: str, loc: str, mode: str,
                      status: int | None, out: list[Finding], depth: int) -> None:
        disc = schema.get("discriminator")
        if isinstance(disc, dict) and isinstance(value, dict) and isinstance(disc.get("propertyName"), str):
            tag = value.get(disc["propertyName"])
            mapping = disc.get("mapping")
            if not isinstance(mapping, dict):
                mapping = {}
            for alt in alts:
                if not isinstance(alt, dict):
                    continue
                title = alt.get("title") or ""
                if tag is not None and (tag == title or str(mapping.get(tag, "")).endswith("/" + str(title))):
                    self._check(alt, value, ptr, loc, mode, status, out, depth + 1)
                    return
        best: list[Finding] | None = None
        for alt in alts:
            if not isinstance(alt, dict):
                continue
            trial: list[Finding] = []
            base = {k: v for k, v in schema.items() if k not in ("oneOf", "anyOf", "discriminator")}
            self._check({**base, **alt} if base else alt, value, ptr, loc, mode, status, trial, depth + 1)
            if best is None or _cost(trial) < _cost(best):
                best = trial
            if not trial:
                break
        out.extend(best or [])


def _cost(findings: list[Finding]) -> int:
    return sum(3 if f.severity == "error" else 1 for f in findings)


def _shape(v: str) -> str:
    """A value's shape for reports, without the value itself."""
    s = re.sub(r"[A-Za-z]", "a", v[:40])
    return re.sub(r"\d", "9", s)


def fold_pointer(ptr: str) -> str:
    """Array indexes folded: ``/value/0/x`` -> ``/value/*/x``."""
    return re.sub(r"/\d+(?=/|$)", "/*", ptr)


# -- per-call checks -------------------------------------------------------------------------------
def media_schema(content: Any, mime: str) -> tuple[dict[str, Any] | None, bool]:
    """The schema for ``mime`` in an OpenAPI ``content`` map: ``(schema, content_type_known)``."""
    if not isinstance(content, dict) or not content:
        return None, True
    base = mime.split(";", 1)[0].strip().lower()
    for key, media in content.items():
        if str(key).lower() == base and isinstance(media, dict):
            return media.get("schema"), True
    if base.endswith("+json") or base == "text/json":
        for key, media in content.items():
            if "json" in str(key).lower() and isinstance(media, dict):
                return media.get("schema"), True
    for key, media in content.items():
        k = str(key).lower()
        if (k in ("*/*", base.split("/")[0] + "/*")) and isinstance(media, dict):
            return media.get("schema"), True
    return None, False


def response_for(op: Operation, status: int) -> tuple[dict[str, Any] | None, bool]:
    """The response object for ``status``: exact, then ``2XX``, then ``default``."""
    r = op.responses
    if not isinstance(r, dict):
        return None, False
    for key in (str(status), f"{str(status)[0]}XX", f"{str(status)[0]}xx", "default"):
        if key in r:
            v = r[key]
            return (v if isinstance(v, dict) else None), True
    return None, False


def _json_body(body: dict[str, Any] | None) -> tuple[bool, Any]:
    if not body or not isinstance(body.get("text"), str) or not body["text"].strip() or body.get("_truncated"):
        return False, None
    try:
        return True, jsoncodec.loads(body["text"])
    except (ValueError, RecursionError):
        return False, None


def check_call(checker: DriftChecker, op: Operation, entry: dict[str, Any]) -> list[Finding]:
    """Every drift finding of one call against its operation."""
    out: list[Finding] = []
    req = entry.get("request") or {}
    resp = entry.get("response") or {}
    status = int(resp.get("status") or 0)
    # Parameters.
    declared = {(str(p.get("in")), str(p.get("name")).lower()) for p in op.parameters}
    query = parse_qsl(urlsplit(str(req.get("url") or "")).query, keep_blank_values=True)
    qnames = {k.lower() for k, _ in query}
    for k, _ in query:
        if ("query", k.lower()) not in declared and k.lower() not in CACHE_BUSTERS:
            out.append(Finding("undocumented_parameter", "query", k, None, "present", SEVERITY["undocumented_parameter"]))
    hnames = {str(h.get("name", "")).lower() for h in req.get("headers") or [] if isinstance(h, dict)}
    for h in sorted(hnames):
        if ("header", h) not in declared and h not in STANDARD_HEADERS and h not in op.known_headers \
                and not h.startswith(("sec-", ":")):
            out.append(Finding("undocumented_parameter", "header", h, None, "present", SEVERITY["undocumented_parameter"]))
    for p in op.parameters:
        if p.get("required") and p.get("in") in ("query", "header"):
            names = qnames if p["in"] == "query" else hnames
            if str(p.get("name")).lower() not in names:
                out.append(Finding("missing_parameter", str(p["in"]), str(p.get("name")), "required", None,
                                   SEVERITY["missing_parameter"]))
    # Request body.
    post = req.get("postData") or {}
    is_json, value = _json_body(post)
    if is_json and isinstance(op.request_body, dict):
        schema, known = media_schema(op.request_body.get("content"), str(post.get("mimeType") or "application/json"))
        if not known:
            out.append(Finding("content_type_mismatch", "request", "", sorted(op.request_body.get("content") or {}),
                               post.get("mimeType"), SEVERITY["content_type_mismatch"]))
        elif schema:
            out.extend(checker.check(schema, value, "request", "request"))
    # Status and response body.
    if status == 0 or entry.get("_portalspec", {}).get("blocked"):
        return out
    robj, found = response_for(op, status)
    if not found:
        out.append(Finding("undocumented_status", "status", "", sorted(op.responses) if isinstance(op.responses, dict) else [],
                           status, SEVERITY["undocumented_status"], status))
        return out
    content = resp.get("content") or {}
    is_json, value = _json_body(content)
    if robj and is_json:
        schema, known = media_schema(robj.get("content"), str(content.get("mimeType") or "application/json"))
        if not known:
            out.append(Finding("content_type_mismatch", "response", "", sorted(robj.get("content") or {}),
                               content.get("mimeType"), SEVERITY["content_type_mismatch"], status))
        elif schema:
            out.extend(checker.check(schema, value, "response", "response", status))
    return out
