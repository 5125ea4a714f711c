"""Record through a real mitmdump in front of a real local portal, over HTTP and HTTPS (loopback only)."""

from __future__ import annotations

import json
import os
import signal
import threading
from pathlib import Path
from urllib.parse import quote

import pytest

from portalspec.fixtures.store import CaptureReader

from .canary import Canaries
from .portal import Mitmdump, PortalServer, make_tls, require_isolation, send, write_local_spec

pytestmark = pytest.mark.network_ns


@pytest.fixture(autouse=True)
def _isolated() -> None:
    require_isolation()


def _canary_calls(c: Canaries, base: str) -> list[tuple[str, str, dict[str, str], object]]:
    auth = {"Authorization": f"Bearer {c.jwt_token}",
            "Cookie": f"sccauth={c.sccauth}; AjaxSessionKey={c.ajax_cookie}; FedAuth={c.fedauth}; XSRF-TOKEN={c.xsrf}",
            "AjaxSessionKey": c.ajax, "x-portal-routekey": c.routekey, "X-RequestDigest": c.digest,
            "Accept-Encoding": "gzip"}
    return [
        ("GET", f"{base}/api/users?$top=2&access_token={quote(c.query_token, safe='')}", auth, None),
        ("GET", f"{base}/api/users/me", {**auth, "x-xsrf-token": c.xsrf_header}, None),
        ("POST", f"{base}/api/reports/query", {**auth, "Content-Type": "application/json"},
         {"reportType": "signIns", "nested": {"client_secret": c.client_secret}, "note": c.jwt_token}),
        ("PATCH", f"{base}/api/users/00000000-0000-4000-8000-000000000001", {**auth, "Content-Type": "application/json"},
         {"department": "Finance", "password": c.password}),
    ]


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_every_call_recorded_redacted_and_passed_through_unchanged(tmp_path: Path, scheme: str) -> None:
    c = Canaries()
    tls = make_tls(tmp_path) if scheme == "https" else None
    spec = write_local_spec(tmp_path, scheme)
    out = tmp_path / "cap"
    with PortalServer(tls=(tls[1], tls[2]) if tls else None, page_secrets={"set_cookie": c.set_cookie}) as portal, \
            PortalServer() as other, \
            Mitmdump(tmp_path, out, f"portalspec_specs={spec}", "portalspec_block_writes=false",
                     upstream_ca=tls[0] if tls else None) as mitm:
        opener = mitm.opener()
        base = f"{scheme}://127.0.0.1:{portal.port}"
        calls = _canary_calls(c, base)
        for method, url, headers, body in calls:
            status, _ = send(opener, method, url, headers, body)
            assert status in (200, 201), (method, url, status)
        # Not a portal host (not in the spec's servers): passed through, not recorded.
        assert send(opener, "GET", f"http://localhost:{other.port}/api/users")[0] == 200
        mitm.stop()
    # The upstream saw exactly what the client sent: nothing replayed, nothing added, nothing altered.
    assert [(r["method"], r["path"]) for r in portal.requests] == [
        (m, u.split(str(portal.port), 1)[1]) for m, u, _, _ in calls]
    for (m, u, headers, body), seen in zip(calls, portal.requests):
        assert seen["headers"]["Authorization"] == headers["Authorization"]
        assert seen["headers"]["Cookie"] == headers["Cookie"]
        if body is not None:
            assert json.loads(seen["body"]) == body
    entries = list(CaptureReader(out))
    assert [e["request"]["method"] for e in entries] == [m for m, *_ in calls]
    assert all(e["request"]["url"].startswith(f"{scheme}://127.0.0.1:{portal.port}/api/") for e in entries)
    # gzip was undone before redaction and storage.
    users = json.loads(entries[0]["response"]["content"]["text"])
    assert len(users["value"]) == 2 and entries[0]["response"]["content"]["_encoding"] == "gzip"
    assert entries[0]["_portalspec"]["redaction"]["tokens"][0]["aud"] == "https://canary.portal.test"
    meta = json.loads((out / "capture.json").read_text())
    forwarded = [m for m, *_ in calls if m in ("POST", "PUT", "PATCH", "DELETE")]
    assert forwarded and [w.split(" ", 1)[0] for w in meta["sessions"][-1]["forwarded_writes"]] == forwarded
    assert meta["sessions"][-1]["kind"] == "record" and meta["sessions"][-1]["entries"] == len(calls)
    assert meta["sessions"][-1]["mitmproxy"]
    assert c.leaks([out]) == []


