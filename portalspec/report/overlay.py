"""Spec updates: OpenAPI Overlay 1.0 documents, and applying them to multi-file specs in place.

``spec-update.overlay.yaml`` is a YAML stream with one Overlay document per spec file it changes
(``extends`` names that file): new operations go into the root document's ``paths``; observed
properties land in the schema object that documents their parent, in whatever file a ``$ref``
leads to; new statuses in the operation's ``responses``. Provenance is recorded in nodoc's
``x-nodoc-live-capture`` form.

``update-spec --in-place`` applies the updates by splicing new lines into the files: every line
it does not add stays byte-identical (comments, key order, quoting, ``$ref``s).
"""

from __future__ import annotations

import argparse
import io
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

from .. import __version__
from ..paths import display_path
from ..errors import PortalspecError
from ..specs.model import Server
from .locate import body_schema, jsonpath, operation_cursor, parent_object

_TYPES = {"string", "integer", "number", "boolean", "object", "array"}


def _provenance(first: str | None, last: str | None, pages: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"source": "portalspec-live-capture", "tool": f"portalspec {__version__}"}
    if first:
        out["firstSeen"] = first
    if last:
        out["lastSeen"] = last
    if pages:
        out["browsedPages"] = pages
    return out


def _spec_for_host(report_specs: list[dict[str, Any]], index: Any, host: str, template: str) -> tuple[str, str] | None:
    """(root file, path relative to the server base) of the spec whose server serves ``host``."""
    if index is None:
        return None
    best: tuple[int, str, str] | None = None
    for spec in index.specs:
        servers: list[Server] = list(spec.servers) or [s for op in spec.operations for s in op.servers][:1]
        for srv in servers:
            if srv.host_regex is None or srv.host_regex == "[^/]+" or not re.fullmatch(srv.host_regex, host.lower()):
                continue
            base = srv.base_path
            if base and (template == base or template.startswith(base + "/")):
                rel = template[len(base):] or "/"
                cand = (len(base), spec.root, rel)
            elif not base:
                cand = (0, spec.root, template)
            else:
                continue
            if best is None or cand[0] > best[0]:
                best = cand
    return (best[1], best[2]) if best else None


