"""Loading OpenAPI 3.0/3.1 documents: root discovery, multi-file ``$ref`` resolution, lint warnings.

``$ref``s are resolved relative to the file that holds them (JSON-pointer escapes, URL-encoded
pointers, cycles). A resolved object is shared by every place that refers to it, and a cycle
becomes a cyclic Python structure, so the result pickles as it is for the on-disk cache.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml

from ..errors import PortalspecError
from ..pointers import escape
from .doccache import parsed
from .model import METHODS, Operation, Server, Spec

_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _NoDatesLoader(_Loader):  # type: ignore[misc, valid-type]
    """Safe loader that keeps dates as strings (specs are JSON data, not Python objects)."""


# YAML 1.2 rules, as OpenAPI tools read specs: dates stay strings, and only true/false are booleans
# (YAML 1.1 would turn ``enum: [On, Paused]`` into ``[True, 'Paused']``).
_NoDatesLoader.yaml_implicit_resolvers = {  # PyYAML's class attribute, not in its stubs
    k: [(tag, rx) for tag, rx in v if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")]
    for k, v in _Loader.yaml_implicit_resolvers.items()  # type: ignore[attr-defined]
}
_NoDatesLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))

SPEC_SUFFIXES = (".yml", ".yaml", ".json")


def load_document(path: Path) -> Any:
    """A spec file parsed (YAML 1.2 rules, or JSON), from the cache of parsed files when it holds its bytes."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise PortalspecError(f"cannot read ({e.strerror})", str(path)) from None
    return parsed(data, lambda: _parse(path, data))


def _parse(path: Path, data: bytes) -> Any:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise PortalspecError(f"not UTF-8 text (byte {e.start})", str(path)) from None
    try:
        if path.suffix == ".json":
            return json.loads(text)
        return yaml.load(text, Loader=_NoDatesLoader)  # noqa: S506 - a safe loader subclass
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        place = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        raise PortalspecError(f"invalid YAML ({getattr(e, 'problem', None) or e})", str(path), place) from None
    except ValueError as e:
        raise PortalspecError(f"invalid JSON ({e})", str(path)) from None


