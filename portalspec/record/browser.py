"""Starting the user's browser for ``record --browser``: found by name, pointed at the proxy, the proxy's
CA trusted through its SPKI pin (no CA installed anywhere), a persistent profile per name."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Iterable

from ..errors import PortalspecError

BROWSERS = ("chromium", "chrome", "msedge")
# Executable names on PATH, then usual install paths (Linux, macOS, Windows), per browser.
_NAMES = {
    "chromium": ("chromium", "chromium-browser"),
    "chrome": ("google-chrome", "google-chrome-stable", "chrome"),
    "msedge": ("microsoft-edge", "microsoft-edge-stable", "msedge"),
}
_INSTALLS = {
    "chromium": ("/usr/bin/chromium", "/usr/lib/chromium/chromium", "/snap/bin/chromium",
                 "/Applications/Chromium.app/Contents/MacOS/Chromium"),
    "chrome": ("/opt/google/chrome/chrome", "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
               r"C:\Program Files\Google\Chrome\Application\chrome.exe",
               r"C:\Program Files (x86)\Google\Chrome\Application\chrome.exe"),
    "msedge": ("/opt/microsoft/msedge/msedge", "/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
               r"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe",
               r"C:\Program Files\Microsoft\Edge\Application\msedge.exe"),
}


def find_browser(name: str, path: str | None = None, installs: Iterable[str] | None = None) -> str:
    """The executable of ``name`` (chromium, chrome, msedge): on PATH by its usual names, else where it installs."""
    if name not in _NAMES:
        raise PortalspecError(f"--browser must be one of {', '.join(BROWSERS)}, got {name!r}")
    for exe in _NAMES[name]:
        found = shutil.which(exe, path=path)
        if found:
            return found
    for p in _INSTALLS[name] if installs is None else installs:
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    raise PortalspecError(f"{name} not found: looked for {', '.join(_NAMES[name])} on PATH and in its usual install "
                          "folders (install it, or start it yourself with the printed command)")


def data_dir() -> Path:
    """portalspec's per-user data folder (XDG on Linux, the platform's usual place elsewhere)."""
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local") / "portalspec"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "portalspec"
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "portalspec"


def profile_dir(browser: str, name: str) -> Path:
    """The persistent profile ``name`` of ``browser`` (created 0700: it holds the sign-in)."""
    if not name or "/" in name or "\\" in name or name in (".", ".."):
        raise PortalspecError(f"--profile must be a plain name, got {name!r}")
    d = data_dir() / "profiles" / f"{browser}-{name}"
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(d, 0o700)
    return d


def browser_argv(exe: str, proxy: str, spki: str | None, profile: Path, url: str | None,
                 extra: Iterable[str] = ()) -> list[str]:
    """The browser's command line: proxy for every host but loopback, the proxy's CA pinned, its own profile."""
    argv = [exe, f"--proxy-server=http://{proxy}", "--proxy-bypass-list=<-loopback>", f"--user-data-dir={profile}",
            "--no-first-run", "--no-default-browser-check", "--disable-quic"]
    if spki:
        argv.append(f"--ignore-certificate-errors-spki-list={spki}")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        argv.append("--no-sandbox")  # Chromium refuses to start as root with its sandbox
    argv += list(extra)
    if url:
        argv.append(url)
    return argv


def first_browsed_page(spec_paths: list[str]) -> str | None:
    """The first page the specs say their calls were seen on (``x-nodoc-live-capture.browsedPages``)."""
    if not spec_paths:
        return None
    from ..specs.index import SpecIndex

    for op in SpecIndex.load(spec_paths).operations:
        pages = op.live.get("browsedPages") if isinstance(op.live, dict) else None
        if isinstance(pages, list) and pages and isinstance(pages[0], str):
            return pages[0]
    return None
