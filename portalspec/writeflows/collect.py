"""Calls grouped into write flows: the calls of one page (Referer and the browser's tab where known),
cut at idle gaps (counted from the page's call before) and after ``MAX_STEPS`` steps, that hold at
least one write.

Memory does not grow with the number of calls: a page keeps only its current segment (at most
``MAX_READS_BEFORE_WRITE`` reads before its first write, ``MAX_STEPS`` steps in all), and a
step keeps its bodies as text (up to ``BODY_KEPT``; a call with a longer one is kept as where its
line is, and read again, whole, when its flow closes) until its flow is closed; only then are values
read out for roles and lineage (``lineage.py``). Collectors of consecutive byte ranges merge in
order (``merge``), so a parallel report finds the same flows as a serial one: a range keeps the
places of each page's calls up to its first idle gap, which the merge adds again to the page's
segment where the range before continues it. A range's own process compacts its segments as if
none were continued (``settle``, ``held``); only where one is are they read again, in the process
that merges.

Most calls are reads that no write follows on their page. A read before its segment's first write
is kept as where its line is (``Unread``) and read again from the capture only if a write comes
and the flow is closed with it, so a read-mostly day costs little more than the report without flows.
Where the page's segment before had a write, one is likely to come again: its reads are then kept
as steps (their answers only), which costs less than reading them again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterator, NamedTuple
from urllib.parse import urlsplit

from .. import jsoncodec
from ..fixtures.store import read_span
from ..specs.model import WRITE_METHODS
from .context import Contexts, Sentence, sentences
from .kinds import Kind, Kinds, kind_of
from .lineage import answer_headers, compact, sent_headers
from .lineage import finish as finish_flow

DEFAULT_GAP_S = 60.0
MAX_READS_BEFORE_WRITE = 50
MAX_STEPS = 300
BODY_KEPT = 16 * 1024  # a body a step holds in memory; a call with a longer one is kept as its place
FLOW_BODIES_READ = 16 * 1024 * 1024  # what a flow reads again from the capture when it closes, at most
@dataclass(slots=True)
class Step:
    """One call of a page, compact: what a flow shows and what lineage reads."""

    t: float
    started: str
    method: str
    url: str
    host: str
    path: str
    query: str
    template: str | None
    operation_id: str | None
    spec: str | None
    status: int
    blocked: bool
    synthetic: str | None
    params: dict[str, str]
    sent_headers: list[tuple[str, str]]  # headers whose values lineage follows (not the entry's lists:
    answer_headers: list[tuple[str, str]]  # a step holding those would keep the whole entry alive)
    req_text: str | None
    resp_text: str | None
    span: tuple[Path, int, int] | None = None  # where its line is in the capture, where known

    def unread(self) -> "Step | Unread":
        """The step as where its line is (``Unread``), where that is known."""
        if self.span is None:
            return self
        return Unread(self.t, self.method, self.template, self.operation_id, self.spec, self.params, *self.span)


class Closed(NamedTuple):
    """A closed flow as it is kept and crosses processes: ``lineage.compact``'s flow as its JSON line
    (without ``t``), when and where it started, whether ``finish`` has steps to name in it, and, if
    not, what is read from it: its writes' sentences (``context.sentences``), its kind and the number of
    values it traces (``kinds``); if so, those are made once it is named."""

    t: float
    page: str
    line: bytes
    named: bool
    sentences: list[Sentence]
    kind: Kind = ()
    links: int = 0

    @classmethod
    def of(cls, flow: dict[str, Any]) -> "Closed":
        line = jsoncodec.dumps({k: v for k, v in flow.items() if k != "t"})
        if "_name" in flow:
            return cls(flow["t"], flow["page"], line, True, [])
        return cls(flow["t"], flow["page"], line, False, list(dict.fromkeys(sentences(flow))),  # a sentence's
                   kind_of(flow), len(flow["lineage"]))  # first place is what counts


class Unread(NamedTuple):
    """A read before its segment's first write: where its line is in the capture, and its match."""

    t: float
    method: str
    template: str | None
    operation_id: str | None
    spec: str | None
    params: dict[str, str]
    shard: Path
    offset: int
    length: int

    def read(self, sends: bool, limit: int = BODY_KEPT) -> Step | None:
        """The step, from its line read again (None if the line is no longer there), with its bodies up
        to ``limit`` characters each."""
        entry = read_span(self.shard, self.offset, self.length)
        if entry is None:
            return None
        parts = urlsplit(str((entry.get("request") or {}).get("url") or ""))
        return step_of(entry, self.method, self.template, self.operation_id, self.spec, self.params,
                       parts.netloc, parts.path, parts.query, self.t, sends, limit=limit)