def is_root_document(path: Path) -> bool:
    """A file whose top level has an ``openapi:`` key (checked on the first lines only)."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return False
    if path.suffix == ".json":
        return b'"openapi"' in head
    return any(line.startswith(b"openapi:") for line in head.splitlines())


def find_roots(paths: list[Path]) -> list[Path]:
    roots: list[Path] = []
    for p in paths:
        if not p.exists():
            raise PortalspecError("no such spec file or folder", str(p))
        if p.is_file():
            roots.append(p)
            continue
        roots.extend(f for f in sorted(p.rglob("*")) if f.suffix in SPEC_SUFFIXES and f.is_file() and is_root_document(f))
    return roots


class Resolver:
    """Resolves ``$ref``s across files; one per spec so shared objects stay shared."""

    def __init__(self) -> None:
        self.docs: dict[Path, Any] = {}
        self.memo: dict[tuple[Path, str], Any] = {}
        self.errors: list[str] = []

    def doc(self, path: Path) -> Any:
        path = path.resolve()
        if path not in self.docs:
            self.docs[path] = load_document(path)
        return self.docs[path]

    def target(self, ref: str, base: Path) -> tuple[Any, Path, str]:
        file_part, _, pointer = ref.partition("#")
        file = (base.parent / unquote(file_part)).resolve() if file_part else base.resolve()
        try:
            node = self.doc(file)
        except PortalspecError as e:
            raise PortalspecError(f"broken $ref {ref!r}: {e}", str(base)) from None
        for token in [t for t in pointer.split("/")[1:]] if pointer else []:
            key = unquote(token).replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and key in node:
                node = node[key]
            elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
                node = node[int(key)]
            else:
                raise PortalspecError(f"broken $ref {ref!r}: no {key!r} in {file.name}", str(base), f"#{pointer}")
        return node, file, pointer

    def deref(self, node: Any, base: Path) -> Any:
        """A copy of ``node`` with every ``$ref`` replaced by its (shared) target."""
        if isinstance(node, list):
            return [self.deref(v, base) for v in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str):
            try:
                target, file, pointer = self.target(ref, base)
            except PortalspecError as e:
                self.errors.append(str(e))
                return {"x-portalspec-broken-ref": ref}
            key = (file, pointer)
            if key in self.memo:
                return self.memo[key]
            if isinstance(target, dict):
                out: dict[str, Any] = {}
                self.memo[key] = out
                out.update(self.deref(target, file))
                return out
            value = self.deref(target, file)
            self.memo[key] = value
            return value
        return {k: self.deref(v, base) for k, v in node.items()}


def load_spec(root: Path) -> Spec:
    """Load one root document and everything it refers to."""
    root = root.resolve()
    res = Resolver()
    doc = res.doc(root)
    if not isinstance(doc, dict) or "openapi" not in doc:
        raise PortalspecError("not an OpenAPI document (no top-level 'openapi' key)", str(root))
    info = given if isinstance(given := doc.get("info"), dict) else {}
    folder = root.parent.parent.name if root.parent.name == "specification" else None
    name = str(folder or info.get("x-nodoc-route") or root.stem).removeprefix("nodoc-")
    servers = _servers(doc.get("servers"))
    spec = Spec(name=name, title=str(info.get("title") or name), root=str(root), version=str(doc.get("openapi")),
                servers=servers, operations=[], files=[])
    known_headers = _known_headers(doc)
    paths = doc.get("paths") or {}
    if not isinstance(paths, dict):
        spec.errors.append(f"{root}: 'paths' is not a mapping")
        paths = {}
    for path, item in paths.items():
        src_file, src_ptr = root, "#/paths/" + escape(path)
        if isinstance(item, dict) and isinstance(item.get("$ref"), str) and len(item) == 1:
            try:
                item, src_file, ptr = res.target(item["$ref"], root)
                src_ptr = "#" + ptr
            except PortalspecError as e:
                spec.errors.append(str(e))
                spec.paths_lost.append(str(path))
                continue
        if not isinstance(item, dict):
            spec.errors.append(f"{src_file}: {src_ptr}: path item is not a mapping")
            spec.paths_lost.append(str(path))
            continue
        _add_operations(spec, res, str(path), item, src_file, src_ptr, known_headers)
    spec.errors.extend(res.errors)
    spec.files = sorted(str(p) for p in res.docs)
    _lint(spec)
    return spec


def _servers(raw: Any) -> list[Server]:
    if not isinstance(raw, list):
        return []
    out = []
    for s in raw:
        if isinstance(s, dict) and isinstance(s.get("url"), str):
            out.append(Server.parse(s["url"], s.get("variables") if isinstance(s.get("variables"), dict) else None))
    return out


def _known_headers(doc: dict[str, Any]) -> frozenset[str]:
    """Headers a spec documents outside operation parameters: apiKey schemes and nodoc header profiles."""
    names: set[str] = set()
    schemes = ((doc.get("components") or {}).get("securitySchemes") or {}) if isinstance(doc.get("components"), dict) else {}
    for sch in schemes.values() if isinstance(schemes, dict) else []:
        if isinstance(sch, dict) and sch.get("in") == "header" and isinstance(sch.get("name"), str):
            names.add(sch["name"].lower())
        if isinstance(sch, dict) and sch.get("type") in ("http", "oauth2", "openIdConnect"):
            names.add("authorization")
    profiles = doc.get("x-nodoc-headerProfiles")
    for prof in profiles.values() if isinstance(profiles, dict) else []:
        for key in ("requiredHeaders", "observedHeaders", "optionalHeaders"):
            for h in prof.get(key) or [] if isinstance(prof, dict) else []:
                if isinstance(h, dict) and isinstance(h.get("name"), str):
                    names.add(h["name"].lower())
    return frozenset(names)


def _add_operations(spec: Spec, res: Resolver, path: str, item: dict[str, Any], file: Path, ptr: str,
                    known_headers: frozenset[str] = frozenset()) -> None:
    item_params = res.deref(item.get("parameters") or [], file)
    item_servers = _servers(item.get("servers")) or spec.servers
    for method in METHODS:
        op = item.get(method)
        if not isinstance(op, dict):
            continue
        params = {(p.get("in"), p.get("name")): p for p in item_params if isinstance(p, dict)}
        for p in res.deref(op.get("parameters") or [], file):
            if isinstance(p, dict):
                params[(p.get("in"), p.get("name"))] = p
        ctx = op.get("x-nodoc-operation-context")
        spec.operations.append(
            Operation(
                spec=spec.name,
                method=method.upper(),
                path=path,
                operation_id=op.get("operationId") if isinstance(op.get("operationId"), str) else None,
                servers=_servers(op.get("servers")) or item_servers,
                parameters=list(params.values()),
                request_body=res.deref(op.get("requestBody"), file) if op.get("requestBody") else None,
                responses=res.deref(op.get("responses") or {}, file),
                source_file=str(file),
                source_pointer=f"{ptr}/{method}",
                tags=[t for t in op.get("tags") or [] if isinstance(t, str)],
                summary=op.get("summary") if isinstance(op.get("summary"), str) else None,
                deprecated=bool(op.get("deprecated")),
                context=ctx if isinstance(ctx, dict) else {},
                known_headers=known_headers,
                live=live if isinstance(live := op.get("x-nodoc-live-capture"), dict) else {},
                has_description=isinstance(op.get("description"), str),
            )
        )


def _lint(spec: Spec) -> None:
    ids = Counter(op.operation_id for op in spec.operations if op.operation_id)
    for oid, n in sorted(ids.items()):
        if n > 1:
            spec.warnings.append(f"duplicate operationId {oid!r} ({n} operations); operations are told apart by method and path")
    seen: dict[tuple[str, str], str] = {}
    for op in spec.operations:
        norm = (op.method, op.path.lower().rstrip("/"))
        if norm in seen and seen[norm] != op.path:
            spec.warnings.append(f"{op.method} {op.path!r} and {seen[norm]!r} differ only by case or a trailing slash")
        seen.setdefault(norm, op.path)
    if not spec.servers and not any(op.servers for op in spec.operations):
        spec.warnings.append("no servers: calls are matched on any host")
