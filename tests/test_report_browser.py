"""The HTML report in a real headless Chromium: no console errors, the filter works, a screenshot."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from portalspec.report.render_flows import mermaid_text
from portalspec.report.render_md import render_markdown

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


MERMAID = Path(__file__).resolve().parent.parent / ".tools" / "mermaid" / "mermaid.min.js"
# Characters a portal's URLs, templates and JSON keys can hold that Mermaid's own syntax uses.
AWKWARD = ["a;b", "x#y", "<script>document.title='ran'</script>", 'q"uote', "it's", "{id}", "a--b", "a->>b", "a-->>b",
           "k:v", "end", "x\\y", "`tick`", "é€😀", "a&b", "<br>", "$x", "a|b", "line\nbreak", "%0A%3B", "loop", "alt",
           "Note over", "participant X", "%%comment", "a)b(c", "+x", "-x"]


def _drawn_by_mermaid(blocks: list[str], tmp_path: Path) -> list[dict[str, Any]]:
    """Each Mermaid block drawn by Mermaid's own bundle in Chromium, as Markdown viewers draw them
    (``mermaid.run`` on the block's text): its error, or its SVG's text elements."""
    if not MERMAID.exists():
        msg = "mermaid.min.js is not installed: `make test` fetches it when npm is present"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    page = tmp_path / "mermaid.html"
    shutil.copy(MERMAID, tmp_path / "mermaid.min.js")
    pres = "".join(f'<pre class="mermaid">{html.escape(b)}</pre>' for b in blocks)
    page.write_text(f"""<!doctype html><meta charset="utf-8"><body><pre id="out">pending</pre>{pres}
<script src="mermaid.min.js"></script><script>
mermaid.initialize({{startOnLoad: false}});
(async () => {{ const res = [];
  for (const n of document.querySelectorAll("pre.mermaid")) {{
    try {{ await mermaid.run({{nodes: [n]}}); }} catch (e) {{ res.push({{error: String(e && e.message || e)}}); continue; }}
    const svg = n.querySelector("svg");
    res.push(svg ? {{texts: [...svg.querySelectorAll("text")].map(t => t.textContent)}} : {{error: "no svg"}});
  }}
  document.getElementById("out").textContent = JSON.stringify({{title: document.title, drawn: res}}); }})();
</script>""", encoding="utf-8")
    r = _chromium("--dump-dom", page.as_uri(), profile=tmp_path / "pm")
    m = re.search(r'<pre id="out">(.*?)</pre>', r.stdout, re.S)
    assert m and m.group(1) != "pending", r.stdout[:500] + r.stderr[-1000:]
    out = json.loads(html.unescape(m.group(1)))
    assert out["title"] == "", "a diagram's text ran as script"
    return out["drawn"]


def test_markdown_diagrams_are_drawn_by_mermaid(demo_report: Path, tmp_path: Path) -> None:  # noqa: F811
    """Every Mermaid block of the Markdown report (charts and write flows) is drawn, not refused: flows
    whose steps and lineage hold Mermaid's own syntax, and a flow too long to draw whole (Mermaid refuses
    a diagram over 50,000 characters), as well as the demo's."""
    require_isolation()
    report = json.loads((demo_report / "report.json").read_text())
    assert report["flows"]
    awkward = [{"index": n, "method": "POST", "url": f"https://h.example/api/{s}?q={s}", "template": None if n % 2 else f"/api/{s}",
                "operationId": None, "status": 200, "blocked": True, "synthetic": "echo" if n % 3 else None, "role": "write"}
               for n, s in enumerate(AWKWARD, 1)]
    links = [{"from": {"step": n - 1, "location": "body", "pointer": f"/{s}"}, "to": {"step": n, "location": "header", "pointer": s}}
             for n, s in enumerate(AWKWARD, 1) if n > 1]
    long_steps = [{**awkward[0], "index": n, "url": "https://h.example/api/" + "segment/" * 20 + str(n), "template": None}
                  for n in range(1, 301)]
    long_links = [{"from": {"step": n - 1, "location": "body", "pointer": "/value/0/" + "nested/" * 12 + str(k)},
                   "to": {"step": n, "location": "body", "pointer": "/properties/" + "deep/" * 12 + str(k)}}
                  for n in range(2, 301) for k in range(8)]
    base = report["flows"][0]
    report["flows"] += [{**base, "id": "flow-awkward", "steps": awkward, "lineage": links},
                        {**base, "id": "flow-long", "steps": long_steps, "lineage": long_links}]
    blocks = re.findall(r"```mermaid\n(.*?)```", render_markdown(report), re.S)
    flows = [b for b in blocks if b.startswith("sequenceDiagram")]
    assert len(flows) == len(report["flows"]) and len(blocks) > len(flows)
    drawn = _drawn_by_mermaid(blocks, tmp_path)
    for block, d in zip(blocks, drawn):
        assert "error" not in d and d["texts"], (block[:200], d)
        assert not any("Syntax error" in t or "Maximum text size" in t for t in d["texts"]), (block[:200], d["texts"][:3])
    texts = [set(d["texts"]) for d in drawn[len(blocks) - len(flows):]]
    for flow, shown in zip(report["flows"], texts):  # each step drawn is labelled as the flow says
        for step in flow["steps"][:len(AWKWARD)]:
            label = f"{step['index']} {step['method']} {step.get('template') or step['url']}"
            assert f"{mermaid_text(label)} ({step['role']}{', blocked' if step['blocked'] else ''})" in shown, label
    for lk in links:  # and each value traced, with its pointers as written
        t, f = lk["to"], lk["from"]
        assert mermaid_text(f"step {t['step']} header {t['pointer']} <- step {f['step']} body {f['pointer']}") in texts[-2], lk
    assert "<script>" in " ".join(texts[-2])  # drawn as text
    more = [t for t in texts[-1] if t.endswith("more steps in report.json")]
    assert len(more) == 1 and 100 < int(more[0].split()[0]) < 300
