"""Schema inference from every sample, in bounded memory.

A ``SchemaAccumulator`` takes JSON values one at a time and keeps counts, not samples: types seen,
presence of each property, formats that every string so far fits, a small set of distinct string
values (dropped once it grows past ``MAX_ENUM``). Accumulators merge, so chunks processed in
parallel combine into the same result.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from .drift import format_ok, json_type

MAX_ENUM = 8
MAX_PROPS = 300
MAX_DEPTH = 24
FORMATS = ("uuid", "date-time", "date", "email", "uri", "ipv4")


class SchemaAccumulator:
    __slots__ = ("count", "types", "formats", "values", "props", "presence", "objects", "items", "depth", "truncated")

    def __init__(self, depth: int = 0) -> None:
        self.count = 0
        self.types: Counter[str] = Counter()
        self.formats: set[str] | None = None  # None: no string seen yet
        self.values: set[str] | None = set()  # None: too many distinct values for an enum
        self.props: dict[str, SchemaAccumulator] = {}
        self.presence: Counter[str] = Counter()
        self.objects = 0
        self.items: SchemaAccumulator | None = None
        self.depth = depth
        self.truncated = False

    def add(self, v: Any) -> None:
        self.count += 1
        t = json_type(v)
        self.types[t] += 1
        if t == "string":
            fits = {f for f in (self.formats if self.formats is not None else FORMATS) if format_ok(f, v)}
            self.formats = fits
            if self.values is not None:
                if len(v) <= 64:
                    self.values.add(v)
                if len(v) > 64 or len(self.values) > MAX_ENUM:
                    self.values = None
        elif t == "object":
            self.objects += 1
            if self.depth >= MAX_DEPTH:
                self.truncated = True
                return
            for k, sub in v.items():
                acc = self.props.get(k)
                if acc is None:
                    if len(self.props) >= MAX_PROPS:
                        self.truncated = True
                        continue
                    acc = self.props[k] = SchemaAccumulator(self.depth + 1)
                self.presence[k] += 1
                acc.add(sub)
        elif t == "array":
            if self.depth >= MAX_DEPTH:
                self.truncated = True
                return
            if self.items is None:
                self.items = SchemaAccumulator(self.depth + 1)
            for x in v:
                self.items.add(x)

    def merge(self, other: "SchemaAccumulator") -> "SchemaAccumulator":
        self.count += other.count
        self.types.update(other.types)
        if other.formats is not None:
            self.formats = other.formats if self.formats is None else self.formats & other.formats
        if self.values is None or other.values is None:
            self.values = None
        else:
            self.values |= other.values
            if len(self.values) > MAX_ENUM:
                self.values = None
        self.objects += other.objects
        self.presence.update(other.presence)
        for k, acc in other.props.items():
            if k in self.props:
                self.props[k].merge(acc)
            elif len(self.props) < MAX_PROPS:
                self.props[k] = acc
        if other.items is not None:
            self.items = other.items if self.items is None else self.items.merge(other.items)
        self.truncated |= other.truncated
        return self

    def schema(self) -> dict[str, Any]:
        """The inferred OpenAPI 3.0 schema."""
        types = {t for t in self.types if t != "null"}
        out: dict[str, Any] = {}
        if "integer" in types and "number" in types:
            types.discard("integer")
        if len(types) == 1:
            out["type"] = next(iter(types))
        elif len(types) > 1:
            return {"oneOf": [self._typed(t) for t in sorted(types)], **({"nullable": True} if "null" in self.types else {})}
        if "null" in self.types:
            out["nullable"] = True
        t = out.get("type")
        if t:
            out.update(self._typed(t))
        return out

    def _typed(self, t: str) -> dict[str, Any]:
        out: dict[str, Any] = {"type": t}
        if t == "string":
            if self.formats:
                out["format"] = sorted(self.formats, key=FORMATS.index)[0]
            n = self.types["string"]
            if self.values and not self.formats and n >= 6 and n >= 3 * len(self.values) and len(self.values) >= 1:
                out["enum"] = sorted(self.values)
        elif t == "object":
            if self.props:
                out["properties"] = {k: acc.schema() for k, acc in sorted(self.props.items())}
                if self.objects >= 2:
                    req = sorted(k for k, n in self.presence.items() if n == self.objects)
                    if req:
                        out["required"] = req
        elif t == "array":
            out["items"] = self.items.schema() if self.items is not None and self.items.count else {}
        return out

    def pointers(self, prefix: str = "") -> dict[str, str]:
        """Every property pointer with its dominant type (arrays folded to ``*``): for capture diffs."""
        out: dict[str, str] = {}
        types = [t for t, _ in self.types.most_common() if t != "null"]
        if prefix:
            out[prefix] = types[0] if types else "null"
            if self.formats and types and types[0] == "string":
                out[prefix] += f"/{sorted(self.formats, key=FORMATS.index)[0]}"
        for k, acc in self.props.items():
            out.update(acc.pointers(f"{prefix}/{k}"))
        if self.items is not None:
            out.update(self.items.pointers(f"{prefix}/*"))
        return out


def is_placeholder_schema(schema: Any) -> bool:
    """An operation schema that documents nothing: missing, empty, or an open object without properties."""
    if not isinstance(schema, dict) or not schema:
        return True
    if any(k in schema for k in ("properties", "items", "allOf", "oneOf", "anyOf", "enum", "$ref")):
        return False
    return schema.get("type") in (None, "object") and schema.get("additionalProperties", True) not in (False,) and \
        not isinstance(schema.get("additionalProperties"), dict)
