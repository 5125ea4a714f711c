"""Facts over both cores: captures cut into newline-aligned byte ranges, one process per range, merged in order.

Each worker process loads the spec index from the on-disk cache once and keeps it, with what is made
from it (a drift checker, the specs' words), for every range it reads. It returns its Facts without
operation objects (they are relinked by key) and without examples one of its earlier ranges of the
same report made (the merge would drop them: first examples win), so what crosses process
boundaries is small.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from .. import gcpolicy
from ..fixtures.store import CaptureReader
from ..specs.index import SpecIndex
from ..shapes.drift import DriftChecker
from ..shapes.paths import TemplateInferrer, keep_pages
from ..writeflows.collect import DEFAULT_GAP_S, FlowCollector
from .build import Facts, FactsBuilder, Made, _seen, spec_words

CHUNK_BYTES = 8 * 1024 * 1024  # a range's bytes at least, and by default in ``plan_chunks``
MAX_CHUNK_BYTES = 32 * 1024 * 1024
RANGES_PER_JOB = 4  # enough for the jobs to end near together; fewer ranges, less to pass on and merge
PARALLEL_MIN_BYTES = 48 * 1024 * 1024


@dataclass(frozen=True)
class Chunk:
    capture: str
    shard: str
    start: int
    end: int
    first_line: int


def plan_chunks(captures: list[str], chunk_bytes: int | None = None) -> list[Chunk]:
    """Newline-aligned byte ranges of every shard, with the line number each starts at (``iter_chunks``)."""
    return list(iter_chunks(captures, chunk_bytes))


def iter_chunks(captures: list[str], chunk_bytes: int | None = None) -> Iterator[Chunk]:
    """``plan_chunks``' ranges, each as soon as it is found, so that the first are read while the rest are
    planned (counting the lines of a 450 MB capture takes about 0.4 s).

    Reads each shard once in 1 MiB blocks (no mmap: mapped pages would count as this process's memory).
    """
    chunk_bytes = chunk_bytes or CHUNK_BYTES
    for cap in captures:
        for shard in CaptureReader(cap, warn=lambda m: None).shards():
            start, line, pos, lines_in_chunk = 0, 1, 0, 0
            with open(shard, "rb") as f:
                while block := f.read(1 << 20):
                    cut = 0  # where in this block the current chunk began (0 if before the block)
                    while True:
                        want = max(start + chunk_bytes - pos, cut)  # the chunk may end at the next newline from here
                        nl = block.find(b"\n", want) if want < len(block) else -1
                        if nl < 0:
                            break
                        lines_in_chunk += block.count(b"\n", cut, nl + 1)
                        yield Chunk(cap, str(shard), start, pos + nl + 1, line)
                        line += lines_in_chunk
                        lines_in_chunk, start, cut = 0, pos + nl + 1, nl + 1
                    lines_in_chunk += block.count(b"\n", cut)
                    pos += len(block)
            if pos > start:
                yield Chunk(cap, str(shard), start, pos, line)


def capture_bytes(captures: list[str]) -> int:
    return sum(s.stat().st_size for c in captures for s in CaptureReader(c, warn=lambda m: None).shards())


def range_bytes(total: int, jobs: int) -> int:
    """The size of the ranges a parallel report reads: ``RANGES_PER_JOB`` per job, between ``CHUNK_BYTES``
    and ``MAX_CHUNK_BYTES``. Each range's Facts hold every operation it touched and are passed on and
    merged, a cost that grows with the number of ranges, not of calls."""
    return min(MAX_CHUNK_BYTES, max(CHUNK_BYTES, total // (jobs * RANGES_PER_JOB)))


@dataclass
class _Kept:
    """What a worker process keeps between the ranges it reads: the spec index and what is made from it
    once, and, for the report being built (``run``), the examples its earlier ranges made (``Made``)."""

    index: SpecIndex
    checker: DriftChecker
    words: tuple[frozenset[str], dict[str, str]]
    run: str = ""
    made: Made = field(default_factory=Made)


_kept: dict[str, _Kept] = {}


def _worker(spec_paths: list[str], chunk: Chunk, flow_gap: float | None, run: str) -> Facts:
    gcpolicy.streaming()
    key = "\0".join(spec_paths)
    kept = _kept.get(key)
    if kept is None:
        index = SpecIndex.load(spec_paths, freeze=True)
        kept = _kept[key] = _Kept(index, DriftChecker(), spec_words(index))
    if kept.run != run:
        kept.run, kept.made = run, Made()
    b = FactsBuilder(kept.index, [], flow_gap=flow_gap, checker=kept.checker, words=kept.words, made=kept.made,
                     ranged=True)
    b.add_range(chunk.capture, Path(chunk.shard), chunk.start, chunk.end, chunk.first_line)
    facts = b.facts
    facts.flows.settle()  # flows compacted here, in parallel; only places cross
    facts.index = None  # type: ignore[assignment]
    facts.inferrer.literals, facts.inferrer.param_names = frozenset(), {}  # the merging process has its own
    for st in facts.ops.values():
        st.op = None  # type: ignore[assignment]
    return facts


def merge_into(total: Facts, part: Facts, index: SpecIndex) -> None:
    """Fold ``part`` (a later range) into ``total``: counts add, first examples win, accumulators merge."""
    ops = {op.key: op for op in index.operations}
    total.calls += part.calls
    total.matched += part.matched
    total.blocked += part.blocked
    total.reasons.update(part.reasons)
    total.hosts.update(part.hosts)
    total.portals.update(part.portals)
    total.notes.update(part.notes)
    total.spec_hosts.update(part.spec_hosts)
    total.timeline.update(part.timeline)
    total.warnings.extend(part.warnings)
    total.first = min(filter(None, [total.first, part.first]), default=None)
    total.last = max(filter(None, [total.last, part.last]), default=None)
    for key, st in part.ops.items():
        st.op = ops[key]
        mine = total.ops.get(key)
        if mine is None:
            total.ops[key] = st
            continue
        mine.calls += st.calls
        mine.statuses.update(st.statuses)
        mine.blocked += st.blocked
        for t in (st.first_seen, st.last_seen):
            _seen(mine, t)
        for attr in ("request", "response"):
            other = getattr(st, attr)
            if other is not None:
                setattr(mine, attr, other if getattr(mine, attr) is None else getattr(mine, attr).merge(other))
        if mine.mutation_example is None:
            mine.mutation_example, mine.mutation_profile = st.mutation_example, st.mutation_profile
        keep_pages(mine.browsed, st.browsed)
        mine.variants.update(st.variants)
    for fkey, agg in part.findings.items():
        mine_f = total.findings.get(fkey)
        if mine_f is None:
            total.findings[fkey] = agg
            continue
        mine_f.calls += agg.calls
        for t in (agg.first_seen, agg.last_seen):
            _seen(mine_f, t)
    for hm, shapes in part.inferrer.shapes.items():
        bucket = total.inferrer.shapes[hm]
        for skey, shape in shapes.items():
            if skey in bucket:
                bucket[skey].merge(shape, later_range=True)
            else:
                bucket[skey] = shape
    total.inferrer.dropped += part.inferrer.dropped
    total.flows.merge(part.flows)
    total.spec_calls.update(part.spec_calls)
    total.spec_headers.update(part.spec_headers)


def build_facts_parallel(index: SpecIndex, spec_paths: list[str], captures: list[str], jobs: int,
                         chunk_bytes: int | None = None, flow_gap: float | None = DEFAULT_GAP_S) -> Facts:
    from concurrent.futures import ProcessPoolExecutor

    from ..pool import worker_context

    chunks = iter_chunks(captures, chunk_bytes or range_bytes(capture_bytes(captures), jobs))
    total = Facts(index=index, captures=captures, flows=FlowCollector(flow_gap or DEFAULT_GAP_S, spill=True),
                  inferrer=TemplateInferrer(*spec_words(index)))
    run = uuid.uuid4().hex
    with ProcessPoolExecutor(jobs, mp_context=worker_context(__name__)) as pool:
        pending: list[Any] = []
        for chunk in chunks:  # bounded window, merged in order
            pending.append(pool.submit(_worker, spec_paths, chunk, flow_gap, run))
            if len(pending) >= jobs * 2:
                merge_into(total, pending.pop(0).result(), index)
        for fut in pending:
            merge_into(total, fut.result(), index)
    return total


def default_jobs(captures: list[str]) -> int:
    return min(2, os.cpu_count() or 1) if capture_bytes(captures) >= PARALLEL_MIN_BYTES else 1
