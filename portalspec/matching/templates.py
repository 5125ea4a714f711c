"""Path templates compiled for matching: literal, parameter and OData-style mixed segments."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

LITERAL, MIXED, PARAM = 2, 1, 0
_VAR = re.compile(r"\{([^}/]+)\}")


@dataclass(frozen=True, slots=True)
class Segment:
    kind: int
    text: str  # literal text (decoded) for LITERAL; the raw template segment otherwise
    folded: str
    names: tuple[str, ...] = ()
    regex: re.Pattern[str] | None = None
    iregex: re.Pattern[str] | None = None

    def match(self, seg: str, folded: str) -> tuple[int, dict[str, str]] | None:
        """``(case_exact, params)`` when ``seg`` fits, else None. case_exact is 1 or 0."""
        if self.kind == LITERAL:
            if seg == self.text:
                return 1, {}
            return (0, {}) if folded == self.folded else None
        if self.kind == PARAM:
            return (1, {self.names[0]: seg}) if seg else None
        assert self.regex is not None and self.iregex is not None
        m = self.regex.fullmatch(seg)
        exact = 1
        if m is None:
            m, exact = self.iregex.fullmatch(seg), 0
            if m is None:
                return None
        return exact, {n: v for n, v in zip(self.names, m.groups())}


def _literal_part(text: str) -> str:
    """A literal piece of a mixed segment as a regex; inside OData parentheses, ``=`` and ``,`` may
    have spaces around them (``roles(roleid = 42)``)."""
    out = re.escape(text)
    if "(" in text or "=" in text or "," in text:
        out = out.replace("=", r"\s*=\s*").replace(",", r"\s*,\s*")
    return out


def compile_segment(raw: str) -> Segment:
    names = tuple(m.group(1) for m in _VAR.finditer(raw))
    if not names:
        text = unquote(raw)
        return Segment(LITERAL, text, text.casefold())
    if _VAR.fullmatch(raw):
        return Segment(PARAM, raw, raw.casefold(), names)
    parts, pos = [], 0
    for m in _VAR.finditer(raw):
        parts.append(_literal_part(unquote(raw[pos : m.start()])))
        parts.append("(.+?)")
        pos = m.end()
    parts.append(_literal_part(unquote(raw[pos:])))
    # OData forms: a key's quotes may be left off (``Id='{id}'`` fits ``Id=42``), spaces around ``=`` and ``,``
    pattern = "".join(parts).replace("'(.+?)'", "'?(.+?)'?")
    return Segment(MIXED, raw, raw.casefold(), names, re.compile(pattern, re.S), re.compile(pattern, re.S | re.I))


@dataclass(frozen=True, slots=True)
class Template:
    """A full path (server base path + operation path) split into compiled segments."""

    text: str
    segments: tuple[Segment, ...]
    trailing_slash: bool
    rank: tuple[int, ...]  # segment kinds, left to right: higher is more specific
    nvars: int

    @property
    def first_key(self) -> str | None:
        """The casefolded first segment when it is a literal (the index bucket), else None."""
        if self.segments and self.segments[0].kind == LITERAL:
            return self.segments[0].folded
        return None


def split_path(path: str) -> tuple[list[str], bool]:
    """Split a path into segments; report and drop a trailing slash."""
    trailing = len(path) > 1 and path.endswith("/")
    if trailing:
        path = path.rstrip("/") or "/"
    segs = path.split("/")
    if segs and segs[0] == "":
        segs = segs[1:]
    if segs == [""]:
        segs = []
    return segs, trailing


def compile_template(text: str) -> Template:
    segs, trailing = split_path(text)
    compiled = tuple(compile_segment(s) for s in segs)
    return Template(
        text=text,
        segments=compiled,
        trailing_slash=trailing,
        rank=tuple(s.kind for s in compiled),
        nvars=sum(len(s.names) for s in compiled),
    )


def join_base(base: str, path: str) -> str:
    """The full path of ``path`` under a server base path, without doubling a repeated base."""
    if not base:
        return path
    if path == base or path.startswith(base + "/"):
        return path
    return base + (path if path.startswith("/") else "/" + path)
