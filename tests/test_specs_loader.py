"""Spec loading: multi-file $refs, cycles, broken references, lint warnings, the on-disk cache."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import yaml

from portalspec.specs.index import SpecIndex
from portalspec.specs.loader import load_spec


def _write(p: Path, doc: dict) -> None:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(yaml.safe_dump(doc, sort_keys=False))


def test_multi_file_refs_escapes_and_cycles(tmp_path: Path) -> None:
    _write(tmp_path / "s" / "openapi.yml", {
        "openapi": "3.0.1", "info": {"title": "t", "version": "1"}, "servers": [{"url": "https://h.example"}],
        "paths": {"/a/{id}": {"$ref": "paths%20file.yml#/paths/~1a~1{id}"}},
    })
    _write(tmp_path / "s" / "paths file.yml", {"paths": {"/a/{id}": {"get": {
        "operationId": "A.get",
        "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "common.yml#/components/schemas/Node"}}}}}}}}})
    _write(tmp_path / "s" / "common.yml", {"components": {"schemas": {"Node": {
        "type": "object", "properties": {"child": {"$ref": "#/components/schemas/Node"}, "name": {"type": "string"}}}}}})
    spec = load_spec(tmp_path / "s" / "openapi.yml")
    assert spec.errors == []
    op = spec.operations[0]
    node = op.responses["200"]["content"]["application/json"]["schema"]
    assert node["properties"]["child"] is node  # the cycle is a cycle, not an infinite copy
    assert op.source_file.endswith("paths file.yml") and op.source_pointer == "#/paths/~1a~1{id}/get"


def test_broken_ref_names_file_and_pointer_and_others_load(tmp_path: Path) -> None:
    _write(tmp_path / "bad" / "openapi.yml", {
        "openapi": "3.0.1", "info": {"title": "bad", "version": "1"},
        "paths": {"/x": {"get": {"responses": {"200": {"$ref": "common.yml#/components/responses/Missing"}}}},
                  "/y": {"$ref": "nofile.yml#/paths/~1y"}},
    })
    _write(tmp_path / "bad" / "common.yml", {"components": {"responses": {}}})
    _write(tmp_path / "good" / "openapi.yml", {
        "openapi": "3.0.1", "info": {"title": "good", "version": "1"},
        "paths": {"/z": {"get": {"responses": {"200": {"description": "ok"}}}}},
    })
    ix = SpecIndex.load([tmp_path], use_cache=False)
    bad = next(s for s in ix.specs if s.title == "bad")
    good = next(s for s in ix.specs if s.title == "good")
    assert len(good.operations) == 1 and good.errors == []
    assert any("common.yml" in e and "#/components/responses/Missing" in e and "openapi.yml" in e for e in bad.errors)
    assert any("nofile.yml" in e for e in bad.errors)
    r = subprocess.run([sys.executable, "-m", "portalspec.cli", "specs", str(tmp_path), "--no-cache"],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "Missing" in r.stdout and "Traceback" not in r.stderr


def test_invalid_yaml_is_one_line_with_position(tmp_path: Path) -> None:
    (tmp_path / "openapi.yml").write_text("openapi: 3.0.1\ninfo: {title: x\npaths: {}\n")
    r = subprocess.run([sys.executable, "-m", "portalspec.cli", "specs", str(tmp_path), "--no-cache"],
                       capture_output=True, text=True)
    assert "openapi.yml" in r.stdout + r.stderr and "line" in r.stdout + r.stderr and "Traceback" not in r.stderr


def test_nodoc_lint_and_cache(nodoc: Path, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PORTALSPEC_CACHE", str(tmp_path / "cache"))
    t = time.perf_counter()
    first = SpecIndex.load([nodoc])
    cold = time.perf_counter() - t
    second = SpecIndex.load([nodoc])
    assert not first.from_cache and second.from_cache
    assert len(second.operations) == 1941 == sum(len(s.operations) for s in second.specs)
    defender = next(s for s in second.specs if s.name == "defender-xdr")
    assert any("VulnerabilityManagement.ListChangeEvents" in w for w in defender.warnings)
    assert cold > 0
    r = subprocess.run([sys.executable, "-m", "portalspec.cli", "specs", str(nodoc)], capture_output=True, text=True,
                       env={**__import__("os").environ, "PORTALSPEC_CACHE": str(tmp_path / "cache")})
    assert r.returncode == 0 and "20 specs, 1941 operations (from cache)" in r.stdout


def test_cache_invalidated_when_a_file_changes(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PORTALSPEC_CACHE", str(tmp_path / "cache"))
    doc = {"openapi": "3.0.1", "info": {"title": "c", "version": "1"},
           "paths": {"/a": {"$ref": "p.yml#/paths/~1a"}}}
    _write(tmp_path / "s" / "openapi.yml", doc)
    _write(tmp_path / "s" / "p.yml", {"paths": {"/a": {"get": {"responses": {}}}}})
    assert len(SpecIndex.load([tmp_path / "s"]).operations) == 1
    _write(tmp_path / "s" / "p.yml", {"paths": {"/a": {"get": {"responses": {}}, "post": {"responses": {}}}}})
    ix = SpecIndex.load([tmp_path / "s"])
    assert not ix.from_cache and len(ix.operations) == 2


def test_cli_help_for_every_command() -> None:
    for cmd in ("import", "export", "match", "report", "record", "diff", "specs", "scan", "update-spec", "demo"):
        r = subprocess.run([sys.executable, "-m", "portalspec.cli", cmd, "--help"], capture_output=True, text=True)
        assert r.returncode == 0 and "usage: portalspec " + cmd in r.stdout
    r = subprocess.run([sys.executable, "-m", "portalspec.cli", "--help"], capture_output=True, text=True)
    assert "never replays" in r.stdout


def test_parsed_spec_files_are_cached_by_content(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A spec file read again unchanged is not parsed again; a changed one is; a broken cache file is passed
    over; a file that does not parse is not cached and says so each time."""
    import pytest

    from portalspec.errors import PortalspecError
    from portalspec.specs import loader

    monkeypatch.setenv("PORTALSPEC_CACHE", str(tmp_path / "cache"))
    f = tmp_path / "p.yml"
    f.write_text("paths:\n  /a:\n    get:\n      responses: {}\nenum: [On, Paused, 2024-01-01]\n")
    first = loader.load_document(f)
    assert first["enum"] == ["On", "Paused", "2024-01-01"]  # YAML 1.2 rules, kept through the cache
    calls = []
    real = loader.yaml.load
    monkeypatch.setattr(loader.yaml, "load", lambda *a, **k: calls.append(1) or real(*a, **k))
    assert loader.load_document(f) == first and calls == []
    f.write_text(f.read_text().replace("/a:", "/b:"))
    assert "/b" in loader.load_document(f)["paths"] and calls == [1]
    for cached in (tmp_path / "cache" / "docs").glob("*.pickle"):
        cached.write_bytes(b"not a pickle")
    assert "/b" in loader.load_document(f)["paths"] and calls == [1, 1]
    f.write_text("paths: {a: [\n")
    for _ in range(2):
        with pytest.raises(PortalspecError, match="invalid YAML"):
            loader.load_document(f)
    assert len(calls) == 4
