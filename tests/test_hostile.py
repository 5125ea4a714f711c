"""Hostile input and faults: fuzzing, limits, crash safety, safe defaults."""

from __future__ import annotations

import ast
import gzip
import json
import os
import signal
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portalspec.errors import PortalspecError
from portalspec.fixtures.decoding import decode_content
from portalspec.fixtures.store import CaptureReader, remove_stale_temps
from portalspec.importers import import_file
from portalspec.matching.matcher import Call
from portalspec.redaction import Redactor
from portalspec.specs.index import SpecIndex
from portalspec.specs.loader import load_spec

from .canary import Canaries, har, portal_entry

ROOT = Path(__file__).resolve().parent.parent
FUZZ_RUNS = int(os.environ.get("PORTALSPEC_FUZZ_RUNS", "10000"))

json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                           lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=12), c, max_size=4),
                           max_leaves=20)


# -- fuzzing -----------------------------------------------------------------------------------
def test_atheris_fuzz_target_runs_clean(tmp_path: Path) -> None:
    pytest.importorskip("atheris")
    r = subprocess.run([sys.executable, str(ROOT / "tests" / "fuzz" / "fuzz_inputs.py"), f"-runs={FUZZ_RUNS}",
                        "-max_len=4096", "-seed=1", f"-artifact_prefix={tmp_path}/"], capture_output=True, text=True,
                       timeout=600, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0, r.stderr[-3000:]
    done = [line for line in r.stderr.splitlines() if line.startswith("Done ")]
    assert done and int(done[-1].split()[1]) == FUZZ_RUNS


@settings(max_examples=150, deadline=None)
@given(entry=json_values, canary=st.sampled_from([Canaries().sccauth for _ in range(3)]))
def test_redactor_never_crashes_and_never_keeps_a_secret(entry: object, canary: str) -> None:
    e = {"request": {"method": "GET", "url": "https://h.example/a", "headers": [{"name": "Cookie", "value": f"sccauth={canary}"}],
                     "postData": {"mimeType": "application/json", "text": json.dumps({"x": entry, "echo": canary})}},
         "response": {"status": 200, "content": {"mimeType": "application/json", "text": json.dumps(entry)}},
         "_extra": entry}
    out = json.dumps(Redactor().redact_entry(e))
    assert canary not in out


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(method=st.text(max_size=8), url=st.text(max_size=200), body=st.one_of(st.none(), st.text(max_size=200)))
def test_matcher_never_crashes(method: str, url: str, body: str | None) -> None:
    ix = _demo_index()
    m = ix.matcher.match(Call(method or "GET", url, body))
    assert m.op is not None or m.reason


_DEMO: list[SpecIndex] = []


def _demo_index() -> SpecIndex:
    if not _DEMO:
        _DEMO.append(SpecIndex.load([ROOT / "specs" / "demo"], use_cache=False))
    return _DEMO[0]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=600))
def test_har_and_flow_readers_fail_cleanly(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    tmp = tmp_path_factory.mktemp("fz")
    for name, content in (("x.har", data), ("y.har", b'{"log":{"entries":[' + data), ("z.flows", data)):
        f = tmp / name
        f.write_bytes(content)
        try:
            import_file(f, tmp / ("cap-" + name), warn=lambda m: None, progress=False)
        except PortalspecError as e:
            assert name in str(e)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=st.dictionaries(st.sampled_from(["paths", "servers", "components", "info", "x"]), json_values, max_size=4))
def test_spec_loader_fails_cleanly(tmp_path_factory: pytest.TempPathFactory, doc: dict) -> None:
    tmp = tmp_path_factory.mktemp("spec")
    f = tmp / "openapi.json"
    f.write_text(json.dumps({"openapi": "3.0.1", **doc}))
    try:
        spec = load_spec(f)
    except PortalspecError:
        return
    assert isinstance(spec.operations, list)


# -- limits ------------------------------------------------------------------------------------
def _deep(n: int) -> str:
    return "[" * n + "]" * n


