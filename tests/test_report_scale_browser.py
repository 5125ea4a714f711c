"""The report of a day across all nodoc portals, read in a real headless Chromium through the DevTools
protocol: a section per spec, the contents, the charts, a filter typed into, no sideways scrolling."""

from __future__ import annotations

import base64
import json
import os
import random
import re
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from portalspec.cli import main as cli_main
from portalspec.report.groups import anchor, spec_anchor
from portalspec.report.render_flows import FLOWS_SHOWN
from portalspec.report.render_html import DRIFT_PER_KIND
from portalspec.specs.index import SpecIndex
from portalspec.synth import older_specs, plant_drift, traffic, unserved_calls

from .portal import require_isolation
from .test_report_browser import _drawn_by_mermaid
from .test_record_attach import DebuggedChromium, User

pytestmark = [pytest.mark.browser, pytest.mark.network_ns]
ROOT = Path(__file__).resolve().parent.parent
WIDTH = 1280


@pytest.fixture(scope="module")
def day_report(nodoc: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("day")
    removed = older_specs(nodoc, tmp / "older", every=7)
    assert sum(len(v) for v in removed.values()) > 100
    index = SpecIndex.load([nodoc], use_cache=False)
    rng = random.Random(5)
    ops = [op for op in index.operations if rng.random() < 0.7]  # a day does not call everything
    entries = traffic(ops, per_op=2, seed=11)
    plant_drift(entries, rng)
    entries += unserved_calls(40)
    har = tmp / "day.har"
    har.write_text(json.dumps({"log": {"version": "1.2", "creator": {"name": "test", "version": "1"}, "entries": entries}}))
    assert cli_main(["import", str(har), "--out", str(tmp / "cap")]) == 0
    assert cli_main(["report", str(tmp / "cap"), "--specs", str(tmp / "older"), "--out", str(tmp / "report"),
                     "--format", "html,json,md", "--no-cache"]) == 0
    return tmp / "report"


def _eval(user: User, expr: str) -> Any:
    r = user.client.send("Runtime.evaluate", {"expression": expr, "returnByValue": True}, session=user.session)
    if "exceptionDetails" in r:
        raise AssertionError(r["exceptionDetails"])
    return r["result"].get("value")


def test_day_report_reads_in_chromium(day_report: Path, tmp_path: Path) -> None:
    require_isolation()
    report = json.loads((day_report / "report.json").read_text())
    s = report["summary"]
    assert s["calls"] > 2500 and len(report["specs"]) >= 20
    assert s["undocumented_templates"] > 50 and s["drift_findings"] > 100
    with_findings = [g for g in report["by_spec"] if g["calls"] or g["undocumented_endpoints"] or g["drift"]]
    assert len(with_findings) >= 15 and with_findings[-1]["spec"] is None  # the unserved host's own group, last
    html = day_report / "report.html"
    assert html.stat().st_size < 10 * 1024 * 1024

    browser = DebuggedChromium(tmp_path / "profile", f"--window-size={WIDTH},900")
    try:
        user = User(browser.endpoint)
        user.client.send("Emulation.setDeviceMetricsOverride", {"width": WIDTH, "height": 900, "deviceScaleFactor": 1,
                                                                "mobile": False}, session=user.session)
        user.client.send("Page.enable", session=user.session)
        t0 = time.monotonic()
        user.open(html.as_uri())
        user.wait_text("document.readyState === 'complete' && document.getElementById('shown-count').textContent",
                       ("",), timeout=30)
        deadline = time.time() + 30
        while not _eval(user, "document.getElementById('shown-count').textContent") and time.time() < deadline:
            time.sleep(0.05)
        opened = time.monotonic() - t0

        # One section per spec with findings, each in the contents.
        sections = _eval(user, "[...document.querySelectorAll('section.spec')].map(s => s.id)")
        assert sections == [spec_anchor(g) for g in with_findings]
        toc = _eval(user, "[...document.querySelectorAll('#toc a')].map(a => a.getAttribute('href'))")
        assert all(f"#{sid}" in toc for sid in sections)
        counts = _eval(user, "[...document.querySelectorAll('section.spec .spec-counts')].map(p => p.textContent)")
        assert all(f"{g['calls']} calls" in c for g, c in zip(with_findings, counts))
        # The pictures: SVG drawn by the report, with marks in them.
        charts = _eval(user, "[...document.querySelectorAll('svg.chart')].map(c => [c.getAttribute('class'), "
                             "c.querySelectorAll('rect, path').length])")
        kinds = {c[0].split()[1]: c[1] for c in charts}
        assert {"coverage", "drift", "timeline"} <= set(kinds) and all(n > 5 for n in kinds.values()), charts

        # A filter typed into narrows the drift table, and its count says so.
        listed = int(_eval(user, "document.getElementById('drift-count').textContent"))
        assert listed == sum(min(DRIFT_PER_KIND, n) for n in s["drift_by_kind"].values())
        _eval(user, "document.getElementById('q').focus()")
        user.client.send("Input.insertText", {"text": "portalspecUnexpected"}, session=user.session)
        narrowed = int(_eval(user, "document.getElementById('drift-count').textContent"))
        visible = _eval(user, "[...document.querySelectorAll('#drift-table tbody tr')]"
                              ".filter(r => r.style.display !== 'none').map(r => r.textContent.includes('portalspecUnexpected'))")
        assert 0 < narrowed < listed and len(visible) == narrowed and all(visible)
        expected = [d for d in report["drift"] if d["pointer"].endswith("/portalspecUnexpected")]
        assert narrowed >= min(len(expected), DRIFT_PER_KIND)
        # And the spec filter on top of it: only that spec's rows.
        spec = next(g["spec"] for g in with_findings if g["drift"])
        _eval(user, f"(s => {{ s.value = {json.dumps(spec)}; s.dispatchEvent(new Event('change')); }})"
                    "(document.getElementById('f-spec'))")
        rows_specs = set(_eval(user, "[...document.querySelectorAll('#drift-table tbody tr')]"
                                     ".filter(r => r.style.display !== 'none').map(r => r.dataset.spec)"))
        assert rows_specs <= {spec}
        _eval(user, "(s => { s.value = ''; s.dispatchEvent(new Event('change')); })(document.getElementById('f-spec'))")
        _eval(user, "(q => { q.value = ''; q.dispatchEvent(new Event('input')); })(document.getElementById('q'))")
        assert int(_eval(user, "document.getElementById('drift-count').textContent")) == listed

        # No sideways scrolling at 1280 px.
        width = _eval(user, "[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[1] == WIDTH and width[0] <= width[1], width

        shot = user.client.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True,
                                                           "clip": {"x": 0, "y": 0, "width": WIDTH, "height": 2200,
                                                                    "scale": 1}}, session=user.session)
        user.client.close()
    finally:
        browser.close()
    png = base64.b64decode(shot["data"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 50_000
    artifacts = Path(os.environ.get("PORTALSPEC_ARTIFACTS") or ROOT / "tests" / "artifacts")
    artifacts.mkdir(parents=True, exist_ok=True)
    (artifacts / "report-day.png").write_bytes(png)
    if os.environ.get("PORTALSPEC_UPDATE_SCREENSHOT"):  # the README's picture
        shutil.copyfile(artifacts / "report-day.png", ROOT / "docs" / "report-day.png")
    print(f"report of {s['calls']} calls opened in {opened:.2f} s; screenshot {artifacts / 'report-day.png'}")


def test_day_report_markdown_diagrams_are_drawn_by_mermaid(day_report: Path, tmp_path: Path) -> None:
    """Every Mermaid block of the day's Markdown report (its charts and the write flows drawn) is drawn by
    Mermaid itself, none refused."""
    require_isolation()
    report = json.loads((day_report / "report.json").read_text())
    blocks = re.findall(r"```mermaid\n(.*?)```", (day_report / "report.md").read_text(), re.S)
    flows = [b for b in blocks if b.startswith("sequenceDiagram")]
    assert report["flows"] and 0 < len(flows) <= min(len(report["flows"]), FLOWS_SHOWN) and len(blocks) > len(flows)
    for block, drawn in zip(blocks, _drawn_by_mermaid(blocks, tmp_path)):
        assert "error" not in drawn and drawn["texts"], (block[:200], drawn)
        assert not any("Syntax error" in t or "Maximum text size" in t for t in drawn["texts"]), block[:200]


def test_day_report_markdown_is_within_what_github_renders(day_report: Path) -> None:
    """The day's Markdown stays within the 400 KB GitHub renders; what it leaves out it counts, and each
    drift finding and undocumented endpoint it lists is report.json's, each example link leads to its example."""
    from portalspec.report.render_md import MD_MAX_BYTES

    report = json.loads((day_report / "report.json").read_text())
    md = (day_report / "report.md").read_text()
    assert len(md.encode()) <= MD_MAX_BYTES
    drift = re.findall(r'\| <a id="(drift-\d+)"></a>', md)
    rank = {"error": 0, "warning": 1, "info": 2}
    severe = [d["id"] for d in sorted(report["drift"], key=lambda d: rank[d["severity"]])]  # stable: the report's order
    assert 0 < len(drift) < len(report["drift"]) and sorted(drift) == sorted(severe[:len(drift)])
    assert drift == [d["id"] for d in report["drift"] if d["id"] in set(drift)]  # listed in the report's order
    assert f"The {len(drift)} most severe of {len(report['drift'])} drift findings are listed here; report.json holds them all." in md
    anchors = set(re.findall(r'<a id="([^"]+)"></a>', md))
    assert set(re.findall(r"\[example\]\(#([^)]+)\)", md)) <= anchors
    undoc = {u["id"] for u in report["undocumented"]}
    listed = [u for u in undoc if f'<a id="{anchor(u)}"></a>' in md]
    assert len(listed) > len(undoc) // 2  # undocumented endpoints come first
    drawn = re.findall(r'(?m)^### <a id="(flow-\d+)"></a>', md)
    kinds = report["flow_kinds"]
    assert len(drawn) == md.count("```mermaid\nsequenceDiagram") and 0 < len(drawn) <= min(len(kinds), FLOWS_SHOWN)
    assert drawn == [k["example"] for k in kinds[:len(drawn)]]  # the most common kinds, each by its example
    assert len(drawn) == len(kinds) or f"The {len(drawn)} most common of {len(kinds)} kinds are drawn" in md
    assert sum(k["flows"] for k in kinds) == len(report["flows"]) == report["summary"]["flows"]
