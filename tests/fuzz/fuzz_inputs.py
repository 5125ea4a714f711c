"""Coverage-guided fuzz target (atheris) for the HAR and flow-file readers, redactor, spec loader and matcher.

    python tests/fuzz/fuzz_inputs.py -runs=5000 -max_len=4096

Every input must either work or fail with a PortalspecError naming the place; anything else is
a crash and atheris stops with the input that caused it.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from portalspec.errors import PortalspecError
    from portalspec.fixtures.entries import EntryError, normalise_har_entry
    from portalspec.importers.flows import iter_flows
    from portalspec.importers.har import iter_har
    from portalspec.matching.matcher import Call, Matcher
    from portalspec.redaction import Redactor
    from portalspec.shapes.drift import DriftChecker
    from portalspec.shapes.infer import SchemaAccumulator
    from portalspec.specs.loader import load_spec

ROOT = Path(__file__).resolve().parent.parent.parent
TMP = Path(tempfile.mkdtemp(prefix="portalspec-fuzz-"))
REDACTOR = Redactor(key=b"k" * 32)
MATCHER = None


def _matcher() -> Matcher:
    global MATCHER
    if MATCHER is None:
        MATCHER = Matcher(load_spec(ROOT / "specs" / "demo" / "openapi.yml").operations)
    return MATCHER


def one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    target = fdp.ConsumeIntInRange(0, 4)
    rest = fdp.ConsumeBytes(fdp.remaining_bytes())
    if target == 0:  # HAR reader + normalisation + redaction
        f = TMP / "in.har"
        f.write_bytes(b'{"log":{"entries":[' + rest + b"]}}" if rest[:1] != b"{" else rest)
        try:
            for _, raw in iter_har(f, lambda m: None):
                try:
                    REDACTOR.redact_entry(normalise_har_entry(raw))
                except EntryError:
                    pass
        except PortalspecError:
            pass
    elif target == 1:  # redactor on arbitrary text in every place
        text = rest.decode("utf-8", "replace")
        entry = {"request": {"method": "POST", "url": "https://h.example/a/" + text[:200] + "?q=" + text[:100],
                             "headers": [{"name": text[:20] or "x", "value": text}],
                             "postData": {"mimeType": "application/json", "text": text}},
                 "response": {"status": 200, "headers": [{"name": "Set-Cookie", "value": text}],
                              "content": {"mimeType": "text/html", "text": text}}}
        REDACTOR.redact_entry(entry)
        json.dumps(entry)
    elif target == 2:  # spec loader
        d = TMP / "spec"
        d.mkdir(exist_ok=True)
        (d / "openapi.yml").write_bytes(b"openapi: 3.0.1\n" + rest)
        try:
            spec = load_spec(d / "openapi.yml")
            Matcher(spec.operations).match(Call("GET", "https://h.example/x"))
            checker = DriftChecker()
            for op in spec.operations:
                for r in (op.responses or {}).values() if isinstance(op.responses, dict) else []:
                    checker.check(r if isinstance(r, dict) else {}, {"a": [1, None]}, "response", "response")
        except PortalspecError:
            pass
    elif target == 4:  # mitmproxy flow files
        f = TMP / "in.flows"
        f.write_bytes(rest)
        try:
            for _, entry in iter_flows(f, 4096, lambda m: None):
                REDACTOR.redact_entry(entry)
        except PortalspecError:
            pass
    else:  # matcher and schema inference
        text = rest.decode("utf-8", "replace")
        _matcher().match(Call(text[:6] or "GET", text[6:], text))
        acc = SchemaAccumulator()
        try:
            acc.add(json.loads(text))
        except (ValueError, RecursionError):
            acc.add(text)
        acc.schema()


def main() -> None:
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
