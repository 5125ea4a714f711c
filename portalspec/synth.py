"""Synthetic calls built from a spec: the request a browser would send for an operation.

Used by the round-trip tests and by the benchmark generator; never sent anywhere.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import uuid
from collections import Counter
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


# -- an older copy of a spec tree, and traffic for its operations (tests and benchmarks) ----------
_KEY = re.compile(r"""^(\s*)(['"]?)(/[^'"]*)\2:\s*$""")


def remove_path(text: str, path: str) -> str:
    """``text`` without the path item ``path`` (its key line and its block), other lines untouched."""
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        m = _KEY.match(line.rstrip("\n"))
        if m and m.group(3) == path:
            indent = len(m.group(1))
            j = i + 1
            while j < len(lines):
                s = lines[j]
                if s.strip() and not s.lstrip().startswith("#") and len(s) - len(s.lstrip(" ")) <= indent:
                    break
                j += 1
            while j > i + 1 and not lines[j - 1].strip():
                j -= 1  # keep the blank lines that separate groups
            return "".join(lines[:i] + lines[j:])
    return text


def older_specs(src: Path, dst: Path, every: int) -> dict[str, list[str]]:
    """Copy ``src`` (nodoc's specs) to ``dst`` and remove every ``every``-th path item of each spec, in
    the root and in the sibling file that holds it. Returns the removed paths per spec folder."""
    shutil.copytree(src, dst)
    removed: dict[str, list[str]] = {}
    for root in sorted(dst.glob("nodoc-*/specification/openapi.yml")):
        import yaml

        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        doc = yaml.load(root.read_text(), Loader=loader)
        paths = list((doc.get("paths") or {}).items())
        docs: dict[str, Any] = {}

        def servers(key: str, item: Any) -> tuple[str, ...]:
            if isinstance(item, dict) and set(item) == {"$ref"}:
                file, _, ptr = item["$ref"].partition("#")
                if file not in docs:
                    docs[file] = yaml.load((root.parent / file).read_text(), Loader=loader) if file else doc
                item = (docs[file].get("paths") or {}).get(key) or {}
            return tuple(sorted(str(s.get("url")) for s in item.get("servers") or [] if isinstance(s, dict)))

        hosts = Counter(servers(k, v) for k, v in paths)
        gone = []
        for key, item in paths[every // 2::every]:
            if servers(key, item) and hosts[servers(key, item)] == 1:
                continue  # the only path on its host: removing it would make a new portal family, not an older spec
            if isinstance(item, dict) and set(item) == {"$ref"}:
                sibling = root.parent / item["$ref"].split("#", 1)[0]
                sibling.write_text(remove_path(sibling.read_text(), key))
            root.write_text(remove_path(root.read_text(), key))
            gone.append(key)
        removed[root.parent.parent.name] = gone
    return removed


def _fill(op: Operation, rng: random.Random) -> str:
    def value(m: re.Match[str]) -> str:
        return quote(str(uuid.UUID(int=rng.getrandbits(128), version=4)), safe="")

    return re.sub(r"\{([^}]+)\}", value, op.path)


def _page(op: Operation, base: str) -> str:
    """The page a person would have been on: the spec's own browsed page for the operation, if it has one."""
    from .specwrite.locate import Cursor, _pointer_tokens

    node = Cursor(op.source_file, _pointer_tokens(op.source_pointer)).node
    live = node.get("x-nodoc-live-capture") if isinstance(node, dict) else None
    pages = live.get("browsedPages") if isinstance(live, dict) else None
    if isinstance(pages, list) and pages:
        return str(pages[0])
    origin = re.match(r"^https?://[^/]+", base)
    return (origin.group(0) if origin else base) + "/"


def traffic(ops: list[Operation], per_op: int = 3, seed: int = 7) -> list[dict[str, Any]]:
    """HAR entries: ``per_op`` calls to each operation with varied ids, bodies from its schemas."""
    from .matching.templates import join_base
    from .shapes.drift import media_schema, response_for

    rng = random.Random(seed)
    out = []
    t = 0
    for op in ops:
        base = server_base(op.servers[0], rng) if op.servers else "https://portal.example"
        origin = re.match(r"^[a-z]+://[^/]+", base).group(0)  # type: ignore[union-attr]
        base_path = base[len(origin):]
        robj, found = response_for(op, 200)
        rs = media_schema((robj or {}).get("content"), "application/json")[0] if found and robj else None
        rb = (op.request_body or {}).get("content")
        qs = media_schema(rb, "application/json")[0] if rb else None
        for _ in range(per_op):
            t += 1
            query = build_url(op, rng).partition("?")[2]  # the required query parameters, as the portal sends them
            url = origin + join_base(base_path, _fill(op, rng)) + (f"?{query}" if query else "")
            req: dict[str, Any] = {"method": op.method, "url": url, "httpVersion": "HTTP/2",
                                   "headers": [{"name": "Referer", "value": _page(op, base)}], "cookies": [],
                                   "queryString": [], "headersSize": -1, "bodySize": -1}
            if op.method in ("POST", "PUT", "PATCH"):
                req["postData"] = {"mimeType": "application/json",
                                   "text": json.dumps(value_for(qs, mode="request") if isinstance(qs, dict) else {})}
            body = json.dumps(value_for(rs)) if isinstance(rs, dict) and rs else "{}"
            out.append({"startedDateTime": f"2026-11-20T10:{(t // 60) % 60:02d}:{t % 60:02d}Z", "time": 1, "request": req,
                        "response": {"status": 200, "statusText": "", "httpVersion": "HTTP/2", "headers": [], "cookies": [],
                                     "content": {"size": len(body), "mimeType": "application/json", "text": body},
                                     "redirectURL": "", "headersSize": -1, "bodySize": -1},
                        "cache": {}, "timings": {}})
    return out


def plant_drift(entries: list[dict[str, Any]], rng: random.Random) -> None:
    """Answers that differ from the spec: an undocumented property on some, a changed type on others."""
    for i, e in enumerate(entries):
        content = e["response"]["content"]
        try:
            body = json.loads(content["text"])
        except ValueError:
            continue
        if not isinstance(body, dict):
            continue
        if i % 5 == 0:
            body["portalspecUnexpected"] = rng.choice(["x", 1, True])
        if i % 7 == 0:
            key = next((k for k, v in body.items() if isinstance(v, str)), None)
            if key:
                body[key] = 12345
        content["text"] = json.dumps(body)
        content["size"] = len(content["text"])


def unserved_calls(n: int) -> list[dict[str, Any]]:
    """Calls to a host no spec serves."""
    out = []
    for i in range(n):
        body = json.dumps({"id": f"00000000-0000-4000-8000-{i:012d}", "name": f"thing {i}"})
        out.append({"startedDateTime": f"2026-11-20T11:{i % 60:02d}:00Z", "time": 1, "cache": {}, "timings": {},
                    "request": {"method": "GET" if i % 4 else "POST",
                                "url": f"https://api.unserved.example/v1/things/00000000-0000-4000-8000-{i:012d}",
                                "httpVersion": "HTTP/2", "headers": [], "cookies": [], "queryString": [],
                                "headersSize": -1, "bodySize": -1},
                    "response": {"status": 200, "statusText": "", "httpVersion": "HTTP/2", "headers": [], "cookies": [],
                                 "content": {"size": len(body), "mimeType": "application/json", "text": body},
                                 "redirectURL": "", "headersSize": -1, "bodySize": -1}})
    return out
