"""``portalspec attach``: a real headless Chromium with a remote-debugging port, the page opened by the
"user" (this test, over its own DevTools connection), its calls recorded and its write answered locally."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from portalspec.fixtures.store import CaptureReader, read_meta
from portalspec.record.cdp import CDPClient, browser_ws_url

from .canary import Canaries
from .portal import Mitmdump, PortalServer, require_isolation, write_local_spec
from .test_record_browser import CHROMIUM, chromium

pytestmark = [pytest.mark.network_ns, pytest.mark.browser]

ROOT = Path(__file__).resolve().parent.parent
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-features=NetworkTimeServiceQuerying"]


class DebuggedChromium:
    """Chromium as a user leaves it running: one tab, remote debugging on a loopback port."""

    def __init__(self, profile: Path, *extra: str) -> None:
        if CHROMIUM is None:
            if os.environ.get("CI"):
                pytest.fail("chromium is not installed (.ci/run installs it)")
            pytest.skip("chromium is not installed (apt-get install chromium)")
        self.profile = profile
        (profile / "DevToolsActivePort").unlink(missing_ok=True)  # a closed browser's, in a reused profile
        self.proc = subprocess.Popen([CHROMIUM, *FLAGS, *extra, f"--user-data-dir={profile}", "--remote-debugging-port=0",
                                      "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = profile / "DevToolsActivePort"
        deadline = time.time() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            if time.time() > deadline or self.proc.poll() is not None:
                raise RuntimeError("chromium did not open its debugging port")
            time.sleep(0.1)
        self.endpoint = f"http://127.0.0.1:{port_file.read_text().split()[0]}"

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class User:
    """What the person at the browser does: opens a page in the tab they have, reads it."""

    def __init__(self, endpoint: str) -> None:
        self.client = CDPClient(browser_ws_url(endpoint))
        page = next(t for t in self.client.send("Target.getTargets")["targetInfos"] if t["type"] == "page")
        self.target = page["targetId"]
        self.session = self.client.send("Target.attachToTarget", {"targetId": self.target, "flatten": True})["sessionId"]

    def open(self, url: str) -> None:
        self.client.send("Page.navigate", {"url": url}, session=self.session)

    def text(self, expr: str) -> Any:
        r = self.client.send("Runtime.evaluate", {"expression": expr, "returnByValue": True}, session=self.session)
        return r.get("result", {}).get("value")

    def wait_text(self, expr: str, prefix: tuple[str, ...], timeout: float = 30) -> str:
        deadline = time.time() + timeout
        while time.time() < deadline:
            v = self.text(expr)
            if isinstance(v, str) and v.startswith(prefix):
                return v
            time.sleep(0.1)
        raise AssertionError(f"page did not finish: {self.text(expr)!r}")

    def pages(self) -> list[str]:
        return [t["targetId"] for t in self.client.send("Target.getTargets")["targetInfos"] if t["type"] == "page"]


def start_attach(endpoint: str, out: Path, *args: str) -> Iterator[subprocess.Popen[str]]:
    argv = [sys.executable, "-m", "portalspec.cli", "attach", "--cdp", endpoint, "--out", str(out), *args]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if "attached" in line:
            break
    else:
        raise AssertionError("attach did not start: " + "".join(seen))
    return proc


def stop_attach(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    return out


def record_with_attach(tmp: Path, portal: PortalServer, spec: Path, page: str, *args: str) -> tuple[Path, str, str, User]:
    browser = DebuggedChromium(tmp / "profile-attach")
    out = tmp / "cap-attach"
    try:
        proc = start_attach(browser.endpoint, out, "--specs", str(spec), *args)
        user = User(browser.endpoint)
        user.open(f"http://127.0.0.1:{portal.port}/{page}")
        dom = user.wait_text("document.getElementById('out').textContent", ("done", "failed"))
        time.sleep(0.5)  # the last call's loadingFinished
        printed = stop_attach(proc)
        assert user.pages() == [user.target]  # the user's tab is still there, nothing else was opened
        assert user.text("document.title")  # and the page still answers
        user.client.close()
    finally:
        browser.close()
    return out, dom, printed, user


def test_attach_records_the_page_and_blocks_its_write(tmp_path: Path) -> None:
    require_isolation()
    c = Canaries()
    secrets = {"token": c.jwt_token, "ajax": c.ajax, "password": c.password, "set_cookie": c.set_cookie}
    spec = write_local_spec(tmp_path, "http")
    with PortalServer(page_secrets=secrets) as portal:
        out, dom, printed, _ = record_with_attach(tmp_path, portal, spec, "page.html")
    assert dom == "done users 200 2; assign 201; me 200"  # the blocked write got a client-safe 201
    assert portal.counts["POST"] == 0  # no write reached the portal
    entries = list(CaptureReader(out))
    calls = sorted((e["request"]["method"], e["request"]["url"].split(str(portal.port), 1)[1]) for e in entries)
    assert calls == sorted([("GET", "/api/users?$top=2"), ("POST", "/api/roleAssignments"), ("GET", "/api/users/me")])
    post = next(e for e in entries if e["request"]["method"] == "POST")
    assert post["_portalspec"]["blocked"] is True and post["_portalspec"]["synthetic"] in ("example", "schema")
    assert json.loads(post["request"]["postData"]["text"])["password"].startswith("<redacted:")
    users = next(e for e in entries if "$top" in e["request"]["url"])
    assert json.loads(users["response"]["content"]["text"])["value"][0]["displayName"] == "User 0"  # body from the browser
    assert any(h["name"].lower() == "authorization" and h["value"].startswith("Bearer <redacted:jwt:")
               for h in users["request"]["headers"])
    assert c.leaks([out]) == []
    (session,) = read_meta(out)["sessions"]
    assert session["source"] == "cdp" and session["stats"]["blocked"] == 1 and session["forwarded_writes"] == []
    assert "3 calls in scope, 3 matched, 0 undocumented, 1 writes blocked" in printed
    assert f"next: portalspec report {out}" in printed


def _shape(entry: dict[str, Any], port: int) -> tuple[Any, ...]:
    """What a fixture says about a call, whichever transport recorded it."""
    req, resp = entry["request"], entry["response"]
    skip = {"host", "connection", "proxy-connection", "content-length", "accept-encoding", "sec-ch-ua", "sec-ch-ua-mobile",
            "sec-ch-ua-platform", "cookie", "pragma", "cache-control", "date", "keep-alive", "transfer-encoding"}
    if entry["_portalspec"].get("blocked"):
        # Chromium adds these when a request goes on the wire; a write answered in the Fetch domain never does.
        skip |= {"accept-language", "sec-fetch-dest", "sec-fetch-mode", "sec-fetch-site"}
    names = lambda hs: tuple(sorted({h["name"].lower() for h in hs} - skip))  # noqa: E731
    return (req["method"], req["url"].split(str(port), 1)[1], resp["status"], sorted(entry),
            sorted(req), sorted(resp), sorted(resp["content"]), names(req["headers"]),
            (req.get("postData") or {}).get("text"), resp["content"].get("text"),
            sorted(k for k in entry["_portalspec"] if k not in ("session", "seq")),
            entry["_portalspec"].get("blocked"), entry["_portalspec"].get("synthetic"))


def test_attach_and_proxy_write_the_same_fixtures(tmp_path: Path) -> None:
    """The same page through the proxy and over CDP: the same calls, keys, bodies and redactions."""
    require_isolation()
    spec = write_local_spec(tmp_path, "http")
    with PortalServer() as portal:
        out_cdp, dom_cdp, _, _ = record_with_attach(tmp_path, portal, spec, "wizard.html")
        out_proxy = tmp_path / "cap-proxy"
        with Mitmdump(tmp_path, out_proxy, f"portalspec_specs={spec}") as mitm:
            dom_proxy = chromium(f"http://127.0.0.1:{portal.port}/wizard.html", mitm.port, tmp_path / "profile-proxy")
            mitm.stop()
    assert dom_cdp == "done options 200; create 201; update 200; status 404"  # the portal knows no made-up id
    assert dom_cdp in dom_proxy
    cdp = sorted(_shape(e, portal.port) for e in CaptureReader(out_cdp))
    proxy = sorted(_shape(e, portal.port) for e in CaptureReader(out_proxy))
    assert len(cdp) == 4
    for a, b in zip(cdp, proxy):
        assert a == b, [(i, x, y) for i, (x, y) in enumerate(zip(a, b)) if x != y]


def test_a_write_is_refused_when_its_answer_cannot_be_made(tmp_path: Path) -> None:
    """If building the client-safe answer fails, the write is failed in the browser, never let through."""
    require_isolation()
    from portalspec.record.attach import Attach
    from portalspec.record.pipeline import Pipeline, Settings

    spec = write_local_spec(tmp_path, "http")
    browser = DebuggedChromium(tmp_path / "profile")
    try:
        with PortalServer() as portal:
            pipeline = Pipeline(Settings(out=str(tmp_path / "cap"), specs=[str(spec)]), source="cdp")

            def broken(*a: Any, **k: Any) -> Any:
                raise RuntimeError("no answer today")

            pipeline.answer = broken  # type: ignore[method-assign]
            attach = Attach(CDPClient(browser_ws_url(browser.endpoint)), pipeline)
            attach.start()
            user = User(browser.endpoint)
            user.open(f"http://127.0.0.1:{portal.port}/page.html")
            dom = user.wait_text("document.getElementById('out').textContent", ("done", "failed"))
            attach.detach()
            pipeline.close()
            user.client.close()
    finally:
        browser.close()
    assert dom.startswith("failed") and portal.counts["POST"] == 0, dom
    assert portal.counts["GET"] >= 2  # the reads went on
