"""Parsed spec files kept on disk by their content: a file read again unchanged is unpickled (about 25 times
faster than PyYAML building it again) and can never be stale (the key is its bytes and the parser's own code).
The spec index is cached whole (``index.py``); this cache serves what reads the files themselves again
(planning an overlay) and an index rebuilt after one file changed."""

from __future__ import annotations

import hashlib
import os
import pickle
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from .. import __version__


def cache_dir() -> Path:
    env = os.environ.get("PORTALSPEC_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "portalspec"


@lru_cache(maxsize=1)
def _parser_digest() -> bytes:
    """The version and the loader's own source (its YAML rules): a document parsed by other code is not reused."""
    return hashlib.sha256(__version__.encode() + (Path(__file__).parent / "loader.py").read_bytes()).digest()


def parsed(data: bytes, parse: Callable[[], Any]) -> Any:
    """``parse()`` of a file whose bytes are ``data``, from the cache when it holds them. A file that does
    not parse raises as ``parse`` does and is not cached; a cache that cannot be read or written is
    passed over."""
    f = cache_dir() / "docs" / f"{hashlib.sha256(_parser_digest() + data).hexdigest()[:40]}.pickle"
    try:
        with open(f, "rb") as fh:
            return pickle.load(fh)  # noqa: S301 - our own cache file, in the user's cache dir
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError, TypeError, ImportError,
            RecursionError):
        pass
    doc = parse()
    try:
        f.parent.mkdir(parents=True, exist_ok=True)
        tmp = f.with_suffix(f".{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            pickle.dump(doc, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, f)
    except (OSError, pickle.PicklingError, RecursionError):
        pass  # a cache is an optimisation; failing to write one is not an error
    return doc
