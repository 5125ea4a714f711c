"""Damaged input: a clear one-line message naming file and place; good entries kept."""

from __future__ import annotations

import base64
import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from portalspec.errors import PortalspecError
from portalspec.fixtures.store import CaptureReader
from portalspec.importers import import_file

from .canary import Canaries, har, portal_entry


def _entries(n: int) -> list[dict]:
    c = Canaries()
    out = []
    for i in range(n):
        e = portal_entry(c)
        e["request"]["url"] = f"https://admin.demo-portal.example/api/items/{i}"
        out.append(e)
    return out


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "portalspec.cli", *args], capture_output=True, text=True, timeout=120)


def test_truncated_har_keeps_the_good_entries(tmp_path: Path) -> None:
    text = json.dumps(har(_entries(5)))
    cut = text.index('"https://admin.demo-portal.example/api/items/4"')
    (tmp_path / "t.har").write_text(text[:cut])
    warnings: list[str] = []
    res = import_file(tmp_path / "t.har", tmp_path / "cap", warn=warnings.append, progress=False)
    assert res.imported == 4
    assert any("truncated" in w and "t.har" in w and "after entry 3" in w for w in warnings)
    urls = [e["request"]["url"] for e in CaptureReader(tmp_path / "cap")]
    assert urls == [f"https://admin.demo-portal.example/api/items/{i}" for i in range(4)]


def test_entries_with_wrong_types_are_skipped_by_name(tmp_path: Path) -> None:
    entries = _entries(3)
    entries.insert(1, {"request": {"url": "https://x.example/a"}})  # no method
    entries.insert(2, "not an object")
    entries[0]["response"]["status"] = "two hundred"
    entries[0]["request"]["headers"].append(["bad", "pair"])
    (tmp_path / "w.har").write_text(json.dumps(har(entries)))
    warnings: list[str] = []
    res = import_file(tmp_path / "w.har", tmp_path / "cap", warn=warnings.append, progress=False)
    assert res.imported == 3 and res.skipped == 2
    assert any("entry 1: request has no method" in w for w in warnings)
    assert any("entry 2: entry is not an object" in w for w in warnings)
    first = next(iter(CaptureReader(tmp_path / "cap")))
    assert first["response"]["status"] == 0
    assert any("not a number" in n for n in first["_portalspec"]["notes"])


def test_non_utf8_and_binary_bodies(tmp_path: Path) -> None:
    e = _entries(2)
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    e[0]["response"]["content"] = {"size": len(png), "mimeType": "image/png",
                                   "text": base64.b64encode(png).decode(), "encoding": "base64"}
    e[1]["response"]["content"] = {"size": 3, "mimeType": "text/plain", "text": "caf\u00e9 MARKER"}
    raw = json.dumps(har(e)).encode().replace("caf\\u00e9".encode(), b"caf\xe9")  # latin-1 byte inside the file
    (tmp_path / "n.har").write_bytes(raw)
    warnings: list[str] = []
    res = import_file(tmp_path / "n.har", tmp_path / "cap", warn=warnings.append, progress=False)
    assert res.imported == 2
    a, b = list(CaptureReader(tmp_path / "cap"))
    assert a["response"]["content"]["_binary"] is True and "text" not in a["response"]["content"]
    assert len(a["response"]["content"]["_sha256"]) == 64
    assert "caf\ufffd MARKER" in b["response"]["content"]["text"]
    assert any("entry 1" in w and "UTF-8" in w for w in warnings)


def test_huge_body_is_truncated_and_marked(tmp_path: Path) -> None:
    e = _entries(1)
    e[0]["response"]["content"]["text"] = json.dumps({"rows": ["x" * 100] * 30000})
    (tmp_path / "h.har").write_text(json.dumps(har(e)))
    import_file(tmp_path / "h.har", tmp_path / "cap", limit=64 * 1024, progress=False)
    entry = next(iter(CaptureReader(tmp_path / "cap")))
    assert entry["response"]["content"]["_truncated"] is True
    assert len(entry["response"]["content"]["text"]) <= 64 * 1024


def test_gzipped_har_is_read(tmp_path: Path) -> None:
    (tmp_path / "g.har.gz").write_bytes(gzip.compress(json.dumps(har(_entries(2))).encode()))
    assert import_file(tmp_path / "g.har.gz", tmp_path / "cap", progress=False).imported == 2


