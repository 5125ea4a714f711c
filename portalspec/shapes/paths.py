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
from typing import Any, Iterable
from urllib.parse import unquote

from ..redaction.detectors import EMAIL_RE, GUID_RE, reads_as_words
from ..redaction.wordlike import is_identifier
from .infer import SchemaAccumulator

_ODATA = re.compile(r"^([A-Za-z_][\w.]*)\((.+)\)$")
_ODATA_PAIR = re.compile(r"""\s*([A-Za-z_]\w*)\s*=\s*('(?:[^']|'')*'|[^,']*?)\s*(?:,|$)""")


def _odata_keys(inner: str) -> list[tuple[str, str, bool]] | None:
    """``k1=v1, k2='v2'`` as ``[(key, value, quoted)]``; None when it is not a list of key=value pairs."""
    if "=" not in inner:
        return None
    out, pos = [], 0
    while pos < len(inner):
        m = _ODATA_PAIR.match(inner, pos)
        if m is None or m.end() == pos:
            return None
        v = m.group(2)
        quoted = len(v) >= 2 and v[0] == v[-1] == "'"
        out.append((m.group(1), v[1:-1] if quoted else v, quoted))
        pos = m.end()
    return out or None
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


def classify(seg: str, literals: frozenset[str] = frozenset()) -> str | None:
    """The id class of a path segment, or None for a literal.

    On one value a segment is a parameter only when its shape says id. Any alphanumeric word is
    valid base64 text, so a base64-like value that the identifier grammar reads as words
    (``o365activationusercounts``, ``secureScoreSecurityInitiativesV2``) is a literal, and so is
    any value that is a literal segment of the loaded specs."""
    if seg.lower() in literals:
        return None
    for name, rx in _CLASSES:
        if rx.fullmatch(seg):
            if name == "base64" and is_identifier(seg):
                return None
            return name
    return None


def _signature(v: str) -> str:
    return re.sub(r"(.)\1+", r"\1", re.sub(r"\d", "9", re.sub(r"[a-z]", "a", re.sub(r"[A-Z]", "A", v))))


def _alike(values: set[str], literals: frozenset[str] = frozenset()) -> bool:
    """Whether values at one position are ids of one kind: none reads as words (``me``, ``beta``,
    ``settings`` are API vocabulary) or is a literal of the specs, and they share a shape or all
    look random (``frr7udjlsz``, ``fulwgtsdey``: not words)."""
    if any(v.lower() in literals or (reads_as_words(v) and not any(c.isdigit() for c in v)) for v in values):
        return False
    sigs = {_signature(v) for v in values}
    return len(sigs) == 1 or all(any(c.isdigit() for c in v) or not is_identifier(v) for v in values)


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
    referers: dict[str, None] = field(default_factory=dict)  # the first ``PAGES_KEPT`` pages, in order
    blocked: int = 0
    odata_keys: dict[int, tuple[tuple[str, bool], ...]] = field(default_factory=dict)  # Name(k1={k1},k2='{k2}')
    odata: dict[int, dict[str, ParamEvidence]] = field(default_factory=dict)

    def merge(self, o: "Shape", later_range: bool = False) -> None:
        """Fold ``o`` in: another shape of one template, or (``later_range``) this shape from the next byte
        range, whose pages are taken as one pass over both would have kept them."""
        self.calls += o.calls
        self.blocked += o.blocked
        for i, keys in o.odata_keys.items():
            self.odata_keys.setdefault(i, keys)
            mine = self.odata.setdefault(i, {})
            for k, ev in o.odata.get(i, {}).items():
                if k in mine:
                    mine[k].merge(ev)
                else:
                    mine[k] = ev
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
        if later_range:
            keep_pages(self.referers, o.referers)
        elif len(self.referers) < 20:
            self.referers.update(o.referers)


PAGES_KEPT = 10  # pages an operation or a call shape keeps (the first seen)


def keep_pages(mine: dict[str, None], later: Iterable[str]) -> None:
    """Add ``later`` pages, in order, until ``mine`` holds ``PAGES_KEPT``."""
    for page in later:
        if len(mine) >= PAGES_KEPT:
            return
        mine[page] = None


def split_segments(path: str) -> list[str]:
    segs = [unquote(s) for s in path.split("/")]
    return segs[1:] if segs and segs[0] == "" else segs


