"""Reports: the same facts in every format, no secrets, exit codes, and spec updates that round-trip."""

from __future__ import annotations

import difflib
import json
import re
import shutil
import subprocess
import sys
import uuid
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml
import pytest

from portalspec.importers import import_file
from portalspec.report.render_flows import STEPS_SHOWN, mermaid
from portalspec.shapes.drift import media_schema, response_for
from portalspec.specs.index import SpecIndex
from portalspec.synth import build_url, value_for

from .canary import Canaries, form_entries, har, portal_entry

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "portalspec.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


def schema() -> dict[str, Any]:
    return json.loads(resources.files("portalspec.report").joinpath("report.schema.json").read_text())


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo")
    shutil.copytree(ROOT / "specs", root / "specs")
    r = cli("demo", "--root", str(root), "--rebuild-capture", cwd=root)
    assert r.returncode == 0, r.stderr
    assert "HTML report: " in r.stdout and str(root / "reports" / "demo" / "report.html") in r.stdout
    return root / "reports" / "demo"


def test_demo_produces_every_format_and_a_valid_json(demo_report: Path) -> None:
    for name in ("report.json", "report.md", "report.html", "report.sarif", "spec-update.overlay.yaml"):
        assert (demo_report / name).stat().st_size > 200, name
    report = json.loads((demo_report / "report.json").read_text())
    jsonschema.validate(report, schema())
    s = report["summary"]
    assert s["calls"] == 16 and s["matched"] + s["undocumented"] == s["calls"]
    templates = {(u["method"], u["template"]) for u in report["undocumented"]}
    assert ("GET", "/api/auditLogs/signIns/{signInId}") in templates
    assert ("POST", "/api/users/{userId}/resetPassword") in templates
    kinds = {(d["kind"], d["pointer"]) for d in report["drift"]}
    assert ("undocumented_property", "/value/*/onPremisesSyncEnabled") in kinds
    assert ("type_mismatch", "/value/*/accountEnabled") in kinds
    assert ("undocumented_property", "/passkeyPolicy") in kinds
    methods = sorted(m["method"] for m in report["mutations"])
    assert methods == ["DELETE", "PATCH", "POST", "POST", "POST"]  # reads sent as POST count too
    reset = next(m for m in report["mutations"] if m["template"].endswith("resetPassword"))
    assert reset["request_example"]["body"]["newPassword"].startswith("<redacted:")
    assert "AjaxSessionKey" in reset["headers_profile"]["headers"] and "sccauth" in reset["headers_profile"]["cookies"]
    sarif = json.loads((demo_report / "report.sarif").read_text())
    results = sarif["runs"][0]["results"]  # GitHub refuses a file with one result it cannot place
    assert len(results) == len(report["drift"]) + len(report["undocumented"])
    assert all(r["locations"][0]["physicalLocation"]["region"]["startLine"] > 0 for r in results)


class _Numbers(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, list[str]] = {}
        self._key: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._key = dict(attrs).get("data-k")

    def handle_data(self, data: str) -> None:
        if self._key:
            self.values.setdefault(self._key, []).append(data.strip())
            self._key = None


def test_every_number_in_md_and_html_equals_the_json(demo_report: Path) -> None:
    report = json.loads((demo_report / "report.json").read_text())
    s = report["summary"]
    p = _Numbers()
    p.feed((demo_report / "report.html").read_text())
    for key in ("calls", "matched", "undocumented", "undocumented_templates", "blocked_writes", "mutations",
                "operations_seen", "drift_findings"):
        assert p.values[key] == [str(s[key])], key
    assert p.values["seen"] == [str(c["seen"]) for c in report["coverage"]]
    assert p.values["operations"] == [str(c["operations"]) for c in report["coverage"]]
    md = (demo_report / "report.md").read_text()
    table = dict(re.findall(r"^\| ([a-z ]+) \| ([^|]+) \|$", md, re.M))
    assert table["calls"] == str(s["calls"]) and table["matched"] == str(s["matched"])
    assert table["undocumented"] == str(s["undocumented"]) and table["drift findings"] == str(s["drift_findings"])
    assert table["operations seen"] == f"{s['operations_seen']} of {s['operations_total']}"
    assert table["blocked writes"] == str(s["blocked_writes"]) and table["mutations"] == str(s["mutations"])
    rows = re.findall(r"^\| <a id=\"drift-\d+\"></a>`([a-z_]+)` .*\| (\d+) \| \[example\]\(#drift-\d+-example\) \|$", md, re.M)
    assert [(k, int(n)) for k, n in rows] == [(d["kind"], d["calls"]) for d in report["drift"]]
    for target in set(re.findall(r"\(#(drift-\d+-example)\)", md)):
        assert f'id="{target}"' in md  # every example link lands on an example


