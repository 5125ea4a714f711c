"""``portalspec``: the command line. Each subcommand is a thin layer over one module."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Callable

from . import __version__
from .errors import PortalspecError

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _size(value: str) -> int:
    v = value.strip().lower()
    mult = {"k": 1024, "m": 1024**2, "g": 1024**3}.get(v[-1:], 1)
    try:
        return int(float(v.rstrip("kmgib") or "0") * mult)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {value!r} (e.g. 1M, 512k)") from None


def _warn(msg: str) -> None:
    print(f"warning: {msg}", file=sys.stderr)


# -- import / export ---------------------------------------------------------------------------
def cmd_import(a: argparse.Namespace) -> int:
    from .importers import import_file

    total = 0
    for f in a.files:
        res = import_file(f, a.out, pseudonymize=a.pseudonymize, limit=a.body_limit, warn=_warn, jobs=a.jobs,
                          specs=a.specs)
        resumed = f" (resumed after entry {res.resumed_after})" if res.resumed_after >= 0 else ""
        print(f"{f}: {res.imported} entries imported into {a.out}{resumed}"
              + (f", {res.skipped} skipped" if res.skipped else "") + (f", {res.warnings} warnings" if res.warnings else ""))
        total += res.imported
    return EXIT_OK


def cmd_export(a: argparse.Namespace) -> int:
    from .fixtures import export_har

    n = export_har(a.capture, a.output, warn=_warn)
    print(f"{a.output}: {n} entries (HAR 1.2)")
    return EXIT_OK


# -- specs / match -----------------------------------------------------------------------------
def _index(paths: list[str], no_cache: bool = False) -> Any:
    from .specs.index import SpecIndex

    if not paths:
        raise PortalspecError("no specs given (use --specs DIR)")
    from .specs.index import tell_spec_errors

    index = SpecIndex.load(paths, use_cache=not no_cache, warn=_warn, freeze=True)
    tell_spec_errors(index, _warn)
    return index


def cmd_specs(a: argparse.Namespace) -> int:
    index = _index(a.paths, a.no_cache)
    rows = []
    for s in index.specs:
        servers = sorted({srv.url for op in s.operations for srv in op.servers} | {srv.url for srv in s.servers})
        rows.append({"spec": s.name, "title": s.title, "root": s.root, "operations": len(s.operations),
                     "servers": servers, "warnings": s.warnings, "errors": s.errors})
    if a.json:
        print(json.dumps(rows, indent=2))
    else:
        for r in rows:
            print(f"{r['spec']}: {r['title']} ({r['operations']} operations, {len(r['servers'])} servers)  {r['root']}")
            for srv in r["servers"][:5]:
                print(f"    server  {srv}")
            if len(r["servers"]) > 5:
                print(f"    server  ... {len(r['servers']) - 5} more")
            for w in r["warnings"]:
                print(f"    warning {w}")
            for e in r["errors"]:
                print(f"    error   {e}")
        total = sum(r["operations"] for r in rows)
        print(f"{len(rows)} specs, {total} operations{' (from cache)' if index.from_cache else ''}")
    return EXIT_FINDINGS if any(r["errors"] for r in rows) else EXIT_OK


def cmd_match(a: argparse.Namespace) -> int:
    from .fixtures.store import CaptureReader
    from .matching.calls import match_entries, match_record

    index = _index(a.specs, a.no_cache)
    totals: Counter[str] = Counter()
    by_spec: Counter[str] = Counter()
    out = sys.stdout
    for cap in a.captures:
        reader = CaptureReader(cap, warn=_warn)
        rewrite = _Rewriter(Path(cap)) if a.write else None
        for entry, m in match_entries(index.matcher, reader):
            rec = match_record(entry, m)
            totals["calls"] += 1
            totals["matched" if m.matched else (m.reason or "undocumented")] += 1
            if m.op:
                by_spec[m.op.spec] += 1
            if a.jsonl:
                out.write(json.dumps(rec, ensure_ascii=False) + "\n")
            else:
                label = f"{m.op.spec}:{m.op.label}" if m.op else f"- {m.reason}" + (f" (nearest: {m.nearest})" if m.nearest else "")
                out.write(f"{m.method:6} {_short(m.url):70} {label}\n")
            if rewrite:
                entry.setdefault("_portalspec", {})["match"] = {k: v for k, v in rec.items() if k not in ("started", "url", "method")}
                rewrite.add(entry)
        if rewrite:
            rewrite.commit()
    if not a.jsonl:
        undoc = totals["calls"] - totals["matched"]
        print(f"\n{totals['calls']} calls: {totals['matched']} matched, {undoc} not matched "
              + "(" + ", ".join(f"{k} {v}" for k, v in sorted(totals.items()) if k not in ("calls", "matched")) + ")")
        for spec, n in by_spec.most_common():
            print(f"  {spec}: {n}")
    return EXIT_OK


def _short(url: str, n: int = 70) -> str:
    return url if len(url) <= n else url[: n - 1] + "…"


class _Rewriter:
    """Rewrites a capture's shards with updated entries (temp file + rename per shard)."""

    def __init__(self, cap: Path) -> None:
        from .fixtures.store import CaptureWriter

        self.cap = cap
        self.tmp = cap.parent / f".{cap.name}.rewrite"
        if self.tmp.exists():
            import shutil

            shutil.rmtree(self.tmp)
        self.writer = CaptureWriter(self.tmp, kind="match", fsync="batch")

    def add(self, entry: dict[str, Any]) -> None:
        from .fixtures.store import serialise

        self.writer.append_line(serialise(entry))  # the entry keeps its own capture session id

    def commit(self) -> None:
        import shutil

        self.writer.close()
        new = sorted(self.tmp.glob("entries-*.jsonl"))
        old = sorted(self.cap.glob("entries-*.jsonl"))
        for p in new:
            os.replace(p, self.cap / p.name)
        for p in old[len(new):]:
            p.unlink()
        shutil.rmtree(self.tmp)


