"""Routes in the portal's own JavaScript: found in the bundle the browser loaded (through ``record`` or in a
HAR saved with content), matched to the specs and the calls, never stored as the bundle's text."""

from __future__ import annotations

import json
import random
import string
from pathlib import Path
from typing import Any

import pytest

from portalspec.cli import main as cli_main
from portalspec.coderoutes.extract import Extractor
from portalspec.fixtures.store import CaptureReader

from .portal import Mitmdump, PortalServer, require_isolation, write_local_spec
from .test_record_attach import DebuggedChromium, User
from .test_record_browser import chromium

MARKER = "zqxFillerMarker"  # in the bundle's filler: must never reach a capture or a report

ROUTES = [
    'n.get("/api/users/me").then(function(r){return r})',           # called by the page, documented
    'var a=o.get("/api/settings/security",{headers:h})',              # documented, never called
    'fetch(`/api/users/${userId}/memberOf`,{headers:h})',             # a template literal, undocumented
    'r({url:"/api/groups",method:"POST",data:e,headers:h})',          # a POST in an options object
]
NOISE = [
    'var help="https://learn.microsoft.com/en-us/defender/help";',    # a help link
    'var logo="/static/img/logo.svg",font="/fonts/segoe-ui.woff2";',  # assets
    't("common.save.button");t("alerts.list.title");',               # i18n keys
    'var d="M12 2L2 7l10 5 10-5-10-5z";',                              # SVG path data
    'var m="application/json",x="text/css";',                         # MIME types
    'var c=".ms-Button{color:#fff;margin:0 4px}";',                   # CSS
    'router.navigate("/home/dashboard");',                            # a page route, not an API
]


WORDS = ("users", "groups", "alerts", "incidents", "settings", "roles", "policies", "devices", "reports", "audit",
         "tenants", "licenses", "apps", "sites", "labels", "cases", "hunting", "machines", "files", "exports")


def minified_bundle(size: int, seed: int = 3, realistic: bool = False) -> bytes:
    """About ``size`` bytes of minified-looking JavaScript with the routes and the noise inside.
    ``realistic``: also the path-like strings real bundles are full of (page routes, chunk and asset
    paths, CDN and help URLs, and API routes with their methods), about one every 100 bytes."""
    rng = random.Random(seed)
    word = lambda: rng.choice(WORDS)  # noqa: E731
    ident = lambda: "_" + rng.choice(string.ascii_letters) + "".join(rng.choices(string.ascii_letters + string.digits, k=rng.randint(0, 3)))  # noqa: E731
    parts = ["!function(){\"use strict\";var h={Accept:\"application/json\"};function unused(){"]
    pieces = ROUTES + NOISE
    total = 0
    i = 0
    while total < size:
        kind = rng.random()
        if realistic and kind < 0.35:
            k = rng.random()
            if k < 0.35:
                s = f'{ident()}.push("/{word()}/{word()}");'
            elif k < 0.6:
                s = f'var {ident()}="/static/js/{ident()}.{rng.getrandbits(32):08x}.chunk.js";'
            elif k < 0.75:
                s = f'var {ident()}="https://{rng.choice(["cdn.portal.example", "learn.microsoft.com", "aka.ms"])}/{word()}/{ident()}";'
            elif k < 0.9:
                s = f'{ident()}.{rng.choice(["get", "post", "delete"])}("/api/{word()}/"+{ident()}+"/{word()}");'
            else:
                s = f'{ident()}({{url:`/apiproxy/{word()}/${{{ident()}}}/{word()}`,method:"{rng.choice(["PUT", "PATCH"])}"}});'
        elif kind < 0.5:
            s = f"var {ident()}={ident()}.{ident()}({rng.randint(0, 9999)},{ident()});"
        elif kind < 0.8:
            s = f"{ident()}.prototype.{ident()}=function({ident()}){{return \"{MARKER}{i}\"+{ident()}}};"
        else:
            s = f"if({ident()}>{rng.randint(0, 99)}){{{ident()}[{rng.randint(0, 9)}]=\"{ident()} {ident()}\"}}"
        if i % 2000 == 1000 and pieces:
            s += pieces.pop(0) + ";"
        parts.append(s)
        total += len(s)
        i += 1
    parts += [p + ";" for p in pieces]
    # What the page runs (the rest is in a function never called): the called route, for real.
    parts.append('}fetch("/api/users/me",{headers:h}).then(function(r){document.getElementById("out").textContent='
                 '"done "+r.status});}();')
    return "".join(parts).encode()


