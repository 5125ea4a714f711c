"""Path templates for undocumented calls, inferred on evidence.

Segments that look like ids (GUIDs, numbers, long hex, base64-like tokens, emails/UPNs, redaction
placeholders, OData keys) become parameters at once. Other positions become parameters only when
several calls vary there and the values look alike (never for plain words such as ``me`` or
``beta``). Different hosts and methods are never merged. Each parameter says why it is one.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from ..redaction.detectors import EMAIL_RE, GUID_RE
from .infer import SchemaAccumulator

_ODATA = re.compile(r"^([A-Za-z_][\w.]*)\((.+)\)$")
_CLASSES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("placeholder", re.compile(r"<redacted:[a-z-]+:[0-9a-f]{8}>")),
    ("guid", re.compile(GUID_RE.pattern.replace(r"\b", ""))),
    ("number", re.compile(r"-?\d+")),
    ("hex", re.compile(r"(?i)[0-9a-f]{16,}")),
    ("email", re.compile(EMAIL_RE.pattern.replace(r"\b", ""))),
    # base64/opaque ids: long, with digits, and either mixed case or 24+ characters (not words like m365appprotection)
    ("base64", re.compile(r"(?=[A-Za-z0-9+/_=-]*\d)(?=[A-Za-z0-9+/_=-]*[a-z])(?=[A-Za-z0-9+/_=-]*[A-Z])[A-Za-z0-9+/_=-]{16,}"
                          r"|(?=[A-Za-z0-9+/_=-]*\d)(?=[A-Za-z0-9+/_=-]*[A-Za-z])[A-Za-z0-9+/_=-]{24,}")),
)
MIN_VARIANTS = 3
MAX_SHAPES = 20000
MAX_EXAMPLES = 3
MAX_DISTINCT = 256


def classify(seg: str) -> str | None:
    """The id class of a path segment, or None for a literal."""
    for name, rx in _CLASSES:
        if rx.fullmatch(seg):
            return name
    return None


def _signature(v: str) -> str:
    return re.sub(r"(.)\1+", r"\1", re.sub(r"\d", "9", re.sub(r"[a-z]", "a", re.sub(r"[A-Z]", "A", v))))


def _alike(values: set[str]) -> bool:
    if any(v.isalpha() for v in values):
        return False  # words are API vocabulary (me, beta, settings), not ids
    sigs = {_signature(v) for v in values}
    return len(sigs) == 1 or all(any(c.isdigit() for c in v) for v in values)


def singular_id(word: str) -> str:
    w = re.sub(r"[^A-Za-z0-9]", "", word)
    if not w or not w[0].isalpha():
        return "id"
    w = w[0].lower() + w[1:]
    if w.endswith("ies") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith(("sses", "xes", "ches", "shes")):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith("ss") and len(w) > 3:
        w = w[:-1]
    return w + "Id"


@dataclass
class ParamEvidence:
    """Why a segment is a parameter: its id class, a few example values, how many distinct values.

    Distinct values are counted exactly up to ``MAX_DISTINCT`` (hashes kept), so counts from
    chunks processed apart merge without double counting; past that the count stays at the cap.
    """

    kind: str
    values: set[str] = field(default_factory=set)
    hashes: set[int] = field(default_factory=set)

    @property
    def distinct(self) -> int:
        return len(self.hashes)

    def add(self, v: str) -> None:
        if len(self.hashes) < MAX_DISTINCT:
            self.hashes.add(int.from_bytes(hashlib.blake2b(v.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "big"))
        self._example(v)

    def _example(self, v: str) -> None:
        """Keep the smallest few values: the same examples however the calls were split up."""
        if v in self.values:
            return
        if len(self.values) < MAX_EXAMPLES:
            self.values.add(v)
        elif v < max(self.values):
            self.values.remove(max(self.values))
            self.values.add(v)

    def merge(self, o: "ParamEvidence") -> None:
        for h in sorted(o.hashes):
            if len(self.hashes) >= MAX_DISTINCT:
                break
            self.hashes.add(h)
        for v in o.values:
            self._example(v)


@dataclass
class Shape:
    """Calls with the same host, method and path after id segments became slots."""

    segments: list[str | None]  # literal text, or None for a parameter slot
    prefixes: list[str]  # OData name before the key: roleAssignments('...')
    quoted: list[bool]
    evidence: dict[int, ParamEvidence] = field(default_factory=dict)
    calls: int = 0
    request: SchemaAccumulator = field(default_factory=SchemaAccumulator)
    response: SchemaAccumulator = field(default_factory=SchemaAccumulator)
    statuses: Counter[int] = field(default_factory=Counter)
    example: dict[str, Any] | None = None
    first_seen: str | None = None
    last_seen: str | None = None
    referers: set[str] = field(default_factory=set)
    blocked: int = 0

    def merge(self, o: "Shape") -> None:
        self.calls += o.calls
        self.blocked += o.blocked
        for i, ev in o.evidence.items():
            if i in self.evidence:
                self.evidence[i].merge(ev)
            else:
                self.evidence[i] = ev
        self.request.merge(o.request)
        self.response.merge(o.response)
        for s, n in o.statuses.items():
            self.statuses[s] += n
        self.example = self.example or o.example
        self.first_seen = min(filter(None, [self.first_seen, o.first_seen]), default=None)
        self.last_seen = max(filter(None, [self.last_seen, o.last_seen]), default=None)
        if len(self.referers) < 20:
            self.referers |= set(list(o.referers)[:20])


def split_segments(path: str) -> list[str]:
    segs = [unquote(s) for s in path.split("/")]
    return segs[1:] if segs and segs[0] == "" else segs


class TemplateInferrer:
    """Collects undocumented calls by (host, method, shape); ``templates()`` merges and names them."""

    def __init__(self) -> None:
        self.shapes: dict[tuple[str, str], dict[tuple[Any, ...], Shape]] = defaultdict(dict)
        self.dropped = 0

    def add(self, host: str, method: str, path: str) -> Shape | None:
        segs = split_segments(path.rstrip("/") or "/")
        key_parts: list[Any] = []
        values: list[tuple[int, str, str]] = []
        prefixes, quoted, lits = [], [], []
        for i, seg in enumerate(segs):
            m = _ODATA.match(seg) if classify(seg) is None else None
            prefix, inner, q = "", seg, False
            kind: str | None
            if m:
                prefix, inner = m.group(1), m.group(2)
                if len(inner) >= 2 and inner[0] == inner[-1] == "'":
                    inner, q = inner[1:-1], True
                simple = "=" not in inner and "," not in inner
                kind = (classify(inner) or "odata-key") if simple else None
                if kind is None:
                    prefix, inner, q = "", seg, False
            else:
                kind = classify(seg)
            if kind:
                key_parts.append(("{}", prefix, q))
                values.append((i, kind, inner))
                lits.append(None)
            else:
                key_parts.append(seg)
                lits.append(seg)
            prefixes.append(prefix)
            quoted.append(q)
        bucket = self.shapes[(host, method)]
        key = tuple(key_parts)
        shape = bucket.get(key)
        if shape is None:
            if sum(len(b) for b in self.shapes.values()) >= MAX_SHAPES:
                self.dropped += 1
                return None
            shape = bucket[key] = Shape(lits, prefixes, quoted)
        for i, kind, v in values:
            shape.evidence.setdefault(i, ParamEvidence(kind)).add(v)
        shape.calls += 1
        return shape

    def templates(self) -> list["UndocTemplate"]:
        out = []
        for (host, method), bucket in self.shapes.items():
            for shape in _merge_varying(list(bucket.values())):
                out.append(UndocTemplate.from_shape(host, method, shape))
        out.sort(key=lambda t: (-t.calls, t.host, t.template, t.method))
        return out


def _idlike(v: str | None) -> bool:
    """A literal that may be an id (has a digit, is not a plain word): it does not split groups."""
    return v is not None and any(c.isdigit() for c in v) and not v.isalpha()


def _merge_varying(shapes: list[Shape]) -> list[Shape]:
    """Turn literal positions into parameters where several shapes differ there, with alike values.

    Other id-like positions are ignored when grouping, so two positions that vary together
    (``resourceGroups/rg1/workspaces/ws1``) are found one after the other.
    """
    changed = True
    while changed:
        changed = False
        for n in {len(s.segments) for s in shapes}:
            same_len = [s for s in shapes if len(s.segments) == n]
            for i in range(n):
                groups: dict[tuple[Any, ...], list[Shape]] = defaultdict(list)
                for s in same_len:
                    if s.segments[i] is None:
                        continue
                    groups[tuple("*" if j == i or _idlike(x) else x for j, x in enumerate(s.segments))].append(s)
                for members in groups.values():
                    vals = {m.segments[i] for m in members}
                    if len(vals) < MIN_VARIANTS or not _alike(vals):  # type: ignore[arg-type]
                        continue
                    head = members[0]
                    for j in range(n):  # this position, and any id-like one varying with it
                        vals_j = {m.segments[j] for m in members}
                        if head.segments[j] is None or (j != i and len(vals_j) < 2):
                            continue
                        ev = ParamEvidence("varying")
                        for m in members:
                            ev.add(m.segments[j])  # type: ignore[arg-type]
                        head.segments[j] = None
                        head.evidence[j] = ev
                    for m in members[1:]:
                        head.merge(m)
                        shapes.remove(m)
                    changed = True
                if changed:
                    break
            if changed:
                break
    return shapes


@dataclass
class UndocTemplate:
    host: str
    method: str
    template: str
    calls: int
    params: dict[str, dict[str, Any]]
    shape: Shape

    @classmethod
    def from_shape(cls, host: str, method: str, shape: Shape) -> "UndocTemplate":
        parts, params, used = [], {}, set()
        for i, lit in enumerate(shape.segments):
            if lit is not None:
                parts.append(lit.replace("{", "%7B").replace("}", "%7D"))
                continue
            prefix = shape.prefixes[i]
            prev = prefix or next((p for p in reversed(parts) if "{" not in p and p), "")
            name = singular_id(prev) if prev else "id"
            base, k = name, 2
            while name in used:
                name, k = f"{base}{k}", k + 1
            used.add(name)
            slot = f"'{{{name}}}'" if shape.quoted[i] else f"{{{name}}}"
            parts.append(f"{prefix}({slot})" if prefix else slot)
            ev = shape.evidence.get(i, ParamEvidence("varying"))
            params[name] = {"evidence": ev.kind, "distinct_values": ev.distinct, "examples": sorted(ev.values)}
        return cls(host, method, "/" + "/".join(parts), shape.calls, params, shape)
