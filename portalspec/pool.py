"""The multiprocessing context the import and report workers run in."""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
from multiprocessing.context import BaseContext


def worker_context(preload: str) -> BaseContext:
    """``fork`` while this process has one thread (the workers start at once, with everything
    loaded); else ``forkserver`` where there is one (a process with threads must not fork), else
    ``spawn``.

    The fork server loads ``preload`` (the module that holds the worker function) once, so each
    worker is forked with it loaded instead of importing the package itself (about 0.25 s each).
    """
    methods = mp.get_all_start_methods()
    if "fork" in methods and _one_thread():
        return mp.get_context("fork")
    if "forkserver" in methods:
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload([preload])
        return ctx
    return mp.get_context("spawn")


def _one_thread() -> bool:
    """Whether the process has one thread, counted by the OS where it can tell: threads not started
    through ``threading`` (a test runner's, a C library's) count too, as they do for Python's own
    fork warning."""
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return threading.active_count() == 1
