"""Real components for capture tests: a local portal upstream (HTTP/HTTPS), mitmdump, a proxied client.

Everything listens on 127.0.0.1 only, and the tests that use it run inside a loopback-only
network namespace (``make test`` starts pytest under ``unshare -n``).
"""

from __future__ import annotations

import datetime as dt
import gzip
import ipaddress
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


def isolated() -> bool:
    """True inside a network namespace whose only interface is loopback."""
    try:
        lines = Path("/proc/net/dev").read_text().splitlines()[2:]  # per network namespace, unlike /sys
    except OSError:
        return False
    return sorted(line.split(":", 1)[0].strip() for line in lines) == ["lo"]


def require_isolation() -> None:
    if not isolated():
        msg = "proxy and browser tests run only in a loopback-only network namespace (make test uses unshare -n)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_tls(tmp: Path) -> tuple[Path, Path, Path]:
    """A test CA and a server certificate for 127.0.0.1/localhost: (ca.pem, cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "portalspec test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
          .not_valid_after(now + dt.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = (tmp / "ca.pem", tmp / "cert.pem", tmp / "key.pem")
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


PAGE = """<!doctype html><html><head><title>demo portal</title></head><body><pre id="out">pending</pre>
<script>
const out = [];
async function run() {
  const h = {"Authorization": "Bearer __TOKEN__", "AjaxSessionKey": "__AJAX__", "Accept": "application/json"};
  let r = await fetch("/api/users?$top=2", {headers: h});
  out.push("users " + r.status + " " + (await r.json()).value.length);
  r = await fetch("/api/roleAssignments", {method: "POST", headers: {...h, "Content-Type": "application/json"},
                  body: JSON.stringify({principalId: "00000000-0000-4000-8000-000000000001", roleDefinitionId: "reader",
                                        password: "__PASSWORD__"})});
  out.push("assign " + r.status);
  await new Promise(res => { const x = new XMLHttpRequest(); x.open("GET", "/api/users/me");
    x.setRequestHeader("Authorization", "Bearer __TOKEN__"); x.onload = () => { out.push("me " + x.status); res(); };
    x.onerror = () => { out.push("me error"); res(); }; x.send(); });
  document.getElementById("out").textContent = "done " + out.join("; ");
}
run().catch(e => { document.getElementById("out").textContent = "failed " + e; });
</script></body></html>"""


# A portal wizard: read the options, create, update with the created id, poll the status.
WIZARD = """<!doctype html><html><head><title>assign a role</title></head><body><pre id="out">pending</pre>
<script>
const out = [];
async function run() {
  const h = {"Authorization": "Bearer __TOKEN__", "Accept": "application/json"};
  let r = await fetch("/api/roleDefinitions", {headers: h});
  const defs = await r.json();
  out.push("options " + r.status);
  r = await fetch("/api/roleAssignments", {method: "POST", headers: {...h, "Content-Type": "application/json"},
                  body: JSON.stringify({principalId: "00000000-0000-4000-8000-000000000001",
                                        roleDefinitionId: defs.value[0].id})});
  const created = await r.json();
  out.push("create " + r.status);
  r = await fetch("/api/roleAssignments('" + created.id + "')", {method: "PATCH",
                  headers: {...h, "Content-Type": "application/json"},
                  body: JSON.stringify({justification: "Quarterly access review"})});
  out.push("update " + r.status);
  r = await fetch("/api/roleAssignments('" + created.id + "')/status", {headers: h});
  out.push("status " + r.status);
  document.getElementById("out").textContent = "done " + out.join("; ");
}
run().catch(e => { document.getElementById("out").textContent = "failed " + e + " after " + out.join("; "); });
</script></body></html>"""


class PortalServer:
    """A local upstream that behaves like a portal: cookie session, bearer token, JSON reads and writes, gzip."""

    def __init__(self, tls: tuple[Path, Path] | None = None, page_secrets: dict[str, str] | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.counts: Counter[str] = Counter()
        self.tls = tls
        self.page_secrets = page_secrets or {}
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *a: Any) -> None:
                pass

            def _handle(self) -> None:
                n = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(n) if n else b""
                with server.lock:
                    server.requests.append({"method": self.command, "path": self.path,
                                            "headers": dict(self.headers.items()), "body": body})
                    server.counts[self.command] += 1
                status, payload, ctype, extra = server.route(self.command, self.path, body)
                if "gzip" in (self.headers.get("accept-encoding") or "") and len(payload) > 64:
                    payload = gzip.compress(payload)
                    extra = {**extra, "Content-Encoding": "gzip"}
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                for k, v in extra.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(str(tls[0]), str(tls[1]))
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def route(self, method: str, path: str, body: bytes) -> tuple[int, bytes, str, dict[str, str]]:
        p = path.split("?", 1)[0]
        if p == "/page.html":
            page = PAGE
            for k, v in self.page_secrets.items():
                page = page.replace(f"__{k.upper()}__", v)
            return 200, page.encode(), "text/html; charset=utf-8", {}
        if p == "/wizard.html":
            return 200, WIZARD.replace("__TOKEN__", self.page_secrets.get("token", "t")).encode(), "text/html; charset=utf-8", {}
        if method == "GET" and p == "/api/roleDefinitions":
            defs = [{"id": "62e90394-69f5-4237-9190-012177145e10", "displayName": "Global Administrator"},
                    {"id": "f2ef992c-3afb-46b9-b7cf-a126ee74c451", "displayName": "Global Reader"}]
            return 200, json.dumps({"value": defs}).encode(), "application/json", {}
        if p == "/favicon.ico":
            return 404, b"", "text/plain", {}
        if method == "GET" and p == "/api/users":
            users = [{"id": f"00000000-0000-4000-8000-00000000000{i}", "displayName": f"User {i}",
                      "userPrincipalName": f"user{i}@contoso.example", "accountEnabled": True} for i in range(2)]
            return 200, json.dumps({"value": users, "pad": "x" * 200}).encode(), "application/json", {
                "Set-Cookie": f"sccauth={self.page_secrets.get('set_cookie', 'srvcookie')}; Path=/; HttpOnly"}
        if method == "GET" and p == "/api/events":
            events = "".join(f"event: tick\ndata: {{\"n\": {i}, \"token\": \"{self.page_secrets.get('sse', 'x')}\"}}\n\n" for i in range(3))
            return 200, events.encode(), "text/event-stream", {"Cache-Control": "no-cache"}
        if method == "GET" and p == "/api/users/me":
            return 200, json.dumps({"id": "00000000-0000-4000-8000-000000000009", "displayName": "Me"}).encode(), "application/json", {}
        if method == "POST" and p == "/api/reports/query":
            return 200, json.dumps({"rows": [{"day": "2026-11-19", "signIns": 3}]}).encode(), "application/json", {}
        if method in ("POST", "PUT", "PATCH"):
            return 201, body or b"{}", "application/json", {}
        if method == "DELETE":
            return 204, b"", "application/json", {}
        return 404, b'{"error": "not found"}', "application/json", {}

    def __enter__(self) -> "PortalServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def write_local_spec(tmp: Path, scheme: str) -> Path:
    """The demo spec with its server moved to this machine: ``SCHEME://127.0.0.1:{port}/api``."""
    d = tmp / f"spec-{scheme}"
    d.mkdir(parents=True, exist_ok=True)
    for f in (ROOT / "specs" / "demo").iterdir():
        text = f.read_text().replace("https://admin.demo-portal.example/api", f"{scheme}://127.0.0.1:{{port}}/api")
        (d / f.name).write_text(text)
    return d


class Mitmdump:
    """A real mitmdump with the portalspec addon script, on 127.0.0.1, with its own confdir."""

    def __init__(self, tmp: Path, out: Path, *sets: str, upstream_ca: Path | None = None) -> None:
        self.port = free_port()
        self.confdir = tmp / "mitm-conf"
        self.confdir.mkdir(exist_ok=True)
        exe = Path(sys.executable).with_name("mitmdump")
        self.argv = [str(exe), "-q", "--listen-host", "127.0.0.1", "--listen-port", str(self.port),
                     "-s", str(ROOT / "addons" / "record.py"), "--set", f"confdir={self.confdir}",
                     "--set", f"portalspec_out={out}"]
        if upstream_ca:
            self.argv += ["--set", f"ssl_verify_upstream_trusted_ca={upstream_ca}"]
        for s in sets:
            self.argv += ["--set", s]
        self.log = tmp / "mitmdump.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> "Mitmdump":
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(self.argv, stdout=open(self.log, "wb"), stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mitmdump exited: {self.log.read_text()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("mitmdump did not start")
        return self

    @property
    def ca(self) -> Path:
        return self.confdir / "mitmproxy-ca-cert.pem"

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def opener(self) -> urllib.request.OpenerDirector:
        proxy = f"http://127.0.0.1:{self.port}"
        ctx = ssl.create_default_context(cafile=str(self.ca))
        return urllib.request.build_opener(urllib.request.ProxyHandler({"http": proxy, "https": proxy}),
                                           urllib.request.HTTPSHandler(context=ctx))


def send(opener: urllib.request.OpenerDirector, method: str, url: str, headers: dict[str, str] | None = None,
         body: Any = None) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None and not isinstance(body, bytes) else body
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with opener.open(req, timeout=20) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
