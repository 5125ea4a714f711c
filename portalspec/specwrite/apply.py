"""``update-spec``: an overlay applied to multi-file specs by splicing new lines into the files.

Every line it does not add stays byte-identical (comments, key order, quoting, ``$ref``s); new
lines are written in each file's own style (``style.py``) and placed where the file's order puts
them (an action's ``x-portalspec-after`` names the key they follow). Keys already present are
left alone, so applying the same overlay twice changes nothing.

Before anything is written, every spec the change touches is validated with openapi-core's spec
validator (openapi-spec-validator) before and after: a change that adds a validation error is
refused with the reason (a spec may be invalid already: that is not held against the change).
Without ``--in-place`` the unified diff is printed instead.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from ..errors import PortalspecError
from .style import block, detect

_TOKEN = re.compile(r"\[(\d+)\]|\['((?:[^'\\]|\\.)*)'\]")
AFTER = "x-portalspec-after"


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


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml where PyYAML was built with it


def _compose(text: str) -> Any:
    """The file's node graph with line and column marks (libyaml's composer: no round-trip library
    needed, since nothing is re-serialised: new lines are spliced between the old ones)."""
    return yaml.compose(text, Loader=_Loader)


def _get(node: Any, key: str | int) -> Any:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == str(key):
                return v
        return None
    if isinstance(node, yaml.SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
        return node.value[key]
    return None


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


def _insertions(node: Any, update: dict[str, Any], lines: list[str], out: list[tuple[int, int, int, list[str]]],
                style: Any, after: str | None = None) -> int:
    """Plan line insertions merging ``update`` into the mapping ``node``; returns the keys skipped."""
    if not isinstance(node, yaml.MappingNode) or not node.value or node.flow_style:
        return len(update)
    skipped = 0
    keys = {k.value: (k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode)}
    first = node.value[0][0]
    col = first.start_mark.column
    anchor = keys[after][0] if after in keys else node.value[-1][0]
    end = _end_of_block(lines, anchor.start_mark.line, col)
    new: dict[str, Any] = {}
    for k, v in update.items():
        if k in keys:
            child = keys[k][1]
            if isinstance(v, dict) and isinstance(child, yaml.MappingNode):
                skipped += _insertions(child, v, lines, out, style)
            else:
                skipped += 1
        else:
            new[k] = v
    if new:
        out.append((end, -col, len(out), block(new, col, style)))
    return skipped


def apply_to_text(text: str, actions: list[dict[str, Any]], name: str) -> str:
    """The file's text with the actions' new keys spliced in (unchanged when all are there already)."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    tree = _compose(text)
    style = detect(text)
    plan: list[tuple[int, int, int, list[str]]] = []
    for action in actions:
        try:
            tokens = parse_jsonpath(str(action.get("target")))
        except ValueError as e:
            raise PortalspecError(str(e), name) from None
        node = tree
        for t in tokens:
            node = _get(node, t)
            if node is None:
                break
        if node is None:
            raise PortalspecError(f"target {action.get('target')} not found", name)
        if isinstance(action.get("update"), dict):
            _insertions(node, action["update"], lines, plan, style, action.get(AFTER))
    # Later insertions first, so earlier line numbers stay valid. At one place, a deeper block (the end
    # of the item above) comes before a shallower one (a new sibling of that item), then the actions' order.
    for at, _, _, lines_ in sorted(plan, key=lambda p: (p[0], p[1], p[2]), reverse=True):
        lines[at:at] = lines_
    return "".join(lines) if plan else text


def planned_texts(docs: list[dict[str, Any]]) -> dict[Path, tuple[str, str]]:
    """``{file: (old text, new text)}`` for every file the overlay documents extend."""
    out: dict[Path, tuple[str, str]] = {}
    for doc in docs:
        file = Path(str(doc.get("extends") or ""))
        if not file.is_file():
            raise PortalspecError("overlay 'extends' is not a file", str(file))
        file = file.resolve()  # two documents may extend one file under two spellings
        old = out[file][1] if file in out else file.read_text("utf-8")
        new = apply_to_text(old, doc.get("actions") or [], str(file))
        if new != old:
            try:
                yaml.load(new, Loader=_Loader)  # never write a file that no longer parses
            except yaml.YAMLError as e:
                raise PortalspecError(f"the update would not parse ({e})", str(file)) from None
        out[file] = (out[file][0] if file in out else old, new)
    return out


def _errors(root: Path, version: str | None = None) -> set[str]:
    """The spec validation errors of a spec file (its ``$ref``s read from its folder). openapi-core
    checks the spec as it loads it (``OpenAPI.from_dict``); it stops at the first error, so for a spec
    that has one, all are listed with the validator it uses (openapi-spec-validator).

    The validator does not follow a path item's ``$ref`` into a sibling file, so a sibling file
    (``version`` given: the root's ``openapi``) is validated as a document of its own: its ``paths``
    and ``components``, its ``$ref``s read from where it is."""
    from openapi_core import OpenAPI
    from openapi_spec_validator.readers import read_from_filename
    from openapi_spec_validator.validation import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator

    spec, _ = read_from_filename(str(root))
    if version is not None:
        spec = {"openapi": version, "info": {"title": root.name, "version": "1"},
                "paths": spec.get("paths") or {} if isinstance(spec, dict) else {},
                **({"components": spec["components"]} if isinstance(spec, dict) and isinstance(spec.get("components"), dict) else {})}
    try:
        OpenAPI.from_dict(spec, base_uri=root.as_uri())
        return set()
    except Exception:  # noqa: BLE001 - any refusal: list every error below
        pass
    cls = OpenAPIV31SpecValidator if str(spec.get("openapi", "")).startswith("3.1") else OpenAPIV30SpecValidator
    try:
        return {str(e).splitlines()[0][:300] for e in cls(spec, base_uri=root.as_uri()).iter_errors()}
    except Exception as e:  # noqa: BLE001 - a spec the validator cannot even walk
        return {f"validator failed: {type(e).__name__}: {str(e)[:200]}"}


