"""Shared fixtures: where the real nodoc specs are, and a per-test spec-index cache."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def nodoc_dir() -> Path:
    env = os.environ.get("PORTALSPEC_NODOC_SPECS")
    return Path(env) if env else (ROOT.parent / "shared" / "specs" / "nodoc")


@pytest.fixture(scope="session")
def nodoc() -> Path:
    d = nodoc_dir()
    if not d.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"nodoc specs not found at {d} (set PORTALSPEC_NODOC_SPECS)")
        pytest.skip(f"nodoc specs not found at {d} (set PORTALSPEC_NODOC_SPECS)")
    return d


@pytest.fixture(autouse=True)
def _cache_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never write the user's cache; one cache per test worker keeps reloads fast."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    monkeypatch.setenv("PORTALSPEC_CACHE", str(tmp_path_factory.getbasetemp() / f"cache-{worker}"))


@pytest.fixture(scope="session")
def nodoc_index(nodoc: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from portalspec.specs.index import SpecIndex

    return SpecIndex.load([nodoc], use_cache=False)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # type: ignore[no-untyped-def]
    """Print the sizes the hostile-input suite runs with (the audit corpus, the fuzzing budget)."""
    from tests.test_hostile import FUZZ_RUNS
    from tests.test_redaction_audit import CASES

    terminalreporter.write_line(f"portalspec: redaction audit corpus {len(CASES)} placements; "
                                f"atheris fuzz target {FUZZ_RUNS} iterations; hypothesis property tests on every reader")