class BundlePortal(PortalServer):
    def __init__(self, bundle: bytes, **kw: Any) -> None:
        super().__init__(**kw)
        self.bundle = bundle

    def route(self, method: str, path: str, body: bytes) -> tuple[int, bytes, str, dict[str, str]]:
        if path == "/app.html":
            return 200, (b'<!doctype html><html><head><title>app</title></head><body><pre id="out">pending</pre>'
                         b'<script src="/static/app.min.js"></script></body></html>'), "text/html", {}
        if path == "/static/app.min.js":
            return 200, self.bundle, "application/javascript; charset=utf-8", {}
        return super().route(method, path, body)


def _rows(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["template"]: r for r in report["code_routes"]}


def _check_routes(report: dict[str, Any]) -> None:
    rows = _rows(report)
    me, sec = rows["/api/users/me"], rows["/api/settings/security"]
    assert (me["documented"], me["called"], me["method"]) == (True, True, "GET")
    assert (sec["documented"], sec["called"], sec["method"]) == (True, False, "GET")
    assert sec["operationId"]
    member = rows["/api/users/{userId}/memberOf"]
    assert (member["documented"], member["called"], member["method"]) == (False, False, None)
    groups = rows["/api/groups"]
    assert (groups["documented"], groups["called"], groups["method"]) == (False, False, "POST")
    assert set(rows) == {"/api/users/me", "/api/settings/security", "/api/users/{userId}/memberOf", "/api/groups"}, rows
    assert all(r["bundles"] and r["bundles"][0].endswith("/static/app.min.js") for r in rows.values())
    s = report["summary"]
    assert s["code_routes"] == 4 and s["code_routes_undocumented"] == 2 and s["code_routes_not_called"] == 1
    cov = next(c for c in report["coverage"] if c["spec"] == "demo-admin")
    assert cov["in_code"] == 1  # settings/security: in code, not called


def _no_bundle_text(*folders: Path) -> None:
    for folder in folders:
        for f in folder.rglob("*"):
            if f.is_file():
                assert MARKER.encode() not in f.read_bytes(), f


def test_extraction_finds_routes_and_not_noise() -> None:
    found = {(c.template, c.method) for c in Extractor().extract(minified_bundle(200_000))}
    api = {t for t in found if t[0].startswith("/api/")}
    assert api == {("/api/users/me", "GET"), ("/api/settings/security", "GET"), ("/api/users/{userId}/memberOf", None),
                   ("/api/groups", "POST")}
    assert not any("static" in t or "fonts" in t or "learn.microsoft" in t for t, _ in found)
    # Written as concatenation and as absolute URLs on an API host too.
    js = b'x.delete("/api/items/"+e.id+"/tags/"+t);y="https://admin.demo-portal.example/api/users?$top=5"'
    got = {(c.template, c.method, c.host) for c in Extractor().extract(js)}
    assert got == {("/api/items/{id}/tags/{t}", "DELETE", None), ("/api/users", None, "admin.demo-portal.example")}


