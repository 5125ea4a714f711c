"""Example bodies small enough for a report and for a spec's ``example``.

A body whose text is longer than ``LIMIT`` characters (a list answer of a few hundred rows is
easily 200 KB) is shortened, keeping its shape and the type of every value: each list keeps one
item (the items a finding points into, else its first), each object its first ``KEYS_KEPT`` keys
(and those a finding points into), each string its first ``STRING_KEPT`` characters. That is
how nodoc's specs write examples (a list of one), and it is what a reader needs to see where a
drift finding is.
"""

from __future__ import annotations

from typing import Any, Iterable

from ..pointers import tokens

LIMIT = 4096  # a body's text up to this length is an example as it is
STRING_KEPT = 200
KEYS_KEPT = 100
ITEMS_PICKED = 3  # list items kept because findings point into them, at most


def trimmed(text: Any) -> Any:
    """A body's text that is not JSON, cut at ``LIMIT`` characters."""
    if isinstance(text, str) and len(text) > LIMIT:
        return text[:LIMIT] + "…"
    return text


def shortened(value: Any, pointers: Iterable[str] = ()) -> Any:
    """``value`` shortened as the module says; the places ``pointers`` name are kept (the first
    ``ITEMS_PICKED`` items of a list). A value nested too deep to walk is left out (None)."""
    try:
        return _cut(value, [tuple(t) for t in map(tokens, pointers) if t])
    except RecursionError:
        return None


def _cut(v: Any, paths: list[tuple[str, ...]]) -> Any:
    t = type(v)
    if t is dict:
        wanted = {p[0] for p in paths}
        out: dict[str, Any] = {}
        for n, (k, x) in enumerate(v.items()):
            if n < KEYS_KEPT or k in wanted:
                out[k] = _cut(x, [p[1:] for p in paths if len(p) > 1 and p[0] == k])
        return out
    if t is list:
        picked = sorted({int(p[0]) for p in paths if p[0].isascii() and p[0].isdigit() and int(p[0]) < len(v)})[:ITEMS_PICKED]
        if not picked:
            picked = [0] if v else []
        return [_cut(v[i], [p[1:] for p in paths if len(p) > 1 and p[0] == str(i)]) for i in picked]
    if t is str and len(v) > STRING_KEPT:
        return v[:STRING_KEPT] + "…"
    return v
