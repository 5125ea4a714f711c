"""Path-template and schema inference on realistic portal ids, and capture-to-capture diffs."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import uuid
from pathlib import Path

from portalspec.shapes.infer import SchemaAccumulator
from portalspec.shapes.paths import TemplateInferrer

from .canary import har


def _templates(paths: list[str], method: str = "GET", host: str = "security.microsoft.com") -> dict[str, dict]:
    t = TemplateInferrer()
    for p in paths:
        t.add(host, method, p)
    return {x.template: x.params for x in t.templates()}


def test_realistic_ids_become_named_parameters() -> None:
    rng = random.Random(1)
    paths = [f"/apiproxy/mtp/users/{uuid.UUID(int=rng.getrandbits(128))}" for _ in range(3)]
    paths += [f"/apiproxy/mtp/machines/{rng.getrandbits(160):040x}/alerts" for _ in range(3)]
    paths += [f"/apiproxy/mtp/incidents/{rng.randint(1000, 99999)}" for _ in range(2)]
    paths += [f"/beta/roleManagement/roleAssignments('{rng.getrandbits(40):x}-abc')" for _ in range(2)]
    paths += [f"/api/items?$skiptoken=x", "/api/pages/eyJza2lwIjoxMDB9MTIzNDU2Nzg5MA"]
    paths += [f"/v1.0/users/{u}@contoso.onmicrosoft.com/manager" for u in ("adele", "lee")]
    got = _templates(paths)
    assert got["/apiproxy/mtp/users/{userId}"]["userId"]["evidence"] == "guid"
    assert got["/apiproxy/mtp/machines/{machineId}/alerts"]["machineId"]["evidence"] == "hex"
    assert got["/apiproxy/mtp/incidents/{incidentId}"]["incidentId"]["distinct_values"] == 2
    assert got["/beta/roleManagement/roleAssignments('{roleAssignmentId}')"]["roleAssignmentId"]["evidence"] == "odata-key"
    assert got["/api/pages/{pageId}"]["pageId"]["evidence"] == "base64"
    assert got["/v1.0/users/{userId}/manager"]["userId"]["evidence"] == "email"


def test_near_misses_stay_apart() -> None:
    got = _templates(["/users/me", f"/users/{uuid.uuid4()}", f"/users/{uuid.uuid4()}", "/v1.0/me", "/beta/me",
                      "/settings/general", "/settings/security", "/settings/privacy"])
    assert set(got) == {"/users/me", "/users/{userId}", "/v1.0/me", "/beta/me",
                        "/settings/general", "/settings/security", "/settings/privacy"}


def test_varying_alike_literals_merge_with_evidence_but_not_across_methods_or_hosts() -> None:
    t = TemplateInferrer()
    for i in (101, 102, 103):
        t.add("h", "GET", f"/api/devices/dev-{i}/status")
    t.add("h", "DELETE", "/api/devices/dev-104/status")
    t.add("other", "GET", "/api/devices/dev-105/status")
    got = {(x.host, x.method, x.template): x for x in t.templates()}
    merged = got[("h", "GET", "/api/devices/{deviceId}/status")]
    assert merged.calls == 3 and merged.params["deviceId"] == {"evidence": "varying", "distinct_values": 3,
                                                              "examples": ["dev-101", "dev-102", "dev-103"]}
    assert ("h", "DELETE", "/api/devices/dev-104/status") in got and ("other", "GET", "/api/devices/dev-105/status") in got


def test_schema_inference_uses_every_sample() -> None:
    acc = SchemaAccumulator()
    for i in range(12):
        acc.add({"id": str(uuid.uuid4()), "n": i, "score": 0.5 if i % 2 else 1, "state": ["on", "off"][i % 2],
                 "note": None if i % 3 == 0 else "x", **({"rare": True} if i == 5 else {}), "tags": [f"t{i}", i]})
    s = acc.schema()
    assert s["type"] == "object" and s["required"] == ["id", "n", "note", "score", "state", "tags"]
    p = s["properties"]
    assert p["id"] == {"type": "string", "format": "uuid"}
    assert p["n"] == {"type": "integer"} and p["score"] == {"type": "number"}
    assert p["state"] == {"type": "string", "enum": ["off", "on"]}
    assert p["note"]["nullable"] is True and p["note"]["type"] == "string"
    assert p["rare"] == {"type": "boolean"}
    assert {x["type"] for x in p["tags"]["items"]["oneOf"]} == {"string", "integer"}
    one = SchemaAccumulator()
    one.add({"a": 1})
    assert "required" not in one.schema()  # one sample proves nothing about required


def test_inference_memory_is_bounded() -> None:
    acc = SchemaAccumulator()
    for i in range(2000):
        acc.add({f"k{i}": i, "s": f"value-{i}"})
    assert len(acc.props) <= 301 and acc.truncated and acc.props["s"].values is None


def _cap(tmp: Path, name: str, entries: list[dict]) -> Path:
    from portalspec.importers import import_file

    (tmp / f"{name}.har").write_text(json.dumps(har(entries)))
    import_file(tmp / f"{name}.har", tmp / name, progress=False)
    return tmp / name


def _e(url: str, status: int, body: dict) -> dict:
    return {"startedDateTime": "2026-11-20T10:00:00Z", "time": 1,
            "request": {"method": "GET", "url": url, "httpVersion": "HTTP/2", "headers": [], "cookies": [], "queryString": [],
                        "headersSize": -1, "bodySize": 0},
            "response": {"status": status, "statusText": "", "httpVersion": "HTTP/2", "headers": [], "cookies": [],
                         "content": {"size": 1, "mimeType": "application/json", "text": json.dumps(body)},
                         "redirectURL": "", "headersSize": -1, "bodySize": -1}, "cache": {}, "timings": {}}


def test_capture_diff(tmp_path: Path) -> None:
    base = "https://admin.demo-portal.example/api"
    old = _cap(tmp_path, "old", [_e(f"{base}/settings/security", 200, {"mfaRequired": True, "legacy": 1, "when": "2026-01-01T00:00:00Z"}),
                                 _e(f"{base}/gone", 200, {})])
    new = _cap(tmp_path, "new", [_e(f"{base}/settings/security", 200, {"mfaRequired": "yes", "added": [1], "when": "2026-01-01T00:00:00Z"}),
                                 _e(f"{base}/settings/security", 429, {}), _e(f"{base}/fresh", 200, {})])
    r = subprocess.run([sys.executable, "-m", "portalspec.cli", "diff", str(old), str(new), "--specs",
                        str(Path(__file__).parent.parent / "specs" / "demo"), "--json"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    changes = {(c["change"], c.get("pointer") or c.get("status") or c["endpoint"].split(" ")[-1]) for c in json.loads(r.stdout)}
    assert ("type_changed", "/mfaRequired") in changes and ("property_added", "/added") in changes
    assert ("property_removed", "/legacy") in changes and ("status_added", "429") in changes
    assert ("only_in_old", "/api/gone") in changes and ("only_in_new", "/api/fresh") in changes
    assert not any(c[1] == "/when" for c in changes)