class TemplateInferrer:
    """Collects undocumented calls by (host, method, shape); ``templates()`` merges and names them."""

    def __init__(self, literals: frozenset[str] = frozenset(), param_names: dict[str, str] | None = None) -> None:
        self.shapes: dict[tuple[str, str], dict[tuple[Any, ...], Shape]] = defaultdict(dict)
        self.dropped = 0
        self.literals = literals  # lower-cased literal segments of the loaded specs
        self.param_names = param_names or {}  # lower-cased literal -> the parameter name the specs give after it

    def add(self, host: str, method: str, path: str) -> Shape | None:
        segs = split_segments(path.rstrip("/") or "/")
        key_parts: list[Any] = []
        values: list[tuple[int, str, str]] = []
        prefixes: list[str] = []
        quoted: list[bool] = []
        lits: list[str | None] = []
        lit = self.literals
        for i, seg in enumerate(segs):
            m = _ODATA.match(seg) if classify(seg, lit) is None else None
            prefix, inner, q = "", seg, False
            kind: str | None
            if m:
                prefix, inner = m.group(1), m.group(2)
                keys = _odata_keys(inner)
                if keys is not None:  # Name(k1=v1,k2='v2'): the name and the keys are the path, the values parameters
                    key_parts.append(("()", prefix, tuple((k, quoted) for k, _, quoted in keys)))
                    for k, v, _ in keys:
                        values.append((i, f"odata:{k}", v))
                    lits.append(None)
                    prefixes.append(prefix)
                    quoted.append(False)
                    continue
                if len(inner) >= 2 and inner[0] == inner[-1] == "'":
                    inner, q = inner[1:-1], True
                simple = "=" not in inner and "," not in inner
                kind = (classify(inner, lit) or "odata-key") if simple else None
                if kind is None:
                    prefix, inner, q = "", seg, False
            else:
                kind = classify(seg, lit)
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
            if kind.startswith("odata:"):
                shape.odata.setdefault(i, {}).setdefault(kind[6:], ParamEvidence(classify(v, lit) or "odata-value")).add(v)
                if i not in shape.odata_keys:
                    shape.odata_keys[i] = next(kp[2] for j, kp in enumerate(key_parts) if j == i)
            else:
                shape.evidence.setdefault(i, ParamEvidence(kind)).add(v)
        shape.calls += 1
        return shape

    def templates(self) -> list["UndocTemplate"]:
        out = []
        for (host, method), bucket in self.shapes.items():
            for shape in _merge_varying(list(bucket.values()), self.literals):
                out.append(UndocTemplate.from_shape(host, method, shape, self.param_names))
        out.sort(key=lambda t: (-t.calls, t.host, t.template, t.method))
        return out


def _idlike(v: str | None) -> bool:
    """A literal that may be an id (has a digit, is not a plain word): it does not split groups."""
    return v is not None and any(c.isdigit() for c in v) and not v.isalpha()


def spec_param_names(paths: Any) -> dict[str, str]:
    """The parameter name the specs most often give right after a literal segment (``devices`` ->
    ``DeviceId`` from ``/devices/{DeviceId}``), and to an OData entity's key (``roles(`` -> ``roleid``)."""
    seen: dict[str, Counter[str]] = defaultdict(Counter)
    for path in paths:
        segs = path.strip("/").split("/")
        for a, b in zip(segs, segs[1:]):
            if "{" not in a and b.startswith("{") and b.endswith("}") and b.count("{") == 1:
                seen[a.lower()][b[1:-1]] += 1
        for b in segs:
            if "(" in b:
                for key in re.findall(r"\{([^}]+)\}", b):
                    seen[b.split("(", 1)[0].lower() + "("][key] += 1
    return {k: c.most_common(1)[0][0] for k, c in seen.items()}


def spec_literals(operations: Any) -> frozenset[str]:
    """The literal path segments of the loaded specs (lower case): a value that is one is never an id."""
    out: set[str] = set()
    for op in operations:
        for server in op.servers[:1]:
            out.update(s.lower() for s in server.base_path.split("/") if s)
        out.update(s.lower() for s in op.path.split("/") if s and "{" not in s)
    return frozenset(out)


def _words_before_ids(members: list[Shape], i: int, values: set[str], literals: frozenset[str]) -> bool:
    """Words that vary in front of the same id-bearing path (``privilegedAccess/aadgroup/resources/{}/
    roleSettings/{}`` and ``.../aadroles/resources/{}/roleSettings/{}``) are values of one parameter:
    two or more of them, none a literal of the specs, and at least two segments after them that
    the shapes share, one of them an id slot."""
    if len(values) < 2 or any(v.lower() in literals or not v.isalnum() for v in values):
        return False
    tails = {tuple(m.segments[i + 1:]) for m in members}
    if len(tails) != 1:
        return False
    tail = next(iter(tails))
    return len(tail) >= 2 and any(x is None for x in tail)