def _new_operation(u: dict[str, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": f"Undocumented {u['method']} observed in live capture",
                          "x-nodoc-live-capture": _provenance(u.get("first_seen"), u.get("last_seen"), u.get("browsed_pages") or [])}
    params = [{"name": n, "in": "path", "required": True, "schema": {"type": "string"},
               "description": f"Inferred: {p['evidence']} ({p['distinct_values']} distinct values seen)"}
              for n, p in u["params"].items()]
    if params:
        op["parameters"] = params
    example = u.get("example") or {}
    if u.get("request_schema"):
        media: dict[str, Any] = {"schema": u["request_schema"]}
        body = (example.get("request") or {}).get("body")
        if body is not None:
            media["example"] = body
        op["requestBody"] = {"content": {"application/json": media}}
    responses: dict[str, Any] = {}
    for status in sorted(u["statuses"]):
        resp: dict[str, Any] = {"description": "Observed in live capture"}
        if status.startswith("2") and u.get("response_schema"):
            media = {"schema": u["response_schema"]}
            body = (example.get("response") or {}).get("body")
            if body is not None and str((example.get("response") or {}).get("status")) == status:
                media["example"] = body
            resp["content"] = {"application/json": media}
        responses[status if status != "0" else "default"] = resp
    op["responses"] = responses or {"default": {"description": "Observed in live capture"}}
    return op


def build_overlay(report: dict[str, Any], index: Any = None) -> list[dict[str, Any]]:
    """Overlay documents, one per spec file they change."""
    if index is None:
        from ..specs.index import SpecIndex

        roots = [s["root"] for s in report["specs"] if Path(s["root"]).exists()]
        index = SpecIndex.load(roots) if roots else None
    actions: dict[str, list[dict[str, Any]]] = defaultdict(list)
    new_paths: dict[str, dict[str, Any]] = defaultdict(dict)
    for u in report["undocumented"]:
        where = _spec_for_host(report["specs"], index, u["host"], u["template"])
        if where is None:
            continue
        root, rel = where
        root = str(Path(root).resolve())
        new_paths[root].setdefault(rel, {})[u["method"].lower()] = _new_operation(u)
    for root, paths in new_paths.items():
        actions[root].append({"target": "$['paths']", "description": f"{len(paths)} undocumented path(s) seen in live capture",
                              "update": paths})
    props: dict[tuple[str, str], dict[str, Any]] = defaultdict(dict)
    statuses: dict[tuple[str, str], dict[str, Any]] = defaultdict(dict)
    for d in report["drift"]:
        if not d.get("source_file") or not d.get("source_pointer"):
            continue
        op = operation_cursor(d["source_file"], d["source_pointer"])
        if op is None:
            continue
        if d["kind"] == "undocumented_status" and d["status"] is not None:
            target = op.child("responses")
            if target is not None:
                statuses[(target.file, jsonpath(target.tokens))][str(d["status"])] = {
                    "description": "Observed in live capture",
                    "x-nodoc-live-capture": _provenance(d.get("first_seen"), d.get("last_seen"), [])}
        elif d["kind"] == "undocumented_property" and d["location"] in ("request", "response"):
            schema = body_schema(op, d["location"], d["status"])
            found = parent_object(schema, d["pointer"]) if schema else None
            if found is None:
                continue
            owner, name = found
            observed = d["observed"] if d["observed"] in _TYPES else None
            prop: dict[str, Any] = {"type": observed} if observed else {}
            if d["observed"] == "null":
                prop = {"nullable": True}
            prop["description"] = "Observed in live capture"
            has_props = isinstance(owner.node, dict) and isinstance(owner.node.get("properties"), dict)
            tokens = [*owner.tokens, "properties"] if has_props else owner.tokens
            key = (owner.file, jsonpath(tokens))
            if has_props:
                props[key][name] = prop
            else:
                props[key].setdefault("properties", {})[name] = prop
    for (file, target), update in props.items():
        actions[file].append({"target": target, "description": "properties observed in live capture", "update": update})
    for (file, target), update in statuses.items():
        actions[file].append({"target": target, "description": "statuses observed in live capture", "update": update})
    docs = []
    for file in sorted(actions):
        docs.append({"overlay": "1.0.0",
                     "info": {"title": f"portalspec spec update for {Path(file).name}", "version": __version__},
                     "extends": display_path(file), "actions": actions[file]})
    return docs


def dump_overlay(docs: list[dict[str, Any]]) -> str:
    if not docs:
        return "# portalspec: no spec updates proposed\n"
    return yaml.safe_dump_all(docs, sort_keys=False, allow_unicode=True, width=4096)


# -- applying -----------------------------------------------------------------------------------
_TOKEN = re.compile(r"\[(\d+)\]|\['((?:[^'\\]|\\.)*)'\]")


def parse_jsonpath(target: str) -> list[str | int]:
    if not target.startswith("$"):
        raise ValueError(f"unsupported target {target!r}")
    rest, out, pos = target[1:], [], 0
    while pos < len(rest):
        m = _TOKEN.match(rest, pos)
        if m is None:
            m2 = re.compile(r"\.([A-Za-z_][\w-]*)").match(rest, pos)
            if m2 is None:
                raise ValueError(f"unsupported target {target!r}")
            out.append(m2.group(1))
            pos = m2.end()
            continue
        out.append(int(m.group(1)) if m.group(1) is not None else m.group(2).replace("\\'", "'").replace("\\\\", "\\"))
        pos = m.end()
    return out


def _rt_yaml() -> Any:
    from ruamel.yaml import YAML

    y = YAML()
    y.preserve_quotes = True
    return y


def _block(value: dict[str, Any], indent: int) -> list[str]:
    text = yaml.safe_dump(value, sort_keys=False, allow_unicode=True, width=4096, default_flow_style=False)
    pad = " " * indent
    return [pad + line + "\n" if line else "\n" for line in text.splitlines()]


def _end_of_block(lines: list[str], start: int, indent: int) -> int:
    """The index after the last line of the block whose key is at ``start`` with ``indent``."""
    i = start + 1
    last = start
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            if len(line) - len(line.lstrip(" ")) <= indent and not stripped.startswith("- ") or \
                    (stripped.startswith("- ") and len(line) - len(line.lstrip(" ")) < indent):
                break
            last = i
        i += 1
    return last + 1


def _insertions(node: Any, update: dict[str, Any], lines: list[str], out: list[tuple[int, list[str]]]) -> int:
    """Plan line insertions merging ``update`` into the mapping ``node``; returns the keys skipped."""
    from ruamel.yaml.comments import CommentedMap

    if not isinstance(node, CommentedMap) or not node or node.fa.flow_style():
        return len(update)
    skipped = 0
    keys = list(node.keys())
    col = node.lc.key(keys[0])[1]
    last_key_line = node.lc.key(keys[-1])[0]
    end = _end_of_block(lines, last_key_line, col)
    new: dict[str, Any] = {}
    for k, v in update.items():
        if k in node:
            if isinstance(v, dict) and isinstance(node[k], CommentedMap):
                skipped += _insertions(node[k], v, lines, out)
            else:
                skipped += 1
        else:
            new[k] = v
    if new:
        out.append((end, _block(new, col)))
    return skipped


def apply_overlay_in_place(docs: list[dict[str, Any]]) -> dict[str, int]:
    """Apply overlay documents to the files they extend; returns lines added per file."""
    added: dict[str, int] = {}
    for doc in docs:
        file = Path(str(doc.get("extends") or ""))
        if not file.is_file():
            raise PortalspecError("overlay 'extends' is not a file", str(file))
        text = file.read_text("utf-8")
        lines = text.splitlines(keepends=True)
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        tree = _rt_yaml().load(text)
        plan: list[tuple[int, list[str]]] = []
        for action in doc.get("actions") or []:
            try:
                tokens = parse_jsonpath(str(action.get("target")))
            except ValueError as e:
                raise PortalspecError(str(e), str(file)) from None
            node = tree
            for t in tokens:
                node = node[t] if (isinstance(node, list) and isinstance(t, int)) or (hasattr(node, "get") and t in node) else None
                if node is None:
                    break
            if node is None:
                raise PortalspecError(f"target {action.get('target')} not found", str(file))
            if isinstance(action.get("update"), dict):
                _insertions(node, action["update"], lines, plan)
        for at, block in sorted(plan, key=lambda p: p[0], reverse=True):
            lines[at:at] = block
        new_text = "".join(lines)
        if new_text != text:
            yaml.load(new_text, Loader=yaml.SafeLoader)  # never write a file that no longer parses
            tmp = file.with_suffix(file.suffix + ".portalspec.tmp")
            tmp.write_text(new_text, "utf-8")
            tmp.replace(file)
        added[str(file)] = sum(len(b) for _, b in plan)
    return added


def load_overlay(path: Path) -> list[dict[str, Any]]:
    try:
        docs = [d for d in yaml.safe_load_all(path.read_text("utf-8")) if d]
    except (OSError, yaml.YAMLError) as e:
        raise PortalspecError(f"cannot read overlay ({e})", str(path)) from None
    for i, d in enumerate(docs):
        if not isinstance(d, dict) or "overlay" not in d or "actions" not in d:
            raise PortalspecError(f"document {i + 1} is not an Overlay (no 'overlay'/'actions')", str(path))
    return docs


def run_update_spec(a: argparse.Namespace) -> int:
    docs = load_overlay(Path(a.overlay))
    spec_roots = [Path(s).resolve() for s in a.specs]
    for d in docs:
        target = Path(str(d.get("extends"))).resolve()
        if not any(target == r or r in target.parents for r in spec_roots):
            raise PortalspecError(f"overlay extends {target}, which is outside --specs", a.overlay)
    if not a.in_place:
        buf = io.StringIO()
        for d in docs:
            buf.write(f"{d['extends']}: {len(d['actions'])} action(s)\n")
        print(buf.getvalue() + "(dry run: pass --in-place to edit the files)", end="\n")
        return 0
    for file, n in apply_overlay_in_place(docs).items():
        print(f"{file}: {n} lines added")
    return 0
