"""A portal wizard through record --block-writes in a real Chromium: every write answered locally
and client-safe, the wizard reaches its last step, the portal sees no write, and the report maps
the flow with its value lineage (report.json, Mermaid in Markdown, SVG in HTML read back from the DOM)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from portalspec.fixtures.store import CaptureReader

from .portal import Mitmdump, PortalServer, make_tls, require_isolation, write_local_spec
from .test_record_browser import CHROMIUM, chromium, spki_hash

pytestmark = [pytest.mark.network_ns, pytest.mark.browser]
ARTIFACTS = Path(__file__).resolve().parent.parent / "benchmarks" / "out" / "test-artifacts"


def test_wizard_runs_to_its_end_with_no_write_reaching_the_portal(tmp_path: Path) -> None:
    require_isolation()
    tls = make_tls(tmp_path)
    spec = write_local_spec(tmp_path, "https")
    out = tmp_path / "cap"
    with PortalServer(tls=(tls[1], tls[2]), page_secrets={"token": "wizardTokenCanary0123456789abcdefXYZ"}) as portal, \
            Mitmdump(tmp_path, out, f"portalspec_specs={spec}", "portalspec_block_writes=true", upstream_ca=tls[0]) as mitm:
        dom = chromium(f"https://127.0.0.1:{portal.port}/wizard.html", mitm.port, tmp_path / "profile", spki_hash(mitm.ca))
        mitm.stop()
    assert "done options 200; create 201; update 200; status 404" in dom, dom[-400:]
    assert portal.counts["POST"] == portal.counts["PATCH"] == portal.counts["PUT"] == portal.counts["DELETE"] == 0
    entries = list(CaptureReader(out))
    assert [e["request"]["method"] for e in entries] == ["GET", "POST", "PATCH", "GET"]
    assert [e["_portalspec"].get("synthetic") for e in entries] == [None, "schema", "echo", None]

    rep = tmp_path / "rep"
    r = subprocess.run([sys.executable, "-m", "portalspec.cli", "report", str(out), "--specs", str(spec), "--out", str(rep)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    report = json.loads((rep / "report.json").read_text())
    assert len(report["flows"]) == 1
    flow = report["flows"][0]
    assert [(s["method"], s["role"], s["blocked"], s["synthetic"]) for s in flow["steps"]] == [
        ("GET", "read", False, None), ("POST", "write", True, "schema"), ("PATCH", "write", True, "echo"),
        ("GET", "poll", False, None)]
    assert [s["status"] for s in flow["steps"]] == [200, 201, 200, 404]
    assert flow["steps"][1]["operationId"] == "Roles.Assign"
    links = {(lk["from"]["step"], lk["from"]["pointer"], lk["to"]["step"], lk["to"]["location"], lk["to"]["pointer"])
             for lk in flow["lineage"]}
    assert (1, "/value/0/id", 2, "body", "/roleDefinitionId") in links
    patch_template = flow["steps"][2]["template"]
    param = patch_template.split("{", 1)[1].split("}", 1)[0]
    assert (2, "/id", 3, "path", param) in links
    md = (rep / "report.md").read_text()
    assert "```mermaid\nsequenceDiagram" in md and "Page->>API: 2 POST /roleAssignments (write, blocked)" in md

    # The HTML draws it: Chromium renders the report and the DOM has the four steps and the two arrows.
    html_dom = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                               "--disable-background-networking", f"--user-data-dir={tmp_path / 'p2'}", "--dump-dom",
                               (rep / "report.html").as_uri()], capture_output=True, text=True, timeout=120).stdout
    assert html_dom.count('class="step"') == 4 and html_dom.count('class="lineage"') >= 2
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "write-flow.png"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                    f"--user-data-dir={tmp_path / 'p3'}", f"--screenshot={shot}", "--window-size=1280,1600",
                    (rep / "report.html").as_uri() + "#flow-1"], capture_output=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 10_000