# -- the rest ----------------------------------------------------------------------------------
def cmd_report(a: argparse.Namespace) -> int:
    from .report.run import run_report

    return run_report(a)


def cmd_record(a: argparse.Namespace) -> int:
    from .record.command import run_record

    return run_record(a)


def cmd_attach(a: argparse.Namespace) -> int:
    from .record.command import run_attach

    return run_attach(a)


def cmd_diff(a: argparse.Namespace) -> int:
    from .shapes.capdiff import run_diff

    return run_diff(a)


def cmd_scan(a: argparse.Namespace) -> int:
    from .redaction.scan import run_scan

    return run_scan(a)


def cmd_demo(a: argparse.Namespace) -> int:
    from .report.run import run_demo

    return run_demo(a)


def cmd_update_spec(a: argparse.Namespace) -> int:
    from .specwrite.apply import run_update_spec

    return run_update_spec(a)


def _capture_args(sp: argparse.ArgumentParser) -> None:
    """The options every recording transport takes (record through the proxy, attach over CDP)."""
    sp.add_argument("--out", "-o", required=True, metavar="CAPDIR")
    sp.add_argument("--specs", action="append", default=[], metavar="DIR", help="specs whose servers set the recording scope")
    sp.add_argument("--portal", action="append", default=[], metavar="FAMILY", help="record only these portal families")
    sp.add_argument("--host", action="append", default=[], metavar="PATTERN", help="also record these host patterns (fnmatch)")
    sp.add_argument("--block-writes", action="store_true",
                    help="answer POST/PUT/PATCH/DELETE locally, never forward them (the default; kept for scripts)")
    sp.add_argument("--forward-writes", action="store_true",
                    help="let writes reach the portal: each one is a real change to a real tenant")
    sp.add_argument("--write-reply", choices=("spec", "409"), default="spec",
                    help="how a blocked write is answered: the operation's documented success so the page goes on "
                         "(spec, the default), or a 409 refusal")
    sp.add_argument("--allow-write", action="append", default=[], metavar="PATTERN",
                    help="let these writes through (METHOD /path glob, e.g. 'POST */search*')")
    sp.add_argument("--pseudonymize", type=_csv, default=[], metavar="KINDS")
    sp.add_argument("--body-limit", type=_size, default=1024 * 1024, metavar="SIZE")
    sp.add_argument("--status-every", type=float, default=10.0, metavar="SECONDS",
                    help="when not on a terminal: print the session's figures this often (default 10)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="portalspec",
        description="Record, redact, match and report web-portal API traffic against OpenAPI specs. "
        "portalspec never replays a call: the only traffic it sends is the browser's own, passed through.",
    )
    p.add_argument("--version", action="version", version=f"portalspec {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, fn: Callable[[argparse.Namespace], int], help: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help, description=help)
        sp.set_defaults(func=fn)
        return sp

    sp = add("import", cmd_import, "Import a browser HAR or a mitmproxy flow file into a redacted capture folder.")
    sp.add_argument("files", nargs="+", metavar="FILE", help="HAR (.har, .har.gz, .json) or mitmproxy flows (.flows, .mitm)")
    sp.add_argument("--specs", action="append", default=[], metavar="DIR",
                    help="scan the scripts in the file for these specs' routes (faster); without, for every "
                         "path-like literal (the report keeps the routes the specs know)")
    sp.add_argument("--out", "-o", required=True, metavar="CAPDIR", help="capture folder to write (created if missing)")
    sp.add_argument("--pseudonymize", type=_csv, default=[], metavar="KINDS",
                    help="also replace PII with stable pseudonyms: upn,email,tenant")
    sp.add_argument("--body-limit", type=_size, default=1024 * 1024, metavar="SIZE",
                    help="keep bodies up to SIZE (default 1M); longer ones are truncated and marked")
    sp.add_argument("--jobs", "-j", type=int, default=None, metavar="N",
                    help="worker processes (default: 2 for files over 16 MB when 2 cores are free, else 1)")

    sp = add("export", cmd_export, "Export a capture folder as one standard HAR 1.2 file.")
    sp.add_argument("capture", metavar="CAPDIR")
    sp.add_argument("-o", "--output", required=True, metavar="FILE.har")

    sp = add("specs", cmd_specs, "List the operations, servers and lint warnings of OpenAPI specs.")
    sp.add_argument("paths", nargs="+", metavar="DIR_OR_FILE")
    sp.add_argument("--json", action="store_true", help="machine-readable output")
    sp.add_argument("--no-cache", action="store_true", help="do not read or write the on-disk spec index cache (parsed spec files stay cached by their content, which cannot go stale)")

    sp = add("match", cmd_match, "Match every call of captures to one OpenAPI operation, or say why not.")
    sp.add_argument("captures", nargs="+", metavar="CAPDIR")
    sp.add_argument("--specs", action="append", default=[], required=True, metavar="DIR", help="spec folder or file (repeatable)")
    sp.add_argument("--jsonl", action="store_true", help="one JSON object per call, in capture order")
    sp.add_argument("--write", action="store_true", help="store each match in the fixture's _portalspec extension")
    sp.add_argument("--no-cache", action="store_true", help="do not use the on-disk spec index cache (parsed spec files stay cached by their content, which cannot go stale)")

    sp = add("report", cmd_report, "Report undocumented endpoints, drift, mutations and coverage (md, html, json, sarif).")
    sp.add_argument("captures", nargs="+", metavar="CAPDIR")
    sp.add_argument("--specs", action="append", default=[], required=True, metavar="DIR")
    sp.add_argument("--out", "-o", required=True, metavar="REPORTDIR")
    sp.add_argument("--format", type=_csv, default=["md", "html", "json", "sarif"], metavar="FORMATS",
                    help="comma-separated: md,html,json,sarif (default all)")
    sp.add_argument("--fail-on", type=_csv, default=[], metavar="CATEGORIES",
                    help="exit 1 when any of these has findings: undocumented,drift,blocked,ambiguous,errors,spec_errors")
    sp.add_argument("--jobs", "-j", type=int, default=None, metavar="N",
                    help="worker processes (default: 2 for captures over 48 MB when 2 cores are free, else 1)")
    sp.add_argument("--flow-gap", type=float, default=60.0, metavar="SECONDS",
                    help="an idle gap this long on a page ends a write flow (default 60)")
    sp.add_argument("--no-flows", action="store_true", help="do not group calls into write flows")
    sp.add_argument("--include-code-routes", action="store_true",
                    help="the spec update also proposes routes found only in the portal's code, labelled "
                         "provenance bundle-analysis (never as confirmed traffic)")
    sp.add_argument("--no-cache", action="store_true")

    sp = add("record", cmd_record, "Record redacted fixtures through mitmdump; with --browser, start the browser too.")
    _capture_args(sp)
    sp.add_argument("--listen", default="127.0.0.1:8080", metavar="HOST:PORT")
    sp.add_argument("--confdir", metavar="DIR", help="mitmproxy confdir (CA certificate); default ~/.mitmproxy")
    sp.add_argument("--browser", choices=("chromium", "chrome", "msedge"),
                    help="start this browser on the proxy (its CA trusted by pin, no CA install); stop when it closes")
    sp.add_argument("--profile", default="default", metavar="NAME",
                    help="with --browser: the persistent browser profile to use (sign-in survives between sessions)")
    sp.add_argument("--url", metavar="URL", help="with --browser: the page to open (default: the first page the specs "
                                                 "list in x-nodoc-live-capture.browsedPages)")
    sp.add_argument("--browser-arg", action="append", default=[], metavar="ARG",
                    help="with --browser: one more browser argument (repeatable, e.g. --browser-arg=--headless)")
    sp.add_argument("--set", dest="mitm_set", action="append", default=[], metavar="OPTION=VALUE",
                    help="a mitmproxy option for the proxy (repeatable, e.g. ssl_verify_upstream_trusted_ca=FILE)")

    sp = add("attach", cmd_attach, "Record from a browser you already run, over the DevTools protocol (no proxy, no CA).")
    sp.add_argument("--cdp", default="http://127.0.0.1:9222", metavar="URL",
                    help="the browser's remote-debugging address (started with --remote-debugging-port=9222)")
    _capture_args(sp)

    sp = add("diff", cmd_diff, "What changed between two captures: endpoints, properties, types, statuses.")
    sp.add_argument("old", metavar="OLD_CAPDIR")
    sp.add_argument("new", metavar="NEW_CAPDIR")
    sp.add_argument("--specs", action="append", default=[], metavar="DIR")
    sp.add_argument("--json", action="store_true")

    sp = add("scan", cmd_scan, "Scan a capture or HAR for anything that looks like a live secret; exit 1 on a suspect.")
    sp.add_argument("paths", nargs="+", metavar="CAPDIR_OR_HAR")

    sp = add("update-spec", cmd_update_spec, "Apply a report's spec-update overlay to the spec files.")
    sp.add_argument("overlay", metavar="OVERLAY.yaml")
    sp.add_argument("--specs", action="append", default=[], required=True, metavar="DIR")
    sp.add_argument("--in-place", action="store_true",
                    help="edit the spec files (new lines spliced in; without it the unified diff is printed)")
    sp.add_argument("--new-specs", metavar="DIR",
                    help="also write new spec folders (DIR/nodoc-NAME/specification/openapi.yml) for hosts no spec "
                         "serves, from the report.json beside the overlay")
    sp.add_argument("--no-validate", action="store_true", help="skip the openapi-core spec validation before writing")

    sp = add("demo", cmd_demo, "Run the main job on the bundled demo spec and capture.")
    sp.add_argument("--root", default=".", help="project root holding specs/demo and captures/demo")
    sp.add_argument("--rebuild-capture", action="store_true", help="re-import captures/demo from the built-in demo HAR")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except PortalspecError as e:
        print(f"portalspec: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("portalspec: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
