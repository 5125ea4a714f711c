"""Which flows are portal API calls: hosts from the specs' servers and ``--host``, minus assets and telemetry."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from typing import Iterable

from ..portals import portal_family

ASSET_EXT = re.compile(r"\.(?:js|mjs|css|map|png|jpe?g|gif|svg|ico|webp|avif|woff2?|ttf|otf|eot|mp4|webm|mp3|wasm)$", re.I)
ASSET_DEST = frozenset({"document", "script", "style", "image", "font", "iframe", "frame", "manifest",
                        "audio", "video", "track", "object", "embed", "worker", "sharedworker", "serviceworker"})
ASSET_MIME = ("image/", "font/", "text/css", "javascript", "video/", "audio/", "text/html")
TELEMETRY = (
    "*.events.data.microsoft.com", "js.monitor.azure.com", "dc.services.visualstudio.com", "*.applicationinsights.azure.com",
    "browser.pipe.aria.microsoft.com", "*.clarity.ms", "www.google-analytics.com", "*.doubleclick.net",
)
TELEMETRY_PATH = re.compile(r"(?i)/(?:beacon|collect|onecollector|telemetry|track|v2/track|log/event)(?:/|$|\?)")


@dataclass
class Scope:
    """Decides whether a flow is recorded (and, with block-writes, blocked)."""

    host_regexes: list[re.Pattern[str]] = field(default_factory=list)
    host_globs: list[str] = field(default_factory=list)
    portals: frozenset[str] = frozenset()
    include_assets: bool = False
    families: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(cls, spec_host_regexes: Iterable[str], host_globs: Iterable[str], portals: Iterable[str],
              include_assets: bool = False) -> "Scope":
        # A server whose whole host is a variable (https://{relayHost}) would put every host in scope.
        regexes = [re.compile(r) for r in sorted(set(spec_host_regexes)) if r and r != "[^/]+"]
        return cls(regexes, [g.lower() for g in host_globs], frozenset(portals), include_assets)

    def host_in_scope(self, netloc: str) -> bool:
        netloc = netloc.lower()
        host = netloc.rsplit(":", 1)[0] if netloc.count(":") == 1 else netloc
        if any(fnmatch.fnmatchcase(netloc, t) or fnmatch.fnmatchcase(host, t) for t in TELEMETRY):
            return False
        hit = any(r.fullmatch(netloc) or r.fullmatch(host) for r in self.host_regexes) or any(
            fnmatch.fnmatchcase(netloc, g) or fnmatch.fnmatchcase(host, g) for g in self.host_globs
        )
        if hit and self.portals:
            return portal_family(host) in self.portals or any(
                fnmatch.fnmatchcase(netloc, g) or fnmatch.fnmatchcase(host, g) for g in self.host_globs
            )
        return hit

    def is_asset(self, path: str, fetch_dest: str | None, mime: str | None) -> bool:
        if self.include_assets:
            return False
        if TELEMETRY_PATH.search(path):
            return True
        if fetch_dest and fetch_dest.lower() in ASSET_DEST:
            return True
        if ASSET_EXT.search(path.split("?", 1)[0]):
            return True
        return mime is not None and any(m in mime.lower() for m in ASSET_MIME)
