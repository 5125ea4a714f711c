"""The write step every call goes through, from import or record: redact, annotate, append."""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from ..fixtures.store import CaptureWriter, serialise
from ..portals import portal_family
from ..redaction import Redactor


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


def _host(url: str) -> str:
    scheme_end = url.find("://")
    end = url.find("/", scheme_end + 3) if scheme_end >= 0 else -1
    return _origin_host(url[:end] if end >= 0 else url)


@lru_cache(maxsize=1024)
def _origin_host(origin: str) -> str:
    try:
        return urlsplit(origin).hostname or ""
    except ValueError:
        return ""


def prepare(entry: dict[str, Any], redactor: Redactor, families: dict[str, str] | None = None,
            **ext: Any) -> bytes:
    """Redact ``entry`` in place, fill its ``_portalspec`` extension (portal family, notes, ``ext``)
    and return it as the fixture line to write."""
    notes = (entry.get("_portalspec") or {}).get("notes")
    entry.pop("_portalspec", None)
    redactor.redact_entry(entry, sweep=False)
    meta = entry["_portalspec"]
    meta["portal"] = portal_family(_host(entry["request"]["url"]), families)
    if notes:
        meta["notes"] = notes
    meta.update({k: v for k, v in ext.items() if v is not None})
    return redactor.sweep_serialised(entry, serialise(entry))