def test_reports_carry_no_secret(tmp_path: Path) -> None:
    c = Canaries()
    src = tmp_path / "in.har"
    src.write_text(json.dumps(har([portal_entry(c), *form_entries(c)])))
    import_file(src, tmp_path / "cap", progress=False)
    src.unlink()
    r = cli("report", str(tmp_path / "cap"), "--specs", str(ROOT / "specs" / "demo"), "--out", str(tmp_path / "rep"))
    assert r.returncode == 0, r.stderr
    assert len(list((tmp_path / "rep").iterdir())) == 5
    assert c.leaks([tmp_path / "rep", tmp_path / "cap"]) == []
    assert c.leaks([Path("/dev/null")]) == []  # the check itself runs
    report = json.loads((tmp_path / "rep" / "report.json").read_text())
    jsonschema.validate(report, schema())
    assert report["summary"]["calls"] == 3 and report["mutations"]


def test_exit_codes(tmp_path: Path, demo_report: Path) -> None:
    cap = demo_report.parent.parent / "captures" / "demo"
    specs = demo_report.parent.parent / "specs" / "demo"
    assert cli("report", str(cap), "--specs", str(specs), "--out", str(tmp_path / "a"), "--format", "json").returncode == 0
    r = cli("report", str(cap), "--specs", str(specs), "--out", str(tmp_path / "b"), "--fail-on", "undocumented,drift")
    assert r.returncode == 1 and "undocumented, drift" in r.stderr
    assert cli("report", str(cap), "--specs", str(specs), "--out", str(tmp_path / "c"), "--fail-on", "blocked").returncode == 0
    r = cli("report", str(tmp_path / "missing"), "--specs", str(specs), "--out", str(tmp_path / "d"))
    assert r.returncode == 2 and "missing" in r.stderr and "Traceback" not in r.stderr
    r = cli("report", str(cap), "--specs", str(specs), "--out", str(tmp_path / "e"), "--format", "pdf")
    assert r.returncode == 2 and "pdf" in r.stderr


def _entry(method: str, url: str, status: int, resp: Any = None, body: Any = None) -> dict[str, Any]:
    req: dict[str, Any] = {"method": method, "url": url, "httpVersion": "HTTP/2", "headers": [
        {"name": "Referer", "value": "https://admin.cloud.microsoft/#/users"}], "cookies": [], "queryString": [],
        "headersSize": -1, "bodySize": -1}
    if body is not None:
        req["postData"] = {"mimeType": "application/json", "text": json.dumps(body)}
    return {"startedDateTime": "2026-11-20T10:00:00Z", "time": 1, "request": req,
            "response": {"status": status, "statusText": "", "httpVersion": "HTTP/2", "headers": [], "cookies": [],
                         "content": {"size": 0, "mimeType": "application/json", "text": json.dumps(resp) if resp is not None else ""},
                         "redirectURL": "", "headersSize": -1, "bodySize": -1}, "cache": {}, "timings": {}}


