"""``portalspec record``: start mitmdump with the portalspec addons and say how to point a browser at it."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from ..errors import PortalspecError
from ..specs.model import WRITE_METHODS

READ_WORDS = ("list", "get", "search", "query", "count", "report", "find", "lookup", "export", "summary")


def propose_allow_list(spec_paths: list[str]) -> list[str]:
    """POST operations that read (their operationId or summary says List/Get/Search...)."""
    from ..specs.index import SpecIndex

    out = []
    for op in SpecIndex.load(spec_paths).operations:
        if op.method not in WRITE_METHODS or op.method != "POST":
            continue
        name = (op.operation_id or "").rsplit(".", 1)[-1].lower()
        summary = (op.summary or "").lower()
        if name.startswith(READ_WORDS) or summary.startswith(READ_WORDS):
            base = op.servers[0].base_path if op.servers else ""
            from ..matching.templates import join_base
            import re

            out.append("POST " + re.sub(r"\{[^}]+\}", "*", join_base(base, op.path)))
    return sorted(set(out))


def spki_pin(ca: Path) -> str | None:
    """The base64 SHA-256 of the CA's public key, as Chromium's ``--ignore-certificate-errors-spki-list``
    takes it: the browser trusts this CA's certificates without a CA install anywhere."""
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization

        cert = x509.load_pem_x509_certificate(ca.read_bytes())
    except (OSError, ValueError, ImportError):
        return None
    import base64
    import hashlib

    der = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def mitmdump_argv(a: argparse.Namespace) -> list[str]:
    host, _, port = a.listen.rpartition(":")
    if not host or not port.isdigit():
        raise PortalspecError(f"--listen must be HOST:PORT, got {a.listen!r}")
    exe = shutil.which("mitmdump", path=os.path.dirname(sys.executable)) or shutil.which("mitmdump")
    if exe is None:
        raise PortalspecError("mitmdump not found (pip install mitmproxy)")
    script = Path(__file__).with_name("mitm_script.py")
    argv = [exe, "-q", "-s", str(script), "--listen-host", host, "--listen-port", port,
            "--set", f"portalspec_out={a.out}", "--set", f"portalspec_body_limit={a.body_limit}"]
    for opt, values in (("portalspec_specs", a.specs), ("portalspec_host", a.host), ("portalspec_portal", a.portal),
                        ("portalspec_allow_write", a.allow_write), ("portalspec_pseudonymize", a.pseudonymize)):
        for v in values:
            argv += ["--set", f"{opt}={v}"]
    if getattr(a, "forward_writes", False):
        argv += ["--set", "portalspec_block_writes=false"]
    else:
        argv += ["--set", "portalspec_block_writes=true", "--set", f"portalspec_write_reply={a.write_reply}"]
    if a.confdir:
        argv += ["--set", f"confdir={a.confdir}"]
    return argv


def run_record(a: argparse.Namespace) -> int:
    if not a.specs and not a.host:
        raise PortalspecError("nothing to record: give --specs DIR (their servers' hosts) or --host PATTERN")
    argv = mitmdump_argv(a)
    confdir = Path(a.confdir) if a.confdir else Path.home() / ".mitmproxy"
    host, _, port = a.listen.rpartition(":")
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: listening on {host}: other machines can use this proxy", file=sys.stderr)
    print(f"portalspec record: proxy on http://{a.listen}, writing {a.out}")
    if a.specs:
        from ..specs.index import SpecIndex, tell_spec_errors

        tell_spec_errors(SpecIndex.load(a.specs), lambda m: print(f"warning: {m}", file=sys.stderr))
    ca = confdir / "mitmproxy-ca-cert.pem"
    spki = spki_pin(ca)
    pin = f" --ignore-certificate-errors-spki-list={spki}" if spki else ""
    print(f"  browser:  chromium --proxy-server=http://{a.listen} --proxy-bypass-list='<-loopback>'{pin} "
          f"--user-data-dir=$(mktemp -d)")
    if not spki:
        print("            (mitmproxy creates its CA on first start: run record again to get the certificate pin, "
              "or trust the CA below)")
    print(f"  CA cert:  {confdir / 'mitmproxy-ca-cert.pem'} (created on first start; or browse http://mitm.it via the proxy)")
    if not getattr(a, "forward_writes", False):
        how = "with a client-safe synthetic answer" if a.write_reply == "spec" else "with 409"
        print(f"  block-writes is ON: POST/PUT/PATCH/DELETE to portal hosts are recorded and answered locally {how}")
        if a.specs and not a.allow_write:
            proposed = propose_allow_list(a.specs)
            if proposed:
                print(f"  {len(proposed)} POST reads in the specs could be let through with --allow-write, e.g.:")
                for p in proposed[:5]:
                    print(f"    --allow-write '{p}'")
    else:
        print("warning: --forward-writes: writes you click in the portal WILL change the tenant; each one is listed "
              "in the capture's session summary", file=sys.stderr)
    print("  stop with Ctrl-C", flush=True)
    try:
        return subprocess.call(argv)
    except KeyboardInterrupt:
        return 0
