"""``portalspec report`` and ``portalspec demo``: captures in, report files out."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Iterator

from .. import gcpolicy, jsoncodec
from ..errors import PortalspecError
from ..fixtures.store import remove_stale_temps, write_atomic
from ..writeflows.collect import DEFAULT_GAP_S, FlowList
from .build import build_facts
from .document import to_report

FORMATS = ("md", "html", "json", "sarif")
FAIL_ON = ("undocumented", "drift", "blocked", "ambiguous", "errors", "spec_errors")


_FLOWS_MARK = "\u0000portalspec-flows\u0000"


def report_json(report: dict[str, Any]) -> Iterator[bytes]:
    """report.json in chunks: indented, with the flows written one a line as they are read (there
    may be many: they are never all in memory)."""
    flows = report.get("flows")
    if isinstance(flows, list) or flows is None:
        yield jsoncodec.dumps_pretty(report) + b"\n"
        return
    head, _, tail = jsoncodec.dumps_pretty({**report, "flows": [_FLOWS_MARK]}).partition(
        jsoncodec.dumps(_FLOWS_MARK))
    yield head.rstrip()
    for i, line in enumerate(flows.json_lines() if isinstance(flows, FlowList) else map(jsoncodec.dumps, flows)):
        yield (b"\n    " if i == 0 else b",\n    ") + line
    yield b"\n  " + tail.lstrip() + b"\n"


def write_report(report: dict[str, Any], out: Path, formats: list[str], overlay: bool = True,
                 index: Any = None, include_code_routes: bool = False) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(out)
    written: dict[str, Path] = {}
    if "json" in formats:
        written["json"] = out / "report.json"
        write_atomic(written["json"], report_json(report), 0o644)
    if "md" in formats:
        from .render_md import render_markdown

        written["md"] = out / "report.md"
        write_atomic(written["md"], render_markdown(report).encode(), 0o644)
    if "html" in formats:
        from .render_html import render_html

        written["html"] = out / "report.html"
        write_atomic(written["html"], render_html(report).encode(), 0o644)
    if "sarif" in formats:
        from .render_sarif import render_sarif

        written["sarif"] = out / "report.sarif"
        write_atomic(written["sarif"], json.dumps(render_sarif(report), indent=2, default=str).encode() + b"\n", 0o644)
    if overlay:
        from ..specwrite.overlay import build_overlay, dump_overlay

        written["overlay"] = out / "spec-update.overlay.yaml"
        write_atomic(written["overlay"], dump_overlay(build_overlay(report, index, include_code_routes)).encode(), 0o644)
    return written


def fail_categories(report: dict[str, Any], fail_on: list[str]) -> list[str]:
    s = report["summary"]
    hits = {
        "undocumented": s["undocumented"] > 0,
        "drift": s["drift_findings"] > 0,
        "blocked": s["blocked_writes"] > 0,
        "ambiguous": s["not_matched_by_reason"].get("ambiguous", 0) > 0,
        "errors": s["drift_by_severity"].get("error", 0) > 0,
        "spec_errors": s.get("spec_errors", 0) > 0,
    }
    return [c for c in fail_on if hits.get(c)]


def run_report(a: argparse.Namespace) -> int:
    from ..specs.index import SpecIndex

    bad = [f for f in a.format if f not in FORMATS]
    if bad:
        raise PortalspecError(f"unknown format(s) {', '.join(bad)}; choose from {', '.join(FORMATS)}")
    bad = [c for c in a.fail_on if c not in FAIL_ON]
    if bad:
        raise PortalspecError(f"unknown --fail-on category {', '.join(bad)}; choose from {', '.join(FAIL_ON)}")
    from ..specs.index import tell_spec_errors

    index = SpecIndex.load(a.specs, use_cache=not getattr(a, "no_cache", False), freeze=True)
    tell_spec_errors(index, lambda m: print(f"warning: {m}", file=sys.stderr))
    captures = [str(c) for c in a.captures]
    from .parallel import build_facts_parallel, default_jobs

    jobs = getattr(a, "jobs", None) or default_jobs(captures)
    gap = None if getattr(a, "no_flows", False) else float(getattr(a, "flow_gap", None) or DEFAULT_GAP_S)
    with gcpolicy.streaming_section():
        if jobs > 1:
            facts = build_facts_parallel(index, list(a.specs), captures, jobs, flow_gap=gap)
        else:
            facts = build_facts(index, captures, flow_gap=gap)
        report = to_report(facts)
        written = write_report(report, Path(a.out), a.format, index=index,
                               include_code_routes=getattr(a, "include_code_routes", False))
    s = report["summary"]
    print(f"{s['calls']} calls: {s['matched']} matched, {s['undocumented']} undocumented "
          f"({s['undocumented_templates']} endpoints), {s['drift_findings']} drift findings, "
          f"{s['blocked_writes']} blocked writes, {s['flows']} write flows")
    for kind, path in written.items():
        print(f"  {kind:8} {path}")
    failed = fail_categories(report, a.fail_on)
    if failed:
        print(f"failing: {', '.join(failed)} has findings", file=sys.stderr)
        return 1
    return 0


def run_demo(a: argparse.Namespace) -> int:
    root = Path(a.root)
    specs, cap, out = root / "specs" / "demo", root / "captures" / "demo", root / "reports" / "demo"
    if not specs.is_dir():
        raise PortalspecError("demo spec not found (run from the project root or pass --root)", str(specs))
    if a.rebuild_capture or not cap.exists():
        import shutil
        import tempfile

        from ..demo import demo_har
        from ..importers import import_file

        if cap.exists():
            shutil.rmtree(cap)
        with tempfile.TemporaryDirectory() as tmp:
            har = Path(tmp) / "demo.har"
            har.write_text(json.dumps(demo_har()))
            res = import_file(har, cap, progress=False)
        print(f"demo capture: {res.imported} calls imported (redacted) into {cap}")
    ns = argparse.Namespace(captures=[str(cap)], specs=[str(specs)], out=str(out), format=list(FORMATS), fail_on=[],
                            no_cache=False, jobs=1)
    code = run_report(ns)
    print(f"\nHTML report: {(out / 'report.html').resolve()}")
    return code
