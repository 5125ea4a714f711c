"""Whether a long token-alphabet run is an identifier made of words, not a random credential.

Portal traffic carries long runs that are neither secrets nor random: API paths
(``/admin/api/settings/apps/m365groups``), operation ids (``IntuneAutopatch.Reporting.ListFeatureUpdateTrendingOData``),
constants (``CONSOLE2_GENERAL_SETTINGS``) and ids with GUIDs in them. A run is an identifier when every piece
between separators parses as words, acronyms, short numbers or hex, *and* its letters read like words: the
letter-bigram log-likelihood ratio (word-like text against uniformly random letters) is at least
``MIN_BITS_PER_CHAR`` bits per letter, a lone letter (``v2``, ``E5``) counting ``LONE_LETTER_BITS``. The
grammar alone accepts one random 32-character base64 token in 270 (``at7kpfpzMazm7YDElv...`` parses as
``at 7 kpfpz Mazm ...``); the bigram score throws out nearly all of those, because random letters do not
follow each other the way words' letters do.

Measured (a million seeded tokens of each kind): 1 in a million 32-character base64 or alphanumeric tokens
is taken for an identifier, none of 40 characters; of the 4,656 distinct runs of 32 or more characters in
the nodoc specs, 31 are taken for random (6 of them are random: base64 blobs and ids), against 506 with the
rule this replaced (which missed 1 in 100 random 32-character tokens).

The table was counted from the words in Debian's Python 3.11 standard library sources (identifiers and prose
split at case changes, test directories left out; regenerate with ``python -m portalspec.redaction.wordlike
/usr/lib/python3.11``), so it owes nothing to the portal specs the rule is measured on.
"""

from __future__ import annotations

import math
import re
import sys
from collections import Counter
from functools import lru_cache
from pathlib import Path

MIN_BITS_PER_CHAR = 0.4
LONE_LETTER_BITS = -2.0

_SEPARATORS = re.compile(r"(?:[/._~+=-]|%[0-9A-Fa-f]{2})+")
# Words (``Get``, ``settings``), acronyms before a word (``OData``, ``SPOTenant``) or at the end (``IC``),
# two-letter words portals use, and short numbers with an optional letter (``v2``, ``m365``, ``E5``).
_WORDS = re.compile(
    r"(?:[A-Z]?[a-z]{2,}+|[A-Z]{1,5}(?=[A-Z][a-z]{2}|[A-Z][a-z][A-Z][a-z]{2})|[A-Z][a-z](?=[A-Z][a-z]{2})"
    r"|(?:By|Of|To|Is|In|On|At|As|Or|Id|Up|If|Ai|Ir|Os|Va|Ux|Ms|My)(?![a-z])|[A-Z]{2,4}$|[A-Za-z]?[0-9]{1,3}+)++")
_CAPS = re.compile(r"[A-Z][A-Z0-9]*+")  # CONSTANT_NAME pieces
_HEX_PIECE = re.compile(r"[0-9a-f]*[0-9][0-9a-f]*|[0-9A-F]*[0-9][0-9A-F]*")  # GUID parts, hashes
_LETTER_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")