def test_overlay_round_trip_on_a_real_multi_file_spec(nodoc: Path, tmp_path: Path) -> None:
    spec_dir = tmp_path / "nodoc-m365-admin"
    shutil.copytree(nodoc / "nodoc-m365-admin", spec_dir)
    originals = {p: p.read_text() for p in spec_dir.rglob("*.yml")}
    index = SpecIndex.load([spec_dir], use_cache=False)
    entries = []
    planted = 0
    for op in index.operations:
        robj, found = response_for(op, 200)
        schema_ = media_schema((robj or {}).get("content"), "application/json")[0] if found and robj else None
        if planted >= 6 or not isinstance(schema_, dict) or "properties" not in schema_ or schema_.get("additionalProperties") is not None:
            continue
        body = value_for(schema_)
        body["portalspecObserved"] = "x"
        entries.append(_entry(op.method, build_url(op), 200, body))
        planted += 1
    assert planted >= 3
    for _ in range(3):
        entries.append(_entry("GET", f"https://admin.cloud.microsoft/admin/api/portalspec/widgets/{uuid.uuid4()}", 200,
                              {"id": str(uuid.uuid4()), "name": "w", "enabled": True}))
    entries.append(_entry("POST", "https://admin.cloud.microsoft/admin/api/portalspec/widgets", 201, {"id": "1"}, {"name": "w"}))
    (tmp_path / "m.har").write_text(json.dumps(har(entries)))
    import_file(tmp_path / "m.har", tmp_path / "cap", progress=False)

    def report(out: str) -> dict[str, Any]:
        r = cli("report", str(tmp_path / "cap"), "--specs", str(spec_dir), "--out", str(tmp_path / out), "--no-cache", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        doc = json.loads((tmp_path / out / "report.json").read_text())
        jsonschema.validate(doc, schema())
        return doc

    before = report("r1")
    ours = [u for u in before["undocumented"] if "/portalspec/" in u["template"]]
    assert {(u["method"], u["template"]) for u in ours} == {
        ("GET", "/admin/api/portalspec/widgets/{widgetId}"), ("POST", "/admin/api/portalspec/widgets")}
    observed = [d for d in before["drift"] if d["kind"] == "undocumented_property" and d["pointer"].endswith("/portalspecObserved")]
    assert len(observed) == planted
    r = cli("update-spec", str(tmp_path / "r1" / "spec-update.overlay.yaml"), "--specs", str(spec_dir), "--in-place", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    changed = 0
    for p, old in originals.items():
        new = p.read_text()
        if new != old:
            changed += 1
            removed = [l for l in difflib.ndiff(old.splitlines(), new.splitlines()) if l.startswith("- ")]
            assert removed == [], (p, removed[:3])  # every original line is still there, in order
    assert changed >= 2  # the root (new paths) and at least one component file
    after = report("r2")
    assert not [u for u in after["undocumented"] if "/portalspec/" in u["template"]]
    assert not [d for d in after["drift"] if d["pointer"].endswith("/portalspecObserved")]
    assert after["summary"]["operations_total"] == before["summary"]["operations_total"] + 2


def test_parallel_report_equals_serial(tmp_path: Path) -> None:
    from portalspec.report.build import build_facts
    from portalspec.report.document import to_report
    from portalspec.report.parallel import build_facts_parallel, plan_chunks

    entries = []
    for i in range(400):
        e = _entry("GET", f"https://admin.demo-portal.example/api/users/{uuid.UUID(int=i + 1)}", 200 if i % 7 else 404,
                   {"id": str(uuid.UUID(int=i + 1)), "displayName": "x", "userPrincipalName": "a@b.example", "extra": i})
        entries.append(e)
        entries.append(_entry("GET", f"https://admin.demo-portal.example/api/things/{i}", 200, {"n": i, "s": f"v{i % 3}"}))
        entries.append(_entry("POST", "https://admin.demo-portal.example/api/roleAssignments", 201,
                              {"principalId": str(uuid.UUID(int=i + 1)), "roleDefinitionId": "r"}, {"principalId": "p", "x": i}))
        for e in entries[-3:]:  # pages that change from range to range, several in one: the first ten are kept
            e["request"]["headers"][0]["value"] = f"https://admin.cloud.microsoft/p{i // 40}-{i % 3}"
    (tmp_path / "p.har").write_text(json.dumps(har(entries)))
    import_file(tmp_path / "p.har", tmp_path / "cap", progress=False)
    specs = [str(ROOT / "specs" / "demo")]
    index = SpecIndex.load(specs)
    assert len(plan_chunks([str(tmp_path / "cap")], chunk_bytes=20_000)) > 10
    serial = to_report(build_facts(index, [str(tmp_path / "cap")]))
    parallel = to_report(build_facts_parallel(index, specs, [str(tmp_path / "cap")], 2, chunk_bytes=20_000))
    assert serial["summary"]["calls"] == 1200 and serial["drift"] and serial["undocumented"]
    assert {len(o["browsed_pages"]) for o in serial["operations"] if o["calls"]} == {10}
    assert {len(u["browsed_pages"]) for u in serial["undocumented"]} == {10}
    assert parallel == serial


def test_a_worker_makes_no_example_an_earlier_range_of_the_same_report_made(tmp_path: Path) -> None:
    """A worker process keeps what it made across the ranges it reads for one report and makes no example
    the merge would drop; a later report starts afresh (its ranges are read again in the same process)."""
    from portalspec.report.build import Facts, build_facts, spec_words
    from portalspec.report.document import to_report
    from portalspec.report.parallel import _worker, merge_into, plan_chunks
    from portalspec.shapes.paths import TemplateInferrer
    from portalspec.writeflows.collect import FlowCollector

    entries = []
    for i in range(300):
        entries.append(_entry("POST", "https://admin.demo-portal.example/api/roleAssignments", 201,
                              {"principalId": str(uuid.UUID(int=i + 1)), "roleDefinitionId": "r"}, {"principalId": "p", "x": i}))
        entries.append(_entry("GET", f"https://admin.demo-portal.example/api/users/{uuid.UUID(int=i + 1)}", 200,
                              {"id": str(uuid.UUID(int=i + 1)), "displayName": i, "userPrincipalName": "a@b.example"}))
    (tmp_path / "p.har").write_text(json.dumps(har(entries)))
    import_file(tmp_path / "p.har", tmp_path / "cap", progress=False)
    specs = [str(ROOT / "specs" / "demo")]
    index = SpecIndex.load(specs)
    chunks = plan_chunks([str(tmp_path / "cap")], chunk_bytes=20_000)
    serial = to_report(build_facts(index, [str(tmp_path / "cap")]))
    assert len(chunks) > 5 and serial["mutations"] and serial["drift"]
    for run in ("first", "second"):
        total = Facts(index=index, captures=[str(tmp_path / "cap")], flows=FlowCollector(spill=True),
                      inferrer=TemplateInferrer(*spec_words(index)))
        parts = [_worker(specs, c, 60.0, run) for c in chunks]
        assert all(st.mutation_example is None for p in parts[1:] for st in p.ops.values())  # the first range made them
        assert all(a.example is None for p in parts[1:] for a in p.findings.values()) and parts[-1].findings
        for p in parts:
            merge_into(total, p, index)
        assert to_report(total) == serial


def test_chunks_are_newline_aligned_and_numbered(tmp_path: Path) -> None:
    from portalspec.fixtures.store import CaptureWriter
    from portalspec.report.parallel import plan_chunks

    with CaptureWriter(tmp_path / "cap", kind="t", fsync="batch", shard_bytes=100_000) as w:
        for i in range(3000):
            w.append({"request": {"method": "GET", "url": f"https://h.example/{i}" + "x" * (i % 97)}, "response": {}})
    shards = sorted((tmp_path / "cap").glob("entries-*.jsonl"))
    assert len(shards) > 2
    for cb in (1000, 50_000, 10**9):
        chunks = plan_chunks([str(tmp_path / "cap")], cb)
        for shard in shards:
            data = shard.read_bytes()
            mine = [c for c in chunks if c.shard == str(shard)]
            assert mine[0].start == 0 and mine[-1].end == len(data)
            for a, b in zip(mine, mine[1:]):
                assert a.end == b.start and data[a.end - 1:a.end] == b"\n"
            for c in mine:
                assert c.first_line == data[:c.start].count(b"\n") + 1


def test_broken_ref_is_told_by_match_and_report(tmp_path: Path, demo_report: Path) -> None:
    """A path item whose ``$ref`` is broken loses its operations: match and report say so on stderr,
    report.md and the HTML say so at the top, and ``--fail-on spec_errors`` exits 1."""
    cap = demo_report.parent.parent / "captures" / "demo"
    specs = tmp_path / "specs"
    shutil.copytree(demo_report.parent.parent / "specs" / "demo", specs)
    root = specs / "openapi.yml"
    text = root.read_text()
    first = re.search(r"\$ref: ['\"]?paths\.yml#/([^'\"\n]+)", text)
    assert first is not None
    root.write_text(text.replace(first.group(0), first.group(0).replace("paths.yml#/", "paths.yml#/nowhere-"), 1))
    r = cli("match", str(cap), "--specs", str(specs), "--no-cache")
    assert r.returncode == 0 and r.stderr.count("spec error: demo") >= 2 and "nowhere-" in r.stderr
    r = cli("report", str(cap), "--specs", str(specs), "--out", str(tmp_path / "r"), "--fail-on", "spec_errors")
    assert r.returncode == 1 and "spec_errors" in r.stderr and "nowhere-" in r.stderr
    rep = json.loads((tmp_path / "r" / "report.json").read_text())
    jsonschema.validate(rep, schema())
    assert rep["summary"]["spec_errors"] == 1 and rep["summary"]["spec_paths_lost"] == 1
    md = (tmp_path / "r" / "report.md").read_text()
    assert md.index("Spec errors: 1") < md.index("## Summary") and "1 path items lost" in md
    html = (tmp_path / "r" / "report.html").read_text()
    assert html.index('id="spec-errors"') < html.index('id="summary"') and "nowhere-" in html
    ok = cli("report", str(cap), "--specs", str(demo_report.parent.parent / "specs" / "demo"), "--out",
             str(tmp_path / "ok"), "--fail-on", "spec_errors")
    assert ok.returncode == 0 and "spec error" not in ok.stderr


def test_update_spec_refuses_a_change_that_adds_a_validation_error(tmp_path: Path) -> None:
    specs = tmp_path / "demo"
    shutil.copytree(ROOT / "specs" / "demo", specs)
    before = {p: p.read_text() for p in specs.iterdir()}
    bad = {"overlay": "1.0.0", "info": {"title": "t", "version": "1"}, "extends": str(specs / "paths.yml"),
           "actions": [{"target": "$['paths']['/users']", "update": {"put": {"summary": "no responses"}}}]}
    good = {**bad, "actions": [{"target": "$['paths']['/users']", "update": {
        "put": {"operationId": "Users.Replace", "responses": {"200": {"description": "OK"}}}}}]}
    for name, doc in (("bad", bad), ("good", good)):
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(doc))
    r = cli("update-spec", str(tmp_path / "bad.yaml"), "--specs", str(specs), "--in-place")
    assert r.returncode == 2 and "refused" in r.stderr and "responses" in r.stderr and "Traceback" not in r.stderr
    assert {p: p.read_text() for p in specs.iterdir()} == before
    r = cli("update-spec", str(tmp_path / "bad.yaml"), "--specs", str(specs))
    assert r.returncode == 1 and "+    put:" in r.stdout and "refused" in r.stderr
    r = cli("update-spec", str(tmp_path / "good.yaml"), "--specs", str(specs), "--in-place")
    assert r.returncode == 0 and "Users.Replace" in (specs / "paths.yml").read_text()


def test_a_flow_names_an_undocumented_step_whatever_the_url_spells_its_host(tmp_path: Path) -> None:
    """A flow's undocumented step gets the template the report inferred for its endpoint also when the
    URL writes a default port (the flow used to split the URL its own way, so host keys differed)."""
    from portalspec.report.build import build_facts
    from portalspec.report.document import to_report

    base = "https://admin.demo-portal.example:443/api/widgetGroups"
    entries = []
    for i in range(6):
        gid = str(uuid.UUID(int=i + 7))
        entries.append(_entry("POST", base, 201, {"id": gid}, {"name": f"group {i}"}))
        entries.append(_entry("GET", f"{base}/{gid}/members", 200, {"value": []}))
    (tmp_path / "w.har").write_text(json.dumps(har(entries)))
    import_file(tmp_path / "w.har", tmp_path / "cap", progress=False)
    report = to_report(build_facts(SpecIndex.load([str(ROOT / "specs" / "demo")]), [str(tmp_path / "cap")]))
    templates = {u["template"] for u in report["undocumented"]}
    assert any(t.endswith("/members") and "{" in t for t in templates), templates
    steps = [s for f in report["flows"] for s in f["steps"]]
    assert steps and all(s["template"] in templates for s in steps), [(s["method"], s["template"]) for s in steps]
    assert any(lk["to"]["pointer"] != "segment 3" and lk["to"]["location"] == "path"
               for f in report["flows"] for lk in f["lineage"])


@pytest.mark.parametrize("chars", ["segment/", "😀/", "a"])
def test_a_long_flow_diagram_stays_within_what_mermaid_draws(chars: str) -> None:
    """Mermaid refuses a diagram over 50,000 characters (UTF-16 code units): a flow's diagram draws the steps
    that fit and says how many report.json holds besides; a short flow is drawn whole."""
    steps = [{"index": n, "method": "PATCH", "url": "https://h.example/api/" + chars * 40 + str(n), "template": None,
              "operationId": None, "status": 200, "blocked": True, "synthetic": "echo", "role": "write"} for n in range(1, 301)]
    links = [{"from": {"step": n - 1, "location": "body", "pointer": "/" + chars * 30 + str(k)},
              "to": {"step": n, "location": "body", "pointer": "/p/" + chars * 30 + str(k)}} for n in range(2, 301) for k in range(8)]
    text = mermaid({"steps": steps, "lineage": links})
    body = text.removeprefix("```mermaid\n").removesuffix("```")
    assert len(body.encode("utf-16-le")) // 2 <= 50_000
    drawn = text.count("Page->>API:")
    more = re.findall(r"Note over Page,API: (\d+) more steps in report.json", text)
    assert 5 < drawn < STEPS_SHOWN and more == [str(300 - drawn)]
    assert [int(x) for x in re.findall(r"Page->>API: (\d+) PATCH", text)] == list(range(1, drawn + 1))
    short = mermaid({"steps": steps[:3], "lineage": links[:8]})
    assert short.count("Page->>API:") == 3 and "more steps" not in short and short.count("Note over") == 6  # of its 8 links, a step shows 6


def test_flows_are_listed_by_kind_and_each_kind_drawn_once(demo_report: Path) -> None:
    """Markdown and HTML list the kinds of flows, the most common first, and draw each of the most common
    once, by its flow that traces the most values; a kind making many writes names its first twelve."""
    from portalspec.report.render_html import render_html
    from portalspec.report.render_md import render_markdown

    report = json.loads((demo_report / "report.json").read_text())
    base = report["flows"][0]
    write = next(st for st in base["steps"] if st["role"] == "write")

    def flow(n: int, kind: int, links: int) -> dict[str, Any]:
        writes = 30 if kind == 0 else 1
        steps = [{**write, "index": i, "template": f"/api/k{kind}/w{i}"} for i in range(1, writes + 1)]
        return {**base, "id": f"flow-{n}", "steps": steps, "lineage": base["lineage"][:links]}

    plan = [0] * 2 + [1] * 5 + [2] * 3 + list(range(3, 40))  # kinds 1, 2 and 0 most common, then 37 of one flow
    report["flows"] = [flow(n, k, (n % 3) if k == 1 else 0) for n, k in enumerate(plan, 1)]
    report["flow_kinds"] = [{"writes": ["made up"], "flows": 1, "pages": 1, "example": "flow-1", "first": "flow-1"}]
    for r in [report]:  # a report read back lists the kinds of its flows as they are
        md, page = render_markdown(r), render_html(r)
        drawn_md = re.findall(r'(?m)^### <a id="(flow-\d+)"></a>', md)
        drawn_html = re.findall(r'<details class="flow" id="(flow-\d+)"', page)
        assert drawn_md == drawn_html and len(drawn_md) == 20
        assert drawn_md[:3] == ["flow-5", "flow-8", "flow-1"]  # kind 1 by its flow tracing the most values, then 2, 0
        assert "47 flows of 40 kinds." in md and "47 flows of 40 kinds." in page
        assert "The 20 most common of 40 kinds are drawn; report.json holds every flow." in md
        rows = re.findall(r"(?m)^\| (`POST /api/k\d+/w1`.*) \| (\d+) \| 1 \| (\[?flow-\d+)", md)
        assert [int(n) for _, n, _ in rows] == [5, 3, 2] + [1] * 37
        assert rows[2][0].endswith("`POST /api/k0/w12` → … 18 more") and "/api/k0/w13" not in md.split("### ")[0]
        assert [x.lstrip("[") for _, _, x in rows if x.startswith("[")] == drawn_md  # the drawn ones link to them
        assert page.count('<table class="kinds">') == 1 and page.count("→ … 18 more") == 1
        assert set(re.findall(r'<a href="#(flow-\d+)">', page)) == set(drawn_md)


def test_a_long_flow_says_what_its_drawing_and_tables_leave_out(demo_report: Path) -> None:
    """A flow longer than a diagram draws, or with more traced values than its table lists, says how many
    more report.json holds, in Markdown and in HTML; the demo's short flow says nothing of the kind."""
    from portalspec.report.render_flows import LINKS_LISTED
    from portalspec.report.render_html import render_html
    from portalspec.report.render_md import render_markdown

    report = json.loads((demo_report / "report.json").read_text())
    md, page = render_markdown(report), render_html(report)
    assert report["flows"] and "more steps in report.json" not in md + page and "traced values are listed" not in md + page
    base = report["flows"][0]
    steps = [{**base["steps"][0], "index": n} for n in range(1, 201)]
    links = [{"from": {"step": n - 1, "location": "body", "pointer": f"/value/{k}/id"},
              "to": {"step": n, "location": "query", "pointer": f"id{k}"}} for n in range(2, 42) for k in range(2)]
    report["flows"] = [{**base, "id": "flow-long", "steps": steps, "lineage": links}]
    md, page = render_markdown(report), render_html(report)
    drawn_md = md.count("Page->>API:")
    assert f"{200 - drawn_md} more steps in report.json" in md
    assert page.count('class="step"') == STEPS_SHOWN and f"{200 - STEPS_SHOWN} more steps in report.json</text>" in page
    listed = f"The first {LINKS_LISTED} of {len(links)} traced values are listed; report.json holds them all."
    assert md.count(listed) == 1 and page.count(listed) == 1
    assert md.count("\n| step ") == LINKS_LISTED and page.count("<tr><td>step ") == LINKS_LISTED


def _day_sized(report: dict[str, Any], n: int) -> dict[str, Any]:
    """The demo report with ``n`` times as much of everything a listing lists, each item big (schemas,
    example calls, 300-step flows), across 20 specs."""
    r = json.loads(json.dumps(report))
    big = {"value": [{"id": str(uuid.UUID(int=i)), "displayName": "x" * 60} for i in range(120)]}
    u0, d0, m0, f0, o0, c0 = (r[k][0] for k in ("undocumented", "drift", "mutations", "flows", "operations", "coverage"))
    r["undocumented"], groups = [], []
    for s in range(20):
        ids = [f"undoc:GET:h{s}.example/api/{k}/{{id}}" for k in range(n)]
        r["undocumented"] += [{**u0, "id": i, "template": i.split("example", 1)[1], "calls": n - k, "request_schema": big,
                               "example": {**u0["example"], "response": big}} for k, i in enumerate(ids)]
        groups.append({**r["by_spec"][0], "spec": f"spec-{s}", "undocumented_endpoints": n, "drift": n,
                       "hosts": [{"host": f"h{s}.example", "calls": n, "prefixes": [
                           {"prefix": f"/api/p{p}", "calls": 1, "endpoints": ids[p::4]} for p in range(4)]}]})
    r["by_spec"] = groups
    r["drift"] = [{**d0, "id": f"drift-{i}", "pointer": f"/value/{i}", "severity": ("warning", "error", "info")[i % 3],
                   "example": {**d0["example"], "ref": {"line": i}, "response": big}} for i in range(n * 20)]
    r["mutations"] = [{**m0, "template": f"/api/m/{i}", "response_example": big} for i in range(n * 5)]
    steps = [{**f0["steps"][0], "index": k, "url": f"https://h.example/api/{'s' * 80}/{k}"} for k in range(1, 301)]
    links = [{"from": {"step": k - 1, "location": "body", "pointer": f"/value/{j}/id"},
              "to": {"step": k, "location": "body", "pointer": f"/items/{j}/id"}} for k in range(2, 301) for j in range(6)]
    r["flows"] = [{**f0, "id": f"flow-{i}", "steps": [{**steps[0], "method": "POST", "role": "write", "template": f"/api/w/{i % 50}"},
                                                      *steps[1:]], "lineage": links} for i in range(1, 101)]  # 50 kinds
    r.pop("flow_kinds", None)
    r["operations"] = [{**o0, "operationId": f"Op{i}", "path": f"/api/op/{i}"} for i in range(n * 50)]
    r["coverage"] = [{**c0, "spec": f"spec-{s}", "never_seen": [f"GET /api/never/{i}" for i in range(n * 10)]} for s in range(20)]
    r["code_routes"] = [{"method": "GET", "template": f"/api/code/{i}", "hosts": ["h.example"], "bundles": ["main.js"],
                         "documented": i % 2 == 0, "called": False, "spec": "spec-0", "operationId": None} for i in range(n * 50)]
    r["session_headers"] = [{"spec": f"spec-{i % 20}", "header": f"x-h-{i}", "calls": 9, "of": 9} for i in range(n * 5)]
    return r


def test_markdown_stays_within_what_github_renders(demo_report: Path) -> None:
    """GitHub renders Markdown of at most 400 KB. A report of any size stays within it: every listing shows
    its first rows (each has some), says how many more report.json holds, and every link in it leads to an
    anchor in it; a report that fits is listed whole."""
    from portalspec.report.render_md import MD_MAX_BYTES, render_markdown

    report = json.loads((demo_report / "report.json").read_text())
    small = render_markdown(report)
    assert "report.json holds them all" not in small and "more in report.json" not in small
    assert all(f'<a id="{d["id"]}"></a>' in small for d in report["drift"]) and small.count("[example](#") == len(report["drift"])
    for n in (40, 400):
        r = _day_sized(report, n)
        md = render_markdown(r)
        assert MD_MAX_BYTES - 60_000 < len(md.encode()) <= MD_MAX_BYTES, len(md.encode())
        rows = {"drift findings": len(re.findall(r'\| <a id="drift-\d+"></a>', md)),
                "mutations": len(re.findall(r"(?m)^### `[A-Z]+ /api/m/", md)),
                "operations seen": len(re.findall(r"(?m)^\| demo-admin \| Op\d+ ", md)),
                "routes seen in code, never called": len(re.findall(r"(?m)^\| GET \| `/api/code/\d*[13579]` ", md)),
                "documented routes in code not exercised": len(re.findall(r"(?m)^\| spec-0 \| - \| GET \| `/api/code/", md)),
                "session headers": len(re.findall(r"(?m)^\| spec-\d+ \| `x-h-", md))}
        for what, shown in rows.items():
            total = {"drift findings": len(r["drift"]), "mutations": len(r["mutations"]), "operations seen": len(r["operations"]),
                     "routes seen in code, never called": len(r["code_routes"]) // 2,
                     "documented routes in code not exercised": len(r["code_routes"]) // 2,
                     "session headers": len(r["session_headers"])}[what]
            some = f"The {shown} most severe of" if what == "drift findings" else f"The first {shown} of"
            note = f"{some} {total} {what} are listed here; report.json holds them all."
            assert 0 < shown <= total and md.count(note) == (shown < total), what
            assert shown < total or n < 400, what
        listed_drift = [int(x) for x in re.findall(r'\| <a id="drift-(\d+)"></a>', md)]
        severe = sorted(range(len(r["drift"])), key=lambda i: ({"error": 0, "warning": 1}.get(r["drift"][i]["severity"], 2), i))
        assert sorted(listed_drift) == sorted(severe[:len(listed_drift)])  # the most severe, errors first
        drawn = re.findall(r'(?m)^### <a id="(flow-\d+)"></a>\1:', md)
        assert 0 < len(drawn) < 20 and f"The {len(drawn)} most common of 50 kinds are drawn; report.json holds every flow." in md
        assert set(re.findall(r"\]\(#(flow-\d+)\)", md)) == set(drawn) and len(set(drawn)) == len(drawn)
        kinds_listed = len(re.findall(r"(?m)^\| `POST /api/w/\d+` \| 2 \| 1 \| ", md))
        assert len(drawn) <= kinds_listed and (kinds_listed == 50 or f"The {kinds_listed} most common of 50 kinds are listed here" in md)
        assert md.count("```mermaid") == len(drawn) + 3 and md.count("```") % 2 == 0  # the charts, and no block cut short
        for s in range(20):
            listed = len(re.findall(rf"(?m)^\| GET \| <a id=\"undoc-get-h{s}-example", md))
            assert 0 < listed <= n and (f"The {listed} most called of {n} undocumented endpoints are listed here" in md) == (listed < n)
            assert listed < n or n < 400, s
            assert f"## <a id=\"spec-spec-{s}\"></a>" in md
        never = [len(re.findall(rf"(?m)^- `GET /api/never/", part)) for part in md.split("operations never seen</summary>")[1:]]
        more = [int(x) for x in re.findall(r"- … (\d+) more in report.json", md)]
        assert len(never) == 20 and all(never) and sum(never) + sum(more) == 20 * n * 10
        assert len(more) == 20 or n < 400
        anchors = set(re.findall(r'<a id="([^"]+)"></a>', md))
        assert set(re.findall(r"\[example\]\(#([^)]+)\)", md)) <= anchors
        assert {a["anchor"] for a in r["attention"]} - {"mutations"} <= anchors
        _parses_as_written(md)


def _parses_as_written(md: str) -> None:
    """What a GFM parser (markdown-it's, as GitHub's cmark-gfm reads tables) makes of the Markdown: each drift
    row a table row, each "listed here" note a paragraph of its own (not a row of the table above it),
    each Mermaid block a code block of its own, every details element closed."""
    from markdown_it import MarkdownIt

    page = MarkdownIt("gfm-like", {"linkify": False}).disable("linkify").render(md)
    assert len(re.findall(r'<tr>\s*<td><a id="drift-\d+"></a>', page)) == len(re.findall(r'(?m)^\| <a id="drift-\d+"></a>', md))
    notes = re.findall(r"(?m)^((?:The|None of the) .*(?:are listed here|drawn);.*)$", md)
    assert notes and all(f"<p>{n}</p>" in page for n in notes), notes
    assert page.count('<code class="language-mermaid">') == md.count("```mermaid")
    assert md.count("<details>") == md.count("</details>")
