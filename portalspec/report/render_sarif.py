"""SARIF 2.1.0 for code-scanning UIs (GitHub's among them): drift located at the operation's line in its
spec file, an undocumented endpoint at the ``paths:`` of the spec it belongs to (where it would be added).

GitHub refuses a whole file for one result without a location, and more than ``MAX_RESULTS`` results:
a result with no spec file to point at (an endpoint on a host no spec serves) is left out, and past
the limit the least severe are, each counted in the run's ``properties``. Files under the directory
the report runs in are named relative to it (``%SRCROOT%``, left for the consumer to define as its
checkout, so the file is the same on every machine: run it from the spec repository's root); others
by an absolute ``file:`` URI."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .. import __version__
from ..shapes.drift import SEVERITY

LEVEL = {"error": "error", "warning": "warning", "info": "note"}
MAX_RESULTS = 25_000  # GitHub rejects a run with more (and shows the 5,000 most severe)
SRCROOT = "%SRCROOT%"
_RANK = {"error": 0, "warning": 1, "note": 2}
_KINDS = {
    "type_mismatch": "A value of another type than the spec says.",
    "nullable_mismatch": "A null where the spec does not allow one.",
    "missing_required": "A property the spec marks required is missing.",
    "array_item": "An array item of another type than the spec says.",
    "undocumented_property": "A property the spec does not describe.",
    "enum_value": "A value outside the spec's enum.",
    "format_mismatch": "A string that does not match the spec's format.",
    "undocumented_status": "A response status the spec does not list.",
    "content_type_mismatch": "A body of a content type the spec does not list.",
    "missing_parameter": "A required parameter the call did not send.",
    "undocumented_parameter": "A query parameter or header the spec does not describe.",
    "undocumented_endpoint": "Calls to an endpoint no operation of the spec documents.",
}
_HELP = ("Seen in the portal's own traffic by portalspec (nothing is replayed); report.json holds the redacted "
         "example call. `portalspec update-spec` proposes the change as an OpenAPI Overlay.")


@lru_cache(maxsize=256)
def _lines(path: str) -> tuple[str, ...]:
    try:
        with open(path, encoding="utf-8") as f:
            return tuple(f.read().splitlines())
    except (OSError, UnicodeDecodeError):
        return ()


def operation_line(path_file: str | None, path: str, method: str) -> int | None:
    """The 1-based line of ``method:`` under the ``path:`` key in a YAML spec file."""
    if not path_file:
        return None
    lines = _lines(path_file)
    keys = {f"{path}:", f"'{path}':", f'"{path}":'}
    for i, line in enumerate(lines):
        if line.strip() in keys:
            indent = len(line) - len(line.lstrip())
            for j in range(i + 1, min(len(lines), i + 2000)):
                lj = lines[j]
                if lj.strip() and len(lj) - len(lj.lstrip()) <= indent:
                    break
                if lj.strip() == f"{method.lower()}:":
                    return j + 1
            return i + 1
    return None


@lru_cache(maxsize=256)
def _paths_line(root: str) -> int:
    """The 1-based line of the top-level ``paths:`` key of a YAML or JSON spec file (1 if none)."""
    return next((i + 1 for i, line in enumerate(_lines(root)) if line.rstrip() in ("paths:", '"paths": {')), 1)


def _artifact(path: str) -> dict[str, str]:
    """Where a spec file is: relative to the directory the report runs in (``%SRCROOT%``) when under it,
    else an absolute ``file:`` URI."""
    absolute = os.path.abspath(path)
    try:
        rel = os.path.relpath(absolute)
    except ValueError:
        rel = ".."
    if rel.startswith(".."):
        return {"uri": Path(absolute).as_uri()}
    return {"uri": quote(Path(rel).as_posix()), "uriBaseId": SRCROOT}


def _location(path: str, line: int) -> list[dict[str, Any]]:
    return [{"physicalLocation": {"artifactLocation": _artifact(path), "region": {"startLine": line}}}]


def _rule(kind: str) -> dict[str, Any]:
    text = _KINDS.get(kind, kind.replace("_", " ") + ".")
    return {"id": kind, "name": "".join(w.capitalize() for w in kind.split("_")),
            "shortDescription": {"text": text}, "fullDescription": {"text": text},
            "help": {"text": f"{text} {_HELP}"},
            "defaultConfiguration": {"level": LEVEL.get(SEVERITY.get(kind, "warning"), "warning")}}


def render_sarif(report: dict[str, Any]) -> dict[str, Any]:
    roots = {s["spec"]: s.get("root") for s in report.get("specs") or []}
    results: list[dict[str, Any]] = []
    unplaced = 0
    for d in report["drift"]:
        where = d.get("source_file") or roots.get(d["spec"])
        if not where:
            unplaced += 1
            continue
        line = (operation_line(where, d["path"], d["method"]) if d.get("source_file") else None) or _paths_line(where)
        results.append({
            "ruleId": d["kind"], "level": LEVEL.get(d["severity"], "note"),
            "message": {"text": f"{d['method']} {d['path']}: {d['kind']} at {d['location']} {d['pointer'] or '/'} "
                                f"(expected {d['expected']!r}, observed {d['observed']!r}; {d['calls']} calls)"},
            "locations": _location(where, line),
            "properties": {"spec": d["spec"], "operationId": d["operationId"], "calls": d["calls"], "pointer": d["pointer"]},
        })
    for u in report["undocumented"]:
        root = roots.get(u.get("spec"))
        if not root:
            unplaced += 1
            continue
        results.append({"ruleId": "undocumented_endpoint", "level": "warning",
                        "message": {"text": f"undocumented {u['method']} {u['host']}{u['template']} ({u['calls']} calls)"},
                        "locations": _location(root, _paths_line(root)),
                        "properties": {"spec": u["spec"], "host": u["host"], "calls": u["calls"]}})
    over = max(len(results) - MAX_RESULTS, 0)
    if over:
        kept = sorted(range(len(results)), key=lambda i: (_RANK[results[i]["level"]], i))[:MAX_RESULTS]
        results = [results[i] for i in sorted(kept)]
    kinds = sorted({r["ruleId"] for r in results} | {"undocumented_endpoint"})
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "portalspec", "version": __version__, "rules": [_rule(k) for k in kinds]}},
        "results": results,
    }
    if unplaced or over:
        run["properties"] = {"left_out": {"no_spec_file": unplaced, "over_limit": over},
                             "note": "report.json holds every finding; results without a spec file to point at, "
                                     f"and past {MAX_RESULTS:,} the least severe, are left out"}
    return {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0", "runs": [run]}