_PREV = "^abcdefghijklmnopqrstuvwxyz"
_NEXT = "abcdefghijklmnopqrstuvwxyz$"
# log2(P(next | prev) / (1/27)) in tenths of a bit; rows: word start then a..z, columns: a..z then word end.
_TABLE = (
    "8 -2 9 6 5 5 -13 -11 13 -40 -24 4 -1 4 3 3 -38 5 16 12 -11 -14 -4 -29 -39 -44 -164",
    "-58 -6 6 3 -37 -29 -8 -65 0 -69 -21 20 9 15 -85 1 -83 17 11 21 -14 -16 -21 -27 -19 -70 -4",
    "14 -28 -8 -19 21 -37 -49 -56 4 12 -65 18 -27 -39 10 -17 -79 2 -5 -29 17 -71 -82 -80 11 -39 10",
    "16 -48 -17 -36 17 -36 -56 12 -4 -101 7 9 -27 -44 25 -33 -49 -2 -15 16 -2 -43 -59 -78 -18 -82 12",
    "3 -33 -38 -6 30 -32 -49 -70 15 -57 -66 -9 -55 -39 5 -50 -72 -7 -6 -27 -2 -58 -65 -52 -27 -78 33",
    "-3 -34 2 2 -18 -1 -27 -56 -39 -82 -38 12 -9 11 -37 -11 -27 17 8 10 -48 -23 -28 -1 -24 -72 30",
    "3 -50 -29 -24 -4 -2 -54 -72 18 -96 -90 -7 -47 -40 16 -33 -71 1 -20 -10 -2 -83 -46 -83 -35 -123 38",
    "-10 -47 -36 -48 24 -55 -14 2 7 -79 -84 -2 -25 5 -15 -45 -128 4 15 -17 0 -36 -53 -91 -72 -40 32",
    "21 -71 -54 -46 34 -63 -78 -57 13 -133 -45 -38 -36 -40 14 -69 -117 -9 -31 -1 -18 -88 -82 -105 -36 -80 23",
    "-13 -11 2 -9 -10 11 -3 -92 -42 -87 -39 10 2 28 10 -12 -66 -6 17 16 -63 -15 -95 -17 -109 -14 -20",
    "-6 -96 -35 -50 37 -55 -96 -73 -18 -96 -32 -55 -68 -73 20 -14 -96 -39 -7 -64 11 -96 -73 -96 -43 -96 25",
    "0 -55 -43 -27 31 -37 -23 -40 8 -67 -62 -5 -58 -7 -30 -26 -51 -24 5 -36 -20 -60 2 -116 -48 -66 34",
    "13 -35 -42 -5 25 19 -53 -66 14 -84 -61 11 -51 -35 8 -30 -105 -42 2 -3 0 -51 -49 -90 -8 -65 19",
    "24 -5 -52 -24 31 -30 -70 -70 2 -100 -48 -17 -5 -43 12 16 -135 -43 -3 -22 -8 -74 -53 -96 -42 -65 16",
    "9 -55 5 13 14 -15 11 -57 -6 -77 -24 -24 -46 -20 13 -26 -58 -54 4 16 -13 -20 -70 -90 -29 -82 28",
    "-23 -6 1 12 -34 -1 -20 -73 -21 -82 -17 -4 4 24 -11 2 -116 22 1 8 5 -18 -8 -23 -72 -55 12",
    "21 -59 -31 -26 20 -40 -52 -26 9 -136 -43 10 -45 -49 14 3 -65 15 -16 12 -5 -36 -41 -102 -3 -121 16",
    "-33 -46 -43 -32 -46 -57 -71 -78 -52 -66 -94 -18 -63 -8 -29 -24 -36 -18 -13 -52 44 -63 -66 -78 -94 -94 15",
    "11 -41 -13 -16 25 -32 -5 -63 9 -91 -23 -26 -10 5 12 -35 -117 1 3 4 -11 -28 -41 -77 -7 -115 26",
    "-13 -70 -14 -47 27 -43 -28 -11 6 -84 -30 -25 -12 -41 -5 -5 -47 -36 6 18 -4 -58 -37 -69 -14 -93 32",
    "10 -50 -23 -29 19 -32 -77 20 14 -93 -72 -26 -36 -49 5 -24 -84 8 -5 1 3 -62 -34 -57 -8 -52 28",
    "-11 -3 -12 -20 16 -8 -16 -88 -4 -112 -59 16 7 15 -20 7 -104 24 11 18 -46 -77 -98 -46 -93 -75 -19",
    "31 -52 -29 -80 37 -42 -62 -53 12 -117 -82 -60 -30 -38 -13 -50 -89 -47 -38 -50 -35 -60 -47 -68 -78 -80 6",
    "18 -44 -43 -13 12 -41 -68 15 29 -86 -78 -15 -64 3 9 -51 -55 13 -4 -51 -52 -62 -28 -51 -97 -92 17",
    "1 -12 23 -15 10 -8 -62 -40 5 -117 -89 -21 -10 -55 -37 9 -117 -38 -24 26 -48 -58 -76 -10 -17 -48 27",
    "-43 -32 -27 -38 -9 -40 -42 -56 -10 -122 -91 -21 -12 -5 -14 18 -99 -4 10 13 -46 -42 -17 -69 -47 -57 39",
    "3 -60 -44 -47 39 -29 -72 -19 19 -95 -95 -16 -15 -27 15 -27 -95 -42 -40 -33 -53 -95 -54 -95 -31 -40 10",
)
_LLR: dict[tuple[str, str], float] = {
    (a, b): int(v) / 10 for a, row in zip(_PREV, _TABLE) for b, v in zip(_NEXT, row.split())
}


