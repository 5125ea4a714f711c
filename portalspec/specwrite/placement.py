"""Where a new endpoint goes in its spec, as the spec's maintainers lay it out.

A root whose ``paths`` are ``$ref``s to sibling files (``alerts_incidents.yml``, ...) gets a new
path item in the sibling file of the surface it was seen on: the file whose operations were seen
on the same portal pages (this capture's pages, the spec's ``x-nodoc-live-capture.browsedPages``)
first, then the file whose operations share the longest path prefix, then the larger file. The
root gets a ``$ref`` line placed where its own order puts it: sorted, or after the last line of
the same file's group. A new method on a path whose item is a ``$ref`` goes into the referenced
file's path item, never beside the ``$ref``. A single-file spec stays single-file: the new item
goes after its nearest neighbour. The neighbour also lends its tags, its surface (when the pages
agree), its header profile and the shared responses it references.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..pointers import escape
from ..specs.model import Operation, Spec
from .locate import Cursor, _doc, _pointer_tokens, jsonpath
from ..shapes.paths import spec_param_names
from .naming import parameter_names


def _segments(path: str) -> list[str]:
    """A path's segments as ``_prefix`` compares them (lower case)."""
    return [s for s in path.strip("/").lower().split("/") if s]


def _prefix(a: list[str], b: list[str]) -> int:
    """How many leading segments (``_segments``) two paths share; any two parameters are alike."""
    n = 0
    for x, y in zip(a, b):
        if x != y and not (x[0] == "{" and y[0] == "{"):
            break
        n += 1
    return n


@dataclass
class Place:
    template: str
    renames: dict[str, str]
    neighbour: Operation | None
    neighbour_node: dict[str, Any] | None
    tags: list[str]
    surface: str | None
    header_profile: str | None
    file: str = ""  # where the operation is written
    servers: Any = None  # for a new path item on a host the spec's own servers do not serve
    _writes: list[tuple[str, list[Any], str, Any, str | None]] = field(default_factory=list)

    @property
    def neighbour_id(self) -> str | None:
        return self.neighbour.operation_id if self.neighbour is not None else None

    def writes(self, method: str, op: dict[str, Any]) -> list[tuple[str, str, dict[str, Any], str | None]]:
        """``(file, target, update, after)`` for the overlay: the operation, and the root's ``$ref``."""
        out = []
        for file, tokens, key, value, after in self._writes:
            if key == "__method__":
                update = {method: op}
            elif value is None:
                update = {key: {"servers": self.servers, method: op} if self.servers else {method: op}}
            else:
                update = {key: value}
            out.append((file, jsonpath(tokens), update, after))
        return out


