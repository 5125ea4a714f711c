"""SARIF 2.1.0 for code-scanning UIs: drift located at the operation's line in its spec file."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from .. import __version__

LEVEL = {"error": "error", "warning": "warning", "info": "note"}


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


def _uri(path: str | None) -> str | None:
    if not path:
        return None
    try:
        rel = os.path.relpath(path)
        return rel if not rel.startswith("..") else path
    except ValueError:
        return path


def render_sarif(report: dict[str, Any]) -> dict[str, Any]:
    kinds = sorted({d["kind"] for d in report["drift"]})
    rules = [{"id": k, "name": k, "shortDescription": {"text": k.replace("_", " ")}} for k in kinds]
    rules.append({"id": "undocumented_endpoint", "name": "undocumented_endpoint",
                  "shortDescription": {"text": "a call to an endpoint no spec documents"}})
    results = []
    for d in report["drift"]:
        res: dict[str, Any] = {
            "ruleId": d["kind"], "level": LEVEL.get(d["severity"], "note"),
            "message": {"text": f"{d['method']} {d['path']}: {d['kind']} at {d['location']} {d['pointer'] or '/'} "
                                f"(expected {d['expected']!r}, observed {d['observed']!r}; {d['calls']} calls)"},
            "properties": {"spec": d["spec"], "operationId": d["operationId"], "calls": d["calls"], "pointer": d["pointer"]},
        }
        uri = _uri(d.get("source_file"))
        if uri:
            loc: dict[str, Any] = {"artifactLocation": {"uri": uri}}
            line = operation_line(d.get("source_file"), d["path"], d["method"])
            if line:
                loc["region"] = {"startLine": line}
            res["locations"] = [{"physicalLocation": loc}]
        results.append(res)
    for u in report["undocumented"]:
        results.append({"ruleId": "undocumented_endpoint", "level": "warning",
                        "message": {"text": f"undocumented {u['method']} {u['host']}{u['template']} ({u['calls']} calls)"}})
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "portalspec", "version": __version__, "rules": rules}}, "results": results}],
    }