def test_deep_json_and_huge_arrays_are_bounded(tmp_path: Path) -> None:
    e1 = portal_entry(Canaries())
    e1["response"]["content"]["text"] = '{"a":' * 10000 + "1" + "}" * 10000
    e2 = portal_entry(Canaries())
    e2["request"]["postData"]["text"] = _deep(10000)
    e3 = portal_entry(Canaries())
    e3["response"]["content"]["text"] = json.dumps(list(range(400000)))
    (tmp_path / "d.har").write_text(json.dumps(har([e1, e2, e3])))
    t = time.perf_counter()
    res = import_file(tmp_path / "d.har", tmp_path / "cap", progress=False)
    assert res.imported == 3 and time.perf_counter() - t < 60
    entries = list(CaptureReader(tmp_path / "cap"))
    assert entries[2]["response"]["content"]["_truncated"] is True
    r = subprocess.run([sys.executable, "-m", "portalspec.cli", "report", str(tmp_path / "cap"), "--specs",
                        str(ROOT / "specs" / "demo"), "--out", str(tmp_path / "rep")], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    notes = json.loads((tmp_path / "rep" / "report.json").read_text())["summary"]["entry_notes"]
    assert notes == {"response.content: body truncated": 1}  # the note reaches the report
    assert "response.content: body truncated (1)" in (tmp_path / "rep" / "report.md").read_text()


def test_regex_worst_cases_finish() -> None:
    """Strings built to make a backtracking regex take exponential time (long runs of one class
    ended by a character that fails the match) go through every rule; a child process with a
    deadline turns a hang into a failure instead of a stuck test run."""
    cases = ["a" * 50000 + "X!", "Ab" * 25000 + "!", "aB1" * 20000 + "/", "=" * 50000 + "a", "%" * 30000,
             "<meta " * 10000, "x" * 40000 + "@" + "y." * 10000, "\\n" * 20000 + "code", "-" * 50000 + "BEGIN",
             "ABCDEFa" * 8000 + "!", "AbCd" * 12000 + "x", "Xy1" * 15000 + "Z", "MsGo" * 12000 + "q"]
    code = ("import json, sys; from portalspec.redaction import Redactor; r = Redactor(pseudonymize=['upn', 'email']);"
            "cases = json.loads(sys.stdin.read());"
            "[(r.redact_text(c), r.redact_string(c), r.redact_url(c), r.redact_body(c, 'application/json'),"
            "  r.redact_body(c, 'application/x-www-form-urlencoded')) for c in cases]; print('ok')")
    r = subprocess.run([sys.executable, "-c", code], input=json.dumps(cases), capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-2000:]


def test_zip_bomb_is_bounded() -> None:
    bomb = gzip.compress(b"\0" * (200 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < 1024 * 1024
    out, truncated = decode_content(bomb, "gzip", 1024 * 1024)
    assert truncated and len(out) == 1024 * 1024
    deflated = zlib.compress(b"a" * (50 * 1024 * 1024))
    out, truncated = decode_content(deflated, "deflate", 4096)
    assert truncated and len(out) == 4096


def test_zip_bomb_in_a_flow_file(tmp_path: Path) -> None:
    from mitmproxy import io as mio
    from mitmproxy.test import tflow, tutils

    resp = tutils.tresp(status_code=200, headers=[(b"content-type", b"application/json"), (b"content-encoding", b"gzip")],
                        content=b"")
    resp.raw_content = gzip.compress(b"[" + b"0," * (60 * 1024 * 1024) + b"0]", compresslevel=9)
    with open(tmp_path / "b.flows", "wb") as f:
        mio.FlowWriter(f).add(tflow.tflow(resp=resp))
    t = time.perf_counter()
    assert import_file(tmp_path / "b.flows", tmp_path / "cap", progress=False).imported == 1
    assert time.perf_counter() - t < 30
    entry = next(iter(CaptureReader(tmp_path / "cap")))
    assert entry["response"]["content"]["_truncated"] is True
    assert any("truncated" in n for n in entry["_portalspec"]["notes"])


def test_100mb_single_line_har_streams_in_bounded_memory(tmp_path: Path) -> None:
    har_path = tmp_path / "big.har"
    body = "x" * (2 * 1024 * 1024)
    with open(har_path, "w") as f:
        f.write('{"log":{"version":"1.2","entries":[')
        for i in range(50):
            e = portal_entry(Canaries())
            e["response"]["content"] = {"size": len(body), "mimeType": "text/plain", "text": body}
            f.write(("," if i else "") + json.dumps(e))
        f.write("]}}")
    with open(har_path, "rb") as f:
        assert b"\n" not in f.read(10_000_000)
    assert har_path.stat().st_size > 100 * 1000 * 1000
    # VmHWM is this process's own peak (ru_maxrss would include a forked parent's pages).
    code = ("import re, sys; from portalspec.importers import import_file;"
            f"r = import_file({str(har_path)!r}, {str(tmp_path / 'cap')!r}, progress=False, jobs=1);"
            "print(r.imported, re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    imported, rss_kb = map(int, r.stdout.split())
    assert imported == 50
    assert rss_kb < 250 * 1024, rss_kb  # far below the 100 MB file plus its parsed copy


# -- crash safety ------------------------------------------------------------------------------
def _kill_after(argv: list[str], wait_for: Path, pattern: str, min_count: int, timeout: float = 120) -> None:
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + timeout
    while time.time() < deadline and p.poll() is None:
        files = list(wait_for.glob(pattern)) if wait_for.exists() else []
        if files and sum(f.stat().st_size for f in files) >= min_count:
            break
        time.sleep(0.02)
    if p.poll() is None:
        os.kill(p.pid, signal.SIGKILL)
    p.wait()


def test_kill_during_import_then_rerun(tmp_path: Path) -> None:
    c = Canaries()
    entries = []
    for i in range(3000):
        e = portal_entry(c)
        e["request"]["url"] = f"https://admin.demo-portal.example/api/items/{i}"
        entries.append(e)
    src = tmp_path / "k.har"
    src.write_text(json.dumps(har(entries)))
    argv = [sys.executable, "-m", "portalspec.cli", "import", str(src), "--out", str(tmp_path / "cap"), "--jobs", "1"]
    _kill_after(argv, tmp_path / "cap", "entries-*.jsonl", 200_000)
    partial = [int(e["request"]["url"].rsplit("/", 1)[1]) for e in CaptureReader(tmp_path / "cap", warn=lambda m: None)]
    assert partial == list(range(len(partial))) and 0 < len(partial) < 3000
    r = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "resumed after entry" in r.stdout
    ids = [int(e["request"]["url"].rsplit("/", 1)[1]) for e in CaptureReader(tmp_path / "cap")]
    assert ids == list(range(3000))


def test_kill_during_report_leaves_no_half_file(tmp_path: Path) -> None:
    c = Canaries()
    entries = [portal_entry(c) for _ in range(1500)]
    (tmp_path / "r.har").write_text(json.dumps(har(entries)))
    import_file(tmp_path / "r.har", tmp_path / "cap", progress=False)
    out = tmp_path / "rep"
    argv = [sys.executable, "-m", "portalspec.cli", "report", str(tmp_path / "cap"), "--specs", str(ROOT / "specs" / "demo"),
            "--out", str(out)]
    _kill_after(argv, out, "report.*", 1)
    for f in out.glob("report.*") if out.exists() else []:
        if f.suffix in (".json", ".sarif"):
            json.loads(f.read_text())  # complete, or not there at all
    r = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and json.loads((out / "report.json").read_text())["summary"]["calls"] == 1500
    assert not list(out.glob(".*.tmp"))  # what the killed run was writing is cleared by the next


def test_stale_temp_files_of_dead_writers_are_removed(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".report.json.{int(dead.stdout)}.abc123.tmp"
    live = tmp_path / f".report.json.{os.getpid()}.def456.tmp"
    other = tmp_path / ".notes.tmp"
    for f in (stale, live, other):
        f.write_text("half")
    remove_stale_temps(tmp_path)
    assert not stale.exists() and live.exists() and other.exists()


# -- safe defaults -----------------------------------------------------------------------------
HTTP_CLIENTS = {"urllib.request", "http.client", "requests", "httpx", "aiohttp", "urllib3", "socket", "ftplib", "smtplib",
                "asyncio.open_connection", "websockets", "pycurl"}


# The one connection portalspec opens: to the DevTools address the user gives ``attach`` (the browser's own
# debugging port), which carries DevTools commands, never a portal request.
CDP_MODULE = "portalspec/record/cdp.py"
# What ``attach`` may ask of the browser: follow targets, read what it loaded, answer or let go paused
# requests, leave. Nothing that navigates, opens or closes a tab, replays a request or runs page script.
CDP_ALLOWED = {"Target.setAutoAttach", "Target.detachFromTarget", "Runtime.runIfWaitingForDebugger", "Network.enable",
               "Network.disable", "Network.getResponseBody", "Network.getRequestPostData", "Fetch.enable", "Fetch.disable",
               "Fetch.continueRequest", "Fetch.fulfillRequest", "Fetch.failRequest"}


def test_package_has_no_http_client_of_its_own() -> None:
    """The only traffic is the browser's, passed through mitmproxy: no module opens a connection, but the
    DevTools client, which talks to the browser's debugging port only."""
    offenders = []
    for py in (ROOT / "portalspec").rglob("*.py"):
        if str(py.relative_to(ROOT)) == CDP_MODULE:
            continue
        tree = ast.parse(py.read_text())
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Attribute) and node.attr in ("open_connection", "create_connection", "urlopen"):
                names = [node.attr]
            for n in names:
                if n in HTTP_CLIENTS or n.split(".")[0] in ("requests", "httpx", "aiohttp", "urllib3") or \
                        n in ("open_connection", "create_connection", "urlopen"):
                    offenders.append(f"{py.relative_to(ROOT)}: {n}")
    assert offenders == []


def test_attach_sends_only_devtools_commands_that_change_nothing() -> None:
    import re

    sent = set()
    for py in (ROOT / "portalspec").rglob("*.py"):
        sent |= set(re.findall(r"""send\(\s*["']([A-Z][A-Za-z]+\.[a-zA-Z]+)["']""", py.read_text()))
    assert "Fetch.fulfillRequest" in sent and "Network.getResponseBody" in sent  # the scan sees the calls
    assert sent <= CDP_ALLOWED, sent - CDP_ALLOWED
    cdp = (ROOT / CDP_MODULE).read_text()
    assert "replayXHR" not in cdp and "Page.navigate" not in cdp


def test_record_defaults(tmp_path: Path) -> None:
    from portalspec.cli import build_parser
    from portalspec.record.command import mitmdump_argv

    a = build_parser().parse_args(["record", "--out", str(tmp_path / "c"), "--host", "x.example"])
    assert a.listen == "127.0.0.1:8080"
    argv = mitmdump_argv(a)
    assert argv[argv.index("--listen-host") + 1] == "127.0.0.1"
    assert "portalspec_block_writes=true" in argv  # safe by default
    r = subprocess.run([sys.executable, "-m", "portalspec.cli", "record", "--out", str(tmp_path / "c"), "--host", "x.example",
                        "--listen", "127.0.0.1:notaport"], capture_output=True, text=True)
    assert r.returncode == 2 and "--listen" in r.stderr
    (tmp_path / "c").mkdir()


def test_placeholder_key_is_never_written(tmp_path: Path) -> None:
    key = os.urandom(32)
    r = Redactor(key=key)
    from portalspec.fixtures.store import CaptureWriter

    with CaptureWriter(tmp_path / "cap", kind="t") as w:
        e = portal_entry(Canaries())
        r.redact_entry(e)
        w.append(e)
    blob = b"".join(f.read_bytes() for f in (tmp_path / "cap").iterdir())
    for form in (key, key.hex().encode(), __import__("base64").b64encode(key)):
        assert form not in blob
