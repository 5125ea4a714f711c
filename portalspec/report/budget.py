"""How much a report shows: one value's text at most ``PRE_LIMIT`` characters (report.md and the HTML),
and a byte budget for a document written in parts (report.md's listings), each part taking whole blocks
of lines while its room lasts, in order."""

from __future__ import annotations

import json
from typing import Any, Iterable

PRE_LIMIT = 4000  # characters of one example or schema shown; report.json has it whole


def pretty(v: Any) -> str:
    """A value as indented JSON (a string as it is), cut at ``PRE_LIMIT`` characters with a word that it was."""
    text = v if isinstance(v, str) else json.dumps(v, indent=2, ensure_ascii=False, default=str)
    return text if len(text) <= PRE_LIMIT else text[:PRE_LIMIT] + "\n… (cut here; report.json has it whole)"


def text_size(lines: Iterable[str]) -> int:
    """Bytes of lines joined by newlines, as UTF-8 (each line's newline counted)."""
    return sum(len(line.encode()) + 1 for line in lines)


class Room:
    """The bytes a part of a document may still take. ``take`` takes a block of lines whole or not at all, and
    after the first block that does not fit, none (a smaller one would list out of order)."""

    def __init__(self, size: int) -> None:
        self.left, self.used, self.full = max(size, 0), 0, False

    def take(self, lines: list[str]) -> bool:
        n = text_size(lines)
        if self.full or n > self.left:
            self.full = True
            return False
        self.left -= n
        self.used += n
        return True

    def force(self, lines: list[str]) -> list[str]:
        """Lines that are always written (a heading, a count, what was left out), counted."""
        n = text_size(lines)
        self.left = max(self.left - n, 0)
        self.used += n
        return lines

    def part(self, whole: int, part: int = 1, least: int = 0) -> "Room":
        """``part`` of ``whole`` parts of what is left, and at least ``least`` bytes of it (``spend`` it when done)."""
        return Room(min(self.left, max(self.left * part // whole if whole else 0, least)))

    def spend(self, part: "Room") -> None:
        self.left = max(self.left - part.used, 0)
        self.used += part.used
