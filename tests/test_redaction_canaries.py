"""Canary secrets in every place a portal carries one: none reaches the capture, shape stays."""

from __future__ import annotations

import json
from pathlib import Path

from mitmproxy import io as mio
from mitmproxy.test import tflow, tutils

from portalspec.fixtures.store import CaptureReader, export_har
from portalspec.importers import import_file

from .canary import Canaries, form_entries, har, portal_entry


def _import_har(tmp_path: Path, c: Canaries) -> Path:
    src = tmp_path / "in.har"
    src.write_text(json.dumps(har([portal_entry(c), *form_entries(c)])))
    out = tmp_path / "cap"
    res = import_file(src, out, progress=False)
    assert res.imported == 3
    src.unlink()  # only the capture remains to be searched
    return out


def test_har_canaries_never_reach_the_capture(tmp_path: Path) -> None:
    c = Canaries()
    cap = _import_har(tmp_path, c)
    export_har(cap, tmp_path / "export.har")
    assert c.leaks([tmp_path]) == []
    assert len(c.values) >= 25  # the test really planted its canaries


def test_structure_survives_redaction(tmp_path: Path) -> None:
    c = Canaries()
    cap = _import_har(tmp_path, c)
    entry = next(iter(CaptureReader(cap)))
    req = entry["request"]
    names = [h["name"] for h in req["headers"]]
    assert names[:6] == ["Authorization", "Cookie", "AjaxSessionKey", "x-portal-routekey", "X-RequestDigest", "x-xsrf-token"]
    cookie = next(h["value"] for h in req["headers"] if h["name"] == "Cookie")
    for name in ("sccauth", "AjaxSessionKey", "FedAuth", "rtFa", "XSRF-TOKEN"):
        assert f"{name}=<redacted:cookie:" in cookie
    summary = entry["_portalspec"]["redaction"]
    assert summary["cookies"]["request"][:5] == ["sccauth", "AjaxSessionKey", "FedAuth", "rtFa", "XSRF-TOKEN"]
    tok = summary["tokens"][0]
    assert tok["aud"] == "https://canary.portal.test" and tok["scp"] == "Canary.Read"
    assert tok["tid"].startswith("<redacted:tenant:") and c.tid not in json.dumps(entry)
    body = json.loads(req["postData"]["text"])
    assert set(body["settings"]["nested"]["deeper"]) == {"password", "client_secret"}
    assert body["settings"]["nested"]["deeper"]["password"].startswith("<redacted:")
    assert "$top=5" in req["url"] and "/api/reset/" in req["url"]
    assert summary["counts"]["cookie"] >= 5 and summary["counts"]["jwt"] >= 1


def test_same_secret_same_placeholder_within_a_capture(tmp_path: Path) -> None:
    c = Canaries()
    e1, e2 = portal_entry(c), portal_entry(c)
    src = tmp_path / "in.har"
    src.write_text(json.dumps(har([e1, e2])))
    import_file(src, tmp_path / "cap", progress=False)
    a, b = list(CaptureReader(tmp_path / "cap"))
    assert a["request"]["headers"][1]["value"] == b["request"]["headers"][1]["value"]
    # A second capture uses another key: placeholders are not linkable across captures.
    import_file(src, tmp_path / "cap2", progress=False)
    (x, _) = list(CaptureReader(tmp_path / "cap2"))
    assert x["request"]["headers"][1]["value"] != a["request"]["headers"][1]["value"]


def _flow_file(path: Path, c: Canaries) -> None:
    entry = portal_entry(c)
    req = entry["request"]
    with open(path, "wb") as f:
        w = mio.FlowWriter(f)
        r = tutils.treq(method=b"POST", host="admin.demo-portal.example", port=443, scheme=b"https",
                        path=req["url"].split("demo-portal.example", 1)[1].encode(),
                        headers=[(h["name"].encode(), h["value"].encode()) for h in req["headers"]],
                        content=req["postData"]["text"].encode())
        resp_entry = entry["response"]
        s = tutils.tresp(status_code=200, headers=[(h["name"].encode(), h["value"].encode()) for h in resp_entry["headers"]],
                         content=resp_entry["content"]["text"].encode())
        w.add(tflow.tflow(req=r, resp=s))
        # A gzip-compressed response body carrying a secret.
        s2 = tutils.tresp(status_code=200, headers=[(b"content-type", b"application/json")], content=b"")
        s2.content = json.dumps({"refresh_token": c.gzip_secret}).encode()
        s2.encode("gzip")
        w.add(tflow.tflow(req=tutils.treq(host="admin.demo-portal.example", port=443, scheme=b"https", path=b"/api/x"), resp=s2))


def test_flow_file_canaries_never_reach_the_capture(tmp_path: Path) -> None:
    c = Canaries()
    src = tmp_path / "in.flows"
    _flow_file(src, c)
    res = import_file(src, tmp_path / "cap", progress=False)
    assert res.imported == 2
    src.unlink()
    assert c.leaks([tmp_path]) == []
    entries = list(CaptureReader(tmp_path / "cap"))
    assert json.loads(entries[1]["response"]["content"]["text"])["refresh_token"].startswith("<redacted:")
    assert entries[0]["_portalspec"]["redaction"]["tokens"][0]["scp"] == "Canary.Read"