@dataclass
class Segment:
    """A page's calls between idle gaps, up to ``MAX_STEPS`` steps (a full segment is followed by the
    next on its page). Of the reads before its first write, the last ``MAX_READS_BEFORE_WRITE`` are kept."""

    page: str
    steps: list[Step | Unread] = field(default_factory=list)
    writes: int = 0
    eager: bool = False  # the page's segment before had a write: its reads are kept as steps, not places
    done: Closed | None = None  # its flow, compacted while its steps are these (``settle``)
    last_call: float = -math.inf  # the time of the last call added: an idle gap is counted from it

    @property
    def first_t(self) -> float:
        return self.steps[0].t

    @property
    def full(self) -> bool:
        return len(self.steps) >= MAX_STEPS

    @property
    def only_last_reads(self) -> bool:
        """Whether it holds only reads, as many as it keeps before a write: then it holds exactly the page's
        last ``MAX_READS_BEFORE_WRITE`` calls, whatever came before them (``FlowCollector.fresh``)."""
        return not self.writes and len(self.steps) == MAX_READS_BEFORE_WRITE

    def append(self, step: Step | Unread) -> None:
        self.done = None
        self.last_call = step.t
        write = step.method in WRITE_METHODS
        if not write and not self.writes and len(self.steps) >= MAX_READS_BEFORE_WRITE:
            self.steps.pop(0)  # reads long before any write: the oldest go
        self.writes += write
        self.steps.append(step)

    def closed(self) -> Closed:
        """The segment as a closed flow (``flow``), compacted once."""
        return self.done if self.done is not None else Closed.of(self.flow())

    def flow(self) -> dict[str, Any]:
        """The segment as a closed flow (``lineage.compact``); its unread steps read now, asked what they
        sent if they are writes or a write came before them (a range before may have ended with one)."""
        steps: list[Step] = []
        lost, written, budget = 0, False, FLOW_BODIES_READ
        for s in self.steps:
            written = written or s.method in WRITE_METHODS
            if type(s) is Unread:
                read = s.read(sends=written, limit=budget)
                if read is None:
                    lost += 1
                    continue
                s = read
                budget -= len(s.req_text or "") + len(s.resp_text or "")
            steps.append(s)  # type: ignore[arg-type]
        return compact(self.page, self.first_t, steps, self.writes, lost)