def _absorb_into_slots(shapes: list[Shape], literals: frozenset[str]) -> None:
    """A literal that stands where a sibling shape, equal everywhere else, has an id slot is another
    value of that slot when it does not read as a word (``/pods/{podId}/workspaces/3jd1ne24ig`` beside
    ``/pods/{podId}/workspaces/{workspaceId}``): siblings that agree elsewhere are the evidence."""
    by_len: dict[int, list[Shape]] = defaultdict(list)
    for s in shapes:
        by_len[len(s.segments)].append(s)
    for same in by_len.values():
        slotted = [s for s in same if any(x is None for x in s.segments)]
        if not slotted:
            continue
        index: dict[tuple[Any, ...], Shape] = {}
        for s in slotted:
            for i, x in enumerate(s.segments):
                if x is None and i not in s.odata_keys:
                    index.setdefault((i, tuple(y if j != i else None for j, y in enumerate(s.segments))), s)
        for t in list(same):
            if t not in shapes:
                continue
            for i, v in enumerate(t.segments):
                if v is None or reads_as_words(v) or v.lower() in literals or not (_idlike(v) or not is_identifier(v)):
                    continue
                head = index.get((i, tuple(y if j != i else None for j, y in enumerate(t.segments))))
                if head is None or head is t or head.prefixes[i] != t.prefixes[i] or head.quoted[i] != t.quoted[i]:
                    continue
                head.evidence.setdefault(i, ParamEvidence("varying")).add(v)
                head.merge(t)
                shapes.remove(t)
                break


def _merge_varying(shapes: list[Shape], literals: frozenset[str] = frozenset()) -> list[Shape]:
    """Turn literal positions into parameters where several shapes differ there, with alike values.

    Other id-like positions are ignored when grouping, so two positions that vary together
    (``resourceGroups/rg1/workspaces/ws1``) are found one after the other.
    """
    _absorb_into_slots(shapes, literals)
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
                    if not ((len(vals) >= MIN_VARIANTS and _alike(vals, literals))  # type: ignore[arg-type]
                            or _words_before_ids(members, i, vals, literals)):  # type: ignore[arg-type]
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
    def from_shape(cls, host: str, method: str, shape: Shape, names: dict[str, str] | None = None) -> "UndocTemplate":
        """``names``: the specs' own parameter name after a literal segment (``devices`` -> ``DeviceId``)."""
        names = names or {}
        parts, params, used = [], {}, set()
        for i, lit in enumerate(shape.segments):
            if lit is not None:
                parts.append(lit.replace("{", "%7B").replace("}", "%7D"))
                continue
            if i in shape.odata_keys:
                args = []
                for key, quoted in shape.odata_keys[i]:
                    name, k = key, 2
                    while name in used:
                        name, k = f"{key}{k}", k + 1
                    used.add(name)
                    args.append(f"{key}='{{{name}}}'" if quoted else f"{key}={{{name}}}")
                    ev = shape.odata.get(i, {}).get(key, ParamEvidence("odata-value"))
                    params[name] = {"evidence": ev.kind, "distinct_values": ev.distinct, "examples": sorted(ev.values),
                                    **({"single_value": True} if ev.distinct <= 1 else {})}
                parts.append(f"{shape.prefixes[i]}({','.join(args)})")
                continue
            prefix = shape.prefixes[i]
            prev = prefix or next((p for p in reversed(parts) if "{" not in p and p), "")
            name = names.get(prev.lower()) or (singular_id(prev) if prev else "id")
            base, k = name, 2
            while name in used:
                name, k = f"{base}{k}", k + 1
            used.add(name)
            slot = f"'{{{name}}}'" if shape.quoted[i] else f"{{{name}}}"
            parts.append(f"{prefix}({slot})" if prefix else slot)
            ev = shape.evidence.get(i, ParamEvidence("varying"))
            params[name] = {"evidence": ev.kind, "distinct_values": ev.distinct, "examples": sorted(ev.values),
                            **({"single_value": True} if ev.distinct <= 1 else {})}
        return cls(host, method, "/" + "/".join(parts), shape.calls, params, shape)