def test_pseudonymize_keeps_shape(tmp_path: Path) -> None:
    entry = portal_entry(Canaries())
    entry["response"]["content"]["text"] = json.dumps({"userPrincipalName": "adele.vance@contoso.onmicrosoft.com",
                                                      "mail": "adele@contoso.example"})
    src = tmp_path / "in.har"
    src.write_text(json.dumps(har([entry])))
    import_file(src, tmp_path / "cap", pseudonymize=["upn", "email", "tenant"], progress=False)
    text = (tmp_path / "cap" / "entries-0001.jsonl").read_text()
    assert "adele" not in text and "contoso" not in text
    body = json.loads(next(iter(CaptureReader(tmp_path / "cap")))["response"]["content"]["text"])
    assert body["mail"].startswith("user-") and body["mail"].endswith("@example.invalid")


def test_parallel_import_equals_serial(tmp_path: Path) -> None:
    c = Canaries()
    entries = []
    for i in range(600):
        e = portal_entry(c)
        e["request"]["url"] = e["request"]["url"].replace("/apply", f"/apply{i}")
        entries.append(e)
    src = tmp_path / "in.har"
    src.write_text(json.dumps(har(entries)))
    one = import_file(src, tmp_path / "one", progress=False, jobs=1)
    two = import_file(src, tmp_path / "two", progress=False, jobs=2)
    assert one.imported == two.imported == 600
    a, b = list(CaptureReader(tmp_path / "one")), list(CaptureReader(tmp_path / "two"))
    assert [e["request"]["url"].split("?")[0].rsplit("/", 1)[1] for e in b] == [f"apply{i}" for i in range(600)]
    assert [sorted(e["_portalspec"]["redaction"]["counts"]) for e in a] == [sorted(e["_portalspec"]["redaction"]["counts"]) for e in b]
    cookie = {e["request"]["headers"][1]["value"] for e in b}
    assert len(cookie) == 1  # one placeholder per secret across both workers
    src.unlink()
    assert c.leaks([tmp_path]) == []


def test_plain_values_in_secret_named_fields_stay() -> None:
    from portalspec.redaction import Redactor

    e = {"request": {"method": "POST", "url": "https://h.example/a?tokenType=Bearer&sessionTimeout=true",
                     "postData": {"mimeType": "application/json", "text": json.dumps(
                         {"tokenExpiry": "2026-01-02T03:04:05Z", "passwordNeverExpires": True, "secretSet": "false",
                          "pin": "1234", "password": "hunter2hunter2"})}},
         "response": {"status": 200, "content": {"mimeType": "application/json", "text": "{}"}}}
    Redactor().redact_entry(e)
    body = json.loads(e["request"]["postData"]["text"])
    assert body["tokenExpiry"] == "2026-01-02T03:04:05Z" and body["passwordNeverExpires"] is True
    assert body["secretSet"] == "false" and "tokenType=Bearer" in e["request"]["url"]
    assert body["pin"].startswith("<redacted:") and body["password"].startswith("<redacted:")


def test_sweep_remembers_old_and_new_secrets_across_many_entries() -> None:
    import base64 as b64

    from portalspec.redaction import Redactor

    r = Redactor()
    # Low-entropy secrets: only the sweep (not the token rule) can find their copies.
    secrets = [f"plainsessionvalue{i:04d}" for i in range(300)]  # far more than one automaton rebuild's worth
    for s in secrets:
        r.redact_entry({"request": {"method": "GET", "url": "https://h.example/", "headers": [{"name": "X-Api-Key", "value": s}]},
                        "response": {"status": 200}})
    last = {"request": {"method": "GET", "url": "https://h.example/"},
            "response": {"status": 200, "content": {"mimeType": "text/plain", "text": " ".join(
                [secrets[0], b64.b64encode(secrets[1].encode()).decode(), secrets[150], secrets[-1]])}}}
    r.redact_entry(last)
    text = last["response"]["content"]["text"]
    assert text.count("<redacted:header:") == 4 and not any(s in text for s in secrets)


def test_browser_headers_that_only_look_secret_stay() -> None:
    """Chromium's HTTP/2 ``:authority`` holds the host and ``WWW-Authenticate`` a challenge: taking
    them for secrets would sweep the portal's host out of every URL of the capture."""
    from portalspec.redaction import Redactor

    c = Canaries()
    e = portal_entry(c)
    host = "admin.demo-portal.example"
    e["request"]["headers"] += [{"name": ":authority", "value": host}, {"name": ":path", "value": "/api/reset"}]
    e["response"]["headers"].append({"name": "WWW-Authenticate", "value": 'Bearer realm="portal", error="invalid_token"'})
    red = Redactor().redact_entry(e)
    assert red["request"]["url"].startswith(f"https://{host}/api/reset/")
    values = {h["name"]: h["value"] for h in red["request"]["headers"] + red["response"]["headers"]}
    assert values[":authority"] == host
    assert values["WWW-Authenticate"].startswith('Bearer realm="portal"')
    assert c.jwt_token not in json.dumps(red)
