"""The loaded spec set with its matcher, cached on disk by the content hash of every file it read."""

from __future__ import annotations

import gc
import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from .. import __version__
from ..errors import PortalspecError
from ..matching.matcher import Matcher
from ..cachedir import cache_dir, load, store
from .loader import find_roots, load_spec
from .model import Operation, Spec

CACHE_VERSION = 1


def tell_spec_errors(index: "SpecIndex", warn: Callable[[str], None]) -> None:
    """Each spec load error once (file and pointer), and what it cost: the calls of a lost path
    would otherwise silently become "undocumented"."""
    for s in index.specs:
        for e in s.errors:
            warn(f"spec error: {s.name}: {e}")
        if s.paths_lost:
            warn(f"spec error: {s.name}: {len(s.paths_lost)} path item(s) not loaded, their calls will show as "
                 f"undocumented: {', '.join(s.paths_lost[:5])}{' ...' if len(s.paths_lost) > 5 else ''}")


def _digest(path: str) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


@dataclass
class SpecIndex:
    specs: list[Spec]
    matcher: Matcher
    from_cache: bool = False

    @property
    def operations(self) -> list[Operation]:
        return self.matcher.operations

    @classmethod
    def load(cls, paths: Sequence[Path | str], use_cache: bool = True,
             warn: Callable[[str], None] | None = None, freeze: bool = False) -> "SpecIndex":
        """Load every root document under ``paths``; one broken spec does not stop the others.

        ``freeze``: move everything alive into the collector's permanent generation afterwards
        (``gc.freeze``). The index is a large, long-lived, cyclic graph; without this every full
        collection during matching walks it again (about a third of match time). For commands
        that load an index once and then process calls.
        """
        index = cls._load(paths, use_cache, warn)
        if freeze:
            gc.collect()
            gc.freeze()
        return index

    @classmethod
    def _load(cls, paths: Sequence[Path | str], use_cache: bool, warn: Callable[[str], None] | None) -> "SpecIndex":
        roots = find_roots([Path(p) for p in paths])
        if not roots:
            raise PortalspecError("no OpenAPI documents found (no file with a top-level 'openapi' key)",
                                  ", ".join(str(p) for p in paths))
        key = hashlib.sha256(
            "\0".join([__version__, str(CACHE_VERSION), _code_digest(), *sorted(str(r.resolve()) for r in roots)]).encode()
        ).hexdigest()[:32]
        cfile = cache_dir() / f"index-{key}.pickle"
        if use_cache:
            hit = _read_cache(cfile)
            if hit is not None:
                return hit
        specs: list[Spec] = []
        for root in roots:
            try:
                specs.append(load_spec(root))
            except PortalspecError as e:
                (warn or _stderr)(f"spec not loaded: {e}")
                specs.append(Spec(name=root.stem, title=root.name, root=str(root), version="?", servers=[],
                                  operations=[], files=[str(root)], errors=[str(e)]))
        index = cls(specs, Matcher(op for s in specs for op in s.operations))
        if use_cache:
            _write_cache(cfile, index)
        return index


def _code_digest() -> str:
    """The loader's and matcher's own source: a cache written by other code is not reused."""
    here = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for rel in ("specs/loader.py", "specs/model.py", "matching/matcher.py", "matching/templates.py"):
        h.update((here / rel).read_bytes())
    return h.hexdigest()


def _read_cache(cfile: Path) -> SpecIndex | None:
    hit = load(cfile)
    if not (isinstance(hit, tuple) and len(hit) == 2 and isinstance(hit[0], dict) and isinstance(hit[1], SpecIndex)):
        return None  # no cache file, or not one this code wrote
    files, index = hit
    if any(_digest(p) != h for p, h in files.items()):
        return None
    index.from_cache = True
    return index


def _write_cache(cfile: Path, index: SpecIndex) -> None:
    store(cfile, ({p: _digest(p) for s in index.specs for p in s.files}, index))


def _stderr(msg: str) -> None:
    print(f"warning: {msg}", file=sys.stderr)
