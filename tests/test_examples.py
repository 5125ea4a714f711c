"""Examples in reports and spec updates stay small on days of long answers, and keep the shape and the
place a finding points to."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import jsonschema
from hypothesis import given, settings
from hypothesis import strategies as st

from portalspec.importers import import_file
from portalspec.report import examples
from portalspec.report.build import build_facts
from portalspec.report.document import to_report
from portalspec.report.render_html import render_html
from portalspec.report.render_md import render_markdown
from portalspec.specs.index import SpecIndex

from .canary import har
from .test_report import ROOT, _entry, schema

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=300),
                    lambda kids: st.lists(kids, max_size=6) | st.dictionaries(st.text(max_size=5), kids, max_size=6),
                    max_leaves=60)


def _at(value: Any, path: list[str]) -> Any:
    for token in path:
        value = value[int(token)] if isinstance(value, list) else value[token]
    return value


def _leaf_paths(value: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _leaf_paths(v, path + (k,))] or [path]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _leaf_paths(v, path + (str(i),))] or [path]
    return [path]


def _pointer(path: tuple[str, ...]) -> str:
    return "".join("/" + t.replace("~", "~0").replace("/", "~1") for t in path)


def _same_shape(short: Any, whole: Any) -> None:
    """Every value of ``short`` is one of ``whole`` at a place of the same kind: same types, an object's
    keys among the original's in the same order, a list's items among the original's, strings cut."""
    assert type(short) is type(whole)
    if isinstance(whole, dict):
        assert list(short) == [k for k in whole if k in short]
        for k in short:
            _same_shape(short[k], whole[k])
    elif isinstance(whole, list):
        assert len(short) <= max(1, examples.ITEMS_PICKED) and (bool(short) == bool(whole))
        for item in short:
            assert any(_fits(item, w) for w in whole)
    elif isinstance(whole, str):
        assert short == whole or (short.endswith("…") and whole.startswith(short[:-1]) and len(short) == examples.STRING_KEPT + 1)
    else:
        assert short == whole


def _fits(short: Any, whole: Any) -> bool:
    try:
        _same_shape(short, whole)
    except AssertionError:
        return False
    return True


def _tagged(value: Any, count: list[int]) -> Any:
    """``value`` with each leaf a string of its own (``#n``)."""
    if isinstance(value, dict):
        return {k: _tagged(v, count) for k, v in value.items()}
    if isinstance(value, list):
        return [_tagged(v, count) for v in value]
    count[0] += 1
    return f"#{count[0]}"


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [x for v in value.values() for x in _leaves(v)] or [value]
    if isinstance(value, list):
        return [x for v in value for x in _leaves(v)] or [value]
    return [value]


@settings(max_examples=300, deadline=None)
@given(JSON, st.data())
def test_a_shortened_value_keeps_its_shape_and_the_places_pointed_to(value: Any, data: st.DataObject) -> None:
    _same_shape(examples.shortened(value, data.draw(st.lists(st.text(max_size=12).map(lambda t: "/" + t), max_size=3))), value)
    tagged = _tagged(value, [0])
    paths = [p for p in _leaf_paths(tagged) if p]
    picked = data.draw(st.lists(st.sampled_from(paths), max_size=examples.ITEMS_PICKED)) if paths else []
    short = examples.shortened(tagged, [_pointer(p) for p in picked])
    _same_shape(short, tagged)
    kept = _leaves(short)
    for path in picked:
        leaf = _at(tagged, list(path))
        assert leaf in kept, (path, short)


def test_a_short_value_and_a_deep_one() -> None:
    value = {"value": [{"id": i, "name": "n" * 300} for i in range(50)]}
    short = examples.shortened(value, ["/value/37/name", "/value/999/x", "/nothing/1"])
    assert short == {"value": [{"id": 37, "name": "n" * examples.STRING_KEPT + "…"}]}
    deep: list[Any] = []
    inner = deep
    for _ in range(5000):
        inner.append([])
        inner = inner[0]
    assert examples.shortened(deep) is None  # too deep to walk: left out, not an error
    assert examples.shortened({"²": [1, 2]}, ["/²/1"]) == {"²": [2]}
    assert examples.shortened([1, 2], ["/²", "/-1"]) == [1]  # not list positions: the first item
    wide = {f"k{i}": i for i in range(150)}
    assert list(examples.shortened(wide, ["/k140"])) == [f"k{i}" for i in range(examples.KEYS_KEPT)] + ["k140"]


def test_long_answers_give_small_examples_that_keep_the_drift(tmp_path: Path) -> None:
    """A day of list answers of a few hundred rows: the drift example holds the row the finding is in
    (and says it was shortened), the undocumented endpoint's example and the overlay's stay small, and a
    short answer's example is the answer as it was."""
    users = [{"id": str(uuid.UUID(int=i + 1)), "displayName": f"user {i}", "userPrincipalName": f"u{i}@demo.example",
              "accountEnabled": True} for i in range(400)]
    users[123]["accountEnabled"] = "yes"  # the one row that drifts
    widgets = {"value": [{"id": str(uuid.UUID(int=i + 9)), "name": f"widget {i}", "tags": ["a", "b"]} for i in range(300)]}
    small = {"value": [{"id": str(uuid.UUID(int=1)), "userPrincipalName": "a@b.example"}]}  # no displayName
    entries = [_entry("GET", "https://admin.demo-portal.example/api/users", 200, {"value": users}),
               _entry("GET", "https://admin.demo-portal.example/api/users?$filter=x", 200, small),
               _entry("GET", "https://admin.demo-portal.example/api/widgets", 200, widgets),
               _entry("POST", "https://admin.demo-portal.example/api/widgets/bulk", 202, {"accepted": 300}, widgets)]
    assert all(len(json.dumps(e["response"]["content"]["text"])) > examples.LIMIT for e in (entries[0], entries[2]))
    (tmp_path / "long.har").write_text(json.dumps(har(entries)))
    import_file(tmp_path / "long.har", tmp_path / "cap", progress=False)
    report = to_report(build_facts(SpecIndex.load([str(ROOT / "specs" / "demo")]), [str(tmp_path / "cap")]))

    drift = {d["pointer"]: d for d in report["drift"]}
    long_ex, short_ex = drift["/value/*/accountEnabled"]["example"], drift["/value/*/displayName"]["example"]
    assert long_ex["response"]["shortened"] is True
    assert long_ex["response"]["body"] == {"value": [users[123]]}
    assert short_ex["response"]["body"] == small and "shortened" not in short_ex["response"]
    (widget,) = [u for u in report["undocumented"] if u["template"].endswith("/widgets")]
    assert widget["example"]["response"]["body"] == {"value": [{**widgets["value"][0], "tags": ["a"]}]}  # each list: one item
    (bulk,) = [m for m in report["mutations"] if m["template"].endswith("/bulk")]
    assert bulk["request_example"]["shortened"] is True and len(bulk["request_example"]["body"]["value"]) == 1
    assert "Request example (redacted, shortened)" in render_markdown(report)
    assert "Request example (redacted, shortened)" in render_html(report)
    assert len(json.dumps({k: v for k, v in report.items() if k != "flows"})) < 40_000  # flows link each row sent
    jsonschema.validate(json.loads(json.dumps(report, default=list)), schema())

    from portalspec.specwrite.overlay import build_overlay, dump_overlay
    overlay = build_overlay(report, SpecIndex.load([str(ROOT / "specs" / "demo")]))
    text = dump_overlay(overlay)
    assert "widget 0" in text and "widget 1" not in text
