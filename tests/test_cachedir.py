"""portalspec's cache directory stays bounded: what is used stays, what is not goes, nothing else is touched."""

from __future__ import annotations

import os
import pickle
import time
from pathlib import Path

import pytest

from portalspec import cachedir
from portalspec.specs.index import SpecIndex

DAY = 86400


def _put(path: Path, age_s: float, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    t = time.time() - age_s
    os.utime(path, (t, t))
    return path


def _spec(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "openapi.yml").write_text("openapi: 3.0.1\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n"
                                      "      responses: {'200': {description: ok}}\n")
    return root


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("PORTALSPEC_CACHE", str(root))
    monkeypatch.setattr(cachedir, "_pruned_at", -float("inf"))
    return root


def test_files_unused_for_a_month_go_when_the_cache_is_written(cache: Path, tmp_path: Path) -> None:
    """Writing a spec index's cache removes the cache's files unused for 30 days and temporary files a dead
    process left; a file read lately is used, whenever it was written; other files are not the cache's."""
    old = _put(cache / "docs" / "old.pickle", 40 * DAY)
    recent = _put(cache / "docs" / "recent.pickle", 2 * DAY)
    read = _put(cache / "index-read.pickle", 40 * DAY, pickle.dumps({"kept": True}))
    mine = _put(cache / "notes.txt", 400 * DAY)
    dead = _put(cache / "index-a.4242.tmp", 2 * 3600)
    writing = _put(cache / "index-b.4343.tmp", 5)
    assert cachedir.load(read) == {"kept": True}
    assert time.time() - read.stat().st_mtime < 60  # a hit marks its file used

    index = SpecIndex.load([_spec(tmp_path / "spec")])
    assert not index.from_cache and SpecIndex.load([tmp_path / "spec"]).from_cache
    assert not old.exists() and not dead.exists()
    assert recent.exists() and read.exists() and mine.exists() and writing.exists()
    assert len(list(cache.glob("index-*.pickle"))) == 2 and list((cache / "docs").glob("*.pickle")) != [recent]


def test_the_cache_stays_within_its_size_least_recently_used_first(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cachedir, "MAX_BYTES", 10_000)
    files = [_put(cache / "docs" / f"{n}.pickle", (10 - n) * DAY, b"x" * 3000) for n in range(6)]
    new = cache / "index-new.pickle"
    cachedir.store(new, b"y" * 2000)
    assert cachedir.load(new) == b"y" * 2000
    left = [f for f in files if f.exists()]
    assert left == files[-2:]  # the newest two: 6,000 bytes and the new file's 2,000 (pickled, a little more)
    assert sum(f.stat().st_size for f in [*left, new]) <= 10_000


def test_a_broken_cache_file_is_a_miss(cache: Path) -> None:
    bad = _put(cache / "index-bad.pickle", 0, b"\x80\x05not a pickle")
    assert cachedir.load(bad) is None and cachedir.load(cache / "missing.pickle") is None
    assert cachedir.prune(cache) == []  # nothing old, nothing over the size: nothing goes


def test_a_file_that_cannot_be_marked_used_is_still_a_hit(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old = _put(cache / "index-old.pickle", 40 * DAY, pickle.dumps([1, 2]))

    def refuse(*a: object, **k: object) -> None:
        raise PermissionError("read-only")

    monkeypatch.setattr(os, "utime", refuse)
    assert cachedir.load(old) == [1, 2]
