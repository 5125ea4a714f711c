"""Browser-style HAR files generated from the nodoc specs, for benchmarks.

Each call is one operation of the corpus: its server, its path template filled with realistic ids,
required query parameters, a body built from the request schema, a response body from the 2xx
schema, and the headers and cookies a portal session carries (so redaction has real work).
Written streaming: a million calls never sit in memory.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import sys
from pathlib import Path
from typing import Any, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portalspec.shapes.drift import media_schema, response_for  # noqa: E402
from portalspec.specs.index import SpecIndex  # noqa: E402
from portalspec.specs.model import Operation  # noqa: E402
from portalspec.synth import build_url, value_for  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def nodoc_dir() -> Path:
    env = os.environ.get("PORTALSPEC_NODOC_SPECS")
    return Path(env) if env else ROOT.parent / "shared" / "specs" / "nodoc"


def _jwt(rng: random.Random) -> str:
    def b64(d: Any) -> str:
        return base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")

    return f"{b64({'alg': 'RS256'})}.{b64({'aud': 'https://security.microsoft.com', 'scp': 'x', 'tid': 't'})}." + \
        base64.urlsafe_b64encode(rng.randbytes(48)).decode().rstrip("=")


class Prepared:
    """Per-operation bodies computed once; calls vary ids, values and order."""

    def __init__(self, op: Operation) -> None:
        self.op = op
        rb = op.request_body or {}
        schema = media_schema(rb.get("content"), "application/json")[0] if rb else None
        self.request = json.dumps(value_for(schema, mode="request")) if isinstance(schema, dict) and schema else None
        robj, found = response_for(op, 200)
        rs = media_schema((robj or {}).get("content"), "application/json")[0] if found and robj else None
        self.response = json.dumps(value_for(rs)) if isinstance(rs, dict) and rs else "{}"


def entries(ops: list[Operation], n: int, seed: int = 1) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    prepared = [Prepared(op) for op in ops]
    session = base64.b64encode(rng.randbytes(48)).decode()
    token = _jwt(rng)
    for i in range(n):
        p = prepared[i % len(prepared)]
        url = build_url(p.op, rng)
        headers = [
            {"name": "Accept", "value": "application/json"},
            {"name": "Cookie", "value": f"sccauth={session}; XSRF-TOKEN={session[:24]}"},
            {"name": "Authorization", "value": f"Bearer {token}"},
            {"name": "x-ms-client-request-id", "value": "6b4cb242-4a23-4596-a217-beaddbc496cb"},
            {"name": "Referer", "value": url.split("/", 3)[0] + "//" + url.split("/", 3)[2] + "/"},
        ]
        req: dict[str, Any] = {"method": p.op.method, "url": url, "httpVersion": "HTTP/2", "headers": headers,
                               "cookies": [], "queryString": [], "headersSize": -1, "bodySize": 0}
        if p.request is not None and p.op.method in ("POST", "PUT", "PATCH"):
            req["postData"] = {"mimeType": "application/json", "text": p.request}
        yield {
            "startedDateTime": f"2026-11-20T10:{(i // 60) % 60:02d}:{i % 60:02d}.000Z", "time": 12.0,
            "request": req,
            "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/2",
                         "headers": [{"name": "Content-Type", "value": "application/json"}], "cookies": [],
                         "content": {"size": len(p.response), "mimeType": "application/json", "text": p.response},
                         "redirectURL": "", "headersSize": -1, "bodySize": -1},
            "cache": {}, "timings": {"send": 1, "wait": 10, "receive": 1},
        }


def write_har(path: Path, ops: list[Operation], n: int, seed: int = 1) -> int:
    """Write ``n`` calls as one HAR 1.2 file; returns its size in bytes."""
    with open(path, "w", encoding="utf-8") as f:
        f.write('{"log":{"version":"1.2","creator":{"name":"portalspec-bench","version":"1"},"pages":[],"entries":[\n')
        for i, e in enumerate(entries(ops, n, seed)):
            if i:
                f.write(",\n")
            f.write(json.dumps(e, separators=(",", ":")))
        f.write("\n]}}\n")
    return path.stat().st_size


def load_ops(specs: Path | None = None) -> list[Operation]:
    return SpecIndex.load([specs or nodoc_dir()]).operations


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out", type=Path)
    ap.add_argument("-n", type=int, default=10000)
    a = ap.parse_args()
    size = write_har(a.out, load_ops(), a.n)
    print(f"{a.out}: {a.n} calls, {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
