"""Synthetic calls built from a spec: the request a browser would send for an operation.

Used by the round-trip tests and by the benchmark generator; never sent anywhere.
"""

from __future__ import annotations

import random
import re
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .specs.model import Operation, Server

_VAR = re.compile(r"\{([^}]+)\}")


def _schema(p: dict[str, Any]) -> dict[str, Any]:
    s = p.get("schema")
    return s if isinstance(s, dict) else {}


def param_value(p: dict[str, Any], rng: random.Random) -> str:
    """An example or a typed value for a parameter, safe to place in a path segment."""
    s = _schema(p)
    for src in (p.get("example"), s.get("example"), s.get("default")):
        if isinstance(src, (str, int, float)) and not isinstance(src, bool) and str(src) and "/" not in str(src):
            return str(src)
    if isinstance(s.get("enum"), list) and s["enum"]:
        return str(s["enum"][0])
    t, fmt = s.get("type"), s.get("format")
    if t in ("integer", "number"):
        return str(rng.randint(1, 99999))
    if t == "boolean":
        return "true"
    if fmt == "uuid" or re.search(r"(?i)(id|guid)$", str(p.get("name", ""))):
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))
    if fmt == "date-time":
        return "2026-01-02T03:04:05Z"
    return f"v{rng.randint(100, 999)}x"


def server_base(server: Server, rng: random.Random) -> str:
    if server.host_regex is None:
        return f"https://portal.example{server.base_path}"
    m = re.match(r"^(?:(\w+):)?//([^/]*)", server.url)
    host = m.group(2) if m else server.url.split("/")[0]
    dotted = {k: v for k, v in server.defaults if "." in v}  # a live value spanning host labels, as seen

    def fill(v: re.Match[str]) -> str:
        if v.group(1) in dotted:
            return dotted[v.group(1)]
        return "contoso" if "tenant" in v.group(1).lower() else f"h{rng.randint(10, 99)}"

    host = _VAR.sub(fill, host)
    return f"{(m.group(1) if m and m.group(1) else 'https')}://{host}{server.base_path}"


def build_url(op: Operation, rng: random.Random | None = None, server: Server | None = None) -> str:
    """A URL that a call to ``op`` would have: server, filled path template, required query."""
    from .matching.templates import join_base

    rng = rng or random.Random(0)
    server = server or (op.servers[0] if op.servers else Server("", None, "", None))
    params = {p.get("name"): p for p in op.parameters if p.get("in") == "path"}

    def fill(m: re.Match[str]) -> str:
        p = params.get(m.group(1)) or {"name": m.group(1)}
        return quote(param_value(p, rng), safe="'(),=:@")

    path = _VAR.sub(fill, op.path)
    base = server_base(server, rng)
    full = join_base(server.base_path, path)
    url = base[: len(base) - len(server.base_path)] + full if server.base_path else base + full
    query = [
        f"{quote(str(p['name']))}={quote(param_value(p, rng))}"
        for p in op.parameters
        if p.get("in") == "query" and p.get("required") and isinstance(p.get("name"), str)
    ]
    return url + ("?" + "&".join(query) if query else "")


_FORMAT_VALUES = {
    "uuid": "3f2504e0-4f89-41d3-9a0c-0305e82c3301", "date-time": "2026-01-02T03:04:05Z", "date": "2026-01-02",
    "email": "adele@contoso.example", "uri": "https://contoso.example/x", "ipv4": "203.0.113.7",
}


def value_for(schema: Any, rng: random.Random | None = None, depth: int = 0, mode: str = "response") -> Any:
    """A JSON value that fits a resolved schema (all properties present, first enum value, typed formats)."""
    from .shapes.drift import DriftChecker

    rng = rng or random.Random(0)
    if not isinstance(schema, dict) or not schema or depth > 8:
        return {} if depth > 8 and isinstance(schema, dict) and schema.get("type") == "object" else (None if depth > 8 else "x")
    alts = schema.get("oneOf") or schema.get("anyOf")
    if isinstance(alts, list) and alts and isinstance(alts[0], dict):
        base = {k: v for k, v in schema.items() if k not in ("oneOf", "anyOf", "discriminator")}
        return value_for({**base, **alts[0]}, rng, depth + 1, mode)
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    m = DriftChecker().merged(schema)
    types = sorted(m.types)
    t = types[0] if types else ("object" if m.properties else None)
    if t is None:
        return "value"
    if t == "object":
        out: dict[str, Any] = {}
        for k, sub in m.properties.items():
            if isinstance(sub, dict) and ((mode == "request" and sub.get("readOnly")) or (mode == "response" and sub.get("writeOnly"))):
                continue
            if depth >= 6 and k not in m.required:
                continue
            out[k] = value_for(sub, rng, depth + 1, mode)
        return out
    if t == "array":
        items = schema.get("items")
        return [value_for(items, rng, depth + 1, mode)] if isinstance(items, dict) and items else []
    if t == "integer":
        lo = schema.get("minimum", 1)
        return int(lo) if isinstance(lo, (int, float)) else 1
    if t == "number":
        return 1.5
    if t == "boolean":
        return True
    fmt = schema.get("format")
    if isinstance(fmt, str) and fmt in _FORMAT_VALUES:
        return _FORMAT_VALUES[fmt]
    return "text"


def drop_paths(root: Path, every: int) -> list[str]:
    """Remove every ``every``-th path (sorted) from a spec root document, in place: the
    "undocumented" case of the tests and benchmarks. Returns the removed path templates."""
    import yaml

    doc = yaml.safe_load(root.read_text())
    removed = sorted(doc["paths"])[::every]
    for p in removed:
        del doc["paths"][p]
    root.write_text(yaml.safe_dump(doc, sort_keys=False))
    return removed
