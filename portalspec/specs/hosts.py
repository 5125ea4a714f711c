"""Which spec a call to a host belongs to: the rule the report's grouping and the overlay share."""

from __future__ import annotations

import re
from typing import Any

from .model import Server


class HostServers:
    """Every spec's servers (its own and its operations'), listed once."""

    def __init__(self, index: Any) -> None:
        specs = [] if index is None else index.specs
        self.servers: list[tuple[str, list[Server]]] = [
            (spec.root, list(dict.fromkeys([*spec.servers, *(s for op in spec.operations for s in op.servers)])))
            for spec in specs]
        self.paths = {spec.root: [op.path.lower().split("/") for op in spec.operations] for spec in specs}

    def spec_for(self, host: str, template: str) -> tuple[str, str] | None:
        """(root file, path relative to the server base) of the spec whose server serves ``host``
        (with or without its port) with the longest base path that ``template`` starts with; among
        specs alike in that, the one with an operation sharing the most leading segments with the
        path. A server whose whole host is a variable serves none in particular."""
        low = host.lower()
        bare = low.rsplit(":", 1)[0] if low.count(":") == 1 else low
        best: tuple[int, str, str] | None = None
        for root, servers in self.servers:
            for srv in servers:
                rx = srv.host_regex
                if rx is None or rx == "[^/]+" or not (re.fullmatch(rx, low) or (bare != low and re.fullmatch(rx, bare))):
                    continue
                base = srv.base_path
                if base and (template == base or template.startswith(base + "/")):
                    cand = (len(base), root, template[len(base):] or "/")
                elif not base:
                    cand = (0, root, template)
                else:
                    continue
                if best is None or cand[0] > best[0] or (
                        cand[0] == best[0] and cand[1] != best[1] and self._shared(cand) > self._shared(best)):
                    best = cand
        return (best[1], best[2]) if best else None

    def _shared(self, cand: tuple[int, str, str]) -> int:
        """How many leading path segments the spec's closest operation shares with the path."""
        segs = cand[2].lower().split("/")
        return max((_common(segs, p) for p in self.paths.get(cand[1], ())), default=0)


def _common(a: list[str], b: list[str]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n
