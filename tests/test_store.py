"""The fixture store: append-only, crash-tolerant, streaming, standard HAR on export."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import tracemalloc
from pathlib import Path

from portalspec.fixtures.store import CaptureReader, CaptureWriter, export_har


def _entry(i: int, pad: int = 0) -> dict:
    return {"startedDateTime": "2026-01-01T00:00:00Z", "time": 1,
            "request": {"method": "GET", "url": f"https://p.example/api/{i}", "headers": [], "queryString": [],
                        "cookies": [], "httpVersion": "HTTP/1.1", "headersSize": -1, "bodySize": 0},
            "response": {"status": 200, "statusText": "", "httpVersion": "HTTP/1.1", "headers": [], "cookies": [],
                         "content": {"size": pad, "mimeType": "text/plain", "text": "x" * pad},
                         "redirectURL": "", "headersSize": -1, "bodySize": pad},
            "cache": {}, "timings": {"send": 0, "wait": 1, "receive": 0}}


def test_permissions_and_session_metadata(tmp_path: Path) -> None:
    with CaptureWriter(tmp_path / "cap", kind="test", options={"a": 1}) as w:
        w.append(_entry(0))
    cap = tmp_path / "cap"
    assert stat.S_IMODE(cap.stat().st_mode) == 0o700
    for f in cap.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
    meta = json.loads((cap / "capture.json").read_text())
    s = meta["sessions"][0]
    assert s["kind"] == "test" and s["entries"] == 1 and s["ended"] and s["options"] == {"a": 1}
    entry = next(iter(CaptureReader(cap)))
    assert entry["_portalspec"]["session"] == s["id"]


def test_torn_last_line_is_skipped_then_cut_before_appending(tmp_path: Path) -> None:
    cap = tmp_path / "cap"
    with CaptureWriter(cap, kind="test") as w:
        for i in range(3):
            w.append(_entry(i))
    shard = cap / "entries-0001.jsonl"
    with open(shard, "ab") as f:
        f.write(b'{"startedDateTime": "2026')  # a writer killed mid-line
    warnings: list[str] = []
    assert len(list(CaptureReader(cap, warn=warnings.append))) == 3
    assert warnings and "incomplete last line" in warnings[0] and "line 4" in warnings[0]
    with CaptureWriter(cap, kind="test") as w:
        w.append(_entry(3))
    urls = [e["request"]["url"] for e in CaptureReader(cap)]
    assert urls == [f"https://p.example/api/{i}" for i in range(4)]


def test_shards_roll_over_and_read_in_order(tmp_path: Path) -> None:
    cap = tmp_path / "cap"
    with CaptureWriter(cap, kind="test", shard_bytes=4096, fsync="batch") as w:
        for i in range(40):
            w.append(_entry(i, pad=300))
    assert len(list(cap.glob("entries-*.jsonl"))) > 3
    assert [int(e["request"]["url"].rsplit("/", 1)[1]) for e in CaptureReader(cap)] == list(range(40))


def test_export_is_standard_har(tmp_path: Path) -> None:
    cap = tmp_path / "cap"
    with CaptureWriter(cap, kind="test") as w:
        for i in range(5):
            w.append(_entry(i))
    n = export_har(cap, tmp_path / "x.har")
    har = json.loads((tmp_path / "x.har").read_text())
    assert n == 5 and har["log"]["version"] == "1.2" and har["log"]["creator"]["name"] == "portalspec"
    assert [e["request"]["url"] for e in har["log"]["entries"]] == [f"https://p.example/api/{i}" for i in range(5)]
    for e in har["log"]["entries"]:  # HAR 1.2 required fields
        assert {"startedDateTime", "time", "request", "response", "cache", "timings"} <= set(e)
    r = subprocess.run([sys.executable, "-m", "portalspec.cli", "export", str(cap), "-o", str(tmp_path / "y.har")],
                       capture_output=True, text=True)
    assert r.returncode == 0 and json.loads((tmp_path / "y.har").read_text()) == har


def test_reading_streams(tmp_path: Path) -> None:
    """Peak memory while reading does not grow with the number of entries."""
    cap = tmp_path / "cap"
    with CaptureWriter(cap, kind="test", fsync="batch", batch=10**9) as w:
        for i in range(20000):
            w.append(_entry(i, pad=200))

    def peak(limit: int) -> int:
        tracemalloc.start()
        for i, _ in enumerate(CaptureReader(cap)):
            if i >= limit:
                break
        p = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return p

    small, large = peak(1000), peak(20000)
    assert large < small * 2 + 64 * 1024, (small, large)


def test_kill_during_writes_loses_at_most_the_call_in_flight(tmp_path: Path) -> None:
    cap = tmp_path / "cap"
    code = (
        "import sys, os, signal\n"
        "from portalspec.fixtures.store import CaptureWriter\n"
        f"sys.path.insert(0, {str(Path(__file__).parent.parent)!r})\n"
        "from tests.test_store import _entry\n"
        f"w = CaptureWriter({str(cap)!r}, kind='test')\n"
        "for i in range(200):\n"
        "    w.append(_entry(i, pad=5000))\n"
        "    print(i, flush=True)\n"
        "    if i == 120: os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == -9
    done = int(r.stdout.split()[-1])
    got = [int(e["request"]["url"].rsplit("/", 1)[1]) for e in CaptureReader(cap)]
    assert got == list(range(len(got))) and len(got) >= done + 1
    assert os.path.getsize(cap / "entries-0001.jsonl") > 0
