"""Client-safe answers for blocked writes: what the portal's page gets instead of the real backend.

A blocked write is never forwarded. So that the page goes on (a wizard's next step, a status
poller), it is answered here with the operation's documented success: the lowest 2xx status the
spec gives it, and a body from the spec's example, else one built from the response schema
(required properties, formats honoured, request fields of the same name echoed back, an ``id``
made up deterministically per call). An undocumented write gets its request JSON echoed with an
``id`` added (``200``), or ``204`` for DELETE. Every answer says it is synthetic
(``x-portalspec-synthetic: 1``), and the fixture marks the call ``synthetic``, so that the
report never takes such a body as evidence of the API.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from ..jsoncodec import loads_or_none
from ..shapes.drift import media_schema
from ..specs.model import Operation

SYNTHETIC_HEADER = "x-portalspec-synthetic"
_MAX_DEPTH = 6


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    headers: dict[str, str]
    kind: str  # "example" | "schema" | "echo"
    matched: bool | None = None  # whether the write is a documented operation (None: no specs)


def success_status(op: Operation) -> tuple[int, dict[str, Any] | None]:
    """The lowest documented 2xx (``2XX`` counts as 200, ``default`` only when nothing else is given)."""
    best: tuple[int, dict[str, Any] | None] | None = None
    for code, obj in (op.responses or {}).items():
        c = str(code).upper()
        n = 200 if c == "2XX" else int(c) if c.isdigit() else None
        if n is not None and 200 <= n < 300 and (best is None or n < best[0]):
            best = (n, obj if isinstance(obj, dict) else None)
    if best is None:
        return (204 if op.method == "DELETE" else 200), None
    return best


def _example(content: Any) -> tuple[bool, Any]:
    if not isinstance(content, dict):
        return False, None
    for mime in sorted(content, key=lambda m: ("json" not in m.lower(), m)):
        media = content[mime]
        if not isinstance(media, dict):
            continue
        if "example" in media:
            return True, media["example"]
        examples = media.get("examples")
        if isinstance(examples, dict):
            for ex in examples.values():
                if isinstance(ex, dict) and "value" in ex:
                    return True, ex["value"]
        schema = media.get("schema")
        if isinstance(schema, dict) and "example" in schema:
            return True, schema["example"]
    return False, None


class _Builder:
    """A value from a schema: required properties, formats honoured, the request's fields echoed."""

    def __init__(self, request: Any, seed: bytes) -> None:
        self.request = request if isinstance(request, dict) else {}
        self.seed = seed
        self.ids = 0

    def new_id(self) -> str:
        self.ids += 1
        return str(uuid.UUID(bytes=hashlib.sha256(self.seed + self.ids.to_bytes(4, "big")).digest()[:16], version=4))

    def value(self, schema: Any, name: str | None = None, depth: int = 0) -> Any:
        if not isinstance(schema, dict) or depth > _MAX_DEPTH:
            return None
        if name is not None and name in self.request and not isinstance(self.request[name], (dict, list)):
            return self.request[name]
        for key in ("allOf",):
            if isinstance(schema.get(key), list):
                merged: dict[str, Any] = {}
                for part in schema[key]:
                    v = self.value(part, name, depth + 1)
                    if isinstance(v, dict):
                        merged.update(v)
                if merged:
                    return merged
        for key in ("oneOf", "anyOf"):
            if isinstance(schema.get(key), list) and schema[key]:
                return self.value(schema[key][0], name, depth + 1)
        if "example" in schema:
            return schema["example"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return schema["enum"][0]
        if "default" in schema:
            return schema["default"]
        t = schema.get("type")
        t = next((x for x in t if x != "null"), None) if isinstance(t, list) else t
        if t == "object" or (t is None and isinstance(schema.get("properties"), dict)):
            props = p if isinstance(p := schema.get("properties"), dict) else {}
            required = set(schema.get("required") or [])
            out: dict[str, Any] = {}
            for k, sub in props.items():
                if k in required or k in self.request or k == "id":
                    v = self.value(sub, k, depth + 1)
                    if v is not None or k in required:
                        out[k] = v
            return out
        if t == "array":
            item = self.value(schema.get("items"), None, depth + 1)
            return [item] if item is not None else []
        if t == "integer":
            return 0
        if t == "number":
            return 0
        if t == "boolean":
            return False
        fmt = str(schema.get("format") or "")
        if t == "string" or fmt:
            if fmt == "uuid" or (name or "").lower() == "id" or (name or "").endswith("Id"):
                return self.new_id()
            if fmt == "date-time":
                return "1970-01-01T00:00:00Z"
            if fmt == "date":
                return "1970-01-01"
            if fmt == "email":
                return "user@example.invalid"
            if fmt in ("uri", "url"):
                return "https://example.invalid/"
            return ""
        return None


def synthetic_reply(op: Operation | None, method: str, url: str, request_body: bytes | None, call_no: int) -> Reply:
    """The answer a blocked write gets: documented success, or the request echoed."""
    seed = hashlib.sha256(f"{method} {url} {call_no}".encode() + (request_body or b"")).digest()
    headers = {"content-type": "application/json", SYNTHETIC_HEADER: "1", "x-portalspec-blocked": "1"}
    request = loads_or_none(request_body)
    builder = _Builder(request, seed)
    if op is None:
        if method.upper() == "DELETE":
            return Reply(204, b"", headers, "echo")
        body = request if request is not None else {}
        if isinstance(body, dict) and "id" not in body:
            body = {**body, "id": builder.new_id()}
        return Reply(200, json.dumps(body).encode(), headers, "echo")
    status, robj = success_status(op)
    content = (robj or {}).get("content")
    if status == 204 or not content:
        return Reply(status, b"", headers, "schema")
    found, example = _example(content)
    if found:
        return Reply(status, json.dumps(example).encode(), headers, "example")
    schema, _ = media_schema(content, "application/json")
    value = builder.value(schema) if isinstance(schema, dict) else None
    if isinstance(value, dict) and "id" not in value and isinstance(schema, dict) and not schema.get("properties"):
        value["id"] = builder.new_id()
    return Reply(status, json.dumps(value if value is not None else {}).encode(), headers, "schema")
