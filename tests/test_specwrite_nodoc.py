"""Spec updates a nodoc maintainer merges as they are, on nodoc's real specs: an older copy (paths
removed as text), newer traffic for every operation, ``report``, then ``update-spec --in-place``."""

from __future__ import annotations

import difflib
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from portalspec.importers import import_file
from portalspec.specs.index import SpecIndex

from .canary import har
from portalspec.synth import older_specs, traffic

from .specwrite_helpers import need_redocly, redocly


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "portalspec.cli", *args], capture_output=True, text=True, timeout=600)


def _matches(cap: Path, specs: Path) -> list[dict[str, Any]]:
    r = cli("match", str(cap), "--specs", str(specs), "--jsonl")
    assert r.returncode == 0, r.stderr
    return [json.loads(line) for line in r.stdout.splitlines()]


def _roots(specs: Path) -> dict[str, Any]:
    return {str(p): yaml.safe_load(p.read_text()) for p in sorted(specs.glob("nodoc-*/specification/openapi.yml"))}


@pytest.fixture(scope="module")
def updated(nodoc: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("history")
    specs = tmp / "specs"
    removed = older_specs(nodoc, specs, every=14)
    originals = {p: p.read_text() for p in specs.rglob("*.yml")}
    roots_before = _roots(specs)
    full = SpecIndex.load([nodoc], use_cache=False)
    (tmp / "t.har").write_text(json.dumps(har(traffic(full.operations) + _new_family_calls())))
    import_file(tmp / "t.har", tmp / "cap", progress=False)
    before = _matches(tmp / "cap", specs)
    unnamed_before = sum(1 for op in SpecIndex.load([specs]).operations if not op.operation_id)
    lint_before = {}
    for name in ("nodoc-defender-xdr", "nodoc-m365-admin", "nodoc-power-platform", "nodoc-teams"):
        lint_before[name] = redocly(specs / name / "specification" / "openapi.yml")
    r = cli("report", str(tmp / "cap"), "--specs", str(specs), "--out", str(tmp / "r1"), "--format", "json")
    assert r.returncode == 0, r.stderr
    overlay = tmp / "r1" / "spec-update.overlay.yaml"
    dry = cli("update-spec", str(overlay), "--specs", str(specs))
    r = cli("update-spec", str(overlay), "--specs", str(specs), "--in-place", "--new-specs", str(tmp / "new"))
    assert r.returncode == 0, r.stderr
    return {"tmp": tmp, "specs": specs, "removed": removed, "originals": originals, "roots_before": roots_before,
            "before": before, "lint_before": lint_before, "overlay": overlay, "dry": dry,
            "report": json.loads((tmp / "r1" / "report.json").read_text()), "unnamed_before": unnamed_before}


def _new_family_calls() -> list[dict[str, Any]]:
    """Calls of a portal family no spec serves: its own hosts."""
    import uuid

    out = []
    for i in range(3):
        for method, url, status in (("GET", f"https://admin.newportal.microsoft.com/api/v2/widgets/{uuid.uuid4()}", 200),
                                    ("GET", "https://admin.newportal.microsoft.com/api/v2/widgets", 200),
                                    ("POST", "https://admin.newportal.microsoft.com/api/v2/widgets", 201),
                                    ("GET", f"https://reports.newportal.microsoft.com/summary/{uuid.uuid4()}", 200)):
            out.append({"startedDateTime": f"2026-11-20T11:00:0{i}Z", "time": 1,
                        "request": {"method": method, "url": url, "httpVersion": "HTTP/2", "cookies": [], "queryString": [],
                                    "headers": [{"name": "Referer", "value": "https://admin.newportal.microsoft.com/#/widgets"}],
                                    "headersSize": -1, "bodySize": -1,
                                    **({"postData": {"mimeType": "application/json", "text": '{"name": "Lab widget"}'}}
                                       if method == "POST" else {})},
                        "response": {"status": status, "statusText": "", "httpVersion": "HTTP/2", "headers": [], "cookies": [],
                                     "content": {"size": 30, "mimeType": "application/json",
                                                 "text": json.dumps({"id": str(uuid.uuid4()), "name": "Lab widget"})},
                                     "redirectURL": "", "headersSize": -1, "bodySize": -1}, "cache": {}, "timings": {}})
    return out


def test_new_families_get_a_spec_folder_like_the_others(updated: dict[str, Any]) -> None:
    roots = sorted((updated["tmp"] / "new").glob("nodoc-*/specification/openapi.yml"))
    assert roots, "no new family spec written"
    doc = yaml.safe_load(roots[0].read_text())
    assert doc["openapi"].startswith("3.0") and doc["info"]["title"] and doc["info"]["license"]
    assert all(s.get("description") for s in doc["servers"]) and doc["tags"] and doc["paths"]
    r = cli("match", str(updated["tmp"] / "cap"), "--specs", str(updated["specs"]), "--specs", str(updated["tmp"] / "new"),
            "--jsonl")
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert [m["url"] for m in rows if m["spec"] is None] == []
    new_ops = [op for item in doc["paths"].values() for m, op in item.items() if m in ("get", "post")]
    assert all(op["operationId"] and "x-nodoc-live-capture" in op for op in new_ops)
    assert len([m for m in updated["before"] if "newportal" in m["url"] and m["spec"] is None]) == 12


def test_removed_operations_come_back_and_nothing_else_moves(updated: dict[str, Any]) -> None:
    assert sum(len(v) for v in updated["removed"].values()) >= 100
    undocumented_before = [m for m in updated["before"] if m["spec"] is None and "newportal" not in m["url"]]
    assert len(undocumented_before) >= 200
    after = _matches(updated["tmp"] / "cap", updated["specs"])
    assert len(after) == len(updated["before"])
    still = [(m["method"], m["url"]) for m in after if m["spec"] is None and "newportal" not in m["url"]]
    assert len([m for m in after if "newportal" in m["url"] and m["spec"] is None]) == 12  # the new family's, until --specs DIR
    assert still == []
    moved = [(b["url"], b["template"], a["template"]) for b, a in zip(updated["before"], after)
             if b["spec"] is not None and (a["spec"], a["template"], a["operationId"]) != (b["spec"], b["template"], b["operationId"])]
    assert moved == []


def test_only_lines_added_in_each_files_own_place(updated: dict[str, Any]) -> None:
    changed = 0
    for p, old in updated["originals"].items():
        new = p.read_text()
        if new != old:
            changed += 1
            matcher = difflib.SequenceMatcher(None, old.splitlines(), new.splitlines(), autojunk=False)
            removed = [op for op in matcher.get_opcodes() if op[0] in ("delete", "replace")]
            assert removed == [], (p, removed[:3])  # every original line is still there, in order
    assert changed >= 10
    roots_after = _roots(updated["specs"])
    for root, before in updated["roots_before"].items():
        after = roots_after[root]
        paths_b, paths_a = before.get("paths") or {}, after.get("paths") or {}
        ref_style = paths_b and all(isinstance(v, dict) and set(v) == {"$ref"} for v in paths_b.values())
        if ref_style:  # a $ref-style root stays $ref-style: new path items went into sibling files
            assert all(isinstance(v, dict) and set(v) == {"$ref"} for v in paths_a.values()), root
        assert not [k for k, v in paths_a.items() if isinstance(v, dict) and "$ref" in v and len(v) > 1], root
    # the $ref lines sit in their file's group: after a line that refers to the same file
    text = (updated["specs"] / "nodoc-defender-xdr" / "specification" / "openapi.yml").read_text()
    old = updated["originals"][updated["specs"] / "nodoc-defender-xdr" / "specification" / "openapi.yml"]
    added = [i for i, ln in enumerate(difflib.ndiff(old.splitlines(), text.splitlines())) if ln.startswith("+ ")]
    lines = text.splitlines()
    for i in added:
        if lines[i].strip().startswith("$ref:"):
            file = lines[i].split("$ref:", 1)[1].strip().strip("'\"").split("#", 1)[0]
            prev_refs = [ln for ln in lines[:i - 1] if ln.strip().startswith("$ref:")]
            assert file in prev_refs[-1], (lines[i], prev_refs[-1])


def test_every_new_operation_is_named_in_its_specs_convention(updated: dict[str, Any]) -> None:
    index = SpecIndex.load([updated["specs"]])
    assert sum(1 for op in index.operations if not op.operation_id) == updated["unnamed_before"]  # no new one
    for spec in index.specs:
        ids = [op.operation_id for op in spec.operations if op.operation_id]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        assert dupes in ([], ["VulnerabilityManagement.ListChangeEvents"]), (spec.name, dupes)  # defender-xdr's, from before
    new = {d["operationId"] for d in _new_operations(updated["overlay"])}
    pp = [op.operation_id for op in index.operations if op.spec == "power-platform" and op.operation_id in new]
    dx = [op.operation_id for op in index.operations if op.spec == "defender-xdr" and op.operation_id in new]
    assert pp and dx
    assert all(re.match(r"^[A-Za-z]+_(get|post|put|patch|delete)_", i) for i in pp), pp  # generated convention kept
    assert all(re.match(r"^[A-Z][A-Za-z0-9]*(\.[A-Z][A-Za-z0-9]*)+$", i) for i in dx), dx  # Tag.VerbNoun kept


def _new_operations(overlay: Path) -> list[dict[str, Any]]:
    ops = []
    for d in yaml.safe_load_all(overlay.read_text()):
        for a in (d or {}).get("actions") or []:
            for key, item in (a.get("update") or {}).items():
                if key in ("get", "post", "put", "patch", "delete") and isinstance(item, dict):
                    ops.append(item)
                elif isinstance(item, dict):
                    ops += [v for m, v in item.items() if m in ("get", "post", "put", "patch", "delete")]
    return ops


def test_evidence_in_the_specs_own_shapes(updated: dict[str, Any]) -> None:
    ops = _new_operations(updated["overlay"])
    assert len(ops) >= 100
    for op in ops:
        live = op["x-nodoc-live-capture"]
        assert set(live) == {"source", "browsedPages"} and "tool" not in live
        assert all(p.startswith("https://") for p in live["browsedPages"])
        prov = op["x-nodoc-operation-context"]["provenance"]
        assert prov[0]["source"] == "live-portal-capture" and prov[0]["confidence"] == "high"
        assert op["operationId"] and op["summary"].split(" ", 1)[0] in {"List", "Get", "Create", "Update", "Delete", "Set"} \
            or op["summary"][0].isupper()
    # the spec's own components, where the observed shape is one of them (same property names and types)
    assert sum('#/components/schemas/' in json.dumps(op) for op in ops) >= 5
    # the portal's name as the spec's other operations give it
    intune = [op for op in ops if "Intune" in json.dumps(op) or "intune" in json.dumps(op["x-nodoc-live-capture"])]
    assert all(op["x-nodoc-live-capture"]["source"] == "authenticated Intune admin center" for op in intune
               if "intune.microsoft.com" in json.dumps(op["x-nodoc-live-capture"]["browsedPages"]))


def test_dry_run_prints_the_diff_and_a_second_update_changes_nothing(updated: dict[str, Any]) -> None:
    dry = updated["dry"]
    assert dry.returncode == 0 and dry.stdout.startswith("--- a/") and "\n+" in dry.stdout
    snapshot = {p: p.read_text() for p in updated["specs"].rglob("*.yml")}
    r = cli("update-spec", str(updated["overlay"]), "--specs", str(updated["specs"]), "--in-place")
    assert r.returncode == 0, r.stderr
    assert {p: p.read_text() for p in updated["specs"].rglob("*.yml")} == snapshot
    tmp = updated["tmp"]
    r = cli("report", str(tmp / "cap"), "--specs", str(updated["specs"]), "--out", str(tmp / "r2"), "--format", "json")
    assert r.returncode == 0, r.stderr
    again = json.loads((tmp / "r2" / "report.json").read_text())
    assert [u for u in again["undocumented"] if "newportal" not in u["host"]] == []


def test_redocly_finds_no_new_error_and_no_missing_operation_id(updated: dict[str, Any]) -> None:
    need_redocly()
    for name, before in updated["lint_before"].items():
        after = redocly(updated["specs"] / name / "specification" / "openapi.yml")
        assert before is not None and after is not None
        new_errors = {k: n for k, n in (after - before).items() if k[1] == "error"}
        assert new_errors == {}, (name, new_errors)
        assert after[("operation-operationId", "warn")] <= before[("operation-operationId", "warn")], name