@pytest.mark.parametrize("content, expect", [
    (b"\x00\x01\x02binary", "not a HAR file"),
    (b'{"log": {"entries": [', "not a readable HAR"),
    (b"", "not a readable HAR"),
])
def test_unusable_files_give_one_line_errors(tmp_path: Path, content: bytes, expect: str) -> None:
    f = tmp_path / "bad.har"
    f.write_bytes(content)
    with pytest.raises(PortalspecError) as ei:
        import_file(f, tmp_path / "cap", progress=False)
    assert expect in str(ei.value) and "bad.har" in str(ei.value)
    r = _cli("import", str(f), "--out", str(tmp_path / "cap"))
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "bad.har" in r.stderr and "Traceback" not in r.stderr


def test_rerun_resumes_without_duplicates(tmp_path: Path) -> None:
    (tmp_path / "r.har").write_text(json.dumps(har(_entries(6))))
    import_file(tmp_path / "r.har", tmp_path / "cap", progress=False)
    # Simulate a kill after three entries: drop the rest and tear the last line.
    shard = tmp_path / "cap" / "entries-0001.jsonl"
    lines = shard.read_bytes().splitlines(keepends=True)
    shard.write_bytes(b"".join(lines[:3]) + lines[3][:50])
    res = import_file(tmp_path / "r.har", tmp_path / "cap", progress=False)
    assert res.resumed_after == 2 and res.imported == 3
    urls = [e["request"]["url"].rsplit("/", 1)[1] for e in CaptureReader(tmp_path / "cap")]
    assert urls == [str(i) for i in range(6)]


def test_flow_file_damaged(tmp_path: Path) -> None:
    f = tmp_path / "x.flows"
    f.write_bytes(b"12:not a tnetstring,")
    r = _cli("import", str(f), "--out", str(tmp_path / "cap"))
    assert r.returncode == 2 and "x.flows" in r.stderr and "Traceback" not in r.stderr


