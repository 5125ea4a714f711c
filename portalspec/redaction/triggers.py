"""Which strings could hold a secret: one fast scan tells the redactor which strings to read.

The free-text rules in ``redactor.py`` read strings with Python regexes (tens of nanoseconds per
character on this machine, for each rule). This module compiles a *superset* of what those
rules can find into Hyperscan databases (Intel's multi-pattern engine, the one secret scanners
use) and scans all of an entry's free-text strings in one pass: a string with no trigger cannot
be changed by any rule, so the redactor keeps it as it is; a string with a trigger goes through
the rules exactly as before. The output is the same either way (the tests run the redaction
corpus through both paths and compare). Without Hyperscan every string takes the rules' path.

Why a superset holds, rule by rule (``detectors.py``):
- names: ``is_secret_name`` drops every non-alphanumeric character before comparing, so a name
  part is matched with any run of such characters between its letters;
  whole-name words (code, key, state...) must stand after a non-alphanumeric character and be
  followed by ``:`` or ``=`` (a JSON key, a ``key=value`` pair, a query or form parameter),
  with the same interleaving;
- JWTs, PEM blocks, auth schemes: their fixed starts (schemes followed by any space, a JSON
  escape, ``+``, a control separator or a non-ASCII byte: Python's ``\\s`` is wider than ASCII);
- random-looking runs: ``looks_high_entropy`` itself, tried on each run of 32 or more token
  characters whole, on each of its slash-separated pieces and on what follows each ``=`` (the
  rules read runs whole, as URL path segments and as query or form values);
- HTML ``<meta>`` and ``<input>`` tags (their name and value sit in separate attributes);
- e-mail addresses and tenant domains when pseudonymising: ``@`` and ``onmicrosoft``;
- characters that case-fold onto ASCII letters (long s, Kelvin sign, dotted and dotless i) make
  a string dirty, because the rules' case-insensitive matching would see a name in them;
- the rules also read strings decoded: URL-decoded (query and form pairs) and JSON-decoded
  (bodies, strings holding JSON). Those decoded forms are scanned too; a JSON text whose
  canonical form still holds ``\\u`` escapes is dirty outright, and a text with escapes such as
  ``\\n`` is also scanned with them blanked (decoded, a newline separates words; raw, its ``n``
  would stick to the next one).
"""

from __future__ import annotations

import functools
import itertools
import re
from bisect import bisect_right
from typing import Any, Iterable
from urllib.parse import unquote_plus

from .. import jsoncodec
from . import detectors as d

try:
    import hyperscan as _hs
except ImportError:  # pragma: no cover - platforms without wheels
    _hs = None  # type: ignore[assignment]

AVAILABLE = _hs is not None

_TOKEN = r"A-Za-z0-9+/_=.~%\-"  # TOKEN_RUN_RE's alphabet
_GAP = r"[^A-Za-z0-9]*"  # what normalise_name drops between the letters of a name
_EDGE = r"(?:^|[^A-Za-z0-9])"
_ESCAPES = ("\\n", "\\r", "\\t", "\\b", "\\f")
_MAX_VARIANTS = 8


def _interleave(word: str) -> str:
    return _GAP.join(re.escape(c) for c in word)


RUN_ID = 1000
_RUN_START = rf"(?:^|[^{_TOKEN}])[{_TOKEN}]{{32}}"  # one report per run of 32 or more
_RUN_REST = re.compile(rb"[A-Za-z0-9+/_=.~%\-]*")
_LOWER, _UPPER = re.compile(rb"[a-z]"), re.compile(rb"[A-Z]")
# Numbers, dates, times (no letter but T and Z), and ids of lower-case hex and dashes (GUIDs): nothing
# any rule could read as a name (every secret name has a letter past f), a scheme or a token (a random
# run has letters of both cases).
_PLAIN = re.compile(r"[0-9TZ:.,+\- ]{0,64}|[0-9a-f\-]{0,64}")


def _groups(pii: bool) -> list[list[tuple[str, int, int]]]:
    """Pattern groups ``(expression, flags, id)``, each compiled to its own database: three
    scans measured faster here than one database of everything (9 against 13 ns a byte)."""
    caseless = _hs.HS_FLAG_CASELESS
    fixed = [
        (r"eyJ[A-Za-z0-9_\-]{5,}\.eyJ", 0),
        (r"-----BEGIN", 0),
        (r"<(?:meta|input)", caseless),  # HTML fields, matched by name and value attributes
        (r"(?:bearer|basic|negotiate|ntlm|pop)(?:\s|\\[nrtbf]|\+|[\x1c-\x1f\x80-\xff])", caseless),
        (r"\xc5\xbf|\xe2\x84\xaa|\xc4\xb0|\xc4\xb1", 0),  # ſ, Kelvin sign, İ, ı in UTF-8
    ]
    if pii:
        fixed += [("@", 0), ("onmicrosoft", caseless)]
    parts = [(_interleave(w), caseless) for w in d._SECRET_NAME_PARTS]
    exact = [(_EDGE + _GAP + _interleave(w) + _GAP + "[:=]", caseless) for w in sorted(d._SECRET_NAME_EXACT)]
    numbered = [[(p, f, i) for i, (p, f) in enumerate(g)] for g in (fixed, parts, exact)]
    numbered[0].append((_RUN_START, 0, RUN_ID))
    return numbered


