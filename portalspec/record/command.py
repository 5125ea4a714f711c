"""``portalspec record``: start mitmdump with the portalspec addons and say how to point a browser at it."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

from ..errors import PortalspecError
from ..specs.model import WRITE_METHODS
from .browser import browser_argv, find_browser, first_browsed_page, profile_dir
from .pipeline import STATUS_PREFIX, Pipeline, Settings, parse_status
from .status import StatusLine

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
            "--set", f"portalspec_out={a.out}", "--set", f"portalspec_body_limit={a.body_limit}",
            "--set", "portalspec_status=true"]
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
    for kv in getattr(a, "mitm_set", None) or []:
        if "=" not in kv:
            raise PortalspecError(f"--set must be OPTION=VALUE (a mitmproxy option), got {kv!r}")
        argv += ["--set", kv]
    return argv


def start_proxy(argv: list[str]) -> subprocess.Popen[str]:
    """mitmdump, its stdout (status lines and anything else it prints) read by ``record``."""
    return subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, bufsize=1)


class _ProxyOutput(threading.Thread):
    """Reads mitmdump's stdout: status lines feed the status line, other lines are passed on."""

    def __init__(self, proc: subprocess.Popen[str], status: StatusLine) -> None:
        super().__init__(daemon=True)
        self.proc, self.status = proc, status
        self.ready = threading.Event()

    def run(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith(STATUS_PREFIX):
                stats = parse_status(line[len(STATUS_PREFIX):])
                if stats is not None:
                    self.ready.set()
                    self.status.update(stats)
                continue
            self.status.above(line.rstrip("\n"))
        self.ready.set()


def _stop(proc: subprocess.Popen[str], timeout: float = 20.0) -> int:
    """Ask mitmdump to finish (SIGINT: it closes the capture), then wait; kill only if it hangs."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


def _print_setup(a: argparse.Namespace, header: str) -> None:
    """The session's opening lines (spec errors, what happens to writes), for record and attach."""
    print(header)
    if a.specs:
        from ..specs.index import SpecIndex, tell_spec_errors

        tell_spec_errors(SpecIndex.load(a.specs), lambda m: print(f"warning: {m}", file=sys.stderr))
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


def _print_browser_command(a: argparse.Namespace, confdir: Path) -> None:
    ca = confdir / "mitmproxy-ca-cert.pem"
    spki = spki_pin(ca)
    pin = f" --ignore-certificate-errors-spki-list={spki}" if spki else ""
    print(f"  browser:  chromium --proxy-server=http://{a.listen} --proxy-bypass-list='<-loopback>'{pin} "
          f"--user-data-dir=$(mktemp -d)")
    print("            (or let portalspec start it: record --browser chromium|chrome|msedge)")
    if not spki:
        print("            (mitmproxy creates its CA on first start: run record again to get the certificate pin, "
              "or trust the CA below)")
    print(f"  CA cert:  {ca} (created on first start; or browse http://mitm.it via the proxy)")


def _interrupt_on_term() -> None:
    """SIGTERM ends a recording as Ctrl-C does: the capture is closed, the proxy and browser stopped."""
    def raise_interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, raise_interrupt)


