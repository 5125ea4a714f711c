"""The session's figures while recording: one line refreshed in place on a terminal, plain lines every
so often otherwise, and the closing summary with the next command to run."""

from __future__ import annotations

import sys
import time
from typing import Iterable, TextIO

from .pipeline import Stats, next_command


class StatusLine:
    def __init__(self, stream: TextIO | None = None, every: float = 10.0) -> None:
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty()
        self.every = every
        self.stats = Stats()
        self._shown = ""
        self._at = float("-inf")

    def update(self, stats: Stats) -> None:
        self.stats = stats
        line = stats.line()
        if line == self._shown:
            return
        now = time.monotonic()
        if self.tty:
            self.stream.write(f"\r\x1b[K  {line}")
        elif now - self._at >= self.every:
            self.stream.write(f"  {line}\n")
        else:
            return
        self._shown, self._at = line, now
        self.stream.flush()

    def above(self, text: str) -> None:
        """Print a line of other output without tearing the status line."""
        if self.tty and self._shown:
            self.stream.write("\r\x1b[K")
        self.stream.write(text if text.endswith("\n") else text + "\n")
        if self.tty and self._shown:
            self.stream.write(f"  {self._shown}")
        self.stream.flush()

    def summary(self, out: str, specs: Iterable[str]) -> None:
        if self.tty and self._shown:
            self.stream.write("\r\x1b[K")
        s = self.stats
        self.stream.write(f"recorded: {s.line()}\n")
        if s.forwarded_writes:
            self.stream.write(f"  {s.forwarded_writes} writes were forwarded to the portal (listed in {out}/capture.json)\n")
        self.stream.write(f"next: {next_command(out, specs)}\n")
        self.stream.flush()
