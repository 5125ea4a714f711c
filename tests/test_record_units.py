"""Recorder pieces without a network: body decodings, websockets, scope rules, the record command's warnings."""

from __future__ import annotations

import argparse
import gzip
import json
import zlib
from pathlib import Path

import brotli
import pytest
import zstandard
from mitmproxy import websocket
from mitmproxy.test import taddons, tflow
from wsproto.frame_protocol import Opcode

from portalspec.fixtures.decoding import DecodeError, decode_content
from portalspec.fixtures.store import CaptureReader
from portalspec.record.addon import RecordAddon
from portalspec.record.pipeline import STATUS_PREFIX
from portalspec.record.scope import Scope

from .canary import Canaries

BODY = json.dumps({"value": [{"id": i, "name": f"n{i}"} for i in range(200)]}).encode()


@pytest.mark.parametrize("enc, data", [
    ("gzip", gzip.compress(BODY)), ("deflate", zlib.compress(BODY)), ("deflate", zlib.compress(BODY)[2:-4]),
    ("br", brotli.compress(BODY)), ("zstd", zstandard.ZstdCompressor().compress(BODY)),
    ("gzip, br", brotli.compress(gzip.compress(BODY))), ("identity", BODY),
])
def test_every_content_encoding_is_undone(enc: str, data: bytes) -> None:
    out, truncated = decode_content(data, enc, 10 * 1024 * 1024)
    assert out == BODY and not truncated


def test_bad_compressed_bodies_are_clear_errors() -> None:
    for enc in ("gzip", "br", "zstd", "deflate"):
        with pytest.raises(DecodeError):
            decode_content(b"not compressed at all", enc, 1024)
    with pytest.raises(DecodeError, match="unknown content-encoding"):
        decode_content(b"x", "snappy", 1024)


def test_websocket_traffic_is_noted_and_redacted(tmp_path: Path) -> None:
    c = Canaries()
    rec = RecordAddon()
    with taddons.context(rec) as tctx:
        tctx.configure(rec, portalspec_host=["example.com"], portalspec_out=str(tmp_path / "cap"))
        f = tflow.twebsocketflow()
        f.websocket.messages = [websocket.WebSocketMessage(Opcode.TEXT, True, json.dumps({"auth": c.jwt_token}).encode()),
                                *[websocket.WebSocketMessage(Opcode.TEXT, i % 2 == 0, f"msg {i}".encode()) for i in range(30)]]
        rec.requestheaders(f)
        rec.websocket_end(f)
        rec.done()
    (entry,) = list(CaptureReader(tmp_path / "cap"))
    assert entry["_portalspec"]["websocket"] is True and entry["_webSocketMessageCount"] == 31
    assert len(entry["_webSocketMessages"]) == 20  # the first messages, redacted
    assert "<redacted:jwt:" in entry["_webSocketMessages"][0]["data"]
    assert c.leaks([tmp_path]) == []


def test_scope_rules() -> None:
    s = Scope.build([r"security\.microsoft\.com", r"[a-z0-9-]+\.crm\.dynamics\.com", "[^/]+"], ["*.contoso.example"], [])
    assert s.host_in_scope("security.microsoft.com") and s.host_in_scope("org1.crm.dynamics.com")
    assert s.host_in_scope("api.contoso.example") and not s.host_in_scope("www.google.com")  # {relayHost} is not "every host"
    assert not s.host_in_scope("browser.events.data.microsoft.com")
    assert s.is_asset("/static/app.js", None, None) and s.is_asset("/x", "script", None)
    assert s.is_asset("/api/x", None, "image/png") and s.is_asset("/api/v2/track", None, None)
    assert not s.is_asset("/api/users", "empty", "application/json")
    only = Scope.build([r"security\.microsoft\.com", r"purview\.microsoft\.com"], [], ["purview"])
    assert only.host_in_scope("purview.microsoft.com") and not only.host_in_scope("security.microsoft.com")


class FakeProxy:
    """Stands in for mitmdump: prints the status lines the addon prints, then ends."""

    def __init__(self, argv: list[str], *stats: dict[str, int]) -> None:
        import io

        self.argv = argv
        lines = [f"{STATUS_PREFIX}{json.dumps(s)}\n" for s in stats or ({"calls": 0},)]
        self.stdout = io.StringIO("".join(lines) + "some other mitmdump output\n")
        self.returncode: int | None = None

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        self.returncode = 0
        return 0

    def send_signal(self, sig: int) -> None:
        self.returncode = 0


def test_record_command_warns_and_proposes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    import portalspec.record.command as cmd

    calls: list[list[str]] = []
    monkeypatch.setattr(cmd, "start_proxy", lambda argv: calls.append(argv) or FakeProxy(argv))
    root = Path(__file__).resolve().parent.parent
    base = dict(out=str(tmp_path / "c"), specs=[str(root / "specs" / "demo")], host=[], portal=[], allow_write=[],
                listen="127.0.0.1:8080", confdir=str(tmp_path / "conf"), pseudonymize=[], body_limit=1024,
                write_reply="spec", status_every=0)
    assert cmd.run_record(argparse.Namespace(**base, block_writes=False, forward_writes=True)) == 0
    out = capsys.readouterr()
    assert "--forward-writes" in out.err and "WILL change the tenant" in out.err
    assert "--proxy-server=http://127.0.0.1:8080" in out.out and str(tmp_path / "conf" / "mitmproxy-ca-cert.pem") in out.out
    assert cmd.run_record(argparse.Namespace(**base, block_writes=False, forward_writes=False)) == 0  # the default
    out = capsys.readouterr()
    assert "WILL change the tenant" not in out.err and "block-writes is ON" in out.out
    assert "--allow-write 'POST /api/reports/query'" in out.out  # Reports.Query reads, proposed from the spec
    assert "portalspec_block_writes=true" in calls[1] and "portalspec_block_writes=false" in calls[0]


def test_printed_browser_command_pins_the_proxy_ca(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Run as printed, Chromium trusts mitmproxy's CA through its SPKI pin (no CA installed anywhere)."""
    import portalspec.record.command as cmd
    from tests.portal import make_tls
    from tests.test_record_browser import spki_hash

    monkeypatch.setattr(cmd, "start_proxy", FakeProxy)
    conf = tmp_path / "conf"
    conf.mkdir()
    ca, _, _ = make_tls(tmp_path)
    (conf / "mitmproxy-ca-cert.pem").write_bytes(ca.read_bytes())
    base = dict(out=str(tmp_path / "c"), specs=[], host=["x.example"], portal=[], allow_write=[], listen="127.0.0.1:8080",
                confdir=str(conf), pseudonymize=[], body_limit=1024, write_reply="spec", block_writes=False,
                forward_writes=False, status_every=0)
    assert cmd.run_record(argparse.Namespace(**base)) == 0
    assert f"--ignore-certificate-errors-spki-list={spki_hash(ca)}" in capsys.readouterr().out


def test_live_status_and_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    """mitmdump's status lines become plain lines off a terminal, one refreshed line on one; then the summary."""
    import io

    import portalspec.record.command as cmd
    from portalspec.record.pipeline import Stats
    from portalspec.record.status import StatusLine

    figures = [dict(calls=1, matched=1), dict(calls=2, matched=1, undocumented=1, redacted=4),
               dict(calls=3, matched=2, undocumented=1, blocked=1, redacted=9)]
    monkeypatch.setattr(cmd, "start_proxy", lambda argv: FakeProxy(argv, *figures))
    a = argparse.Namespace(out=str(tmp_path / "c"), specs=["specs/demo"], host=[], portal=[], allow_write=[],
                           listen="127.0.0.1:8080", confdir=str(tmp_path / "conf"), pseudonymize=[], body_limit=1024,
                           write_reply="spec", forward_writes=False, status_every=0)
    assert cmd.run_record(a) == 0
    out = capsys.readouterr().out
    assert "  2 calls in scope, 1 matched, 1 undocumented, 0 writes blocked, 4 secrets redacted" in out
    assert "some other mitmdump output" in out  # passed on
    assert "recorded: 3 calls in scope, 2 matched, 1 undocumented, 1 writes blocked, 9 secrets redacted" in out
    assert f"next: portalspec report {tmp_path / 'c'} --specs specs/demo --out reports/c" in out

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Tty()
    line = StatusLine(tty, every=3600)
    for f in figures:
        line.update(Stats(**f))
    assert tty.getvalue().count("\r\x1b[K") == 3 and "\n" not in tty.getvalue()  # one line, refreshed in place
    plain = io.StringIO()
    line = StatusLine(plain, every=3600)
    for f in figures:
        line.update(Stats(**f))
    assert plain.getvalue().count("\n") == 1  # at most one line per period off a terminal
