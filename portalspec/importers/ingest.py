"""The write step every call goes through, from import or record: redact, annotate, append."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ..fixtures.store import CaptureWriter
from ..portals import portal_family
from ..redaction import Redactor


class Ingestor:
    """Redacts each entry before it touches the disk, then appends it to the capture."""

    def __init__(self, writer: CaptureWriter, redactor: Redactor, families: dict[str, str] | None = None) -> None:
        self.writer = writer
        self.redactor = redactor
        self.families = families or {}

    def add(self, entry: dict[str, Any], **ext: Any) -> dict[str, Any]:
        self.writer.append(prepare(entry, self.redactor, self.families, **ext))
        return entry


def prepare(entry: dict[str, Any], redactor: Redactor, families: dict[str, str] | None = None,
            **ext: Any) -> dict[str, Any]:
    """Redact ``entry`` in place and fill its ``_portalspec`` extension (portal family, notes, ``ext``)."""
    notes = (entry.get("_portalspec") or {}).get("notes")
    entry.pop("_portalspec", None)
    redactor.redact_entry(entry)
    meta = entry["_portalspec"]
    host = urlsplit(entry["request"]["url"]).hostname or ""
    meta["portal"] = portal_family(host, families)
    if notes:
        meta["notes"] = notes
    meta.update({k: v for k, v in ext.items() if v is not None})
    return entry
