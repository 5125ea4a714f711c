"""``portalspec scan``: the redactor's own detectors over a capture or HAR, as a leak check before sharing.

Redaction is idempotent, so an entry in which the redactor would still replace anything holds a
suspected secret. Pseudonymisation is not applied: PII is the user's choice, secrets are not.
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path
from typing import Any, Iterator

from ..fixtures.entries import EntryError, normalise_har_entry
from ..fixtures.store import CaptureReader, is_capture
from ..importers.har import iter_har
from .redactor import Redactor


def _entries(path: Path, warn: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    if is_capture(path):
        for i, e in enumerate(CaptureReader(path, warn=warn)):
            yield f"entry {i}", e
        return
    for i, raw in iter_har(path, warn):
        try:
            yield f"entry {i}", normalise_har_entry(raw)
        except EntryError as e:
            warn(f"{path}: entry {i}: {e}")


def scan_entry(redactor: Redactor, entry: dict[str, Any]) -> dict[str, int]:
    """Kinds and counts of what the redactor would still replace in ``entry``."""
    probe = copy.deepcopy(entry)
    probe.pop("_portalspec", None)
    redactor.redact_entry(probe)
    return probe["_portalspec"]["redaction"]["counts"]


def scan(path: Path, out: Any = sys.stdout) -> int:
    redactor = Redactor()
    suspects = 0
    warnings: list[str] = []
    for where, entry in _entries(path, warnings.append):
        counts = scan_entry(redactor, entry)
        if counts:
            suspects += 1
            url = str((entry.get("request") or {}).get("url", ""))[:100]
            out.write(f"{path}: {where}: suspected secret(s) {', '.join(f'{k} x{v}' for k, v in sorted(counts.items()))}  {url}\n")
    for w in warnings:
        out.write(f"warning: {w}\n")
    return suspects


def run_scan(a: argparse.Namespace) -> int:
    total = 0
    for p in a.paths:
        path = Path(p)
        if not path.exists():
            from ..errors import PortalspecError

            raise PortalspecError("no such capture or HAR", p)
        total += scan(path)
    print(f"{total} entries with suspected secrets" if total else "no suspected secrets found")
    return 1 if total else 0
