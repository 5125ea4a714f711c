"""The overlay is written as PyYAML writes it, whichever emitter writes it (libyaml's where it writes the same)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from portalspec.specwrite import overlay
from portalspec.specwrite.overlay import dump_overlay, libyaml_writes_the_same

ROOT = Path(__file__).resolve().parent.parent
OPTIONS: dict[str, Any] = {"sort_keys": False, "allow_unicode": True, "width": 4096}

_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
_scalars = st.one_of(_text, st.integers(), st.floats(allow_nan=True, allow_infinity=True), st.booleans(), st.none(),
                     st.sampled_from(["", "yes", "null", "~", "1e3", "0x1F", "2024-01-01", "12:30", "a: b", "- x",
                                      "#c", " lead", "trail ", "x" * 5000, "l1\nl2", "'q'", '"d"', "k" * 200]))
_nodes = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.one_of(_text, st.integers()), inner, max_size=4), max_leaves=20)
_docs = st.lists(st.dictionaries(st.one_of(_text, st.integers()), _nodes, min_size=1, max_size=4), min_size=1, max_size=3)


@settings(max_examples=400, deadline=None)
@given(_docs)
def test_the_overlay_is_written_as_pyyaml_writes_it(docs: list[dict[Any, Any]]) -> None:
    assert dump_overlay(docs) == yaml.safe_dump_all(docs, **OPTIONS)


def _plain(rng: random.Random) -> str:
    """A string as an overlay's keys and values often are: printable, some of YAML's own syntax, some long."""
    pick = rng.random()
    if pick < 0.2:
        return rng.choice(["yes", "null", "1e3", "a: b", "- x", "#c", " lead", "trail ", "x" * 5000, "l1\nl2",
                           "'q'", '"d"', "k" * 200, "é中—…", "{x}", "[y]", "a,b", "&a", "*b", "!t", "|", ">", "%", "@"])
    chars = [chr(c) for c in range(0x20, 0x7f)] * 8 + [chr(c) for c in range(0xa0, 0x250)] + ["\n", "\t", "\r", "\x00"]
    return "".join(rng.choice(chars) for _ in range(rng.choice([1, 3, 8, 30, 120])))


def _key(rng: random.Random) -> str:
    """A key as overlays' are: printable, mostly short (JSON pointers, names, status codes, media types)."""
    key = _plain(rng).replace("\n", " ").replace("\t", " ").replace("\r", " ").replace("\x00", " ") or "k"
    return key if rng.random() < 0.1 else key[:60]


def _node(rng: random.Random, depth: int) -> Any:
    pick = rng.random()
    if depth > 3 or pick < 0.4:
        return rng.choice([_plain(rng), _plain(rng), rng.randint(-10**6, 10**20), 2.5, float("inf"), True, None])
    if pick < 0.7:
        return {_key(rng): _node(rng, depth + 1) for _ in range(rng.randint(0, 5))}
    return [_node(rng, depth + 1) for _ in range(rng.randint(0, 5))]


def test_libyaml_writes_plain_overlays_as_pyyaml_does() -> None:
    """Documents such as overlays hold (printable keys, any values but a few characters) go through libyaml's
    emitter and come out as PyYAML's; the demo's overlay is one of them."""
    rng = random.Random(7)
    fast = 0
    for _ in range(600):
        docs = [{_key(rng): _node(rng, 1) for _ in range(rng.randint(1, 4))} for _ in range(rng.randint(1, 3))]
        fast += libyaml_writes_the_same(docs)
        assert dump_overlay(docs) == yaml.safe_dump_all(docs, **OPTIONS)
    assert fast > 350, fast  # most of them by libyaml (the rest hold a long key of wide characters)
    shared = {"url": "https://x.example/api", "list": [1, 2]}  # one object in two places: anchors and aliases
    docs = [{"a": shared, "b": [shared, {"c": shared}], "d": shared["list"]}, {"e": shared}]
    assert libyaml_writes_the_same(docs) and "&id001" in dump_overlay(docs) == yaml.safe_dump_all(docs, **OPTIONS)
    demo = list(yaml.safe_load_all((ROOT / "reports" / "demo" / "spec-update.overlay.yaml").read_text()))
    assert overlay._CDUMPER is not None and libyaml_writes_the_same(demo)
    assert dump_overlay(demo) == (ROOT / "reports" / "demo" / "spec-update.overlay.yaml").read_text()


def test_what_libyaml_writes_otherwise_goes_through_pyyaml() -> None:
    for docs in ([{"": 1}], [{"a\rb": 1}], [{"k": "emoji 😀"}], [{"k": "nel \x85"}], [{"k": ["\u2028"]}], ["scalar"],
                 [{"é" * 100: 1}]):
        assert not libyaml_writes_the_same(docs)
        assert dump_overlay(docs) == yaml.safe_dump_all(docs, **OPTIONS)  # type: ignore[arg-type]
