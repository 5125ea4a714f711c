"""``portalspec scan``: a clean capture passes; a raw HAR or a tampered capture fails, naming the entry."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from portalspec.importers import import_file

from .canary import Canaries, har, portal_entry


def _scan(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "portalspec.cli", "scan", str(path)], capture_output=True, text=True)


def test_scan(tmp_path: Path) -> None:
    c = Canaries()
    raw = tmp_path / "raw.har"
    raw.write_text(json.dumps(har([portal_entry(c)])))
    r = _scan(raw)
    assert r.returncode == 1 and "entry 0" in r.stdout and "jwt" in r.stdout
    import_file(raw, tmp_path / "cap", progress=False)
    r = _scan(tmp_path / "cap")
    assert r.returncode == 0 and "no suspected secrets" in r.stdout
    shard = tmp_path / "cap" / "entries-0001.jsonl"
    entry = json.loads(shard.read_text())
    entry["request"]["headers"].append({"name": "x-leak", "value": f"Bearer {c.jwt_token}"})
    shard.write_text(json.dumps(entry) + "\n")
    r = _scan(tmp_path / "cap")
    assert r.returncode == 1 and "entry 0" in r.stdout
