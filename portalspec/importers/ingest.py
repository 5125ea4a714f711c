"""The write step every call goes through, from import or record: redact, annotate, append."""

from __future__ import annotations

from typing import Any

from ..fixtures.store import CaptureWriter, serialise
from ..portals import portal_family
from ..redaction import Redactor
from ..urls import split_url


class Ingestor:
    """Redacts each entry before it touches the disk, then appends it to the capture."""

    def __init__(self, writer: CaptureWriter, redactor: Redactor, families: dict[str, str] | None = None) -> None:
        self.writer = writer
        self.redactor = redactor
        self.families = families or {}

    def add(self, entry: dict[str, Any], **ext: Any) -> dict[str, Any]:
        line = prepare(entry, self.redactor, self.families, session=self.writer.session_id, **ext)
        self.writer.append_line(line, entry["_portalspec"].get("portal"))
        return entry


def prepare(entry: dict[str, Any], redactor: Redactor, families: dict[str, str] | None = None,
            **ext: Any) -> bytes:
    """Redact ``entry`` in place, fill its ``_portalspec`` extension (portal family, notes, ``ext``)
    and return it as the fixture line to write."""
    notes = (entry.get("_portalspec") or {}).get("notes")
    entry.pop("_portalspec", None)
    redactor.redact_entry(entry, sweep=False)
    meta = entry["_portalspec"]
    meta["portal"] = portal_family(split_url(entry["request"]["url"])[0], families)
    if notes:
        meta["notes"] = notes
    meta.update({k: v for k, v in ext.items() if v is not None})
    return redactor.sweep_serialised(entry, serialise(entry))
