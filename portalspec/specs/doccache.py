"""Parsed spec files kept on disk by their content: a file read again unchanged is unpickled (about 25 times
faster than PyYAML building it again) and can never be stale (the key is its bytes and the parser's own code).
The spec index is cached whole (``index.py``); this cache serves what reads the files themselves again
(planning an overlay) and an index rebuilt after one file changed."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from .. import __version__
from ..cachedir import cache_dir, load, store


@lru_cache(maxsize=1)
def _parser_digest() -> bytes:
    """The version and the loader's own source (its YAML rules): a document parsed by other code is not reused."""
    return hashlib.sha256(__version__.encode() + (Path(__file__).parent / "loader.py").read_bytes()).digest()


def parsed(data: bytes, parse: Callable[[], Any]) -> Any:
    """``parse()`` of a file whose bytes are ``data``, from the cache when it holds them. A file that does
    not parse raises as ``parse`` does and is not cached; a cache that cannot be read or written is
    passed over."""
    f = cache_dir() / "docs" / f"{hashlib.sha256(_parser_digest() + data).hexdigest()[:40]}.pickle"
    doc = load(f)
    if doc is None:
        doc = parse()
        store(f, doc)
    return doc