class SpecPlan:
    """One spec's layout, read once: root style, files and their operations, names in use."""

    def __init__(self, spec: Spec, pages_by_op: dict[str, set[str]], resolved: Callable[[str], str]) -> None:
        self.spec = spec
        self.resolved = resolved
        self.root = resolved(spec.root)
        doc = _doc(self.root)
        self.paths: dict[str, Any] = doc.get("paths") if isinstance(doc.get("paths"), dict) else {}
        self.refs: dict[str, str] = {}
        for key, item in self.paths.items():
            if isinstance(item, dict) and set(item) == {"$ref"} and isinstance(item["$ref"], str):
                file_part = item["$ref"].partition("#")[0]
                if file_part:
                    self.refs[key] = resolved(str(Path(self.root).parent / file_part))
        self.ref_style = bool(self.refs) and len(self.refs) >= 0.8 * len(self.paths)
        keys = list(self.paths)
        self.sorted_root = keys == sorted(keys) or keys == sorted(keys, key=str.lower)
        self.by_file: dict[str, list[Operation]] = {}
        for op in spec.operations:
            self.by_file.setdefault(resolved(op.source_file), []).append(op)
        self.ref_files = sorted(set(self.refs.values()))
        self._served: dict[str, dict[str, list[Operation]]] = {}  # host -> file -> its operations on that host
        self._segs: dict[str, list[str]] = {}  # a documented path -> its segments
        self.pages: dict[str, set[str]] = {}
        for op in spec.operations:
            seen = set(pages_by_op.get(f"{op.spec}:{op.method}:{op.path}", ()))
            if isinstance(op.live.get("browsedPages"), list):
                seen |= {str(p) for p in op.live["browsedPages"]}
            self.pages[op.key] = {_page_key(p) for p in seen}
        sources = Counter(str(op.live["source"]) for op in spec.operations if op.live.get("source"))
        self.source = sources.most_common(1)[0][0] if sources else f"{spec.title} portal"
        self.uses_context = any(op.context for op in spec.operations)
        self._nodes: dict[str, dict[str, Any]] = {}
        profiles = doc.get("x-nodoc-headerProfiles")
        self.profiles = set(profiles) if isinstance(profiles, dict) else set()
        self.taken = {op.operation_id for op in spec.operations if op.operation_id}
        self.param_names = spec_param_names(op.path for op in spec.operations)
        self._components: dict[frozenset[tuple[str, Any]], tuple[str, str]] | None = None

    def node(self, op: Operation) -> dict[str, Any]:
        """The operation as written in its file (read when needed: reading YAML is the slow part)."""
        if op.key not in self._nodes:
            node = Cursor(op.source_file, _pointer_tokens(op.source_pointer)).node
            self._nodes[op.key] = node if isinstance(node, dict) else {}
        return self._nodes[op.key]

    @property
    def components(self) -> dict[frozenset[tuple[str, Any]], tuple[str, str]]:
        """The spec's schema components by shape (shape -> file, name); read on first use."""
        if self._components is None:
            self._components = {}
            for f in self.spec.files:
                d = _doc(self.resolved(f))
                schemas = (d.get("components") or {}).get("schemas") if isinstance(d, dict) else None
                for name, schema in (schemas or {}).items() if isinstance(schemas, dict) else ():
                    sig = shape_of(schema)
                    if sig and sig not in self._components:
                        self._components[sig] = (self.resolved(f), str(name))
        return self._components

    def reuse(self, schema: Any, file: str) -> Any:
        """``schema`` as a ``$ref`` to the spec's own component of the same shape (property names and
        types), from ``file``; its array items likewise; else as it is."""
        if not isinstance(schema, dict):
            return schema
        shape = shape_of(schema)
        hit = self.components.get(shape) if shape else None
        if hit is not None:
            comp_file, name = hit
            where = "" if comp_file == file else Path(os.path.relpath(comp_file, Path(file).parent)).as_posix()
            return {"$ref": f"{where}#/components/schemas/{escape(name)}"}
        if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
            return {**schema, "items": self.reuse(schema["items"], file)}
        return schema

    def _neighbour(self, ops: list[Operation], segs: list[str], pages: set[str]) -> Operation | None:
        best: tuple[int, int] | None = None
        pick = None
        for op in ops:
            score = (len(pages & self.pages.get(op.key, set())), _prefix(segs, self._op_segments(op)))
            if best is None or score > best:
                best, pick = score, op
        return pick

    def _context(self, op: Operation | None, key: str) -> Any:
        return op.context.get(key) if op is not None else None

    def _tags(self, file: str, neighbour: Operation | None) -> list[str]:
        if neighbour is not None and neighbour.tags:
            return list(neighbour.tags)
        counts = Counter(t for op in self.by_file.get(file, []) for t in op.tags)
        return [counts.most_common(1)[0][0]] if counts else []

    def _serves(self, op: Operation, host: str) -> bool:
        return any(s.host_regex and s.host_regex != "[^/]+" and re.fullmatch(s.host_regex, host.lower()) for s in op.servers)

    def _op_segments(self, op: Operation) -> list[str]:
        segs = self._segs.get(op.path)
        if segs is None:
            segs = self._segs[op.path] = _segments(op.path)
        return segs

    def _served_in(self, files: list[str], host: str) -> dict[str, list[Operation]]:
        """Per file, its operations whose own servers serve ``host`` (the same for every endpoint on the host)."""
        served = self._served.get(host)
        if served is None:
            served = self._served[host] = {}
        for f in files:
            if f not in served:
                served[f] = [o for o in self.by_file.get(f, []) if self._serves(o, host)]
        return {f: served[f] for f in files}

    def place(self, u: dict[str, Any], rel: str, host: str) -> Place | None:
        pages = {_page_key(p) for p in u.get("browsed_pages") or []}
        nearest = u.get("nearest") if u.get("reason") == "path_documented_method_missing" else None
        if nearest:
            documented = nearest.split(" ", 1)[1]
            same = [op for op in self.spec.operations if op.path == documented]
            if same:
                return self._into_item(same[0], documented, pages)
        segs = _segments(rel)
        renames = parameter_names(rel, self.param_names)
        template = rel
        for old, new in renames.items():
            template = template.replace("{" + old + "}", "{" + new + "}")
        if template in self.paths:  # the path is there already: the method goes into its item
            same = [op for op in self.spec.operations if op.path == template]
            if same:
                return self._into_item(same[0], template, pages)
        files = self.ref_files if self.ref_style else [self.root]
        best: tuple[int, int, int] | None = None
        target = files[0] if files else self.root
        served = self._served_in(files, host)
        if any(served.values()):  # only files with operations on this host
            files = [f for f in files if served[f]]
        for f in files:
            ops = served.get(f) or self.by_file.get(f, [])
            score = (max((len(pages & self.pages.get(o.key, set())) for o in ops), default=0),
                     max((_prefix(segs, self._op_segments(o)) for o in ops), default=0), len(ops))
            if best is None or score > best:
                best, target = score, f
        ops = served.get(target) or self.by_file.get(target, [])
        neighbour = self._neighbour(ops, segs, pages)
        node = self.node(neighbour) if neighbour is not None else None
        overlap = bool(neighbour is not None and pages & self.pages.get(neighbour.key, set()))
        place = Place(rel, renames, neighbour, node, self._tags(target, neighbour),
                      self._context(neighbour, "surface") if overlap else None,
                      self._context(neighbour, "headerProfile") if self.profiles else None)
        sibling_paths = _doc(target).get("paths") if isinstance(_doc(target).get("paths"), dict) else {}
        after = neighbour.path if neighbour is not None and neighbour.path in sibling_paths else None
        place.servers = self._servers_for(neighbour, host)
        place.file = target
        place._writes.append((target, ["paths"], template, None, after))
        if self.ref_style and target != self.root:
            ref = f"{Path(os.path.relpath(target, Path(self.root).parent)).as_posix()}#/paths/{escape(template)}"
            place._writes.append((self.root, ["paths"], template, {"$ref": ref}, self._root_after(template, target)))
        return place

    def _into_item(self, op: Operation, path: str, pages: set[str]) -> Place:
        """A new method on a documented path: into the file that defines the path item."""
        tokens = _pointer_tokens(op.source_pointer)[:-1]
        node = self.node(op)
        place = Place(path, {}, op, node, list(op.tags), self._context(op, "surface") if pages & self.pages.get(op.key, set()) else None,
                      self._context(op, "headerProfile") if self.profiles else None)
        place.file = self.resolved(op.source_file)
        place._writes.append((place.file, tokens, "__method__", None, None))
        return place

    def _servers_for(self, neighbour: Operation | None, host: str) -> Any:
        """The ``servers`` a new path item needs: none when the spec's own servers serve the host, else
        the neighbour's (its path item's, or its operation's), as written in its file."""
        if any(s.host_regex and re.fullmatch(s.host_regex, host.lower()) for s in self.spec.servers):
            return None
        if neighbour is None:
            return None
        tokens = _pointer_tokens(neighbour.source_pointer)
        item = Cursor(neighbour.source_file, tokens[:-1]).node
        for node in (item, self.node(neighbour)):
            if isinstance(node, dict) and isinstance(node.get("servers"), list):
                return node["servers"]
        return None

    def _root_after(self, key: str, file: str) -> str | None:
        keys = list(self.paths)
        if self.sorted_root:
            lower = [k for k in keys if k.lower() < key.lower()]
            return max(lower, key=str.lower) if lower else None
        group = [k for k in keys if self.refs.get(k) == file]
        return group[-1] if group else None


