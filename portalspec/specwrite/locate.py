"""Where in the spec files a change belongs: the file and JSON path of a schema node, through ``$ref``s.

Used for the overlay and ``update-spec``: an observed property lands in the schema object that
documents its parent (in the component file a ``$ref`` points to), a new status in the
operation's ``responses`` in the file that defines the path.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from ..pointers import tokens as pointer_tokens
from ..specs.loader import load_document

Token = str | int


@lru_cache(maxsize=512)  # every file of the 20 nodoc specs (128) stays parsed while an overlay is planned
def _doc(path: str) -> Any:
    return load_document(Path(path))


def _pointer_tokens(pointer: str) -> list[Token]:
    out: list[Token] = []
    for t in pointer.lstrip("#").split("/")[1:]:
        key = unquote(t).replace("~1", "/").replace("~0", "~")
        out.append(key)
    return out


def _get(node: Any, tokens: list[Token]) -> Any:
    for t in tokens:
        if isinstance(node, list) and isinstance(t, int):
            node = node[t]
        elif isinstance(node, list) and isinstance(t, str) and t.isdigit():
            node = node[int(t)]
        elif isinstance(node, dict) and t in node:
            node = node[t]
        else:
            return None
    return node


class Cursor:
    """A node in a spec file: the file, the path of tokens from its root, and the raw node."""

    def __init__(self, file: str, tokens: list[Token]) -> None:
        self.file, self.tokens = file, tokens
        self.node = _get(_doc(file), tokens)

    def follow(self) -> "Cursor":
        """Hop through ``$ref``s (at most 20)."""
        cur = self
        for _ in range(20):
            ref = cur.node.get("$ref") if isinstance(cur.node, dict) else None
            if not isinstance(ref, str):
                return cur
            file_part, _, ptr = ref.partition("#")
            file = str((Path(cur.file).parent / unquote(file_part)).resolve()) if file_part else cur.file
            cur = Cursor(file, _pointer_tokens("#" + ptr) if ptr else [])
        return cur

    def child(self, key: Token) -> "Cursor | None":
        nxt = Cursor.__new__(Cursor)
        nxt.file, nxt.tokens = self.file, [*self.tokens, key]
        nxt.node = _get(self.node, [key]) if self.node is not None else None
        return nxt if nxt.node is not None else None


def jsonpath(tokens: list[Token]) -> str:
    out = "$"
    for t in tokens:
        out += f"[{t}]" if isinstance(t, int) else "['" + str(t).replace("\\", "\\\\").replace("'", "\\'") + "']"
    return out


def operation_cursor(source_file: str, source_pointer: str) -> Cursor | None:
    cur = Cursor(source_file, _pointer_tokens(source_pointer))
    return cur if isinstance(cur.node, dict) else None


def _media(cur: Cursor) -> Cursor | None:
    content = cur.follow().child("content")
    if content is None or not isinstance(content.node, dict):
        return None
    keys = list(content.node)
    key = next((k for k in keys if "json" in str(k).lower()), keys[0] if keys else None)
    return content.child(key) if key is not None else None


def body_schema(op: Cursor, location: str, status: int | None) -> Cursor | None:
    """The schema node of an operation's request body or response for ``status``."""
    if location == "request":
        rb = op.child("requestBody")
        media = _media(rb) if rb else None
    else:
        responses = op.child("responses")
        if responses is None or not isinstance(responses.node, dict):
            return None
        s = str(status)
        key = next((k for k in (s, f"{s[0]}XX", f"{s[0]}xx", "default") if k in responses.node), None)
        resp = responses.child(key) if key else None
        media = _media(resp) if resp else None
    if media is None:
        return None
    schema = media.child("schema")
    return schema.follow() if schema else None


def parent_object(schema: Cursor, pointer: str) -> tuple[Cursor, str] | None:
    """The object schema that should list the property at ``pointer`` (``/value/*/x``), and the name."""
    tokens = pointer_tokens(pointer)
    if not tokens:
        return None
    cur: Cursor | None = schema
    for t in tokens[:-1]:
        cur = _descend(cur, t) if cur else None
        if cur is None:
            return None
    cur = _owner(cur.follow(), tokens[-1]) if cur else None
    return (cur, tokens[-1]) if cur else None


def _owner(cur: Cursor, name: str) -> Cursor:
    """Within allOf, the branch that has properties (an inline one if any), else the node itself."""
    node = cur.node
    if isinstance(node, dict) and "properties" not in node and isinstance(node.get("allOf"), list):
        branches = [cur.child("allOf").child(i).follow() for i in range(len(node["allOf"]))]  # type: ignore[union-attr]
        with_props = [b for b in branches if b and isinstance(b.node, dict) and "properties" in b.node]
        if with_props:
            return with_props[-1]
    return cur


def _descend(cur: Cursor, token: str) -> Cursor | None:
    cur = cur.follow()
    node = cur.node
    if not isinstance(node, dict):
        return None
    if token == "*" or token.isdigit():
        items = cur.child("items")
        return items.follow() if items else None
    props = cur.child("properties")
    if props is not None and isinstance(props.node, dict) and token in props.node:
        nxt = props.child(token)
        return nxt.follow() if nxt else None
    for combo in ("allOf", "oneOf", "anyOf"):
        if isinstance(node.get(combo), list):
            for i in range(len(node[combo])):
                branch = cur.child(combo).child(i)  # type: ignore[union-attr]
                found = _descend(branch, token) if branch else None
                if found is not None:
                    return found
    return None
