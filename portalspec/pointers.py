"""JSON pointers (RFC 6901): a key escaped into a token, and a pointer's tokens unescaped."""

from __future__ import annotations

from typing import Any


def escape(key: Any) -> str:
    """``key`` (a list position too) as a pointer token."""
    k: str = key if type(key) is str else str(key)
    if "~" in k or "/" in k:
        return k.replace("~", "~0").replace("/", "~1")
    return k


def tokens(pointer: str) -> list[str]:
    """The tokens of ``pointer``, unescaped (none for ``""``, the root, or for text that is no pointer)."""
    if not pointer.startswith("/"):
        return []
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]
