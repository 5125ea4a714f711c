"""Paths as reports show them: relative to the working directory when inside it."""

from __future__ import annotations

import os
from typing import overload


@overload
def display_path(path: str) -> str: ...
@overload
def display_path(path: None) -> None: ...
@overload
def display_path(path: str | None) -> str | None: ...
def display_path(path: str | None) -> str | None:
    """``path`` relative to the working directory when inside it, else as given."""
    if not path:
        return path
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel
