"""Which start method the import and report workers get."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = """
import _thread, threading, time
from portalspec.pool import worker_context
print(worker_context("portalspec.importers.run").get_start_method())
_thread.start_new_thread(time.sleep, (5,))  # a thread the threading module does not know of
time.sleep(0.2)
print(threading.active_count(), worker_context("portalspec.importers.run").get_start_method())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork and forkserver as on Linux")
def test_fork_only_while_the_process_has_one_thread() -> None:
    """A process with one thread forks its workers; once any thread exists (a test runner's, a C
    library's), forking could copy a held lock, so the fork server is used."""
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True)
    first, second = out.stdout.split("\n")[:2]
    assert first == "fork"
    assert second == "1 forkserver"  # threading sees one thread; the OS sees two
