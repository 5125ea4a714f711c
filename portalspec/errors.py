"""One error type for everything a user can get wrong: it names the file and the place."""

from __future__ import annotations


class PortalspecError(Exception):
    """A user-facing error, printed as one line: ``file: place: message``."""

    def __init__(self, message: str, file: str | None = None, place: str | None = None) -> None:
        self.message = message
        self.file = file
        self.place = place
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = [p for p in (self.file, self.place) if p]
        return ": ".join([*parts, self.message])
