"""Route candidates in a portal's JavaScript: string and template literals that are API paths (or URLs
on API hosts), with the HTTP method written next to them.

One Hyperscan pass finds where such a literal starts (a quote, then ``/`` and a first segment the
loaded specs use, or ``https://`` and a host they serve); only those places are read further. Nothing
is executed or fetched: the text is what the browser already loaded.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, NamedTuple
from urllib.parse import urlsplit

try:
    import hyperscan as _hs
except ImportError:  # pragma: no cover - platforms without wheels
    _hs = None  # type: ignore[assignment]

GENERIC_FIRST = ("api", "apiproxy")
_MAX_LITERAL = 400
_PATH_CHARS = re.compile(r"[A-Za-z0-9_\-.~/{}$%:@=,()'!*+]*")
_ASSET = re.compile(r"\.(?:js|mjs|css|map|png|jpe?g|gif|svg|ico|webp|woff2?|ttf|eot|html?|json|txt|md)$", re.I)
WINDOW = 160
_CALL_BEFORE = re.compile(rb"\.(get|post|put|patch|delete)\(\s*$", re.I)
_HINT = rb"""\b(?:method|type|httpMethod|verb)\s*:\s*["'`](get|post|put|patch|delete)["'`]"""
_HINT_AFTER = re.compile(rb"[^;{}]{0,%d}?" % WINDOW + _HINT, re.I)  # in the rest of the same object or call
_HINT_BEFORE = re.compile(_HINT + rb"[^;{}]*$", re.I)  # earlier in the same object
# A quoted path or URL: the quote, then its text up to the same quote (no line break, at most 400 bytes).
_LITERAL = re.compile(rb"""(["'`])((?:/|https?://)[^"'`\n\\]{1,400}?)\1""")
_IDENT = re.compile(r"[A-Za-z_$][\w$]*")
_CONCAT = re.compile(rb"""\s*\+\s*([A-Za-z_$][\w$.]*(?:\([^()]{0,40}\))?)(?:\s*\+\s*(["'`]))?""")
_NAMES = re.compile(r"\{([^{}]*)\}")


class Candidate(NamedTuple):
    offset: int
    template: str  # the path, ``{name}`` where the code puts a value
    host: str | None  # from an absolute URL, else None
    method: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"offset": self.offset, "template": self.template, "host": self.host, "method": self.method}


class Extractor:
    """Compiled once: with no specs, every path-like literal and absolute URL is a candidate (the report
    keeps those on the specs' first segments and hosts); with them, only literals on those."""

    def __init__(self, first_segments: Iterable[str] | None = None, hosts: Iterable[str] = ()) -> None:
        self.hosts = sorted({h.lower() for h in hosts if h})
        self.firsts = None if first_segments is None else sorted(set(first_segments))
        if first_segments is None:
            patterns = [rb"[\"'`]/[A-Za-z_$]", rb"[\"'`]https?://[A-Za-z0-9]"]
        else:
            firsts = sorted({s.lower() for s in first_segments if s and re.fullmatch(r"[A-Za-z0-9_.\-]{2,40}", s)}
                            | set(GENERIC_FIRST))
            patterns = [rb"[\"'`]/" + re.escape(f.encode()) + rb"(?:[/\"'`?$]|\$\{)" for f in firsts]
            patterns += [rb"[\"'`]https?://" + re.escape(h.encode()) + rb"[/\"'`]" for h in self.hosts]
        self._db = None
        self._fallback = re.compile(b"|".join(patterns), re.I) if patterns else None
        if _hs is not None and patterns:
            self._db = _hs.Database(mode=_hs.HS_MODE_BLOCK)
            self._db.compile(expressions=patterns, ids=list(range(len(patterns))), elements=len(patterns),
                             flags=[_hs.HS_FLAG_CASELESS | _hs.HS_FLAG_SOM_LEFTMOST] * len(patterns))

    @classmethod
    def for_index(cls, index: Any) -> "Extractor":
        return cls(*spec_terms(index))

    def terms(self) -> tuple[list[str], list[str]] | None:
        """What this extractor was built from (to build the same in another process)."""
        return None if self.firsts is None else (self.firsts, self.hosts)

    def starts(self, data: bytes) -> list[int]:
        """Offsets of the opening quotes of route-like literals."""
        if self._db is not None:
            found: list[int] = []
            self._db.scan(data, match_event_handler=lambda _id, frm, _to, _f, _ctx: found.append(frm))
            return sorted(set(found))
        if self._fallback is None:
            return []
        return [m.start() for m in self._fallback.finditer(data)]

    def extract(self, data: bytes) -> list[Candidate]:
        """Every route candidate in ``data`` (a bundle's bytes), once per (template, method, host)."""
        out: list[Candidate] = []
        seen: set[tuple[str, str | None, str | None]] = set()
        consumed = -1
        lit_at = _LITERAL.match
        for start in self.starts(data):
            if start < consumed:  # inside a literal already read (a concatenation's later piece)
                continue
            m = lit_at(data, start)
            if m is None:
                continue
            c, consumed = self._candidate(data, start, m)
            if c is None:
                continue
            key = (c.template, c.method, c.host)
            if key not in seen:
                seen.add(key)
                out.append(c)
        # A route the code also names with its method: the method-less mention adds nothing.
        named = {(c.template, c.host) for c in out if c.method}
        return [c for c in out if c.method or (c.template, c.host) not in named]

    def _candidate(self, data: bytes, start: int, m: re.Match[bytes]) -> tuple[Candidate | None, int]:
        """The candidate whose literal ``m`` opens at ``start`` (None if it is no route), and where it ends."""
        end = m.end() - 1  # the closing quote
        raw = m.group(2).decode("utf-8", "replace")
        if m.group(1) == b"`":
            if "${" in raw:
                raw = _template_literal(raw)
                if raw is None:
                    return None, end + 1
        elif raw[-1] in "/(" and data[end + 1:end + 2] in (b"+", b" "):
            raw, end = _concatenated(data, raw, end)
        host = None
        if raw[0] != "/":
            rest = raw.split("://", 1)[1]
            host, _, path = rest.partition("/")
            raw = "/" + path
            host = host.lower()
        path = raw.split("?", 1)[0].split("#", 1)[0]
        if not _is_route(path):
            return None, end + 1
        return Candidate(start, _name_params(path.rstrip("/") or "/") if "{" in path else (path.rstrip("/") or "/"),
                         host, _method(data, start, end + 1)), end + 1


def spec_terms(index: Any) -> tuple[set[str], set[str]]:
    """What makes a literal one of the specs' routes: the first path segments of their operations
    (server base path included) and their servers' literal hosts."""
    from ..matching.templates import join_base

    firsts, hosts = set(), set()
    for op in index.operations:
        for s in op.servers or [None]:
            seg = join_base(s.base_path if s is not None else "", op.path).lstrip("/").split("/", 1)[0]
            if seg and "{" not in seg:
                firsts.add(seg)
            netloc = urlsplit(s.url).netloc if s is not None and "://" in s.url else ""
            if netloc and "{" not in netloc:
                hosts.add(netloc)
    return firsts, hosts


def _template_literal(raw: str) -> str | None:
    """``/api/users/${id}/roles`` -> ``/api/users/{id}/roles``; ``{param}`` where the expression is not a name."""
    out, pos, n = [], 0, 0
    while True:
        i = raw.find("${", pos)
        if i < 0:
            out.append(raw[pos:])
            break
        j = raw.find("}", i)
        if j < 0:
            return None
        out.append(raw[pos:i])
        expr = raw[i + 2:j].strip()
        n += 1
        out.append("{" + (expr if _IDENT.fullmatch(expr) else "param") + "}")
        pos = j + 1
    return "".join(out)


def _concatenated(data: bytes, raw: str, end: int) -> tuple[str, int]:
    """``"/api/users/" + id + "/roles"``: the pieces joined, ``{id}`` for the value."""
    for _ in range(6):
        if not raw.endswith("/") and not raw.endswith("("):
            break
        m = _CONCAT.match(data, end + 1, end + 121)
        if m is None:
            break
        expr = m.group(1).decode("utf-8", "replace")
        name = expr.split("(", 1)[0].rsplit(".", 1)[-1]
        raw += "{" + (name if _IDENT.fullmatch(name) and "(" not in expr else "param") + "}"
        if m.group(2) is None:  # the value ends the path
            break
        nxt_start = m.end()
        nxt_end = data.find(m.group(2), nxt_start, nxt_start + _MAX_LITERAL)
        if nxt_end < 0:
            break
        raw += data[nxt_start:nxt_end].decode("utf-8", "replace")
        end = nxt_end
    return raw, end


def _is_route(path: str) -> bool:
    if len(path) < 4 or path[0] != "/" or "//" in path or not _PATH_CHARS.fullmatch(path):
        return False
    if "." in path.rsplit("/", 1)[-1] and _ASSET.search(path):
        return False
    return "{" not in path or path.count("{") == path.count("}")


def _name_params(path: str) -> str:
    """Unnamed or repeated ``{param}``s numbered, so that a template names each value once."""
    names = _NAMES.findall(path)
    if len(set(names)) == len(names) and all(names):
        return path
    seen: dict[str, int] = {}

    def name(m: re.Match[str]) -> str:
        n = m.group(1)
        seen[n] = seen.get(n, 0) + 1
        return "{" + (n if seen[n] == 1 else f"{n}{seen[n]}") + "}"

    return _NAMES.sub(name, path)


def _method(data: bytes, start: int, end: int) -> str | None:
    """The method written next to a literal: ``.post("/api/..")``, or ``method:"POST"`` in its object
    (after the literal, or before it in the same object)."""
    if data[start - 1:start] in (b"(", b" "):
        m = _CALL_BEFORE.search(data, max(0, start - 12), start)
        if m:
            return m.group(1).decode().upper()
    if _has_hint(data, end, end + WINDOW):  # a cheap look before the regex
        m = _HINT_AFTER.match(data, end, end + WINDOW)
        if m:
            return m.group(1).decode().upper()
    lo = max(0, start - WINDOW)
    if _has_hint(data, lo, start):
        m = _HINT_BEFORE.search(data, lo, start)
        if m:
            return m.group(1).decode().upper()
    return None


def _has_hint(data: bytes, lo: int, hi: int) -> bool:
    return data.find(b"ethod", lo, hi) >= 0 or data.find(b"ype", lo, hi) >= 0 or data.find(b"erb", lo, hi) >= 0
