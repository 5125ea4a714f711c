"""Paths as reports show them: relative to the working directory when inside it."""

from __future__ import annotations

import os


def display_path(path: str | None) -> str | None:
    if not path:
        return path
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel
