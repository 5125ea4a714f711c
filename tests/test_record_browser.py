"""A real headless Chromium browses a local portal page through mitmdump; the capture holds its calls."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from portalspec.fixtures.store import CaptureReader

from .canary import Canaries
from .portal import Mitmdump, PortalServer, make_tls, require_isolation, write_local_spec

pytestmark = [pytest.mark.network_ns, pytest.mark.browser]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def spki_hash(pem: Path) -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    cert = x509.load_pem_x509_certificate(pem.read_bytes())
    der = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def chromium(url: str, proxy_port: int, profile: Path, spki: str | None = None) -> str:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (.ci/run installs it)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    argv = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-features=NetworkTimeServiceQuerying", f"--user-data-dir={profile}",
            f"--proxy-server=http://127.0.0.1:{proxy_port}", "--proxy-bypass-list=<-loopback>",
            "--virtual-time-budget=5000", "--dump-dom", url]
    if spki:
        argv.insert(-2, f"--ignore-certificate-errors-spki-list={spki}")
    r = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    return r.stdout


@pytest.mark.parametrize("scheme", ["http", "https"])
@pytest.mark.parametrize("block", [False, True])
def test_browser_calls_are_captured(tmp_path: Path, scheme: str, block: bool) -> None:
    require_isolation()
    c = Canaries()
    secrets = {"token": c.jwt_token, "ajax": c.ajax, "password": c.password, "set_cookie": c.set_cookie}
    tls = make_tls(tmp_path) if scheme == "https" else None
    spec = write_local_spec(tmp_path, scheme)
    out = tmp_path / "cap"
    sets = [f"portalspec_specs={spec}"] + ([] if block else ["portalspec_block_writes=false"])  # blocking is the default
    with PortalServer(tls=(tls[1], tls[2]) if tls else None, page_secrets=secrets) as portal, \
            Mitmdump(tmp_path, out, *sets, upstream_ca=tls[0] if tls else None) as mitm:
        dom = chromium(f"{scheme}://127.0.0.1:{portal.port}/page.html", mitm.port, tmp_path / "profile",
                       spki_hash(mitm.ca) if tls else None)
        mitm.stop()
    assert "done users 200 2; assign 201; me 200" in dom, dom[-500:]  # a blocked write gets a client-safe 201
    entries = list(CaptureReader(out))
    calls = [(e["request"]["method"], e["request"]["url"].split(str(portal.port), 1)[1]) for e in entries]
    # The API calls, and nothing else: not the page, not the favicon, not Chromium's own Google calls.
    assert sorted(calls) == sorted([("GET", "/api/users?$top=2"), ("POST", "/api/roleAssignments"), ("GET", "/api/users/me")])
    assert all(e["request"]["url"].startswith(f"{scheme}://127.0.0.1:") for e in entries)
    assign = next(e for e in entries if e["request"]["method"] == "POST")
    assert bool(assign["_portalspec"].get("blocked")) is block
    assert portal.counts["POST"] == (0 if block else 1)
    body = json.loads(assign["request"]["postData"]["text"])
    assert body["roleDefinitionId"] == "reader" and body["password"].startswith("<redacted:")
    bearer = next(h for h in entries[0]["request"]["headers"] if h["name"].lower() == "authorization")
    assert bearer["value"].startswith("Bearer <redacted:jwt:")
    assert c.leaks([out]) == []