def _compile(patterns: list[tuple[str, int, int]]) -> Any:
    db = _hs.Database(mode=_hs.HS_MODE_BLOCK)
    db.compile(expressions=[p.encode() for p, _, _ in patterns], ids=[i for _, _, i in patterns],
               elements=len(patterns), flags=[f for _, f, _ in patterns])
    return db


def _on_match(pattern: int, _from: int, to: int, _flags: int, found: list[tuple[int, int]]) -> None:
    found.append((pattern, to))


class Triggers:
    """Compiled trigger databases for one process (compiling takes about 70 ms)."""

    def __init__(self, pii: bool = False) -> None:
        self.dbs = [_compile(g) for g in _groups(pii)] if AVAILABLE else []

    def clean(self, texts: Iterable[str]) -> set[str]:
        """The strings of ``texts`` that no free-text rule could change."""
        if not AVAILABLE:
            return set()
        owners: list[int] = []
        variants: list[bytes] = []
        dirty: set[int] = set()
        uniq = list(dict.fromkeys(texts))
        for i, text in enumerate(uniq):
            if _PLAIN.fullmatch(text):
                continue
            forms = _forms(text)
            if forms is None:
                dirty.add(i)
                continue
            for f in forms:
                owners.append(i)
                variants.append(f.encode("utf-8", "surrogatepass"))
        if variants:
            blob = b"\x00".join(variants)
            found: list[tuple[int, int]] = []
            for db in self.dbs:
                db.scan(blob, match_event_handler=_on_match, context=found)
            if found:
                starts = list(itertools.accumulate((len(v) + 1 for v in variants[:-1]), initial=0))
                found.sort(key=_runs_last)  # a string a name or a fixed start makes dirty needs no entropy test
                for pattern, to in found:
                    owner = owners[bisect_right(starts, to - 1) - 1]
                    if owner in dirty:
                        continue
                    if pattern != RUN_ID or _may_be_random(blob[to - 32:_RUN_REST.match(blob, to).end()]):  # type: ignore[union-attr]
                        dirty.add(owner)
        return {t for i, t in enumerate(uniq) if i not in dirty}


def _runs_last(match: tuple[int, int]) -> bool:
    return match[0] == RUN_ID


def _may_be_random(run: bytes) -> bool:
    """Whether ``looks_high_entropy`` accepts the run or a part of it (see ``_may_be_random_run``);
    runs of up to 512 bytes are remembered (URLs in ``_initiator`` stacks repeat on every call)."""
    if _one_case(run):  # lower-case paths and GUIDs, the commonest runs, are decided before the cache
        return False
    return _may_be_random_cached(run) if len(run) <= 512 else _may_be_random_run(run)


def _one_case(b: bytes) -> bool:
    """Letters of one case only (``looks_high_entropy`` wants upper and lower); a quick test, not
    a complete one (a run with no letter at all passes it)."""
    return b.islower() or b.isupper()


def _may_be_random_run(run: bytes) -> bool:
    """Whether ``looks_high_entropy`` accepts the run, or a part of it the rules may read alone:
    a slash-separated piece (URL path segments) or what follows an ``=`` (query and form values)."""
    if not (_LOWER.search(run) and _UPPER.search(run)):
        return False  # nor does any part of it
    parts = [run]
    if b"/" in run:
        parts += run.split(b"/")
    i = run.find(b"=")
    while i >= 0:
        parts.append(run[i + 1:])
        i = run.find(b"=", i + 1)
    return any(len(p) >= 32 and not _one_case(p) and d.looks_high_entropy(p.decode("ascii")) for p in parts)


_may_be_random_cached = functools.lru_cache(maxsize=8192)(_may_be_random_run)


def _forms(text: str) -> list[str] | None:
    """``text`` and the decoded forms the rules may read it in; None when it must be read anyway."""
    if "\\" not in text and "%" not in text and "+" not in text:
        return [text]
    forms = [text]
    todo = [text]
    while todo:
        t = todo.pop()
        new: list[str] = []
        if "\\u" in t or "\\/" in t:
            try:
                canon = jsoncodec.dumps_str(jsoncodec.loads(t))
            except (ValueError, RecursionError):
                canon = None
            if canon is not None:
                if "\\u" in canon:
                    return None
                new.append(canon)
        if "%" in t or "+" in t:
            new.append(unquote_plus(t))
        if "\\" in t:
            blank = t
            for esc in _ESCAPES:
                blank = blank.replace(esc, "\\ ")
            new.append(blank)
        for n in new:
            if n not in forms:
                forms.append(n)
                todo.append(n)
        if len(forms) > _MAX_VARIANTS:
            return None
    return forms