def epoch(started: Any) -> float | None:
    if not isinstance(started, str) or not started:
        return None
    try:
        return datetime.fromisoformat(started.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _text(body: Any, limit: int = BODY_KEPT) -> str | None:
    return _kept(_whole(body), limit)


def _whole(body: Any) -> str | None:
    """A body's text, whatever its length, if a flow can read it (there, and not cut short)."""
    if not isinstance(body, dict):
        return None
    t = body.get("text")
    return t if type(t) is str and t and not body.get("_truncated") else None


def _kept(text: str | None, limit: int = BODY_KEPT) -> str | None:
    """A body's text (``_whole``) as a step holds it, or None if longer than ``limit``."""
    return text if text is not None and len(text) <= limit else None


def _held(req: dict[str, Any], resp: dict[str, Any], sends: bool) -> tuple[str | None, str | None] | None:
    """The texts a step holds of a call's request body (if it ``sends``) and answer (``_kept``), or None if
    either is longer than a step holds (``BODY_KEPT``) but one its flow can read again (``FLOW_BODIES_READ``):
    the call is then kept as its place. A text longer still is left out."""
    answer = _whole(resp.get("content"))
    if answer is not None and len(answer) > BODY_KEPT:
        if len(answer) <= FLOW_BODIES_READ:
            return None
        answer = None
    if not sends:
        return None, answer
    sent = _whole(req.get("postData"))
    if sent is not None and len(sent) > BODY_KEPT:
        if len(sent) <= FLOW_BODIES_READ:
            return None
        sent = None
    return sent, answer


def step_of(entry: dict[str, Any], method: str, template: str | None, operation_id: str | None, spec: str | None,
            params: dict[str, str], host: str, path: str, query: str, t: float, sends: bool = True,
            span: tuple[Path, int, int] | None = None, limit: int = BODY_KEPT) -> Step:
    """A call as a step; ``sends``: whether lineage may ask what it sent (else its request's
    headers and body are not read: a read before a page's first write sends nothing lineage follows);
    its bodies up to ``limit`` characters (a longer one is left out)."""
    req, resp = entry.get("request") or {}, entry.get("response") or {}
    return _step(entry, req, resp, method, template, operation_id, spec, params, host, path, query, t, sends, span,
                 _text(req.get("postData"), limit) if sends else None, _text(resp.get("content"), limit))


def _step(entry: dict[str, Any], req: dict[str, Any], resp: dict[str, Any], method: str, template: str | None,
          operation_id: str | None, spec: str | None, params: dict[str, str], host: str, path: str, query: str,
          t: float, sends: bool, span: tuple[Path, int, int] | None, req_text: str | None,
          resp_text: str | None) -> Step:
    ext = entry.get("_portalspec") or {}
    synthetic = ext.get("synthetic")
    return Step(
        t, str(entry.get("startedDateTime") or ""), method, str(req.get("url") or ""), host, path, query, template,
        operation_id, spec, int(resp.get("status") or 0), bool(ext.get("blocked")), synthetic, params,
        sent_headers(req.get("headers")) if sends else _NONE,
        _NONE if synthetic else answer_headers(resp.get("headers")), req_text, resp_text, span)


_NONE: list[tuple[str, str]] = []  # shared, never changed


SPILL_AT = 32  # closed flows held in memory before they go to the spill file


class Spill:
    """Closed flows on disk (their lines, ``Closed``), so that memory does not grow with their number; the
    sentences of those with nothing to name are kept as they come (``Contexts``)."""

    def __init__(self) -> None:
        import tempfile

        self.file = tempfile.TemporaryFile()
        self.offsets: list[tuple[float, str, int]] = []  # (start time, page, byte offset)
        self.named: set[int] = set()  # offsets of flows with steps ``finish`` names
        self.contexts = Contexts()
        self.kinds: dict[int, tuple[Kind, int]] = {}  # offset -> kind and values traced, of the others

    def add(self, flows: list[Closed]) -> None:
        self.file.seek(0, 2)
        at = self.file.tell()
        for f in flows:
            self.offsets.append((f.t, f.page, at))
            if f.named:
                self.named.add(at)
            else:
                self.contexts.add((f.t, f.page, 1, at), f.sentences)
                self.kinds[at] = (f.kind, f.links)
            at += len(f.line) + 1
        self.file.write(b"".join(f.line + b"\n" for f in flows))

    def line(self, offset: int) -> bytes:
        self.file.seek(offset)
        return self.file.readline()


class _Named(NamedTuple):
    """A flow with steps to name, once named: what it gave, and where its line is in ``FlowList``'s file."""

    sentences: list[Sentence]
    kind: Kind
    links: int
    offset: int
    length: int


TemplateOf = Callable[[str, str, str], "str | None"]  # (host, method, path) -> an undocumented call's template


class FlowList:
    """The flows, in time order, read one at a time: ``len``, iteration (again and again), an index
    or a slice; each is named as it is read (``lineage.finish`` with ``template_of``). Equal to a
    list of the same flows."""

    def __init__(self, memory: list[Closed], spill: Spill | None, template_of: TemplateOf) -> None:
        order = [(f.t, f.page, 0, i) for i, f in enumerate(memory)]
        if spill is not None:
            order += [(t, page, 1, off) for t, page, off in spill.offsets]
        order.sort(key=lambda x: (x[0], x[1], x[2], x[3]))
        self._order, self._memory, self._spill, self._template_of = order, memory, spill, template_of
        self._read: dict[int, _Named] = {}  # what a flow with steps to name gave, by place
        self._named_lines: Any = None  # those flows as ``json_lines`` writes them, once named (a temporary file)

    def __len__(self) -> int:
        return len(self._order)

    def _get(self, n: int) -> dict[str, Any]:
        _, _, where, key = self._order[n]
        return finish_flow(jsoncodec.loads(self._line(where, key)), n + 1, self._template_of)

    def _line(self, where: int, key: int) -> bytes:
        return self._memory[key].line if where == 0 else self._spill.line(key)  # type: ignore[union-attr]

    def _named(self, where: int, key: int) -> bool:
        return self._memory[key].named if where == 0 else key in self._spill.named  # type: ignore[union-attr]

    def json_lines(self) -> Iterator[bytes]:
        """Each flow as ``jsoncodec.dumps`` writes it once named, in order. A flow with nothing to name is
        its line with its ``id`` put first (``lineage.finish`` gives the same keys in the same order), so
        it is not parsed and written again; one named already for its kind (``_named_read``) is its line
        as written then."""
        for n, (_, _, where, key) in enumerate(self._order):
            named = self._read.get(n)
            if named is not None:
                self._named_lines.seek(named.offset)
                yield self._named_lines.read(named.length)
            elif self._named(where, key):
                yield jsoncodec.dumps(self._get(n))
            else:
                yield b'{"id":"flow-%d",' % (n + 1) + self._line(where, key)[1:].rstrip(b"\n")

    def _named_read(self, n: int) -> "_Named":
        """A flow with steps to name, named and read once for its sentences, kind and values traced; its line
        as named is kept on disk for ``json_lines``."""
        got = self._read.get(n)
        if got is None:
            flow = self._get(n)
            if self._named_lines is None:
                import tempfile

                self._named_lines = tempfile.TemporaryFile()
            line = jsoncodec.dumps(flow)
            self._named_lines.seek(0, 2)
            got = self._read[n] = _Named(sentences(flow), kind_of(flow), len(flow["lineage"]),
                                         self._named_lines.tell(), len(line))
            self._named_lines.write(line)
        return got

    def contexts(self) -> dict[tuple[str, str], list[str]]:
        """What the writes were seen after (``context.workflows``), from the sentences made as flows were
        compacted; a flow with steps to name is named and read for them."""
        out = self._spill.contexts.copy() if self._spill is not None else Contexts()
        for n, (t, page, where, key) in enumerate(self._order):
            if self._named(where, key):
                out.add((t, page, where, key), self._named_read(n).sentences)
            elif where == 0:
                out.add((t, page, where, key), self._memory[key].sentences)
        return out.result()

    def kinds(self) -> list[dict[str, Any]]:
        """The flows' kinds (``kinds.Kinds``), from the kinds made as flows were compacted; a flow with steps
        to name is named and read for its kind."""
        out = Kinds()
        for n, (_, page, where, key) in enumerate(self._order):
            if self._named(where, key):
                named = self._named_read(n)
                kind, links = named.kind, named.links
            elif where == 0:
                kind, links = self._memory[key].kind, self._memory[key].links
            else:
                kind, links = self._spill.kinds[key]  # type: ignore[union-attr]
            out.add(f"flow-{n + 1}", kind, links, page)
        return out.result()

    def __getitem__(self, n: Any) -> Any:
        if isinstance(n, slice):
            return [self._get(i) for i in range(*n.indices(len(self)))]
        return self._get(n if n >= 0 else len(self) + n)

    def __iter__(self) -> Any:
        return (self._get(i) for i in range(len(self)))

    def __bool__(self) -> bool:
        return bool(self._order)

    def __eq__(self, other: object) -> bool:
        return list(self) == list(other) if isinstance(other, (FlowList, list)) else NotImplemented


@dataclass
class FlowCollector:
    """Per page, its current segment (``tails``), and the flows closed before. In the process that writes
    the report (``spill=True``), closed flows beyond ``SPILL_AT`` go to a spill file.

    A collector of one byte range of a parallel report (``ranged``) also keeps each page's calls from the
    range's start to its first idle gap (``opening``, as places) and holds back the flows closed among
    them (``held``, with the number of opening calls before each closed): the range before may continue
    that page, and then the merge adds those calls again, one by one, to its segment, as one pass would
    have (``merge``), until a call after which the page's segment held only reads, as many as a segment
    keeps (``fresh``): any segment that reaches that is the same, so from there the range's own flows hold."""

    gap: float = DEFAULT_GAP_S
    tails: dict[str, Segment] = field(default_factory=dict)
    closed: list[Closed] = field(default_factory=list)  # flows read and compacted
    spill: bool = False
    ranged: bool = False
    opening: dict[str, list[Step | Unread]] = field(default_factory=dict)  # once settled, an Unread as a plain tuple
    opened: set[str] = field(default_factory=set)  # pages whose opening ended at an idle gap in the range
    held: dict[str, list[tuple[int, Closed]]] = field(default_factory=dict)
    fresh: dict[str, set[int]] = field(default_factory=dict)  # opening calls after which only reads were held
    _spill: Spill | None = None

    def _closed(self, flow: Closed) -> None:
        self.closed.append(flow)
        if self.spill and len(self.closed) > SPILL_AT:
            if self._spill is None:
                self._spill = Spill()
            self._spill.add(self.closed)
            self.closed = []

    def _opening(self, page: str) -> bool:
        return self.ranged and page in self.opening and page not in self.opened

    def _segment(self, page: str, t: float) -> Segment:
        tail = self.tails.get(page)
        eager = False
        if tail is not None:
            idle = t - tail.last_call > self.gap
            if idle or tail.full:
                eager = tail.writes > 0
                self._close(page, tail)
                if idle and self._opening(page):
                    self.opened.add(page)
                tail = None
        if tail is None:
            tail = self.tails[page] = Segment(page, eager=eager)
            if self.ranged and page not in self.opening:
                self.opening[page] = []
        return tail

    def _append(self, page: str, seg: Segment, step: Step | Unread) -> None:
        seg.append(step)
        if self._opening(page):
            calls = self.opening[page]
            calls.append(step.unread() if type(step) is Step else step)
            if seg.only_last_reads:
                self.fresh.setdefault(page, set()).add(len(calls) - 1)

    def add(self, page: str, step: Step) -> None:
        self._append(page, self._segment(page, step.t), step)

    def add_call(self, page: str, t: float, entry: dict[str, Any], match: Any, host: str, path: str, query: str,
                 span: tuple[Path, int, int] | None = None) -> None:
        """Add a call; ``span``: where its line is in the capture (``iter_shard_spans``). A read before
        its segment's first write is kept as that span alone, and read again if a flow needs it."""
        seg = self.tails.get(page)
        if seg is None or t - seg.last_call > self.gap or len(seg.steps) >= MAX_STEPS:
            seg = self._segment(page, t)  # a new segment (the fast test above is ``_segment``'s own)
        op = match.op
        template, op_id, spec = (op.path, op.operation_id, op.spec) if op is not None else (None, None, None)
        method = match.method
        step: Step | Unread | None = None
        if span is None:
            step = step_of(entry, method, template, op_id, spec, match.params, host, path, query, t)
        else:
            sends = bool(seg.writes) or method in WRITE_METHODS
            # a read before the segment's first write is kept as its place, unless a write is likely (``eager``);
            # so is a call with a body longer than a step holds: it is read again, whole, if its flow needs it
            if sends or seg.eager:
                req, resp = entry.get("request") or {}, entry.get("response") or {}
                texts = _held(req, resp, sends)
                if texts is not None:
                    step = _step(entry, req, resp, method, template, op_id, spec, match.params, host, path, query, t,
                                 sends, span, *texts)
            if step is None:
                step = Unread(t, method, template, op_id, spec, match.params, *span)
        if self.ranged:
            self._append(page, seg, step)
        else:
            seg.append(step)  # ``_append`` without a range's opening to keep

    def settle(self) -> None:
        """Ready to cross to the process that merges ranges (``merge``): each open segment is compacted now,
        as if no later range continued it, which is so unless one does (then the merge adds that range's
        opening calls to it), and its steps are kept as where their lines are. The range's own process
        does the compacting, and only places cross: the opening calls as plain tuples (a busy page's
        opening is most of the range, and a named tuple is pickled through Python, ten times slower)."""
        for seg in self.tails.values():
            done = seg.closed() if seg.writes else None
            seg.steps = [s.unread() if type(s) is Step else s for s in seg.steps]
            seg.done = done
        self.opening = {page: [tuple(c) if type(c) is Unread else c for c in calls]  # type: ignore[misc]
                        for page, calls in self.opening.items()}

    def _close(self, page: str, seg: Segment) -> None:
        del self.tails[page]
        if seg.writes:
            if self._opening(page):  # the range before may continue it
                self.held.setdefault(page, []).append((len(self.opening[page]), seg.closed()))
            else:
                self._closed(seg.closed())

    def merge(self, later: "FlowCollector") -> None:
        """Fold the collector of the next byte range (``ranged``) into this one."""
        for f in later.closed:
            self._closed(f)
        for page, calls in later.opening.items():
            tail = self.tails.get(page)
            after = -1  # the range's own flows hold after this opening call
            first_t = calls[0][0] if type(calls[0]) is tuple else calls[0].t  # type: ignore[index,union-attr]
            if tail is not None and not tail.full and first_t - tail.last_call <= self.gap:  # continued
                fresh = later.fresh.get(page, ())
                for i, call in enumerate(calls):
                    step = Unread._make(call) if type(call) is tuple else call  # settled: a plain tuple
                    seg = self._segment(page, step.t)
                    self._append(page, seg, step)
                    if seg.only_last_reads and i in fresh:
                        after = i  # the same segment as the range's (its tail replaces it): the rest went as there
                        break
                else:
                    if page in later.opened:  # the later range's segment after the gap is the page's now
                        self._close(page, self.tails[page])
                        self.tails[page] = later.tails[page]
                    continue
            elif tail is not None:
                self._close(page, tail)
            for n, f in later.held.get(page, ()):
                if n > after:
                    self._closed(f)
            self.tails[page] = later.tails[page]  # a page's opening always leaves it a segment in the range

    def flows(self, template_of: TemplateOf | None = None) -> FlowList:
        """Every flow, held and open ones included, in time order, read one at a time and named by
        ``lineage.finish`` with ``template_of`` (by default, no undocumented templates)."""
        out = list(self.closed) + [f for held in self.held.values() for _, f in held]
        out += [seg.closed() for seg in self.tails.values() if seg.writes]
        return FlowList(out, self._spill, template_of or (lambda host, method, path: None))
