"""Helpers for spec-update tests: an "older" copy of nodoc's specs (paths removed as text, so each
file keeps its own style), traffic for every operation, and the real ``redocly lint``."""

from __future__ import annotations

import json
import os
import subprocess
from collections import Counter
from pathlib import Path

import pytest


ROOT = Path(__file__).resolve().parent.parent
REDOCLY = ROOT / ".tools" / "redocly" / "node_modules" / ".bin" / "redocly"
def redocly(root: Path) -> Counter[tuple[str, str]] | None:
    """``redocly lint`` (nodoc's CI linter, recommended rules) on a spec root: problems by (rule, severity);
    None when it is not installed (the Makefile installs it where npm is)."""
    if not REDOCLY.exists():
        return None
    env = {**os.environ, "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true", "NO_COLOR": "1"}
    r = subprocess.run([str(REDOCLY), "lint", str(root), "--format=json"], capture_output=True, text=True, env=env,
                       timeout=300)
    try:
        doc = json.loads(r.stdout)
    except ValueError:
        pytest.fail(f"redocly lint gave no JSON: {r.stderr[-500:]}")
    return Counter((p["ruleId"], p["severity"]) for p in doc["problems"])


def need_redocly() -> None:
    if not REDOCLY.exists():
        msg = "redocly (npm @redocly/cli) is not installed: `make test` installs it when npm is present"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