@pytest.mark.parametrize("reply", ["spec", "409"])
def test_block_writes_never_reach_the_upstream(tmp_path: Path, reply: str) -> None:
    c = Canaries()
    spec = write_local_spec(tmp_path, "http")
    out = tmp_path / "cap"
    with PortalServer() as portal, Mitmdump(tmp_path, out, f"portalspec_specs={spec}", "portalspec_block_writes=true",
                                            "portalspec_allow_write=POST /api/reports/*",
                                            f"portalspec_write_reply={reply}") as mitm:
        opener = mitm.opener()
        base = f"http://127.0.0.1:{portal.port}/api"
        hdr = {"Content-Type": "application/json", "Cookie": f"sccauth={c.sccauth}"}
        results = {
            "POST": send(opener, "POST", f"{base}/roleAssignments", hdr, {"principalId": "p1", "password": c.password}),
            "PUT": send(opener, "PUT", f"{base}/users/u1", hdr, {"displayName": "x"}),
            "PATCH": send(opener, "PATCH", f"{base}/users/u1", hdr, {"client_secret": c.client_secret}),
            "DELETE": send(opener, "DELETE", f"{base}/roleAssignments('ra-1')", hdr),
        }
        allowed = send(opener, "POST", f"{base}/reports/query", hdr, {"reportType": "signIns"})
        read = send(opener, "GET", f"{base}/users", hdr)
        mitm.stop()
    assert portal.counts["PUT"] == portal.counts["PATCH"] == portal.counts["DELETE"] == 0
    assert portal.counts["POST"] == 1 and portal.requests[0]["path"] == "/api/reports/query"
    assert allowed[0] == 200 and read[0] == 200
    if reply == "409":
        for method, (status, body) in results.items():
            assert status == 409, method
            assert json.loads(body)["error"]["code"] == "portalspec_blocked_write"
    else:  # the operation's documented success, or the request echoed: the page goes on
        assert results["POST"][0] == 201 and results["DELETE"] == (204, b"")
        created = json.loads(results["POST"][1])
        assert created["principalId"] == "p1" and created["id"] and created["id"] != "p1"
        put = json.loads(results["PUT"][1])
        assert results["PUT"][0] == 200 and put["displayName"] == "x"
        assert results["PATCH"][0] in (200, 204)
    entries = list(CaptureReader(out))
    blocked = [e for e in entries if e["_portalspec"].get("blocked")]
    assert sorted(e["request"]["method"] for e in blocked) == ["DELETE", "PATCH", "POST", "PUT"]
    post = next(e for e in blocked if e["request"]["method"] == "POST")
    payload = json.loads(post["request"]["postData"]["text"])
    assert payload["principalId"] == "p1" and payload["password"].startswith("<redacted:")
    assert post["response"]["status"] == (409 if reply == "409" else 201)
    if reply == "spec":
        kinds = {e["request"]["method"]: e["_portalspec"].get("synthetic") for e in blocked}
        assert kinds["POST"] == "schema" and kinds["PUT"] in ("schema", "example", "echo") and kinds["DELETE"] == "schema"
        assert all(any(h["name"].lower() == "x-portalspec-synthetic" for h in e["response"]["headers"]) for e in blocked)
    else:
        assert not any(e["_portalspec"].get("synthetic") for e in entries)
    assert not any(e["_portalspec"].get("blocked") for e in entries if e["request"]["url"].endswith("/reports/query"))
    assert c.leaks([out]) == []


def test_kill_during_a_burst_loses_at_most_the_call_in_flight(tmp_path: Path) -> None:
    spec = write_local_spec(tmp_path, "http")
    out = tmp_path / "cap"
    answered: list[int] = []
    with PortalServer() as portal, Mitmdump(tmp_path, out, f"portalspec_specs={spec}") as mitm:
        opener = mitm.opener()
        stop = threading.Event()

        def burst() -> None:
            for i in range(400):
                if stop.is_set():
                    return
                try:
                    status, _ = send(opener, "GET", f"http://127.0.0.1:{portal.port}/api/users/u{i}")
                except OSError:
                    return
                if status == 404:
                    answered.append(i)

        t = threading.Thread(target=burst)
        t.start()
        while len(answered) < 40 and t.is_alive():
            threading.Event().wait(0.01)
        assert mitm.proc is not None
        os.kill(mitm.proc.pid, signal.SIGKILL)
        mitm.proc.wait()
        stop.set()
        t.join(30)
    warnings: list[str] = []
    got = [int(e["request"]["url"].rsplit("/u", 1)[1]) for e in CaptureReader(out, warn=warnings.append)]
    assert len(answered) >= 40
    assert got == list(range(len(got)))  # in order, none duplicated, none half-written
    assert set(answered) <= set(got)  # every call answered before the kill is there
    assert len(got) <= len(answered) + 1


def test_server_sent_events_are_noted(tmp_path: Path) -> None:
    c = Canaries()
    spec = write_local_spec(tmp_path, "http")
    with PortalServer(page_secrets={"sse": c.sse_token}) as portal, Mitmdump(tmp_path, tmp_path / "cap", f"portalspec_specs={spec}") as mitm:
        status, body = send(mitm.opener(), "GET", f"http://127.0.0.1:{portal.port}/api/events", {"Accept": "text/event-stream"})
        mitm.stop()
    assert status == 200 and body.count(b"data:") == 3 and c.sse_token.encode() in body  # passed through unchanged
    (entry,) = list(CaptureReader(tmp_path / "cap"))
    assert entry["_portalspec"]["sse_events"] == 3
    assert c.leaks([tmp_path / "cap"]) == []