def run_record(a: argparse.Namespace) -> int:
    _interrupt_on_term()
    if not a.specs and not a.host:
        raise PortalspecError("nothing to record: give --specs DIR (their servers' hosts) or --host PATTERN")
    argv = mitmdump_argv(a)
    confdir = Path(a.confdir) if a.confdir else Path.home() / ".mitmproxy"
    browser = getattr(a, "browser", None)
    exe = find_browser(browser) if browser else None
    url = getattr(a, "url", None) or (first_browsed_page(a.specs) if browser else None)
    host, _, _ = a.listen.rpartition(":")
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: listening on {host}: other machines can use this proxy", file=sys.stderr)
    _print_setup(a, f"portalspec record: proxy on http://{a.listen}, writing {a.out}")
    status = StatusLine(every=getattr(a, "status_every", 10.0))
    try:
        proc = start_proxy(argv)
    except OSError as e:
        raise PortalspecError(f"could not start mitmdump: {e}") from None
    reader = _ProxyOutput(proc, status)
    reader.start()
    rc = 0
    try:
        if not reader.ready.wait(60) or proc.poll() is not None:
            rc = proc.wait()
            print(f"error: mitmdump stopped before the proxy was ready (exit code {rc})", file=sys.stderr)
            return rc or 1
        if exe is None:
            _print_browser_command(a, confdir)
            print("  stop with Ctrl-C", flush=True)
            rc = proc.wait()
        else:
            rc = _with_browser(a, exe, url, confdir, proc, status)
    except KeyboardInterrupt:
        try:  # from a terminal, mitmdump had the same Ctrl-C and is closing the capture already
            rc = proc.wait(5)
        except subprocess.TimeoutExpired:
            rc = _stop(proc)
    finally:
        if proc.poll() is None:
            rc = _stop(proc)
        reader.join(5)
    status.summary(a.out, a.specs)
    return 0 if rc in (0, -signal.SIGINT, 130) else rc


def _with_browser(a: argparse.Namespace, exe: str, url: str | None, confdir: Path,
                  proc: subprocess.Popen[str], status: StatusLine) -> int:
    """Start the browser on the proxy; recording stops when the browser closes."""
    spki = spki_pin(confdir / "mitmproxy-ca-cert.pem")
    profile = profile_dir(a.browser, getattr(a, "profile", None) or "default")
    argv = browser_argv(exe, a.listen, spki, profile, url, getattr(a, "browser_arg", None) or [])
    status.above(f"  browser:  {a.browser} ({exe}), profile {profile}" + (f", opening {url}" if url else ""))
    status.above("  recording stops when the browser closes (or Ctrl-C)")
    started = time.monotonic()
    try:
        browser = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError as e:
        raise PortalspecError(f"could not start {exe}: {e}") from None
    try:
        while browser.poll() is None and proc.poll() is None:
            time.sleep(0.2)
    except KeyboardInterrupt:
        if browser.poll() is None:
            browser.terminate()
        raise
    if proc.poll() is not None:  # the proxy died: the browser must not go on without it
        browser.terminate()
        return proc.returncode
    if time.monotonic() - started < 3 and browser.returncode == 0:
        status.above(f"  the browser ended at once: is this profile ({profile}) open in another window? Close it first.")
    return _stop(proc)


def settings_from_args(a: argparse.Namespace) -> Settings:
    return Settings(out=a.out, specs=list(a.specs), hosts=list(a.host), portals=list(a.portal),
                    block_writes=not getattr(a, "forward_writes", False), write_reply=a.write_reply,
                    allow_write=list(a.allow_write), body_limit=a.body_limit, pseudonymize=list(a.pseudonymize))


def run_attach(a: argparse.Namespace) -> int:
    """``portalspec attach``: record from a running browser over the DevTools protocol until Ctrl-C or it closes."""
    from .attach import Attach
    from .cdp import CDPClient, browser_ws_url

    _interrupt_on_term()
    if not a.specs and not a.host:
        raise PortalspecError("nothing to record: give --specs DIR (their servers' hosts) or --host PATTERN")
    ws = browser_ws_url(a.cdp)
    _print_setup(a, f"portalspec attach: {a.cdp}, writing {a.out}")
    pipeline = Pipeline(settings_from_args(a), source="cdp", session={"cdp": a.cdp})
    status = StatusLine(every=a.status_every)
    client = CDPClient(ws)
    attach = Attach(client, pipeline, on_record=lambda: status.update(replace(pipeline.stats)))
    try:
        attach.start()
        status.above("  attached: recording every tab of this browser; detach with Ctrl-C (nothing is closed)")
        while not attach.wait(0.5):
            pass
        status.above("  the browser closed")
    except KeyboardInterrupt:
        pass
    finally:
        attach.detach()
        pipeline.close()
    status.update(replace(pipeline.stats))
    status.summary(a.out, a.specs)
    return 0
