"""The package's type hints hold: mypy, as configured in pyproject.toml, finds no error in it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _mypy(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mypy", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_the_package_type_checks() -> None:
    got = _mypy()
    assert got.returncode == 0, got.stdout + got.stderr
    assert "Success: no issues found" in got.stdout and " 0 source files" not in got.stdout, got.stdout


def test_the_configuration_reports_a_wrong_type(tmp_path: Path) -> None:
    """The same configuration finds an error where there is one (a check that passes everything checks nothing)."""
    wrong = tmp_path / "wrong.py"
    wrong.write_text("from portalspec.paths import display_path\n\nn: int = display_path('x')\n")
    got = _mypy(str(wrong))
    assert got.returncode == 1 and "Incompatible types in assignment" in got.stdout, got.stdout + got.stderr