def test_har_reader_across_every_chunk_boundary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks end inside every kind of token (literals, numbers, escapes, multi-byte characters):
    the entries read must be exactly what a whole-file parse gives."""
    from portalspec.importers import har as har_mod

    entries = []
    for i in range(40):
        e = _entries(1)[0]
        e["response"]["content"]["text"] = json.dumps({"ok": True, "no": False, "nil": None, "n": -12.5e-3 * i,
                                                       "s": "caf\u00e9 \u2603 \\ \" \n" * (i % 3), "big": 10 ** 20})
        e["_flags"] = [True, False, None, i, -i, 1.5]
        entries.append(e)
    entries[3]["comment"] = "}\n    },\n{"  # looks like an entry's end to a layout guess
    doc = har(entries)
    layouts = {
        "one line": json.dumps(doc, ensure_ascii=False),
        "pretty (Chromium)": json.dumps(doc, ensure_ascii=False, indent=2),
        "tabs": json.dumps(doc, ensure_ascii=False, indent="\t"),
        "entry per line": '{"log":{"version":"1.2","entries":[\n'
                          + ",\n".join(json.dumps(e, ensure_ascii=False) for e in entries) + "\n]}}",
    }
    for layout, text in layouts.items():
        path = tmp_path / "c.har"
        path.write_text(text, encoding="utf-8")
        expected = json.loads(text)["log"]["entries"]
        for chunk in (1, 2, 3, 5, 7, 16, 61, 256, 1 << 20):
            monkeypatch.setattr(har_mod, "CHUNK", chunk)
            warnings: list[str] = []
            got = [(raw, raw_text) for _, raw, raw_text in har_mod.iter_har_texts(path, warnings.append)]
            assert not warnings, (layout, chunk, warnings)
            assert [g[0] for g in got] == expected, (layout, chunk)
            assert [json.loads(g[1]) for g in got] == expected, (layout, chunk)


@pytest.mark.parametrize("bom", [False, True])
def test_damage_is_reported_at_its_byte(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bom: bool) -> None:
    """The warning names the byte where the file stops being JSON, counted in the file (multi-byte
    characters and a byte-order mark before it included), whatever the chunk size."""
    import re

    from portalspec.importers import har as har_mod

    entries = _entries(3)
    entries[0]["comment"] = "caf\u00e9 \u2603 \U0001f600" * 50  # 2-, 3- and 4-byte characters
    good = json.dumps(har(entries), ensure_ascii=False, indent=2).encode()
    at = [m.start() for m in re.finditer(b'"request"', good)][2]  # in the third entry, after the characters
    body = (b"\xef\xbb\xbf" if bom else b"") + good[:at] + b"@" + good[at:]
    bad_at = at + (3 if bom else 0)
    (tmp_path / "d.har").write_bytes(body)
    for chunk in (1, 3, 64, 1000, 1 << 20):
        monkeypatch.setattr(har_mod, "CHUNK", chunk)
        warnings: list[str] = []
        got = list(har_mod.iter_har_texts(tmp_path / "d.har", warnings.append))
        assert len(got) == 2 and len(warnings) == 1, (chunk, warnings)
        near = int(re.search(r"near byte (\d+)", warnings[0]).group(1))  # type: ignore[union-attr]
        assert near == bad_at, (chunk, near, bad_at, warnings[0])
        assert body[near:near + 1] == b"@"


def test_file_cut_inside_a_character_at_its_end(tmp_path: Path) -> None:
    """The last bytes are the start of a multi-byte character: the reader reports the damage
    and keeps the entries before it (it must not wait for the rest of the character)."""
    entries = _entries(3)
    entries[2]["comment"] = "caf\u00e9"
    body = json.dumps(har(entries), ensure_ascii=False).encode()
    cut = body[: body.index("\u00e9".encode()) + 1]
    (tmp_path / "c.har").write_bytes(cut)
    warnings: list[str] = []
    res = import_file(tmp_path / "c.har", tmp_path / "cap", warn=warnings.append, progress=False)
    assert res.imported == 2 and len(warnings) == 1 and "truncated" in warnings[0], warnings


def test_har_reader_value_cut_at_every_offset() -> None:
    """The first read ends at every offset of an entry: a cut literal, number, escape or
    multi-byte character must make the reader read on, never report damage."""
    import io

    from portalspec.importers.har import _Text

    text = '{"a":true,"b":null,"c":-Infinity,"d":"\\u00e9x\\n","e":12.5e3,"f":false,"g":"caf\u00e9","h":[NaN]}'
    data = text.encode()

    class Cut(io.RawIOBase):
        def __init__(self, k: int) -> None:
            self.parts = [data[:k], data[k:]]

        def read(self, n: int = -1) -> bytes:
            return self.parts.pop(0) if self.parts else b""

    for k in range(1, len(data)):
        t = _Text(Cut(k))  # type: ignore[arg-type]
        obj, raw = t.value()
        assert raw == text, k
        assert json.dumps(obj) == json.dumps(json.loads(text)), k


@pytest.mark.parametrize("bad", [0, 700, 1999])
def test_parallel_import_reads_again_where_a_layout_guess_fails(tmp_path: Path, bad: int) -> None:
    """The parallel reader hands out entries cut by layout, unparsed. Entry ``bad`` is one per line
    except that its first line already ends with ``}`` (an inner object): the cut does not parse,
    and the import must read again from there, with proof, losing and repeating nothing. Warnings
    (invalid UTF-8 in entries before and after it) are each given once."""
    entries = _entries(2000)
    lines = [json.dumps(e) for e in entries]
    lines[bad] = '{"_x": {"y": 1}\n, ' + lines[bad][1:]
    for i in (bad // 2, (bad + 2000) // 2):
        lines[i] = '{"_note": "caf\\u00e9", ' + lines[i][1:]
    body = ('{"log": {"version": "1.2", "creator": {"name": "t", "version": "1"}, "entries": [\n'
            + ",\n".join(lines) + "\n]}}\n").encode().replace(b"caf\\u00e9", b"caf\xe9")
    (tmp_path / "g.har").write_bytes(body)
    warnings: list[str] = []
    res = import_file(tmp_path / "g.har", tmp_path / "cap", warn=warnings.append, progress=False, jobs=2)
    assert (res.imported, res.skipped) == (2000, 0)
    ids = [int(e["request"]["url"].rsplit("/", 1)[1]) for e in CaptureReader(tmp_path / "cap")]
    assert ids == list(range(2000))
    utf8 = sorted(w for w in warnings if "UTF-8" in w)
    assert len(utf8) == len({bad // 2, (bad + 2000) // 2}) and len(set(utf8)) == len(utf8), warnings
    assert len(warnings) == len(utf8), warnings
    serial_dir = tmp_path / "serial"
    import_file(tmp_path / "g.har", serial_dir, warn=lambda m: None, progress=False, jobs=1)
    assert [e["request"]["url"] for e in CaptureReader(serial_dir)] == \
        [e["request"]["url"] for e in CaptureReader(tmp_path / "cap")]
