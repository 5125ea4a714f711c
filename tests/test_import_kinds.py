"""Every capture people have: HARs as each tool writes them, mitmproxy's .zhar, flow files of old
mitmproxy versions (written by those versions' own writers, see tests/data/), all without a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from portalspec.fixtures.store import CaptureReader
from portalspec.importers import import_file

DATA = Path(__file__).parent / "data"
URL = "https://security.microsoft.com/apiproxy/mtp/alerts"


def _har(entries: list[dict], pages: list | None = None, creator: str = "Firefox") -> dict:
    log: dict = {"version": "1.2", "creator": {"name": creator, "version": "1"}, "entries": entries}
    if pages is not None:
        log["pages"] = pages
    return {"log": log}


def _entry(**over: object) -> dict:
    e = {"startedDateTime": "2026-11-20T10:00:00.000+01:00", "time": 12,
         "request": {"method": "GET", "url": URL, "httpVersion": "HTTP/2", "headers": [], "cookies": [],
                     "queryString": [], "headersSize": -1, "bodySize": -1},
         "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/2", "headers": [], "cookies": [],
                      "content": {"size": -1, "mimeType": "application/json", "text": '{"value": []}'},
                      "redirectURL": "", "headersSize": -1, "bodySize": -1},
         "cache": {}, "timings": {"send": 0, "wait": 10, "receive": 2}}
    e.update(over)
    return e


def _form_post() -> dict:
    e = _entry()
    e["request"] = {**e["request"], "method": "POST",
                    "postData": {"mimeType": "application/x-www-form-urlencoded",
                                 "params": [{"name": "displayName", "value": "Lab"}, {"name": "enabled", "value": "true"}]}}
    return e


VARIANTS = {
    # Firefox: empty pages, form posts as params only, content.size -1
    "firefox": lambda: json.dumps(_har([_entry(), _form_post()], pages=[])).encode(),
    # Safari: a byte-order mark, no pages at all, headers with odd case
    "safari": lambda: b"\xef\xbb\xbf" + json.dumps(_har([_entry()], creator="WebInspector")).encode(),
    # Charles: text missing from a response, comment fields
    "charles": lambda: json.dumps(_har([_entry(response={"status": 204, "statusText": "No Content", "headers": [],
                                                         "content": {"size": 0, "mimeType": ""}, "comment": ""})],
                                       creator="Charles Proxy")).encode(),
    # Insomnia: base64 bodies, no timings
    "insomnia": lambda: json.dumps(_har([_entry(response={"status": 200, "headers": [], "content": {
        "size": 13, "mimeType": "application/json", "text": "eyJ2YWx1ZSI6IFtdfQ==", "encoding": "base64"}})],
        creator="Insomnia")).encode(),
    # Chrome: _webSocketMessages, _initiator, _resourceType
    "chrome": lambda: json.dumps(_har([_entry(_resourceType="websocket", _webSocketMessages=[
        {"type": "send", "time": 1.0, "opcode": 1, "data": '{"op": "subscribe"}'},
        {"type": "receive", "time": 1.1, "opcode": 1, "data": '{"ok": true}'}], _initiator={"type": "script"})],
        pages=[{"id": "page_1", "title": URL, "startedDateTime": "2026-11-20T10:00:00Z", "pageTimings": {}}],
        creator="WebInspector")).encode(),
}


@pytest.mark.parametrize("kind", sorted(VARIANTS))
def test_har_as_each_tool_writes_it(kind: str, tmp_path: Path) -> None:
    f = tmp_path / f"{kind}.har"
    f.write_bytes(VARIANTS[kind]())
    warnings: list[str] = []
    res = import_file(f, tmp_path / "cap", warn=warnings.append, progress=False)
    entries = list(CaptureReader(tmp_path / "cap"))
    assert res.imported == len(entries) == len(json.loads(VARIANTS[kind]().lstrip(b"\xef\xbb\xbf"))["log"]["entries"])
    if kind == "firefox":
        post = entries[1]["request"]["postData"]
        assert post["text"] == "displayName=Lab&enabled=true" and post["params"][0]["name"] == "displayName"
    if kind == "chrome":
        assert entries[0]["_webSocketMessages"][0]["data"] == '{"op": "subscribe"}'
    if kind == "insomnia":
        assert entries[0]["response"]["content"]["text"] == '{"value": []}'


def test_zhar_from_mitmproxy_export(tmp_path: Path) -> None:
    """mitmproxy's HAR export writes ``.zhar`` as zlib (``zlib.compress`` of the HAR's JSON)."""
    data = json.dumps(_har([_entry(), _form_post()], creator="mitmproxy")).encode()
    for name in ("x.zhar", "no-suffix"):
        f = tmp_path / name
        f.write_bytes(zlib.compress(data, 9))
        cap = tmp_path / f"cap-{name}"
        assert import_file(f, cap, progress=False).imported == 2
        assert [e["request"]["method"] for e in CaptureReader(cap)] == ["GET", "POST"]
    cut = tmp_path / "cut.zhar"
    cut.write_bytes(zlib.compress(data, 9)[:-40])
    r = subprocess.run([sys.executable, "-m", "portalspec.cli", "import", str(cut), "--out", str(tmp_path / "c2")],
                       capture_output=True, text=True)
    assert "Traceback" not in r.stderr and str(cut) in r.stderr


def test_mitmproxy7_dump_with_websocket_and_tcp(tmp_path: Path) -> None:
    warnings: list[str] = []
    res = import_file(DATA / "mitmproxy7.flows", tmp_path / "cap", warn=warnings.append, progress=False)
    entries = list(CaptureReader(tmp_path / "cap"))
    assert res.imported == 3 and [e["request"]["method"] for e in entries] == ["GET", "POST", "GET"]
    assert entries[2]["_webSocketMessageCount"] == 3
    assert any("1 TCPFlow" in w for w in warnings)
    text = (tmp_path / "cap").joinpath(next(p.name for p in (tmp_path / "cap").glob("entries-*"))).read_text()
    assert "mitm7CanaryToken" not in text


@pytest.mark.parametrize("dump", sorted(p.name for p in DATA.glob("mitmproxy*.flows")))
def test_old_dumps_import_without_traceback(dump: str, tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "portalspec.cli", "import", str(DATA / dump), "--out", str(tmp_path / "c")],
                       capture_output=True, text=True)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    assert len(list(CaptureReader(tmp_path / "c"))) >= 1


def test_a_flow_mitmproxy_cannot_convert_is_skipped_by_name(tmp_path: Path) -> None:
    from mitmproxy.io import tnetstring

    good = (DATA / "mitmproxy7.flows").read_bytes()
    bad = tnetstring.dumps({"version": 7, "type": "http", "request": "not a request"})  # type: ignore[arg-type]
    f = tmp_path / "mixed.flows"
    f.write_bytes(bad + good)
    warnings: list[str] = []
    res = import_file(f, tmp_path / "cap", warn=warnings.append, progress=False)
    assert res.imported == 3
    assert any("flow 1 (byte 0)" in w and "skipped" in w for w in warnings), warnings
