"""``portalspec record --browser``: the proxy and a browser that works through it, in one command."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from portalspec.errors import PortalspecError
from portalspec.fixtures.store import CaptureReader, read_meta
from portalspec.record.browser import find_browser

from .canary import Canaries
from .portal import PortalServer, free_port, make_tls, require_isolation, write_local_spec
from .test_record_attach import FLAGS
from .test_record_browser import CHROMIUM, spki_hash

ROOT = Path(__file__).resolve().parent.parent


def _record(tmp: Path, *args: str, path: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp / "data"), "PYTHONPATH": str(ROOT)}
    if path is not None:
        env["PATH"] = path
    argv = [sys.executable, "-m", "portalspec.cli", "record", "--out", str(tmp / "cap"), "--confdir", str(tmp / "conf"),
            "--listen", f"127.0.0.1:{free_port()}", "--status-every", "0", *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)


def _stand_in(folder: Path, name: str) -> Path:
    """An executable that records its arguments and exits, like a browser the user closes at once."""
    folder.mkdir(parents=True, exist_ok=True)
    exe = folder / name
    exe.write_text(textwrap.dedent(f"""\
        #!{sys.executable}
        import json, sys
        open({str(folder / 'argv.json')!r}, 'w').write(json.dumps(sys.argv))
        """))
    exe.chmod(0o755)
    return exe


@pytest.mark.network_ns
def test_record_starts_a_stand_in_edge_with_proxy_pin_and_profile(tmp_path: Path) -> None:
    require_isolation()
    bin_dir = tmp_path / "bin"
    _stand_in(bin_dir, "microsoft-edge")
    spec = tmp_path / "spec.yaml"
    spec.write_text(textwrap.dedent("""\
        openapi: 3.0.3
        info: {title: t, version: '1'}
        servers: [{url: 'https://portal.contoso.example/api'}]
        paths:
          /users:
            get:
              operationId: Users.List
              x-nodoc-live-capture:
                browsedPages: ['https://portal.contoso.example/#view/Users', 'https://portal.contoso.example/#view/Groups']
              responses: {'200': {description: ok}}
        """))
    r = _record(tmp_path, "--specs", str(spec), "--browser", "msedge", "--profile", "work",
                path=f"{bin_dir}:{os.path.dirname(sys.executable)}")
    assert r.returncode == 0, r.stderr
    argv = json.loads((bin_dir / "argv.json").read_text())
    ca = tmp_path / "conf" / "mitmproxy-ca-cert.pem"
    profile = tmp_path / "data" / "portalspec" / "profiles" / "msedge-work"
    assert argv[0] == str(bin_dir / "microsoft-edge")
    assert any(a.startswith("--proxy-server=http://127.0.0.1:") for a in argv) and "--proxy-bypass-list=<-loopback>" in argv
    assert f"--ignore-certificate-errors-spki-list={spki_hash(ca)}" in argv  # the confdir's CA, pinned
    assert f"--user-data-dir={profile}" in argv and stat.S_IMODE(profile.stat().st_mode) == 0o700
    assert argv[-1] == "https://portal.contoso.example/#view/Users"  # the spec's first browsed page
    assert "recorded: 0 calls in scope" in r.stdout and "next: portalspec report" in r.stdout
    assert (tmp_path / "cap" / "capture.json").exists()  # the proxy stopped cleanly when the browser closed


def test_browsers_are_found_by_name_and_install_path(tmp_path: Path) -> None:
    exe = _stand_in(tmp_path / "opt" / "google" / "chrome", "chrome")
    assert find_browser("chrome", path=str(tmp_path / "empty"), installs=[str(exe)]) == str(exe)
    _stand_in(tmp_path / "bin", "google-chrome-stable")
    assert find_browser("chrome", path=str(tmp_path / "bin"), installs=[]) == str(tmp_path / "bin" / "google-chrome-stable")
    with pytest.raises(PortalspecError, match="msedge not found"):
        find_browser("msedge", path=str(tmp_path / "empty"), installs=[])
    with pytest.raises(PortalspecError, match="--browser must be one of"):
        find_browser("firefox")


@pytest.mark.network_ns
@pytest.mark.browser
def test_record_browser_chromium_records_an_https_portal_with_no_ca_installed(tmp_path: Path) -> None:
    require_isolation()
    if CHROMIUM is None:
        pytest.skip("chromium is not installed")
    c = Canaries()
    secrets = {"token": c.jwt_token, "ajax": c.ajax, "password": c.password, "set_cookie": c.set_cookie}
    ca, cert, key = make_tls(tmp_path)
    spec = write_local_spec(tmp_path, "https")
    with PortalServer(tls=(cert, key), page_secrets=secrets) as portal:
        # headless and --dump-dom: the browser loads the page, prints it and closes, which ends the recording
        r = _record(tmp_path, "--specs", str(spec), "--browser", "chromium",
                    "--url", f"https://127.0.0.1:{portal.port}/page.html", "--set", f"ssl_verify_upstream_trusted_ca={ca}",
                    *[f"--browser-arg={f}" for f in FLAGS], "--browser-arg=--virtual-time-budget=5000",
                    "--browser-arg=--dump-dom")
    assert r.returncode == 0, r.stdout + r.stderr
    entries = list(CaptureReader(tmp_path / "cap"))
    calls = sorted((e["request"]["method"], e["request"]["url"].split(str(portal.port), 1)[1]) for e in entries)
    assert calls == sorted([("GET", "/api/users?$top=2"), ("POST", "/api/roleAssignments"), ("GET", "/api/users/me")])
    assert portal.counts["POST"] == 0
    assert "recorded: 3 calls in scope, 3 matched, 0 undocumented, 1 writes blocked" in r.stdout
    assert read_meta(tmp_path / "cap")["sessions"][0]["forwarded_writes"] == []
    assert c.leaks([tmp_path / "cap"]) == []
