"""portalspec's cache directory and its upkeep: files in it are read through ``load`` and written through
``store``, which keep it bounded.

A file is kept while it is used: a hit marks it used (its mtime, at most once a day), and each time a
new file is written, files unused for ``MAX_AGE_DAYS`` go, then the least recently used until the
directory holds at most ``MAX_BYTES``. Only portalspec's own files are touched (``*.pickle`` and the
temporary files it writes them through). A cache is an optimisation: a file that cannot be read,
written or removed is passed over, never an error.
"""

from __future__ import annotations

import os
import pickle
import time
from pathlib import Path
from typing import Any

MAX_AGE_DAYS = 30
MAX_BYTES = 512 * 1024 * 1024
_TOUCH_AFTER_S = 24 * 3600  # a hit marks its file used again only when it was last marked this long ago
_TMP_STALE_S = 3600  # a temporary file this old was left by a process that died while writing it
_PRUNE_EVERY_S = 600  # a process that writes many files (a cold spec load) looks the directory over once
_pruned_at = -float("inf")
_READ_ERRORS = (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError, TypeError, ImportError,
                RecursionError, IndexError, KeyError)


def cache_dir() -> Path:
    env = os.environ.get("PORTALSPEC_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "portalspec"


def load(path: Path) -> Any | None:
    """The object pickled at ``path`` (None if there is none, or it cannot be read), marked used."""
    try:
        with open(path, "rb") as f:
            obj = pickle.load(f)  # noqa: S301 - our own cache file, in the user's cache dir
            stale = time.time() - os.fstat(f.fileno()).st_mtime > _TOUCH_AFTER_S
    except _READ_ERRORS:
        return None
    if stale:
        try:
            os.utime(path)
        except OSError:
            pass  # a cache someone else owns, read-only: still a hit
    return obj


def store(path: Path, obj: Any) -> None:
    """Pickle ``obj`` to ``path`` (atomically), then keep the directory bounded (``prune``)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with open(tmp, "wb") as f:
            pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except (OSError, pickle.PicklingError, RecursionError, TypeError, AttributeError):
        return
    global _pruned_at
    if time.monotonic() - _pruned_at > _PRUNE_EVERY_S:
        _pruned_at = time.monotonic()
        prune(keep=path)


def prune(root: Path | None = None, keep: Path | None = None, now: float | None = None) -> list[Path]:
    """Remove the cache's files unused for ``MAX_AGE_DAYS``, then the least recently used until what is left
    is at most ``MAX_BYTES`` (never ``keep``, the file just written), and temporary files left by a process
    that died; the files removed."""
    root = root or cache_dir()
    now = time.time() if now is None else now
    files: list[tuple[float, int, Path]] = []
    gone: list[Path] = []
    for d in (root, root / "docs"):
        try:
            entries = list(os.scandir(d))
        except OSError:
            continue
        for e in entries:
            try:
                if not e.is_file(follow_symlinks=False):
                    continue
                st = e.stat(follow_symlinks=False)
            except OSError:
                continue
            p = Path(e.path)
            if p.suffix == ".tmp" and p.stem.rpartition(".")[2].isdigit():  # ``store``'s own
                if now - st.st_mtime > _TMP_STALE_S and _remove(p):
                    gone.append(p)
            elif p.suffix == ".pickle" and p != keep:
                files.append((st.st_mtime, st.st_size, p))
    files.sort()
    total = sum(size for _, size, _ in files)
    if keep is not None:
        try:
            total += keep.stat().st_size
        except OSError:
            pass
    for mtime, size, p in files:
        if now - mtime <= MAX_AGE_DAYS * 86400 and total <= MAX_BYTES:
            break
        if _remove(p):
            gone.append(p)
            total -= size
    return gone


def _remove(p: Path) -> bool:
    try:
        p.unlink()
    except OSError:
        return False
    return True
