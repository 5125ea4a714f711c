"""The HTML report in a real headless Chromium: no console errors, the filter works, a screenshot."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from .portal import require_isolation
from .test_record_browser import CHROMIUM
from .test_report import demo_report  # noqa: F401 - the module-scoped fixture

pytestmark = [pytest.mark.browser, pytest.mark.network_ns]


def _chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed")
    argv = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}", "--enable-logging=stderr",
            "--v=0", "--virtual-time-budget=3000", *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120)


def test_html_report_filter_and_screenshot(demo_report: Path, tmp_path: Path) -> None:  # noqa: F811
    require_isolation()
    report = json.loads((demo_report / "report.json").read_text())
    html = demo_report / "report.html"
    r = _chromium("--dump-dom", html.as_uri(), profile=tmp_path / "p1")
    assert f'<span id="drift-count">{len(report["drift"])}</span>' in r.stdout
    assert not re.search(r"Uncaught|SyntaxError|Refused to", r.stderr), r.stderr[-2000:]
    r = _chromium("--dump-dom", html.as_uri() + "#q=accountenabled&kind=type_mismatch", profile=tmp_path / "p2")
    expected = sum(1 for d in report["drift"] if d["kind"] == "type_mismatch" and "accountEnabled" in d["pointer"])
    assert expected >= 1
    assert f'<span id="drift-count">{expected}</span>' in r.stdout
    shot = tmp_path / "report.png"
    _chromium(f"--screenshot={shot}", "--window-size=1280,1600", html.as_uri(), profile=tmp_path / "p3")
    assert shot.stat().st_size > 10000
    print(f"screenshot: {shot}")


def test_html_report_is_usable_at_10000_findings(demo_report: Path, tmp_path: Path) -> None:  # noqa: F811
    require_isolation()
    from portalspec.report.render_html import render_html

    report = json.loads((demo_report / "report.json").read_text())
    base = report["drift"][0]
    kinds = ["undocumented_property", "type_mismatch", "enum_value", "missing_required"]
    report["drift"] = [{**base, "id": f"drift-{i + 1}", "pointer": f"/value/*/field{i}", "kind": kinds[i % 4],
                        "severity": "warning", "calls": 10000 - i} for i in range(10000)]
    report["summary"]["drift_findings"] = 10000
    report["summary"]["drift_by_kind"] = {k: 2500 for k in kinds}
    page = tmp_path / "big.html"
    page.write_text(render_html(report))
    assert page.stat().st_size < 10 * 1024 * 1024
    from portalspec.report.render_html import DRIFT_PER_KIND

    r = _chromium("--dump-dom", page.as_uri() + "#q=field12&kind=enum_value", profile=tmp_path / "p")
    # The page lists the first DRIFT_PER_KIND findings of each kind; report.json holds all 10,000.
    listed = [i for i in range(10000) if i // 4 < DRIFT_PER_KIND]
    expected = sum(1 for i in listed if "field12" in f"field{i}" and i % 4 == 2)
    assert expected >= 2
    assert f'<span id="drift-count">{expected}</span>' in r.stdout
    assert f"({len(listed)} of 10000); report.json holds them all" in r.stdout
    assert not re.search(r"Uncaught|SyntaxError", r.stderr)
