"""report.sarif as GitHub code scanning takes it: checked by Microsoft's SARIF validator with GitHub's
ingestion rules (the Makefile fetches it), on a report of the real nodoc specs."""

from __future__ import annotations

import json
import os
import random
import subprocess
from pathlib import Path
from typing import Any

import pytest

from portalspec.cli import main as cli_main
from portalspec.report.render_sarif import MAX_RESULTS, render_sarif
from portalspec.specs.index import SpecIndex
from portalspec.synth import older_specs, plant_drift, traffic, unserved_calls

ROOT = Path(__file__).resolve().parent.parent
SARIF_TOOL = ROOT / ".tools" / "sarif" / "Sarif.Multitool"


def _github_errors(sarif: dict[str, Any], tmp_path: Path) -> list[str]:
    """What the validator's GitHub and SARIF rules (``--rule-kind Gh;Sarif``) call errors in ``sarif``."""
    if not SARIF_TOOL.exists():
        msg = "the SARIF validator is not installed: `make test` fetches it where npm is (x86_64 Linux)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    src, out = tmp_path / "in.sarif", tmp_path / "validation.sarif"
    src.write_text(json.dumps(sarif, indent=2))
    env = {**os.environ, "DOTNET_BUNDLE_EXTRACT_BASE_DIR": str(tmp_path / "dotnet"), "DOTNET_CLI_TELEMETRY_OPTOUT": "1",
           "DOTNET_SYSTEM_GLOBALIZATION_INVARIANT": "1"}
    r = subprocess.run([str(SARIF_TOOL), "validate", str(src), "--rule-kind", "Gh;Sarif", "-o", str(out), "--log",
                        "ForceOverwrite"], capture_output=True, text=True, env=env, timeout=300)
    assert out.exists(), r.stdout[-2000:] + r.stderr[-2000:]
    found = json.loads(out.read_text())["runs"][0].get("results") or []
    return [f"{x['ruleId']}: {(x.get('message') or {}).get('arguments')}" for x in found if x.get("level") == "error"]


@pytest.fixture(scope="module")
def day(nodoc: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A capture of a day across the nodoc portals (a part of their operations, older specs so that some
    endpoints are undocumented, drift planted, a host no spec serves) and its report, run in ``tmp``."""
    tmp = tmp_path_factory.mktemp("sarif")
    older_specs(nodoc, tmp / "specs", every=7)
    rng = random.Random(3)
    ops = [op for op in SpecIndex.load([nodoc], use_cache=False).operations if rng.random() < 0.3]
    entries = traffic(ops, per_op=1, seed=5)
    plant_drift(entries, rng)
    entries += unserved_calls(6)
    (tmp / "day.har").write_text(json.dumps({"log": {"version": "1.2", "creator": {"name": "t", "version": "1"},
                                                     "entries": entries}}))
    assert cli_main(["import", str(tmp / "day.har"), "--out", str(tmp / "cap")]) == 0
    return tmp


def _report(day: Path, out: Path, monkeypatch: pytest.MonkeyPatch, cwd: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    monkeypatch.chdir(cwd)
    assert cli_main(["report", str(day / "cap"), "--specs", str(day / "specs"), "--out", str(out),
                     "--format", "json,sarif", "--no-cache"]) == 0
    return json.loads((out / "report.json").read_text()), json.loads((out / "report.sarif").read_text())


@pytest.mark.parametrize("where", ["spec repository", "elsewhere"])
def test_github_code_scanning_takes_the_sarif(day: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    """GitHub refuses a whole SARIF file for one result without a location. Every result points at a line of
    a spec file: a drift finding at its operation's method, an undocumented endpoint at the ``paths:`` of
    its spec; only endpoints on hosts no spec serves are left out, and counted. Run from the spec
    repository's root, files are named relative to it; from elsewhere, by absolute file URIs."""
    cwd = day if where == "spec repository" else tmp_path
    report, sarif = _report(day, tmp_path / "out", monkeypatch, cwd)
    assert _github_errors(sarif, tmp_path) == []
    run = sarif["runs"][0]
    results = run["results"]
    unserved = sum(1 for u in report["undocumented"] if not u.get("spec"))
    assert len(report["drift"]) > 50 and len(report["undocumented"]) - unserved > 10 and unserved > 0
    assert len(results) == len(report["drift"]) + len(report["undocumented"]) - unserved
    assert run["properties"]["left_out"] == {"no_spec_file": unserved, "over_limit": 0}
    for res in results:
        art = res["locations"][0]["physicalLocation"]["artifactLocation"]
        if where == "spec repository":
            assert art["uriBaseId"] == "%SRCROOT%" and not art["uri"].startswith(("/", "file:"))
            path = day / art["uri"]
        else:
            assert art["uri"].startswith("file:///") and "uriBaseId" not in art
            path = Path(art["uri"].removeprefix("file://"))
        line = path.read_text().splitlines()[res["locations"][0]["physicalLocation"]["region"]["startLine"] - 1]
        if res["ruleId"] == "undocumented_endpoint":
            assert line == "paths:", (res["message"], line)
        else:
            method = res["message"]["text"].split()[0]
            assert line.strip() == f"{method.lower()}:", (res["message"], line)


def test_the_validator_refuses_what_github_refuses(tmp_path: Path) -> None:
    """The check above can fail: a result without a location, as report.sarif had for undocumented endpoints."""
    bad = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "portalspec", "rules": [
        {"id": "undocumented_endpoint", "shortDescription": {"text": "x"}}]}},
        "results": [{"ruleId": "undocumented_endpoint", "level": "warning", "message": {"text": "undocumented GET h/x"}}]}]}
    assert any(e.startswith("GH1015") for e in _github_errors(bad, tmp_path))


def test_past_githubs_limit_the_least_severe_results_are_left_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """GitHub rejects a run of more than 25,000 results: the most severe are kept, in their order."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.yml").write_text("openapi: 3.0.3\npaths:\n  /x:\n    get:\n      responses: {}\n")
    severities = ["warning", "error", "info"] * 10_000
    drift = [{"kind": "type_mismatch", "severity": sev, "spec": "s", "method": "GET", "path": "/x", "location": "response",
              "pointer": f"/{i}", "expected": "string", "observed": "integer", "calls": 1, "operationId": None,
              "source_file": "s.yml"} for i, sev in enumerate(severities)]
    sarif = render_sarif({"drift": drift, "undocumented": [], "specs": [{"spec": "s", "root": "s.yml"}]})
    run = sarif["runs"][0]
    levels = [r["level"] for r in run["results"]]
    assert len(levels) == MAX_RESULTS and levels.count("error") == 10_000 and levels.count("warning") == 10_000
    assert levels.count("note") == 5_000 and run["properties"]["left_out"] == {"no_spec_file": 0, "over_limit": 5_000}
    pointers = [int(r["properties"]["pointer"][1:]) for r in run["results"]]
    assert pointers == sorted(pointers)
    assert all(r["locations"][0]["physicalLocation"]["region"]["startLine"] == 4 for r in run["results"])