def _added_errors(root: Path, touched: dict[Path, str]) -> list[str]:
    """The validation errors the new texts add to the spec at ``root``. The spec as changed is
    validated first; the spec as it was only when that has errors (most specs are valid)."""
    folder = root.parent
    version = str(yaml.load(root.read_text("utf-8"), Loader=_Loader).get("openapi", "3.0.3"))
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / folder.name
        shutil.copytree(folder, copy)
        for f, new in touched.items():
            (copy / f.resolve().relative_to(folder)).write_text(new, "utf-8")
        checks = [(root, None)] + [(f.resolve(), version) for f in touched if f.resolve() != root.resolve()]
        for f, ver in checks:
            after = _errors(copy / f.relative_to(folder), ver)
            if after:
                problems += [f"{f}: the update adds a validation error: {e}" for e in sorted(after - _errors(f, ver))]
    return problems


def check(changes: dict[Path, tuple[str, str]], roots: list[Path]) -> list[str]:
    """Why the change must be refused: validation errors it adds, per spec (empty: it may be written).
    Specs are validated on both cores."""
    jobs = []
    for root in roots:
        folder = root.parent
        touched = {f: t[1] for f, t in changes.items() if t[0] != t[1] and folder in f.resolve().parents}
        if touched:
            jobs.append((root, touched))
    if len(jobs) < 2 or (os.cpu_count() or 1) < 2:
        return [p for root, touched in jobs for p in _added_errors(root, touched)]
    from concurrent.futures import ProcessPoolExecutor

    from ..pool import worker_context

    with ProcessPoolExecutor(min(2, os.cpu_count() or 1), mp_context=worker_context(__name__)) as pool:
        results = list(pool.map(_added_errors, *zip(*jobs)))
    return [p for r in results for p in r]


def unified_diff(changes: dict[Path, tuple[str, str]]) -> str:
    from ..paths import display_path

    out: list[str] = []
    for f, (old, new) in changes.items():
        if old != new:
            name = display_path(str(f)).lstrip("/")
            out += difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        f"a/{name}", f"b/{name}")
    return "".join(out)


def apply_overlay_in_place(docs: list[dict[str, Any]], roots: list[Path] | None = None) -> dict[str, int]:
    """Apply overlay documents to the files they extend; returns lines added per file."""
    changes = planned_texts(docs)
    if roots:
        problems = check(changes, roots)
        if problems:
            raise PortalspecError("refused: " + "; ".join(problems))
    added: dict[str, int] = {}
    for f, (old, new) in changes.items():
        if new != old:
            tmp = f.with_suffix(f.suffix + ".portalspec.tmp")
            tmp.write_text(new, "utf-8")
            tmp.replace(f)
        added[str(f)] = len(new.splitlines()) - len(old.splitlines())
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


def _new_specs(a: argparse.Namespace) -> dict[Path, str]:
    """The new family specs ``--new-specs DIR`` asks for, from the report next to the overlay."""
    import json

    from .families import new_family_specs

    report_file = Path(a.overlay).parent / "report.json"
    try:
        report = json.loads(report_file.read_text("utf-8"))
    except (OSError, ValueError) as e:
        raise PortalspecError(f"--new-specs reads the report.json beside the overlay ({e})", str(report_file)) from None
    from ..specs.index import SpecIndex

    return new_family_specs(report, Path(a.new_specs), SpecIndex.load(a.specs))


def run_update_spec(a: argparse.Namespace) -> int:
    from ..specs.loader import find_roots

    new_specs = _new_specs(a) if getattr(a, "new_specs", None) else {}
    docs = load_overlay(Path(a.overlay))
    spec_roots = [Path(s).resolve() for s in a.specs]
    for d in docs:
        target = Path(str(d.get("extends"))).resolve()
        if not any(target == r or r in target.parents for r in spec_roots):
            raise PortalspecError(f"overlay extends {target}, which is outside --specs", a.overlay)
    roots = [r.resolve() for r in find_roots(spec_roots)]
    if not a.in_place:
        changes = planned_texts(docs)
        problems = check(changes, roots) if not getattr(a, "no_validate", False) else []
        sys.stdout.write(unified_diff({**changes, **{f: ("", t) for f, t in new_specs.items()}})
                         or "# no changes: the specs hold everything the overlay adds\n")
        for p in problems:
            print(f"refused: {p}", file=sys.stderr)
        print("(dry run: pass --in-place to edit the files)", file=sys.stderr)
        return 1 if problems else 0
    added = apply_overlay_in_place(docs, None if getattr(a, "no_validate", False) else roots)
    for file, n in added.items():
        print(f"{file}: {n} lines added")
    for spec_file, text in new_specs.items():
        spec_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = spec_file.with_suffix(".portalspec.tmp")
        tmp.write_text(text, "utf-8")
        tmp.replace(spec_file)
        print(f"{spec_file}: new spec, {text.count(chr(10))} lines")
    return 0
