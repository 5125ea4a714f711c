"""From fixture entries to calls, and matches back into fixtures."""

from __future__ import annotations

from typing import Any, Iterable, Iterator

from .matcher import Call, Match, Matcher


def call_from_entry(entry: dict[str, Any]) -> Call:
    req = entry.get("request") or {}
    post = req.get("postData") or {}
    return Call(str(req.get("method") or "GET"), str(req.get("url") or ""),
                post.get("text") if isinstance(post.get("text"), str) else None, str(post.get("mimeType") or ""))


def match_entries(matcher: Matcher, entries: Iterable[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], Match]]:
    for entry in entries:
        yield entry, matcher.match(call_from_entry(entry))


def match_record(entry: dict[str, Any], m: Match) -> dict[str, Any]:
    """The ``--jsonl`` line / ``_portalspec.match`` value for one call."""
    d = {"started": entry.get("startedDateTime"), **m.as_dict()}
    if m.inner:
        d["batch"] = [i.as_dict() for i in m.inner]
    return d