def _evidence(piece: str) -> tuple[float, int] | None:
    """A piece's bigram evidence and its letter count; None when it does not parse as words."""
    if len(piece) <= 2 or _HEX_PIECE.fullmatch(piece):
        return 0.0, 0
    if not (_WORDS.fullmatch(piece) or _CAPS.fullmatch(piece)):
        return None
    words = _LETTER_WORDS.findall(piece)
    long = [w.lower() for w in words if len(w) > 1]
    lone = len(words) - len(long)  # a lone letter (``v2``, ``E5``) says little; random text is full of them
    bits = lone * LONE_LETTER_BITS
    if long:  # pairs of all words at once: "^ab^cd" against "ab$cd$" gives ^a ab b$ ^c cd d$
        bits += sum(map(_LLR.__getitem__, zip("^" + "^".join(long), "$".join(long) + "$")))
    return bits, sum(map(len, long)) + lone


_evidence_cached = lru_cache(maxsize=16384)(_evidence)  # pieces (``apiproxy``, ``security``) repeat


def _pieces(s: str) -> list[str]:
    """``s`` cut at separators; empty pieces (between two separators) say nothing and are harmless.
    Without ``%`` escapes, plain string splitting does it several times faster than the regex."""
    if "%" in s:
        return _SEPARATORS.split(s)
    for sep in "._~+=-":
        if sep in s:
            s = s.replace(sep, "/")
    return s.split("/")


def is_identifier(s: str) -> bool:
    """True when ``s`` is made of words, numbers and ids (a path, an operation id, a constant)."""
    bits = 0.0
    letters = 0
    for piece in _pieces(s):
        ev = _evidence_cached(piece) if len(piece) <= 64 else _evidence(piece)
        if ev is None:
            return False
        bits += ev[0]
        letters += ev[1]
    return bits >= MIN_BITS_PER_CHAR * letters


def _count(root: Path) -> Counter[str]:
    counts: Counter[str] = Counter()
    for path in sorted(root.rglob("*.py")):
        if "test" in path.parts or "tests" in path.parts or "site-packages" in path.parts:
            continue
        try:
            text = path.read_text()
        except (UnicodeDecodeError, OSError):
            continue
        for word in _LETTER_WORDS.findall(text):
            word = word.lower()
            if len(word) < 2:
                continue
            prev = "^"
            for c in word + "$":
                counts[prev + c] += 1
                prev = c
    return counts


def _table(counts: Counter[str]) -> list[str]:
    rows: list[str] = []
    for a in _PREV:
        total = sum(counts[a + b] for b in _NEXT)
        rows.append(" ".join(str(round(math.log2((counts[a + b] + 0.5) / (total + 0.5 * 27) * 27) * 10))
                             for b in _NEXT))
    return rows


if __name__ == "__main__":
    for line in _table(_count(Path(sys.argv[1]))):
        print(f'    "{line}",')