@pytest.mark.network_ns
@pytest.mark.browser
def test_routes_from_a_bundle_chromium_loaded_through_record(tmp_path: Path) -> None:
    require_isolation()
    spec = write_local_spec(tmp_path, "http")
    out, rep = tmp_path / "cap", tmp_path / "report"
    bundle = minified_bundle(2_000_000)
    with BundlePortal(bundle) as portal, Mitmdump(tmp_path, out, f"portalspec_specs={spec}") as mitm:
        dom = chromium(f"http://127.0.0.1:{portal.port}/app.html", mitm.port, tmp_path / "profile")
        mitm.stop()
    assert "done 200" in dom
    calls = [e["request"]["url"].split(str(portal.port), 1)[1] for e in CaptureReader(out)]
    assert calls == ["/api/users/me"]  # the script is scanned, not recorded as a call
    (session,) = json.loads((out / "capture.json").read_text())["sessions"]
    assert session["stats"]["scripts"] == 1
    (line,) = (out / "code-routes.jsonl").read_text().splitlines()
    rec = json.loads(line)
    assert rec["size"] == len(bundle) and len(rec["sha256"]) == 64 and rec["page"].endswith("/app.html")
    assert cli_main(["report", str(out), "--specs", str(spec), "--out", str(rep), "--format", "json,html,md"]) == 0
    report = json.loads((rep / "report.json").read_text())
    _check_routes(report)
    _no_bundle_text(out, rep)

    browser = DebuggedChromium(tmp_path / "profile-read", "--window-size=1280,900")
    try:
        user = User(browser.endpoint)
        user.open((rep / "report.html").as_uri())
        user.wait_text("document.readyState", ("complete",))
        never = user.text("[...document.querySelectorAll('#code-never-called tbody tr')].map(r => r.cells[1].textContent)")
        todo = user.text("[...document.querySelectorAll('#code-not-exercised tbody tr')].map(r => r.cells[3].textContent)")
        shot = user.client.send("Page.captureScreenshot", {"format": "png"}, session=user.session)
        user.client.close()
    finally:
        browser.close()
    assert never == ["/api/groups", "/api/users/{userId}/memberOf"] and todo == ["/api/settings/security"]
    assert len(shot["data"]) > 1000


@pytest.mark.parametrize("scan_for_specs", [False, True])
def test_routes_from_a_har_saved_with_content(tmp_path: Path, scan_for_specs: bool) -> None:
    spec = write_local_spec(tmp_path, "http")
    port = 8765
    origin = f"http://127.0.0.1:{port}"
    bundle = minified_bundle(2_000_000).decode()

    def entry(url: str, mime: str, text: str, rtype: str, referer: str | None = None) -> dict[str, Any]:
        headers = [{"name": "Referer", "value": referer}] if referer else []
        return {"startedDateTime": "2026-11-20T10:00:00.000Z", "time": 5, "_resourceType": rtype, "cache": {}, "timings": {},
                "request": {"method": "GET", "url": url, "httpVersion": "http/1.1", "headers": headers, "cookies": [],
                            "queryString": [], "headersSize": -1, "bodySize": 0},
                "response": {"status": 200, "statusText": "OK", "httpVersion": "http/1.1", "headers": [], "cookies": [],
                             "content": {"size": len(text), "mimeType": mime, "text": text}, "redirectURL": "",
                             "headersSize": -1, "bodySize": len(text)}}

    har = {"log": {"version": "1.2", "creator": {"name": "WebInspector", "version": "537.36"}, "entries": [
        entry(f"{origin}/app.html", "text/html", "<html></html>", "document"),
        entry(f"{origin}/static/app.min.js", "application/javascript", bundle, "script", f"{origin}/app.html"),
        entry(f"{origin}/api/users/me", "application/json", '{"id": "1", "displayName": "Me"}', "fetch", f"{origin}/app.html"),
    ]}}
    (tmp_path / "day.har").write_text(json.dumps(har))
    spec_text = (spec / "openapi.yml").read_text().replace("{port}", str(port))
    (spec / "openapi.yml").write_text(spec_text)
    out, rep = tmp_path / "cap", tmp_path / "report"
    assert cli_main(["import", str(tmp_path / "day.har"), "--out", str(out)]
                    + (["--specs", str(spec)] if scan_for_specs else [])) == 0
    script = next(e for e in CaptureReader(out) if e["request"]["url"].endswith(".js"))
    assert script["response"]["content"]["text"] == "" and script["response"]["content"]["size"] == len(bundle)
    assert len(script["response"]["content"]["_sha256"]) == 64
    assert cli_main(["report", str(out), "--specs", str(spec), "--out", str(rep), "--format", "json,md,html"]) == 0
    report = json.loads((rep / "report.json").read_text())
    _check_routes(report)
    assert not any(u["template"].endswith(".js") for u in report["undocumented"])
    md = (rep / "report.md").read_text()
    assert "## <a id=\"code-never-called\"></a>Seen in code, never called" in md and "`/api/groups`" in md
    _no_bundle_text(out, rep)
    # The spec update leaves code-only routes out unless asked, then labels them as nodoc does.
    assert "/groups" not in (rep / "spec-update.overlay.yaml").read_text()
    rep2 = tmp_path / "report2"
    assert cli_main(["report", str(out), "--specs", str(spec), "--out", str(rep2), "--format", "json",
                     "--include-code-routes"]) == 0
    import yaml

    ops = {}
    for doc in yaml.safe_load_all((rep2 / "spec-update.overlay.yaml").read_text()):
        for action in (doc or {}).get("actions") or []:
            for key, item in (action.get("update") or {}).items():
                if isinstance(key, str) and key.startswith("/") and isinstance(item, dict):
                    ops.update({(key, m): op for m, op in item.items() if isinstance(op, dict)})
    groups, member = ops[("/groups", "post")], ops[("/users/{userId}/memberOf", "get")]
    for op in (groups, member):
        assert "x-nodoc-live-capture" not in op
        (prov,) = op["x-nodoc-operation-context"]["provenance"]
        assert prov["source"] == "bundle-analysis" and prov["confidence"] == "medium"
    assert any("GET assumed" in n for n in member["x-nodoc-operation-context"]["provenance"][0]["notes"])


