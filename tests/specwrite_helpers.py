"""Helpers for spec-update tests: an "older" copy of nodoc's specs (paths removed as text, so each
file keeps its own style), traffic for every operation, and the real ``redocly lint``."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import uuid
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from portalspec.matching.templates import join_base
from portalspec.shapes.drift import media_schema, response_for
from portalspec.specs.model import Operation
from portalspec.synth import build_url, server_base, value_for

ROOT = Path(__file__).resolve().parent.parent
REDOCLY = ROOT / ".tools" / "redocly" / "node_modules" / ".bin" / "redocly"
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
    from portalspec.specwrite.locate import Cursor, _pointer_tokens

    node = Cursor(op.source_file, _pointer_tokens(op.source_pointer)).node
    live = node.get("x-nodoc-live-capture") if isinstance(node, dict) else None
    pages = live.get("browsedPages") if isinstance(live, dict) else None
    if isinstance(pages, list) and pages:
        return str(pages[0])
    origin = re.match(r"^https?://[^/]+", base)
    return (origin.group(0) if origin else base) + "/"


def traffic(ops: list[Operation], per_op: int = 3, seed: int = 7) -> list[dict[str, Any]]:
    """HAR entries: ``per_op`` calls to each operation with varied ids, bodies from its schemas."""
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


def redocly(root: Path) -> Counter[tuple[str, str]] | None:
    """``redocly lint`` (nodoc's CI linter, recommended rules) on a spec root: problems by (rule, severity);
    None when it is not installed (the Makefile installs it where npm is)."""
    if not REDOCLY.exists():
        return None
    env = {**os.environ, "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true", "NO_COLOR": "1"}
    r = subprocess.run([str(REDOCLY), "lint", str(root), "--format=json"], capture_output=True, text=True, env=env,
                       timeout=300)
    try:
        doc = json.loads(r.stdout)
    except ValueError:
        pytest.fail(f"redocly lint gave no JSON: {r.stderr[-500:]}")
    return Counter((p["ruleId"], p["severity"]) for p in doc["problems"])


def need_redocly() -> None:
    if not REDOCLY.exists():
        msg = "redocly (npm @redocly/cli) is not installed: `make test` installs it when npm is present"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
