"""Browser-style HAR files generated from the nodoc specs, for benchmarks.

Each call is one operation of the corpus: its server, its path template filled with realistic ids,
required query parameters, a body built from the request schema, a response body from the 2xx
schema, and the headers and cookies a portal session carries (so redaction has real work).
Entries are shaped like Chromium's own HAR export of a portal's fetch calls (HTTP/2 pseudo
headers, client hints, per-call request and correlation ids, response headers, ``_initiator``
stack, timings, ``_priority``/``_resourceType``): about 4.5 KB a call, where Chromium's own
exports of portal sessions run 3 to 8 KB. Written streaming: a million calls never sit in memory.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import sys
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import parse_qsl, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portalspec.shapes.drift import media_schema, response_for  # noqa: E402
from portalspec.specs.index import SpecIndex  # noqa: E402
from portalspec.specs.model import Operation  # noqa: E402
from portalspec.synth import build_url, value_for  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
VERSION = 3  # bumped when entries change shape; benchmark inputs are named after it
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"


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


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _request_headers(url: str, origin: str, method: str, session: str, token: str, session_id: str,
                     rng: random.Random, body: bool, page: str = "/") -> list[dict[str, str]]:
    parts = urlsplit(url)
    h = [
        (":authority", parts.netloc), (":method", method), (":path", parts.path + ("?" + parts.query if parts.query else "")),
        (":scheme", "https"), ("accept", "application/json, text/plain, */*"),
        ("accept-encoding", "gzip, deflate, br, zstd"), ("accept-language", "en-US,en;q=0.9"),
        ("authorization", f"Bearer {token}"),
        ("cookie", f"sccauth={session}; XSRF-TOKEN={session[:24]}; s.SessID={session_id}; MC1=GUID={session_id}&HASH=1a2b"),
    ]
    if body:
        h.append(("content-type", "application/json"))
    h += [
        ("origin", origin), ("priority", "u=1, i"), ("referer", origin + page),
        ("sec-ch-ua", '"Chromium";v="131", "Not_A Brand";v="24"'), ("sec-ch-ua-mobile", "?0"),
        ("sec-ch-ua-platform", '"Linux"'), ("sec-fetch-dest", "empty"), ("sec-fetch-mode", "cors"),
        ("sec-fetch-site", "same-origin"), ("user-agent", UA),
        ("x-clientpage", "incidents@wicd-ux"), ("x-ms-client-request-id", _uuid(rng)),
        ("x-ms-client-session-id", session_id), ("x-xsrf-token", session[:24]),
    ]
    return [{"name": k, "value": v} for k, v in h]


def _response_headers(i: int, size: int, rng: random.Random) -> list[dict[str, str]]:
    h = [
        ("cache-control", "no-cache, no-store"), ("content-encoding", "gzip"),
        ("content-type", "application/json; charset=utf-8"),
        ("date", f"Fri, 20 Nov 2026 10:{(i // 60) % 60:02d}:{i % 60:02d} GMT"), ("expires", "-1"), ("pragma", "no-cache"),
        ("request-context", "appId=cid-v1:4f2a1c3e-8b7d-4e6f-9a0b-1c2d3e4f5a6b"),
        ("strict-transport-security", "max-age=31536000; includeSubDomains"), ("vary", "Accept-Encoding"),
        ("x-content-type-options", "nosniff"), ("x-frame-options", "DENY"),
        ("x-ms-correlation-id", _uuid(rng)), ("x-ms-request-id", _uuid(rng)), ("content-length", str(size)),
    ]
    return [{"name": k, "value": v} for k, v in h]


def _initiator(origin: str) -> dict[str, Any]:
    script = f"{origin}/static/js/main.4f2a1c9b.chunk.js"
    frames = [{"functionName": name, "scriptId": "42", "url": script, "lineNumber": 1, "columnNumber": col}
              for name, col in (("fetchJson", 183442), ("request", 182977), ("", 90411), ("dispatch", 12087))]
    return {"type": "script", "stack": {"callFrames": frames}}


def _signed(url: str, rng: random.Random) -> str:
    """A blob-download style signed URL (``sv``, ``se``, ``sp`` and a ``sig`` of its own)."""
    sig = base64.b64encode(rng.randbytes(32)).decode().replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
    return url + ("&" if "?" in url else "?") + f"sv=2024-08-04&se=2026-11-20T11%3A00%3A00Z&sr=b&sp=r&sig={sig}"


WRITES = ("POST", "PUT", "PATCH", "DELETE")


def _long_list(rng: random.Random, items: int = 800) -> tuple[str, str]:
    """A portal's long list answer (about 170 KB for 800 items), and one of its ids, far down."""
    value = [{"id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "displayName": f"Item {i}",
              "description": "Lets its holder manage " + "settings " * 6, "enabled": bool(i % 2),
              "createdDateTime": "2026-11-20T10:00:00Z"} for i in range(items)]
    return json.dumps({"value": value}, separators=(",", ":")), value[rng.randrange(items // 2, items)]["id"]


def entries(ops: list[Operation], n: int, seed: int = 1, distinct: bool = False,
            writes: float | None = None, long_lists: int = 0) -> Iterator[dict[str, Any]]:
    """``distinct``: every call has its own token, cookie and anti-forgery value (rotating tokens,
    several people's sessions), and a third of the calls a signed URL with its own ``sig``.
    ``writes``: the share of calls that are writes (POST/PUT/PATCH/DELETE), the others GETs, each
    kind taken in turn from the corpus; by default every operation in turn (a third are writes).
    ``long_lists``: every so many GETs answer a long list (``_long_list``), and the next write on its
    page with a JSON object body sends one of the list's ids (``pickedId``), as a picker does."""
    rng = random.Random(seed)
    lists = random.Random(seed + 2)
    picked: dict[str, str] = {}  # page (its Referer) -> an id its last long list gave
    gets = 0
    prepared = [Prepared(op) for op in ops]
    if writes is not None:
        by_kind = ([p for p in prepared if p.op.method not in WRITES], [p for p in prepared if p.op.method in WRITES])
        turn = [0, 0]
        pick = random.Random(seed + 1)
    session = base64.b64encode(rng.randbytes(48)).decode()
    token = _jwt(rng)
    session_id = _uuid(rng)
    clock = datetime(2026, 11, 20, 10, 0, 0, tzinfo=timezone.utc)
    for i in range(n):
        if writes is None:
            p = prepared[i % len(prepared)]
        else:
            kind = int(pick.random() < writes)
            p = by_kind[kind][turn[kind] % len(by_kind[kind])]
            turn[kind] += 1
        url = build_url(p.op, rng)
        # A person's pace: a call every 0.2-3 s, now and then a pause that ends a write flow; the page is
        # the portal area the operation belongs to.
        clock += timedelta(seconds=rng.uniform(0.2, 3.0) if rng.random() > 0.02 else rng.uniform(61, 300))
        page = "/" + next((s for s in p.op.path.split("/") if s and "{" not in s), "")
        if distinct:
            session = base64.b64encode(rng.randbytes(48)).decode()
            token = _jwt(rng)
            if i % 3 == 0:
                url = _signed(url, rng)
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        has_body = p.request is not None and p.op.method in ("POST", "PUT", "PATCH")
        request_body, response_body = p.request, p.response
        if long_lists and p.op.method == "GET":
            gets += 1
            if gets % long_lists == 0:
                response_body, picked[origin + page] = _long_list(lists)
        elif long_lists and has_body and origin + page in picked and (request_body or "").startswith("{"):
            sent = json.loads(request_body or "{}")
            if isinstance(sent, dict):
                request_body = json.dumps({**sent, "pickedId": picked.pop(origin + page)})
        req: dict[str, Any] = {
            "method": p.op.method, "url": url, "httpVersion": "http/2.0",
            "headers": _request_headers(url, origin, p.op.method, session, token, session_id, rng, has_body, page),
            "queryString": [{"name": k, "value": v} for k, v in parse_qsl(parts.query)],
            "cookies": [{"name": "sccauth", "value": session, "path": "/", "domain": parts.hostname, "expires": "1969-12-31T23:59:59.000Z",
                         "httpOnly": True, "secure": True}],
            "headersSize": -1, "bodySize": len(request_body) if has_body and request_body else 0,
        }
        if has_body:
            req["postData"] = {"mimeType": "application/json", "text": request_body}
        wait = round(rng.uniform(20, 400), 3)
        yield {
            "_connectionId": str(1000 + i % 7), "_initiator": _initiator(origin), "_priority": "High", "_resourceType": "fetch",
            "cache": {}, "connection": "443", "pageref": "page_1",
            "request": req,
            "response": {"status": 200, "statusText": "", "httpVersion": "http/2.0",
                         "headers": _response_headers(i, len(response_body), rng), "cookies": [],
                         "content": {"size": len(response_body), "mimeType": "application/json", "compression": 0,
                                     "text": response_body},
                         "redirectURL": "", "headersSize": -1, "bodySize": -1, "_transferSize": len(response_body) + 412,
                         "_error": None, "_fetchedViaServiceWorker": False},
            "serverIPAddress": "20.190.151.7",
            "startedDateTime": clock.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "time": round(wait + 3.1, 3),
            "timings": {"blocked": 1.204, "dns": -1, "ssl": -1, "connect": -1, "send": 0.181, "wait": wait,
                        "receive": 1.713, "_blocked_queueing": 0.925, "_workerStart": -1, "_workerReady": -1,
                        "_workerFetchStart": -1, "_workerRespondWithSettled": -1},
        }


def write_har(path: Path, ops: list[Operation], n: int, seed: int = 1, distinct: bool = False,
              writes: float | None = None, long_lists: int = 0) -> int:
    """Write ``n`` calls as one HAR 1.2 file; returns its size in bytes."""
    with open(path, "w", encoding="utf-8") as f:
        f.write('{"log":{"version":"1.2","creator":{"name":"portalspec-bench","version":"1"},"pages":[],"entries":[\n')
        for i, e in enumerate(entries(ops, n, seed, distinct, writes, long_lists)):
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
    ap.add_argument("--distinct", action="store_true", help="every call with its own secrets")
    ap.add_argument("--writes", type=float, help="share of calls that are writes (default: every operation in turn)")
    a = ap.parse_args()
    size = write_har(a.out, load_ops(), a.n, distinct=a.distinct, writes=a.writes)
    print(f"{a.out}: {a.n} calls, {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