def test_scripts_scanned_are_the_portals_own_or_its_pages_cdn(tmp_path: Path) -> None:
    from portalspec.record.pipeline import Pipeline, Settings

    p = Pipeline(Settings(out=str(tmp_path / "cap"), hosts=["portal.example"]), source="test")
    try:
        assert p.wants_bundle("https://portal.example/static/app.js", None)
        assert p.wants_bundle("https://cdn.example.net/app.js", "https://portal.example/home")  # its CDN
        assert not p.wants_bundle("https://cdn.example.net/app.js", "https://news.example.org/")
        assert not p.wants_bundle("https://cdn.example.net/app.js", None)
    finally:
        p.close()


def test_routes_from_a_mitmproxy_flow_file(tmp_path: Path) -> None:
    from mitmproxy import io
    from mitmproxy.test import tflow

    bundle = minified_bundle(300_000)
    flows = tmp_path / "day.flows"
    with open(flows, "wb") as f:
        w = io.FlowWriter(f)
        for path, ctype, body in (("/static/app.min.js", "application/javascript", bundle),
                                  ("/api/users/me", "application/json", b'{"id": "1"}')):
            fl = tflow.tflow(resp=True)
            fl.request.host, fl.request.port, fl.request.scheme, fl.request.path = "127.0.0.1", 8765, "http", path
            fl.request.headers["referer"] = "http://127.0.0.1:8765/app.html"
            fl.response.headers["content-type"] = ctype
            fl.response.content = body
            w.add(fl)
    out = tmp_path / "cap"
    assert cli_main(["import", str(flows), "--out", str(out), "--body-limit", "1000"]) == 0  # scanned whole all the same
    (rec,) = [json.loads(line) for line in (out / "code-routes.jsonl").read_text().splitlines()]
    assert rec["size"] == len(bundle)
    assert {c["template"] for c in rec["candidates"]} >= {"/api/users/me", "/api/settings/security", "/api/groups"}
    script = next(e for e in CaptureReader(out) if e["request"]["url"].endswith(".js"))
    assert script["response"]["content"]["text"] == "" and "_portalspec_script" not in json.dumps(script)
    _no_bundle_text(out)


def test_no_secret_reaches_the_bundle_log(tmp_path: Path) -> None:
    """A signed script URL, a token in the page's URL and a JWT or key written into the code: none on disk."""
    import time as _time

    from portalspec.record.pipeline import Pipeline, Settings

    from .canary import Canaries

    c = Canaries()
    js = (f'var a=n.get("/api/auth/{c.jwt_token}/refresh");var k="/api/keys/{c.sig}";'
          'var b=o.post("/api/users/"+e+"/roles",{});').encode()
    p = Pipeline(Settings(out=str(tmp_path / "cap"), hosts=["portal.example"]), source="test")
    try:
        p.bundle(f"https://portal.example/static/app.js?sv=2024&sig={c.sig}",
                 f"https://portal.example/home?access_token={c.token}", js)
        deadline = _time.time() + 10
        while not (tmp_path / "cap" / "code-routes.jsonl").exists() and _time.time() < deadline:
            _time.sleep(0.05)
    finally:
        p.close()
    (rec,) = [json.loads(line) for line in (tmp_path / "cap" / "code-routes.jsonl").read_text().splitlines()]
    assert "/api/users/{e}/roles" in {x["template"] for x in rec["candidates"]}
    assert c.leaks([tmp_path / "cap"]) == []
