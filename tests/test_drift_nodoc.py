"""Drift on real nodoc operations: bodies built from their schemas are clean; each planted kind is found."""

from __future__ import annotations

import copy
import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portalspec.shapes.drift import DriftChecker, Finding, media_schema, response_for
from portalspec.synth import value_for


def _response_schemas(index) -> list[tuple[Any, dict[str, Any]]]:  # type: ignore[no-untyped-def]
    out = []
    for op in index.operations:
        robj, found = response_for(op, 200)
        if not found or not robj:
            continue
        schema, _ = media_schema(robj.get("content"), "application/json")
        if isinstance(schema, dict) and schema:
            out.append((op, schema))
    return out


def test_bodies_built_from_schemas_have_no_findings(nodoc_index) -> None:  # type: ignore[no-untyped-def]
    checker = DriftChecker()
    pairs = _response_schemas(nodoc_index)
    assert len(pairs) > 800
    dirty = []
    for op, schema in pairs:
        body = value_for(schema)
        f = checker.check(schema, body, "response", "response", 200)
        if f:
            dirty.append((op.key, [(x.kind, x.pointer) for x in f][:3]))
    assert dirty == []


def _object_props(schema: dict[str, Any], checker: DriftChecker) -> tuple[dict[str, Any], set[str]] | None:
    m = checker.merged(schema)
    if "object" in m.types or (m.properties and not m.types):
        return m.properties, m.required
    return None


PLANTS = ("undocumented_property", "missing_required", "type_mismatch", "nullable_mismatch", "enum_value", "format_mismatch")


def _plant(kind: str, schema: dict[str, Any], body: dict[str, Any], checker: DriftChecker) -> str | None:
    """Change ``body`` so that it shows exactly ``kind``; return the pointer, or None if the schema has no place for it."""
    props, required = _object_props(schema, checker) or ({}, set())
    if kind == "undocumented_property":
        if not props or checker.merged(schema).additional not in (None, False):
            return None
        body["portalspecPlanted"] = 1
        return "/portalspecPlanted"
    for name, sub in props.items():
        if not isinstance(sub, dict) or name not in body or sub.get("oneOf") or sub.get("anyOf") or sub.get("allOf"):
            continue
        sm = checker.merged(sub)
        if kind == "missing_required" and name in required and not sub.get("readOnly"):
            del body[name]
            return f"/{name}"
        if kind == "type_mismatch" and sm.types == {"string"} and not sub.get("enum"):
            body[name] = 12345
            return f"/{name}"
        if kind == "nullable_mismatch" and sm.types and not sm.nullable:
            body[name] = None
            return f"/{name}"
        if kind == "enum_value" and isinstance(sub.get("enum"), list) and all(isinstance(e, str) for e in sub["enum"]):
            body[name] = "portalspec-not-in-enum"
            return f"/{name}"
        if kind == "format_mismatch" and sm.types == {"string"} and sub.get("format") in ("uuid", "date-time", "email"):
            body[name] = "not a formatted value"
            return f"/{name}"
    return None


def test_each_planted_kind_is_found_alone(nodoc_index) -> None:  # type: ignore[no-untyped-def]
    checker = DriftChecker()
    found = {k: 0 for k in PLANTS}
    for op, schema in _response_schemas(nodoc_index):
        for kind in PLANTS:
            body = value_for(schema)
            if not isinstance(body, dict):
                continue
            ptr = _plant(kind, schema, body, checker)
            if ptr is None:
                continue
            fs = checker.check(schema, body, "response", "response", 200)
            assert [(f.kind, f.pointer) for f in fs] == [(kind, ptr)], (op.key, kind)
            found[kind] += 1
    assert all(n >= 3 for n in found.values()), found


def test_all_of_branches_document_properties() -> None:
    base = {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}
    schema = {"allOf": [base, {"type": "object", "properties": {"extra": {"type": "integer"}}}]}
    c = DriftChecker()
    assert c.check(schema, {"id": "a", "extra": 1}, "response", "response") == []
    assert [(f.kind, f.pointer) for f in c.check(schema, {"extra": 1, "new": 2}, "response", "response")] == [
        ("missing_required", "/id"), ("undocumented_property", "/new")]


def test_array_items_additional_properties_and_discriminator() -> None:
    c = DriftChecker()
    schema = {"type": "object", "properties": {"value": {"type": "array", "items": {"type": "object", "properties": {"n": {"type": "integer"}}}}}}
    fs = c.check(schema, {"value": [{"n": 1}, "oops", {"n": "x", "m": 1}]}, "response", "response")
    assert [(f.kind, f.pointer) for f in fs] == [("array_item", "/value/1"), ("type_mismatch", "/value/2/n"),
                                                 ("undocumented_property", "/value/2/m")]
    open_schema = {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": True}
    (f,) = c.check(open_schema, {"a": "x", "b": 1}, "response", "response")
    assert f.kind == "undocumented_property" and f.severity == "info"
    poly = {"oneOf": [{"title": "Cat", "type": "object", "properties": {"kind": {"type": "string"}, "meow": {"type": "boolean"}}},
                      {"title": "Dog", "type": "object", "properties": {"kind": {"type": "string"}, "bark": {"type": "boolean"}}}],
            "discriminator": {"propertyName": "kind"}}
    assert c.check(poly, {"kind": "Dog", "bark": True}, "response", "response") == []
    assert [f.pointer for f in c.check(poly, {"kind": "Dog", "meow": True}, "response", "response")] == ["/meow"]


def test_read_only_not_required_in_requests() -> None:
    c = DriftChecker()
    schema = {"type": "object", "required": ["id", "name"], "properties": {"id": {"type": "string", "readOnly": True}, "name": {"type": "string"}}}
    assert c.check(schema, {"name": "x"}, "request", "request") == []
    assert [f.kind for f in c.check(schema, {"name": "x"}, "response", "response")] == ["missing_required"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_property_generated_bodies(nodoc_index, data) -> None:  # type: ignore[no-untyped-def]
    """Hypothesis picks an operation and a mutation; a clean body stays clean, a mutated one is caught."""
    pairs = _response_schemas(nodoc_index)
    op, schema = data.draw(st.sampled_from(pairs))
    checker = DriftChecker()
    body = value_for(schema, random.Random(data.draw(st.integers(0, 1000))))
    assert checker.check(schema, body, "response", "response", 200) == []
    kind = data.draw(st.sampled_from(PLANTS))
    if isinstance(body, dict):
        mutated = copy.deepcopy(body)
        ptr = _plant(kind, schema, mutated, checker)
        if ptr is not None:
            fs: list[Finding] = checker.check(schema, mutated, "response", "response", 200)
            assert (kind, ptr) in [(f.kind, f.pointer) for f in fs]
