"""A spec file's own way of writing YAML, read from the file, and new blocks written that way.

What is read: whether sequences are indented under their key (``parameters:`` then ``  - name``)
or not, how ``$ref`` values are quoted (plain, single or double), and whether short lists such as
``tags`` are written in flow style (``tags: [Alerts]``). New lines are emitted in that style, so a
maintainer's diff shows only added lines that look like their neighbours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import yaml

_KEY_LINE = re.compile(r"^( *)[^\s#-][^:]*:\s*$")
_DASH = re.compile(r"^( *)- ")
_REF = re.compile(r"""^\s*\$ref:\s*(['"]?)""")
_FLOW_TAGS = re.compile(r"^\s*tags:\s*\[")
_BLOCK_TAGS = re.compile(r"^\s*tags:\s*$")


@dataclass(frozen=True)
class Style:
    indented_sequences: bool = True
    ref_quote: str = ""  # "", "'" or '"'
    flow_tags: bool = False


def detect(text: str) -> Style:
    indented = plain = 0
    quotes = {"": 0, "'": 0, '"': 0}
    flow = block = 0
    lines = text.splitlines()
    for prev, line in zip(lines, lines[1:]):
        k, d = _KEY_LINE.match(prev), _DASH.match(line)
        if k and d:
            if len(d.group(1)) > len(k.group(1)):
                indented += 1
            else:
                plain += 1
    for line in lines:
        m = _REF.match(line)
        if m:
            quotes[m.group(1)] += 1
        if _FLOW_TAGS.match(line):
            flow += 1
        elif _BLOCK_TAGS.match(line):
            block += 1
    quote = max(quotes, key=lambda q: (quotes[q], q == ""))
    return Style(indented_sequences=indented >= plain, ref_quote=quote, flow_tags=flow > block)


@lru_cache(maxsize=64)
def detect_file(path: str) -> Style:
    with open(path, encoding="utf-8") as f:
        return detect(f.read())


class _Dumper(yaml.SafeDumper):
    """PyYAML's safe dumper, with sequences indented under their key when the file does so."""

    indented = True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> Any:
        return super().increase_indent(flow, False if self.indented else indentless)


class _Plain(_Dumper):
    indented = False


class _FlowList(list):  # type: ignore[type-arg]
    """A list written in flow style (``[a, b]``)."""


def _flow(dumper: yaml.SafeDumper, value: _FlowList) -> Any:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=True)


class _Ref(str):
    """A ``$ref`` value, quoted as the file quotes its ``$ref``s."""

    quote = ""


def _ref(dumper: yaml.SafeDumper, value: _Ref) -> Any:
    style = value.quote or None
    if style is None and not _plain_ok(str(value)):
        style = "'"
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style=style)


def _plain_ok(s: str) -> bool:
    return bool(s) and s[0] not in "'\"{[&*!|>%@`#" and ": " not in s and " #" not in s


for d in (_Dumper, _Plain):
    d.add_representer(_FlowList, _flow)
    d.add_representer(_Ref, _ref)


def styled(value: Any, style: Style) -> Any:
    """``value`` with its ``$ref``s and ``tags`` marked for the file's style."""
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        for k, v in value.items():
            if k == "$ref" and isinstance(v, str):
                r = _Ref(v)
                r.quote = style.ref_quote
                out[k] = r
            elif k == "tags" and isinstance(v, list) and style.flow_tags:
                out[k] = _FlowList(v)
            else:
                out[k] = styled(v, style)
        return out
    if isinstance(value, list):
        return [styled(v, style) for v in value]
    return value


def block(value: dict[str, Any], indent: int, style: Style) -> list[str]:
    """``value`` as YAML lines at ``indent``, in the file's style."""
    dumper = _Dumper if style.indented_sequences else _Plain
    text = yaml.dump(styled(value, style), Dumper=dumper, sort_keys=False, allow_unicode=True, width=4096,
                     default_flow_style=False)
    pad = " " * indent
    return [pad + line + "\n" if line else "\n" for line in text.splitlines()]