def shape_of(schema: Any) -> frozenset[tuple[str, Any]] | None:
    """An object schema's property names and types (None for anything else, or fewer than 2 properties)."""
    if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict) or len(schema["properties"]) < 2:
        return None
    return frozenset((str(k), v.get("type") if isinstance(v, dict) else None) for k, v in schema["properties"].items())


def _page_key(url: str) -> str:
    """A page as compared: no query, no trailing slash."""
    return url.split("?", 1)[0].rstrip("/").lower()


class PlacementPlanner:
    def __init__(self, report: dict[str, Any], index: Any) -> None:
        self.index = index
        self.pages_by_op = {row["id"]: set(row.get("browsed_pages") or []) for row in report.get("operations") or []}
        self._plans: dict[str, SpecPlan | None] = {}
        self._resolved: dict[str, str] = {}

    def resolved(self, path: str) -> str:
        """``path`` resolved (absolute, symlinks followed), once per path for this plan."""
        got = self._resolved.get(path)
        if got is None:
            got = self._resolved[path] = str(Path(path).resolve())
        return got

    def spec(self, root: str) -> SpecPlan | None:
        if root not in self._plans:
            spec = next((s for s in self.index.specs if self.resolved(s.root) == root), None) if self.index else None
            self._plans[root] = SpecPlan(spec, self.pages_by_op, self.resolved) if spec is not None else None
        return self._plans[root]
