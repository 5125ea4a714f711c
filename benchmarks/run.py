"""portalspec benchmarks: every figure beside the tool people would pick instead, measured in the same run.

    make bench                 # 10k and 100k calls (under 10 minutes on 2 cores)
    make bench ARGS=--million  # also 1M calls
    python benchmarks/run.py --quick   # 10k only, no external tools (a smoke run)

Writes benchmarks/results.json and benchmarks/RESULTS.md. Absolute times depend on the machine;
ratios are computed pair by pair in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from benchmarks.gen import VERSION as GEN_VERSION, nodoc_dir, write_har  # noqa: E402
from portalspec.matching.matcher import Call  # noqa: E402
from portalspec.shapes.drift import DriftChecker, media_schema, response_for  # noqa: E402
from portalspec.specs.index import SpecIndex  # noqa: E402
from portalspec.synth import build_url, value_for  # noqa: E402

OUT = HERE / "out"
PY = sys.executable


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def child(argv: list[str], env: dict[str, str] | None = None, timeout: int = 1800) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """Run a command; (wall seconds, peak RSS MB of this child, result)."""
    # The wrapper is small, so RUSAGE_CHILDREN's high-water mark is the measured command's own.
    wrapper = ("import resource, subprocess, sys, json, time;"
               "t=time.perf_counter(); r=subprocess.run(sys.argv[1:], capture_output=True, text=True);"
               "dt=time.perf_counter()-t;"
               "print(json.dumps({'wall': dt, 'rss': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,"
               " 'rc': r.returncode, 'out': r.stdout[-4000:], 'err': r.stderr[-4000:]}))")
    r = subprocess.run([PY, "-c", wrapper, *argv], capture_output=True, text=True, timeout=timeout,
                       env={**os.environ, **(env or {})})
    d = json.loads(r.stdout)
    return d["wall"], d["rss"] / 1024, subprocess.CompletedProcess(argv, d["rc"], d["out"], d["err"])


# -- match -------------------------------------------------------------------------------------
def bench_match(index: SpecIndex, reps: int) -> dict[str, Any]:
    from jsonschema_path import SchemaPath
    from openapi_core.templating.paths.finders import APICallPathFinder

    rng = random.Random(7)
    ops = index.operations
    calls = [(op, Call(op.method, build_url(op, rng))) for op in ops]
    match = index.matcher.match
    only_calls = [c for _, c in calls]
    ours = 0.0
    for _ in range(3 * reps):  # best of many short passes: this shared machine's load comes and goes
        t = time.perf_counter()
        for c in only_calls:
            match(c)
        ours = max(ours, len(calls) / (time.perf_counter() - t))
    ours_ok = sum(index.matcher.match(c).op is op for op, c in calls)
    # openapi-core's finder, given the right spec for each call (an advantage: ours searches all 20).
    finders = {s.name: APICallPathFinder(SchemaPath.from_file_path(s.root)) for s in index.specs}
    theirs = 0.0
    for _ in range(2):
        t = time.perf_counter()
        found = agree = 0
        for op, c in calls:
            try:
                r = finders[op.spec].find(op.method.lower(), c.url)
            except Exception:  # noqa: BLE001 - openapi-core raises on paths it cannot find
                continue
            found += 1
            agree += r.path_result.pattern == op.path or str(r.path).endswith(op.path.replace("/", "~1"))
        theirs = max(theirs, len(calls) / (time.perf_counter() - t))
    return {"calls": len(calls) * reps, "portalspec_calls_per_s": round(ours), "portalspec_correct": ours_ok,
            "openapi_core_calls_per_s": round(theirs), "openapi_core_found": found, "openapi_core_agree": agree,
            "operations": len(ops), "ratio": round(ours / theirs, 1), **bench_match_undocumented(index)}


def bench_match_undocumented(index: SpecIndex) -> dict[str, Any]:
    """Undocumented calls (each operation's URL with a segment added at its end, or its last segment
    changed, in turn), each given its nearest template; the baseline scores every template of the call's
    host in turn, as matching did before it walked a trie (``tests.test_matcher_nearest``), in the same
    run, with the same answers."""
    from portalspec.matching.templates import split_path
    from tests.test_matcher_nearest import _scored_one_by_one  # noqa: PLC0415

    rng = random.Random(9)
    calls = []
    for i, op in enumerate(index.operations):
        url = build_url(op, rng).split("?")[0].rstrip("/")
        calls.append(Call(op.method, url + "/zz-not-documented" if i % 2 else url.rsplit("/", 1)[0] + "/zz-not-documented"))
    matcher = index.matcher
    got = [matcher.match(c) for c in calls]
    undocumented = [(c, m) for c, m in zip(calls, got) if m.reason == "undocumented"]
    ours = full = 0.0
    for _ in range(3):
        t = time.perf_counter()
        for c, _m in undocumented:
            matcher.match(c)
        ours = max(ours, len(undocumented) / (time.perf_counter() - t))
        t = time.perf_counter()
        same = 0
        for c, m in undocumented:
            host, _, rest = c.url.partition("://")[2].partition("/")
            same += _scored_one_by_one(matcher._buckets_for(host), split_path("/" + rest.split("?")[0])[0]) == m.nearest
        full = max(full, len(undocumented) / (time.perf_counter() - t))
    return {"undocumented_calls": len(undocumented), "undocumented_with_nearest": sum(1 for _c, m in undocumented if m.nearest),
            "undocumented_calls_per_s": round(ours), "undocumented_full_scan_calls_per_s": round(full),
            "undocumented_same_nearest": same, "undocumented_ratio": round(ours / full, 1)}


# -- drift -------------------------------------------------------------------------------------
def bench_drift(index: SpecIndex, limit_core: int) -> dict[str, Any]:
    from openapi_core import Config, OpenAPI
    from openapi_core.testing import MockRequest, MockResponse

    rng = random.Random(3)
    checker = DriftChecker()
    cases = []
    for op in index.operations:
        robj, found = response_for(op, 200)
        schema = media_schema((robj or {}).get("content"), "application/json")[0] if found and robj else None
        if not isinstance(schema, dict) or not schema:
            continue
        body = value_for(schema, rng)
        cases.append((op, schema, body, False))
        if isinstance(body, dict):
            for k, v in body.items():
                if isinstance(v, str):
                    cases.append((op, schema, {**body, k: 12345}, True))  # a planted type_mismatch
                    break
    ours_rate = 0.0
    for _ in range(7):  # best of several passes, as for matching: the machine is shared
        t = time.perf_counter()
        ours = [checker.check(schema, body, "response", "response", 200) for _, schema, body, _ in cases]
        ours_rate = max(ours_rate, len(cases) / (time.perf_counter() - t))
    apps: dict[str, Any] = {}
    sample = cases[:limit_core]
    agree = both = 0
    t = time.perf_counter()
    for (op, schema, body, planted), fs in zip(sample, ours):
        app = apps.get(op.spec)
        if app is None:
            spec = next(s for s in index.specs if s.name == op.spec)
            app = apps[op.spec] = OpenAPI.from_file_path(spec.root, config=Config(spec_validator_cls=None))
        url = build_url(op, random.Random(1))
        host, _, path = url.partition("://")[2].partition("/")
        req = MockRequest(f"https://{host}", op.method.lower(), "/" + path.split("?")[0], args=dict(
            p.split("=", 1) for p in url.partition("?")[2].split("&") if "=" in p))
        resp = MockResponse(json.dumps(body).encode(), 200)
        try:
            app.validate_response(req, resp)
            theirs_err = False
        except Exception as e:  # noqa: BLE001
            name = type(e).__name__
            if "Path" in name or "Operation" in name or "Server" in name or "Response" in name and "Data" not in name:
                continue  # openapi-core could not route the call: nothing to compare
            theirs_err = True
        both += 1
        ours_err = any(f.severity == "error" or f.kind in ("enum_value", "format_mismatch") for f in fs)
        agree += ours_err == theirs_err
    core_rate = len(sample) / (time.perf_counter() - t)
    return {"bodies": len(cases), "portalspec_calls_per_s": round(ours_rate), "openapi_core_calls_per_s": round(core_rate, 1),
            "openapi_core_sample": len(sample), "compared": both, "agree": agree, "ratio": round(ours_rate / core_rate, 1)}


# -- import and report at scale ----------------------------------------------------------------
def bench_scale(sizes: list[int], ops: list[Any], specs: Path) -> list[dict[str, Any]]:
    rows = []
    for n in sizes:
        har = OUT / f"{n}-v{GEN_VERSION}.har"
        if not har.exists():
            log(f"generating {n} calls...")
            write_har(har, ops, n)
        mb = har.stat().st_size / 1e6
        row: dict[str, Any] = {"calls": n, "har_mb": round(mb, 1)}
        for jobs in (1, 2):
            cap = OUT / f"cap-{n}-j{jobs}"
            wall, rss = float("inf"), 0.0
            for _ in range(5 if n <= 10_000 else 1):  # small runs: best of five (this machine's load comes and goes)
                shutil.rmtree(cap, ignore_errors=True)
                w, m, r = child([PY, "-m", "portalspec.cli", "import", str(har), "--out", str(cap), "--jobs", str(jobs)])
                assert r.returncode == 0, r.stderr
                assert f": {n} entries imported" in r.stdout and "warning" not in r.stderr, (r.stdout, r.stderr[-2000:])
                wall, rss = min(wall, w), max(rss, m)
            row[f"import_j{jobs}_s"] = round(wall, 2)
            row[f"import_j{jobs}_mb_per_s"] = round(mb / wall, 1)
            row[f"import_j{jobs}_calls_per_s"] = round(n / wall)
            row[f"import_j{jobs}_peak_mb"] = round(rss, 1)
        cap = OUT / f"cap-{n}-j1"
        shutil.rmtree(OUT / f"cap-{n}-j2", ignore_errors=True)
        for jobs in (1, 2):
            rep = OUT / f"report-{n}-j{jobs}"
            wall, rss, r = child([PY, "-m", "portalspec.cli", "report", str(cap), "--specs", str(specs), "--out", str(rep),
                                  "--format", "json,md,html", "--jobs", str(jobs)])
            assert r.returncode == 0, r.stderr
            row[f"report_j{jobs}_s"] = round(wall, 2)
            row[f"report_j{jobs}_calls_per_s"] = round(n / wall)
            row[f"report_j{jobs}_peak_mb"] = round(rss, 1)
        row.update(_flows_cost(cap, n, specs, row["report_j1_s"]))
        row["j2"] = _flows_cost(cap, n, specs, row["report_j2_s"], jobs=2)  # as `report` runs at this size by default
        rows.append(row)
        log(json.dumps(row))
    return rows


def _flows_cost(cap: Path, n: int, specs: Path, flows_best: float = float("inf"), jobs: int = 1) -> dict[str, Any]:
    """What write flows and lineage cost: the same report without them, ``jobs`` processes, in five pairs
    run one after the other (this machine's speed comes and goes by 10-20% from one minute to the next)."""
    pairs: list[tuple[float, float]] = []
    for _ in range(5):
        pair: dict[str, float] = {}
        for label, extra in (("none", ["--no-flows"]), ("flows", [])):
            wall, _rss, r = child([PY, "-m", "portalspec.cli", "report", str(cap), "--specs", str(specs), "--out",
                                   str(OUT / f"report-{cap.name}-{label}"), "--format", "json,md,html", "--jobs", str(jobs), *extra])
            assert r.returncode == 0, r.stderr
            pair[label] = wall
        pairs.append((pair["none"], pair["flows"]))
    none, flows = min(p[0] for p in pairs), min(min(p[1] for p in pairs), flows_best)
    doc = json.loads((OUT / f"report-{cap.name}-flows" / "report.json").read_text())
    return {f"report_no_flows_j{jobs}_s": round(none, 2), f"report_flows_j{jobs}_s": round(flows, 2),
            "flows_overhead": round(flows / none - 1, 3),  # best against best
            "flows_overhead_pairs": [round(f / n_ - 1, 3) for n_, f in pairs],
            "flows": doc["summary"]["flows"],
            "calls_in_flows": round(sum(len(f["steps"]) for f in doc["flows"]) / n, 3)}


def _shape_capture(name: str, n: int, ops: list[Any], what: str, **shape: Any) -> tuple[Path, Path]:
    """A generated HAR of another shape (``write_har``'s keywords; made once) and its capture, imported afresh."""
    har = OUT / f"{n}-v{GEN_VERSION}-{name}.har"
    if not har.exists():
        log(f"generating {n} calls, {what}...")
        write_har(har, ops, n, **shape)
    cap = OUT / f"cap-{n}-{name}"
    shutil.rmtree(cap, ignore_errors=True)
    _w, _m, r = child([PY, "-m", "portalspec.cli", "import", str(har), "--out", str(cap), "--jobs", "2"])
    assert r.returncode == 0, r.stderr
    return har, cap


def bench_read_mostly(n: int, ops: list[Any], specs: Path, writes: float = 0.05) -> dict[str, Any]:
    """Flows' cost on a read-mostly day: one call in twenty a write (the scale rows' HARs take every
    operation in turn, so a third of their calls are writes and most calls end up in a flow)."""
    _har, cap = _shape_capture(f"writes{round(writes * 100)}", n, ops, "read-mostly", writes=writes)
    row = {"calls": n, "writes": writes, **_flows_cost(cap, n, specs)}
    log(json.dumps(row))
    return row


def bench_long_lists(n: int, ops: list[Any], specs: Path, every: int = 10) -> dict[str, Any]:
    """Flows' cost where list reads are long: one GET in ``every`` answers an 800-item list (about 170 KB,
    more than a step holds in memory), and the next write on its page sends one of its ids, which lineage
    finds by reading the list again when the flow closes."""
    har, cap = _shape_capture(f"lists{every}", n, ops, "with long lists", long_lists=every)
    row: dict[str, Any] = {"calls": n, "long_lists": every, "har_mb": round(har.stat().st_size / 1e6, 1),
                           **_flows_cost(cap, n, specs)}
    doc = json.loads((OUT / f"report-{cap.name}-flows" / "report.json").read_text())
    row["picks_sent"] = 0
    for shard in sorted(cap.glob("entries-*.jsonl")):
        with open(shard, encoding="utf-8") as f:
            row["picks_sent"] += sum(1 for line in f if '\\"pickedId\\"' in line)
    row["picks_linked"] = sum(1 for f in doc["flows"] for lk in f["lineage"]
                              if lk["to"]["pointer"] == "/pickedId" and re.fullmatch(r"/value/\d+/id", lk["from"]["pointer"]))
    log(json.dumps(row))
    return row


def bench_code_routes(mb: int = 20) -> dict[str, Any]:
    """Route extraction over generated minified bundles (2 MB each, one core; path-like strings about one
    every 100 bytes, as in real bundles), beside a hand-written
    Python ``re`` scan of the same bytes for quoted paths; and what the addon's response hook costs for a
    5 MB gzip'd bundle (the scan itself runs in a worker after the response has gone on)."""
    import gzip
    import re as _re

    from mitmproxy.test import taddons, tflow

    from portalspec.coderoutes.extract import Extractor
    from portalspec.record.addon import RecordAddon
    from tests.test_code_routes import minified_bundle  # noqa: PLC0415

    bundles = [minified_bundle(2_000_000, seed=i, realistic=True) for i in range(max(1, mb // 2))]
    size = sum(len(b) for b in bundles) / 1e6
    extractors = {"nodoc": Extractor.for_index(SpecIndex.load([nodoc_dir()])), "generic": Extractor()}
    naive = _re.compile(rb"[\"'`](/[^\"'`\s]{3,400})[\"'`]")
    best: dict[str, float] = {"nodoc": float("inf"), "generic": float("inf"), "re": float("inf")}
    found: dict[str, int] = {}
    for _ in range(3):
        for label, ex in extractors.items():
            t = time.perf_counter()
            found[label] = sum(len(ex.extract(b)) for b in bundles)
            best[label] = min(best[label], time.perf_counter() - t)
        t = time.perf_counter()
        for b in bundles:
            for _m in naive.finditer(b):
                pass
        best["re"] = min(best["re"], time.perf_counter() - t)
    res: dict[str, Any] = {"mb": round(size, 1), "candidates": found["nodoc"], "candidates_generic": found["generic"],
                           "portalspec_mb_per_s": round(size / best["nodoc"], 1),
                           "generic_mb_per_s": round(size / best["generic"], 1),
                           "re_scan_mb_per_s": round(size / best["re"], 1)}
    res["ratio"] = round(res["portalspec_mb_per_s"] / res["re_scan_mb_per_s"], 2)
    work = OUT / "coderoutes"
    shutil.rmtree(work, ignore_errors=True)
    big = gzip.compress(minified_bundle(5_000_000, seed=99, realistic=True))
    addon = RecordAddon()
    hook: dict[str, list[float]] = {"bundle": [], "call": []}
    with taddons.context(addon) as tctx:
        tctx.configure(addon, portalspec_host=["portal.example"], portalspec_out=str(work / "cap"))
        for i in range(20):
            for kind in ("bundle", "call"):
                f = tflow.tflow(resp=True)
                f.request.host, f.request.path = "portal.example", f"/static/app.{i}.js" if kind == "bundle" else "/api/users"
                f.request.headers["referer"] = "https://portal.example/home"
                if kind == "bundle":
                    f.response.headers["content-type"] = "application/javascript"
                    f.response.headers["content-encoding"] = "gzip"
                    f.response.raw_content = big
                else:
                    f.response.headers["content-type"] = "application/json"
                    f.response.content = b'{"value": []}'
                addon.requestheaders(f)
                addon.responseheaders(f)
                t = time.perf_counter()
                addon.response(f)
                hook[kind].append((time.perf_counter() - t) * 1000)
        addon.done()
    res["hook_5mb_bundle_median_ms"] = round(statistics.median(hook["bundle"]), 3)
    res["hook_json_call_median_ms"] = round(statistics.median(hook["call"]), 3)
    return res


def _open_times(pages: dict[str, Path], reps: int = 3) -> dict[str, float]:
    """Median seconds from navigation until the page's script has run (its filter counts are filled), in a
    real headless Chromium at 1280 px; pages alternate."""
    from tests.test_record_attach import DebuggedChromium, User  # noqa: PLC0415

    browser = DebuggedChromium(OUT / "open-profile", "--window-size=1280,900")
    times: dict[str, list[float]] = {k: [] for k in pages}
    try:
        user = User(browser.endpoint)
        for _ in range(reps):
            for label, page in pages.items():
                user.open("about:blank")
                time.sleep(0.2)
                t = time.perf_counter()
                user.open(page.as_uri())
                user.wait_text("document.readyState === 'complete' && document.getElementById('shown-count') "
                               "&& document.getElementById('shown-count').textContent || ''", ("0", "1", "2", "3", "4",
                               "5", "6", "7", "8", "9"), timeout=60)
                times[label].append(time.perf_counter() - t)
        user.client.close()
    finally:
        browser.close()
    return {k: round(statistics.median(v), 3) for k, v in times.items()}


def _script_entries(index: Any, n: int) -> list[dict[str, Any]]:
    """The portal's bundles as a HAR saved with content holds them: minified code naming routes of the
    specs (some called, most not) among page routes, assets and help links."""
    import random

    from portalspec.matching.templates import join_base
    from tests.test_code_routes import minified_bundle  # noqa: PLC0415

    rng = random.Random(9)
    out = []
    for i in range(n):
        ops = rng.sample(index.operations, 300)
        routes = "".join(f'a.{op.method.lower()}("{join_base(op.servers[0].base_path if op.servers else "", op.path)}");'
                         for op in ops)
        text = minified_bundle(1_500_000, seed=i, realistic=True).decode() + routes
        origin = re.match(r"^https?://[^/{]+", ops[0].servers[0].url if ops[0].servers else "") if ops else None
        base = origin.group(0) if origin else "https://portal.example"
        out.append({"startedDateTime": "2026-11-20T10:00:00.000Z", "time": 5, "_resourceType": "script", "cache": {},
                    "timings": {}, "request": {"method": "GET", "url": f"{base}/static/app.{i}.js", "httpVersion": "h2",
                                               "headers": [{"name": "Referer", "value": f"{base}/"}], "cookies": [],
                                               "queryString": [], "headersSize": -1, "bodySize": 0},
                    "response": {"status": 200, "statusText": "", "httpVersion": "h2", "headers": [], "cookies": [],
                                 "content": {"size": len(text), "mimeType": "application/javascript", "text": text},
                                 "redirectURL": "", "headersSize": -1, "bodySize": -1}})
    return out


def bench_report_html(sizes: list[int], specs: Path) -> list[dict[str, Any]]:
    """The report of a day across the 20 nodoc portals (older specs, so endpoints are undocumented; drift
    planted; a host no spec serves; write flows): HTML size with every section, and how long Chromium
    takes to open it, beside the demo report's open time (the floor) in the same browser."""
    from portalspec.synth import older_specs, plant_drift, traffic, unserved_calls  # noqa: PLC0415

    older = OUT / "older-specs"
    if not older.exists():
        older_specs(specs, older, every=7)
    index = SpecIndex.load([specs], freeze=True)
    rows = []
    for n in sizes:
        har = OUT / f"day-{n}.har"
        if not har.exists():
            rng = random.Random(5)
            ops = [op for op in index.operations if rng.random() < 0.7]
            entries = traffic(ops, per_op=max(1, -(-n // len(ops))), seed=11)[: n - 200]
            plant_drift(entries, rng)
            entries += unserved_calls(200)
            entries += _script_entries(index, 3)
            har.write_text(json.dumps({"log": {"version": "1.2", "creator": {"name": "bench", "version": "1"},
                                               "entries": entries}}))
            del entries
        cap, rep = OUT / f"day-cap-{n}", OUT / f"day-report-{n}"
        shutil.rmtree(cap, ignore_errors=True)
        r = subprocess.run([PY, "-m", "portalspec.cli", "import", str(har), "--out", str(cap), "--jobs", "2"],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        wall, rss, r = child([PY, "-m", "portalspec.cli", "report", str(cap), "--specs", str(older), "--out", str(rep),
                              "--format", "json,md,html", "--jobs", "2"])
        assert r.returncode == 0, r.stderr
        report = json.loads((rep / "report.json").read_text())
        s = report["summary"]
        row = {"calls": n, "report_s": round(wall, 2), "report_peak_mb": round(rss, 1),
               "html_mb": round((rep / "report.html").stat().st_size / 1e6, 2),
               "json_mb": round((rep / "report.json").stat().st_size / 1e6, 2),
               "md_mb": round((rep / "report.md").stat().st_size / 1e6, 2),
               "md_kb": round((rep / "report.md").stat().st_size / 1e3, 1),
               "drift": s["drift_findings"], "undocumented_endpoints": s["undocumented_templates"], "flows": s["flows"],
               "flow_kinds": s["flow_kinds"], "md_flows_drawn": (rep / "report.md").read_text().count("```mermaid\nsequenceDiagram"),
               "mutations": s["mutations"], "code_routes": s["code_routes"],
               "specs_with_findings": sum(1 for g in report["by_spec"] if g["calls"])}
        opened = _open_times({"day": rep / "report.html", "demo": ROOT / "reports" / "demo" / "report.html"})
        row["open_s"], row["demo_open_s"] = opened["day"], opened["demo"]
        rows.append(row)
        log(json.dumps(row))
    return rows


def bench_secrets(sizes: list[int], ops: list[Any]) -> list[dict[str, Any]]:
    """Import of HARs where every call has its own token, cookie and anti-forgery value (and a third
    a signed URL), beside the same calls sharing one session's secrets: two jobs, runs alternating."""
    rows = []
    for n in sizes:
        hars = {"shared": OUT / f"{n}-v{GEN_VERSION}.har", "distinct": OUT / f"{n}-v{GEN_VERSION}-distinct.har"}
        for kind, har in hars.items():
            if not har.exists():
                log(f"generating {n} calls ({kind} secrets)...")
                write_har(har, ops, n, distinct=kind == "distinct")
        best = {k: float("inf") for k in hars}
        for _ in range(5 if n <= 10_000 else 2):
            for kind, har in hars.items():
                cap = OUT / f"cap-secrets-{kind}"
                shutil.rmtree(cap, ignore_errors=True)
                w, _m, r = child([PY, "-m", "portalspec.cli", "import", str(har), "--out", str(cap), "--jobs", "2"])
                assert r.returncode == 0 and f": {n} entries imported" in r.stdout, (r.stdout, r.stderr[-2000:])
                best[kind] = min(best[kind], w)
                shutil.rmtree(cap, ignore_errors=True)
        row: dict[str, Any] = {"calls": n}
        for kind, har in hars.items():
            row[f"{kind}_mb"] = round(har.stat().st_size / 1e6, 1)
            row[f"{kind}_s"] = round(best[kind], 2)
            row[f"{kind}_mb_per_s"] = round(har.stat().st_size / 1e6 / best[kind], 1)
        row["ratio"] = round(row["distinct_mb_per_s"] / row["shared_mb_per_s"], 2)
        rows.append(row)
        log(json.dumps(row))
    return rows


def bench_update_spec(specs: Path) -> dict[str, Any]:
    """``update-spec --in-place`` over all nodoc specs, on an older copy (every 14th path item removed)
    and traffic for every operation: wall time with validation, new endpoints, files changed."""
    from portalspec.synth import older_specs, traffic

    work = OUT / "update-spec"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    older_specs(specs, work / "specs", 14)
    full = SpecIndex.load([specs])
    log = {"log": {"version": "1.2", "creator": {"name": "bench", "version": "1"}, "entries": traffic(full.operations)}}
    (work / "t.har").write_text(json.dumps(log))
    for argv in (["import", str(work / "t.har"), "--out", str(work / "cap")],
                 ["report", str(work / "cap"), "--specs", str(work / "specs"), "--out", str(work / "r"), "--format", "json"]):
        r = subprocess.run([PY, "-m", "portalspec.cli", *argv], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
    report = json.loads((work / "r" / "report.json").read_text())
    before = {p: p.read_bytes() for p in (work / "specs").rglob("*.yml")}
    wall, rss, r = child([PY, "-m", "portalspec.cli", "update-spec", str(work / "r" / "spec-update.overlay.yaml"),
                          "--specs", str(work / "specs"), "--in-place"])
    assert r.returncode == 0, r.stderr
    changed = sum(1 for p, b in before.items() if p.read_bytes() != b)
    return {"specs": len(full.specs), "new_endpoints": len(report["undocumented"]), "files_changed": changed,
            "wall_s": round(wall, 2), "peak_mb": round(rss, 1)}


# -- template recovery vs mitmproxy2swagger ----------------------------------------------------
def _norm(t: str) -> str:
    import re

    return re.sub(r"\{[^}]*\}", "{}", t.rstrip("/"))


def bench_templates(specs: Path, tools: Path) -> dict[str, Any]:
    import yaml

    from portalspec.synth import drop_paths

    work = OUT / "templates"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(specs / "nodoc-defender-xdr", work / "defender")
    root = work / "defender" / "specification" / "openapi.yml"
    full = SpecIndex.load([root], use_cache=False)
    removed = drop_paths(root, 6)
    cut = SpecIndex.load([root], use_cache=False)
    probe = random.Random(4)
    # Calls that a remaining template really covers (a literal removed under a {param} sibling) are
    # not undocumented; every tool gets only the calls that are.
    removed_ops = [op for op in full.operations if op.path in removed and op.servers and
                   op.servers[0].url == "https://security.microsoft.com/apiproxy"
                   and cut.matcher.match(Call(op.method, build_url(op, probe))).op is None]
    truth = {(op.method, _norm(op.path.removeprefix("/apiproxy"))) for op in removed_ops}
    rng = random.Random(5)
    from benchmarks.gen import entries  # noqa: PLC0415

    har_entries = list(entries(removed_ops * 3, len(removed_ops) * 3, seed=9))
    for e in har_entries:  # distinct ids per call, as a browser session would show
        e["request"]["url"] = build_url(next(o for o in removed_ops if o.method == e["request"]["method"] and
                                             _match_tpl(o, e["request"]["url"])), rng)
    har = work / "undocumented.har"
    har.write_text(json.dumps({"log": {"version": "1.2", "creator": {"name": "b", "version": "1"}, "entries": har_entries}}))
    out: dict[str, Any] = {"true_templates": len(truth), "calls": len(har_entries)}
    # portalspec
    cap = work / "cap"
    t = time.perf_counter()
    subprocess.run([PY, "-m", "portalspec.cli", "import", str(har), "--out", str(cap)], check=True, capture_output=True)
    subprocess.run([PY, "-m", "portalspec.cli", "report", str(cap), "--specs", str(work / "defender"), "--out",
                    str(work / "rep"), "--format", "json", "--no-cache"], check=True, capture_output=True)
    wall = time.perf_counter() - t
    rep = json.loads((work / "rep" / "report.json").read_text())
    ours = {(u["method"], _norm(u["template"].removeprefix("/apiproxy"))) for u in rep["undocumented"]}
    out["portalspec"] = {"wall_s": round(wall, 2), "exact": len(ours & truth), "false": len(ours - truth), "templates": len(ours)}
    # mitmproxy2swagger, in its own venv
    venv = tools / "m2s"
    try:
        if not (venv / "bin" / "mitmproxy2swagger").exists():
            subprocess.run([PY, "-m", "venv", str(venv)], check=True)
            subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "mitmproxy2swagger"], check=True, timeout=600)
        spec_out = work / "m2s.yaml"
        argv = [str(venv / "bin" / "mitmproxy2swagger"), "-i", str(har), "-o", str(spec_out), "-p",
                "https://security.microsoft.com/apiproxy", "-f", "har"]
        t = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, timeout=600)
        # Its documented workflow: remove the "ignore:" prefix from the proposed paths, run again.
        text = spec_out.read_text().replace("- ignore:/", "- /")
        spec_out.write_text(text)
        subprocess.run(argv, check=True, capture_output=True, timeout=600)
        wall = time.perf_counter() - t
        m2s = yaml.safe_load(spec_out.read_text())
        theirs = {(m.upper(), _norm(p.removeprefix("/apiproxy"))) for p, item in (m2s.get("paths") or {}).items() for m in (item or {})
                  if m.lower() in ("get", "post", "put", "patch", "delete")}
        out["mitmproxy2swagger"] = {"wall_s": round(wall, 2), "exact": len(theirs & truth), "false": len(theirs - truth),
                                    "templates": len(theirs)}
    except (subprocess.SubprocessError, OSError) as e:
        out["mitmproxy2swagger"] = {"skipped": f"{type(e).__name__}: {str(e)[:200]}"}
    out["npm_tools"] = npm_tools(tools, har, truth)
    return out


def _match_tpl(op: Any, url: str) -> bool:
    import re

    path = url.split("://", 1)[1].split("/", 1)[1].split("?")[0]
    rx = re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(op.path.lstrip("/")))
    return re.search(rx + "$", path) is not None


def npm_tools(tools: Path, har: Path, truth: set[tuple[str, str]]) -> dict[str, Any]:
    """Optic and har-to-openapi (npm), installed into a folder of the benchmark, where they run offline here."""
    import yaml

    res: dict[str, Any] = {}
    npm = shutil.which("npm")
    if npm is None:
        return {"skipped": "npm not installed"}
    folder = tools / "npm"
    folder.mkdir(parents=True, exist_ok=True)
    for pkg in ("@useoptic/optic", "har-to-openapi"):
        if not (folder / "node_modules" / pkg / "package.json").exists():
            try:
                subprocess.run([npm, "install", "--prefix", str(folder), "--no-audit", "--no-fund", pkg],
                               check=True, capture_output=True, timeout=600)
            except (subprocess.SubprocessError, OSError) as e:
                res[pkg] = {"skipped": f"npm install failed ({type(e).__name__})"}
    optic = folder / "node_modules" / ".bin" / "optic"
    if "@useoptic/optic" not in res:
        r = subprocess.run([str(optic), "--help"], capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            err = next((l for l in r.stderr.splitlines() if "Error" in l and len(l) < 200), r.stderr.strip()[-160:])
            res["@useoptic/optic"] = {"skipped": f"its CLI does not start here (exit {r.returncode}: {err.strip()})"}
        else:
            res["@useoptic/optic"] = {"skipped": "CLI starts; its HAR capture flow needs a running API to verify, not compared"}
    if "har-to-openapi" not in res:
        out = OUT / "templates" / "h2o.yaml"
        t = time.perf_counter()
        r = subprocess.run(["node", str(HERE / "har_to_openapi.js"), str(folder / "node_modules" / "har-to-openapi"),
                            str(har), str(out)], capture_output=True, text=True, timeout=600)
        wall = time.perf_counter() - t
        if r.returncode != 0:
            res["har-to-openapi"] = {"skipped": f"failed: {r.stderr.strip()[-200:]}"}
        else:
            spec = yaml.safe_load(out.read_text())
            theirs = {(m.upper(), _norm(p.removeprefix("/apiproxy"))) for p, item in (spec.get("paths") or {}).items()
                      for m in (item or {}) if m.lower() in ("get", "post", "put", "patch", "delete")}
            res["har-to-openapi"] = {"wall_s": round(wall, 2), "exact": len(theirs & truth), "false": len(theirs - truth),
                                     "templates": len(theirs)}
    return res


def _fresh_with_local_spec(name: str) -> tuple[Path, Path]:
    """An empty work folder with the demo spec served from this machine (``http://127.0.0.1:{port}/api``)."""
    work = OUT / name
    shutil.rmtree(work, ignore_errors=True)
    spec = work / "spec"
    spec.mkdir(parents=True)
    for f in (ROOT / "specs" / "demo").iterdir():
        (spec / f.name).write_text(f.read_text().replace("https://admin.demo-portal.example/api", "http://127.0.0.1:{port}/api"))
    return work, spec


# -- addon overhead ----------------------------------------------------------------------------
def bench_addon(n_small: int, n_big: int) -> dict[str, Any]:
    """Paired: two mitmdumps (without and with the addon) in front of one upstream, calls alternating,
    each client on a persistent connection, so machine noise hits both alike."""
    import http.client

    from tests.portal import Mitmdump, PortalServer  # noqa: PLC0415

    work, spec = _fresh_with_local_spec("addon")
    for label in ("without", "with"):
        (work / label).mkdir()
    big = json.dumps({"rows": ["x" * 1000] * 1040}).encode()  # about 1 MiB
    with PortalServer() as portal, \
            Mitmdump(work / "without", work / "without" / "cap", "portalspec_out=") as plain, \
            Mitmdump(work / "with", work / "with" / "cap", f"portalspec_specs={spec}") as rec:
        conns = {"without": http.client.HTTPConnection("127.0.0.1", plain.port, timeout=30),
                 "with": http.client.HTTPConnection("127.0.0.1", rec.port, timeout=30)}
        base = f"http://127.0.0.1:{portal.port}/api"

        def call(label: str, method: str, url: str, body: bytes | None = None) -> float:
            c = conns[label]
            t = time.perf_counter()
            c.request(method, url, body=body, headers={"Content-Type": "application/json"})
            c.getresponse().read()
            return (time.perf_counter() - t) * 1000

        for _ in range(30):
            for label in conns:
                call(label, "GET", f"{base}/users")
        times: dict[str, dict[str, list[float]]] = {k: {"small": [], "big": []} for k in conns}
        for i in range(n_small):
            for label in (("without", "with") if i % 2 else ("with", "without")):
                times[label]["small"].append(call(label, "GET", f"{base}/users/me"))
        for i in range(n_big):
            for label in (("without", "with") if i % 2 else ("with", "without")):
                times[label]["big"].append(call(label, "POST", f"{base}/roleAssignments", big))
    return _added(times, "addon")


def bench_attach(n_small: int, n_big: int) -> dict[str, Any]:
    """Paired: two headless Chromiums on one upstream, one with ``attach`` (block-writes on, so every
    XHR/fetch is paused in the Fetch domain), calls alternating; each call timed inside the page."""
    from portalspec.record.attach import Attach
    from portalspec.record.cdp import CDPClient, browser_ws_url
    from portalspec.record.pipeline import Pipeline, Settings
    from tests.portal import PortalServer  # noqa: PLC0415
    from tests.test_record_attach import DebuggedChromium, User  # noqa: PLC0415

    work, spec = _fresh_with_local_spec("attach")
    big = json.dumps({"rows": ["x" * 1000] * 1040}).encode()  # about 1 MiB

    class Portal(PortalServer):
        def route(self, method: str, path: str, body: bytes) -> tuple[int, bytes, str, dict[str, str]]:
            if path.startswith("/api/big"):
                return 200, big, "application/json", {}
            return super().route(method, path, body)

    timed = ("(async () => {{ const t = performance.now(); const r = await fetch('{0}'); await r.text(); "
             "return performance.now() - t; }})()")
    browsers = {k: DebuggedChromium(work / f"profile-{k}") for k in ("without", "with")}
    try:
        with Portal() as portal:
            pipeline = Pipeline(Settings(out=str(work / "cap"), specs=[str(spec)]), source="cdp")
            attach = Attach(CDPClient(browser_ws_url(browsers["with"].endpoint)), pipeline)
            attach.start()
            users = {k: User(b.endpoint) for k, b in browsers.items()}
            for u in users.values():
                u.open(f"http://127.0.0.1:{portal.port}/api/users/me")
            time.sleep(1.0)

            def call(label: str, url: str) -> float:
                u = users[label]
                r = u.client.send("Runtime.evaluate", {"expression": timed.format(url), "awaitPromise": True,
                                                       "returnByValue": True}, session=u.session, timeout=60)
                return float(r["result"]["value"])

            for _ in range(20):
                for label in users:
                    call(label, "/api/users/me")
            times: dict[str, dict[str, list[float]]] = {k: {"small": [], "big": []} for k in users}
            for i in range(n_small):
                for label in (("without", "with") if i % 2 else ("with", "without")):
                    times[label]["small"].append(call(label, f"/api/users/me?i={i}"))
            for i in range(n_big):
                for label in (("without", "with") if i % 2 else ("with", "without")):
                    times[label]["big"].append(call(label, f"/api/big?i={i}"))
            time.sleep(1.0)
            attach.detach()
            pipeline.close()
            recorded = pipeline.stats.calls
            for u in users.values():
                u.client.close()
    finally:
        for b in browsers.values():
            b.close()
    return {"recorded": recorded, **_added(times, "attach")}


def _added(times: dict[str, dict[str, list[float]]], what: str) -> dict[str, Any]:
    """Medians and p99s with and without ``what``, and what it adds (paired runs of small and big calls)."""
    res: dict[str, Any] = {}
    for label, t in times.items():
        res[f"{label}_{what}"] = {f"{size}_{stat}_ms": round(f(t[size]), 3) for size in ("small", "big")
                                  for stat, f in (("median", statistics.median), ("p99", _p99))}
    w, wo = res[f"with_{what}"], res[f"without_{what}"]
    for key in ("small_median", "small_p99", "big_median", "big_p99"):
        res[f"added_{key}_ms"] = round(w[f"{key}_ms"] - wo[f"{key}_ms"], 3)
    return res


def _p99(xs: list[float]) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(len(s) * 0.99))]


# -- main --------------------------------------------------------------------------------------
def markdown(results: dict[str, Any]) -> str:
    m, d = results.get("match", {}), results.get("drift", {})
    lines = [f"Measured {results['date']} on {results['machine']} (absolute times are machine-dependent; "
             "ratios are pair by pair in the same run).", ""]
    lines += ["| measure | portalspec | baseline | ratio |", "| --- | --- | --- | --- |"]
    if m:
        lines.append(f"| match, calls/s (all {m['operations']} nodoc operations) | {m['portalspec_calls_per_s']:,} "
                     f"({m['portalspec_correct']}/{m['operations']} correct) | openapi-core finder {m['openapi_core_calls_per_s']:,} "
                     f"({m['openapi_core_agree']}/{m['operations']} agree) | {m['ratio']}x |")
    if m.get("undocumented_calls"):
        lines.append(f"| match, undocumented calls/s with their nearest template ({m['undocumented_calls']} calls, "
                     f"{m['undocumented_with_nearest']} with one) | {m['undocumented_calls_per_s']:,} | every template of the "
                     f"host scored in turn {m['undocumented_full_scan_calls_per_s']:,} (same nearest "
                     f"{m['undocumented_same_nearest']}/{m['undocumented_calls']}) | {m['undocumented_ratio']}x |")
    if d:
        lines.append(f"| drift check, calls/s with bodies | {d['portalspec_calls_per_s']:,} | openapi-core response validator "
                     f"{d['openapi_core_calls_per_s']:,} (agree {d['agree']}/{d['compared']}) | {d['ratio']}x |")
    t = results.get("templates", {})
    if t.get("portalspec"):
        p = t["portalspec"]
        others = {"mitmproxy2swagger": t.get("mitmproxy2swagger", {}), **(t.get("npm_tools") or {})}
        for name, o in others.items():
            if "exact" in o:
                lines.append(f"| undocumented templates recovered ({t['true_templates']} true) | {p['exact']} exact, "
                             f"{p['false']} false, {p['wall_s']} s | {name} {o['exact']} exact, {o['false']} false, "
                             f"{o['wall_s']} s | |")
    for key, name, how, base in (("addon", "addon", "", "mitmdump without addon"),
                                 ("attach", "attach (CDP)", ", timed in the page", "Chromium without attach")):
        a = results.get(key, {})
        for size, label in (("small", "small call"), ("big", "1 MiB call")):
            if a:
                lines.append(f"| {name} latency added, {label} (median{how}) | {a[f'added_{size}_median_ms']} ms | "
                             f"{base} {a[f'without_{key}'][f'{size}_median_ms']} ms | |")
    cr = results.get("code_routes", {})
    if cr:
        lines += ["", f"Routes from JavaScript bundles ({cr['mb']} MB of generated minified bundles with a path-like string "
                  f"about every 100 bytes, one core): {cr['portalspec_mb_per_s']} MB/s scanning for the nodoc specs' routes "
                  f"({cr['candidates']} candidates), {cr['generic_mb_per_s']} MB/s for every path-like literal (no specs, "
                  f"{cr['candidates_generic']}); a plain Python `re` scan that only finds quoted paths, with no method or "
                  f"template, {cr['re_scan_mb_per_s']} MB/s in the same run. The addon's response hook for a 5 MB "
                  f"gzip'd bundle: {cr['hook_5mb_bundle_median_ms']} ms (median; a JSON call: {cr['hook_json_call_median_ms']} ms)."]
    html_rows = results.get("report_html", [])
    if html_rows:
        lines += ["", "Report of a day across the 20 nodoc portals (older specs, planted drift, write flows), "
                  "HTML with every section; opened in headless Chromium at 1280 px (median of 3):", "",
                  "| calls | report s (2 jobs) | HTML MB | report.json MB | report.md KB (GitHub renders 400) | drift "
                  "| undocumented endpoints | flows (kinds; drawn in report.md) | code routes | opens in Chromium | demo report opens in |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        for r in html_rows:
            md = f"{r['md_kb']}" if "md_kb" in r else f"{r['md_mb'] * 1000:.0f}"
            lines.append(f"| {r['calls']:,} | {r['report_s']} | {r['html_mb']} | {r['json_mb']} | {md} | {r['drift']} | "
                         f"{r['undocumented_endpoints']} | {r['flows']}"
                         + (f" ({r['flow_kinds']} kinds; {r['md_flows_drawn']} drawn)" if "flow_kinds" in r else "")
                         + f" | {r.get('code_routes', '-')} | {r['open_s']} s | "
                         f"{r['demo_open_s']} s |")
    rows = results.get("scale", [])
    if rows:
        lines += ["", "| calls | HAR MB | import MB/s, 1 / 2 jobs | import calls/s, 1 / 2 jobs | import peak MB, 1 / 2 jobs "
                  "| report s, 1 / 2 jobs | report peak MB, 1 / 2 jobs |", "| --- | --- | --- | --- | --- | --- | --- |"]
        for r in rows:
            lines.append(f"| {r['calls']:,} | {r['har_mb']} | {r['import_j1_mb_per_s']} / {r['import_j2_mb_per_s']} | "
                         f"{r['import_j1_calls_per_s']:,} / {r['import_j2_calls_per_s']:,} | "
                         f"{r['import_j1_peak_mb']} / {r['import_j2_peak_mb']} | {r['report_j1_s']} / {r['report_j2_s']} | "
                         f"{r['report_j1_peak_mb']} / {r['report_j2_peak_mb']} |")
        rm, ll = results.get("scale_read_mostly"), results.get("scale_long_lists")
        for r in [*rows, *([rm] if rm else []), *([ll] if ll else [])]:
            for jobs, c in ((1, r), (2, r.get("j2"))):
                if not c or "flows_overhead" not in c:
                    continue
                pairs = c.get("flows_overhead_pairs", [])
                what = (f"{r['writes'] * 100:.0f}% writes: " if "writes" in r else
                        f"one GET in {r['long_lists']} a 170 KB list, {r['picks_linked']} of {r['picks_sent']} ids picked "
                        "from one linked: " if "long_lists" in r else "")
                share = f", {c['calls_in_flows'] * 100:.0f}% of calls in them" if "calls_in_flows" in c else ""
                cost = (f"median of {len(pairs)} pairs {statistics.median(pairs) * 100:.1f}% (pairs {', '.join(f'{x * 100:.0f}%' for x in pairs)}; "
                        f"best against best {c['flows_overhead'] * 100:.1f}%)") if pairs else f"{c['flows_overhead'] * 100:.1f}%"
                lines.append(f"| {r['calls']:,} | {what}write flows: {c['flows']:,}{share} | report without flows "
                             f"{c[f'report_no_flows_j{jobs}_s']} s ({jobs} job{'s' if jobs > 1 else ''}) | | flows and lineage add {cost} | | |")
    u = results.get("update_spec")
    if u:
        lines += ["", f"update-spec --in-place over all {u['specs']} nodoc specs, {u['new_endpoints']} new endpoints, "
                  f"{u['files_changed']} files changed, spec validation included: {u['wall_s']} s (peak {u['peak_mb']} MB)."]
    sec = results.get("secrets", [])
    if sec:
        lines += ["", "| calls | secrets | HAR MB | import s, 2 jobs | import MB/s, 2 jobs | distinct / shared |",
                  "| --- | --- | --- | --- | --- | --- |"]
        for r in sec:
            lines.append(f"| {r['calls']:,} | one session's, shared | {r['shared_mb']} | {r['shared_s']} | {r['shared_mb_per_s']} | |")
            lines.append(f"| {r['calls']:,} | every call its own (a third with `sig=`) | {r['distinct_mb']} | {r['distinct_s']} | "
                         f"{r['distinct_mb_per_s']} | {r['ratio']} |")
    skipped = {k: v["skipped"] for k, v in ({"mitmproxy2swagger": t.get("mitmproxy2swagger", {}), **(t.get("npm_tools") or {})}
                                           if t else {}).items() if "skipped" in v}
    if skipped:
        lines += ["", "Not compared: " + "; ".join(f"{k}: {v}" for k, v in skipped.items())]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--million", action="store_true", help="also run 1,000,000 calls")
    ap.add_argument("--quick", action="store_true", help="10k calls only, no external tools")
    ap.add_argument("--only", default="", help="comma-separated: match,drift,scale,secrets,update_spec,templates,addon,attach,report_html,code_routes")
    a = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    specs = nodoc_dir()
    if not specs.is_dir():
        sys.exit(f"nodoc specs not found at {specs} (set PORTALSPEC_NODOC_SPECS)")
    only = set(filter(None, a.only.split(",")))
    want: Callable[[str], bool] = lambda k: not only or k in only  # noqa: E731
    index = SpecIndex.load([specs], freeze=True)  # as the CLI commands load it
    results: dict[str, Any] = {"date": time.strftime("%Y-%m-%d"), "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                               f"Python {platform.python_version()}, {platform.system()}"}
    if want("match"):
        log("match...")
        results["match"] = bench_match(index, reps=10)
    if want("drift"):
        log("drift...")
        results["drift"] = bench_drift(index, limit_core=400)
    if want("scale"):
        sizes = [10_000] if a.quick else [10_000, 100_000] + ([1_000_000] if a.million else [])
        results["scale"] = bench_scale(sizes, index.operations, specs)
        results["scale_read_mostly"] = bench_read_mostly(sizes[-1], index.operations, specs)
        results["scale_long_lists"] = bench_long_lists(10_000, index.operations, specs)
    if want("secrets"):
        log("distinct secrets...")
        results["secrets"] = bench_secrets([10_000] if a.quick else [10_000, 100_000], index.operations)
    if want("update_spec"):
        log("update-spec...")
        results["update_spec"] = bench_update_spec(specs)
    if want("templates") and not a.quick:
        log("templates...")
        results["templates"] = bench_templates(specs, HERE / ".tools")
    if want("addon"):
        log("addon overhead...")
        results["addon"] = bench_addon(500 if not a.quick else 100, 30 if not a.quick else 5)
    if want("code_routes"):
        log("code routes...")
        results["code_routes"] = bench_code_routes(20 if not a.quick else 4)
    if want("report_html") and shutil.which("chromium"):
        log("report html at a day's size...")
        results["report_html"] = bench_report_html([10_000] if a.quick else [10_000, 100_000], specs)
    if want("attach") and shutil.which("chromium"):
        log("attach overhead...")
        results["attach"] = bench_attach(300 if not a.quick else 60, 30 if not a.quick else 5)
    if only and (HERE / "results.json").exists():  # a partial run updates its sections of the last full one
        previous = json.loads((HERE / "results.json").read_text())
        results = {**previous, **results}
    (HERE / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    md = markdown(results)
    (HERE / "RESULTS.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
