"""The portal's JavaScript bundles as a capture keeps them: per bundle its URL, size, sha256 and route
candidates, in ``code-routes.jsonl`` beside the entries; never the bundle's text.

A bundle is scanned once per capture (by hash). Its URL and page are redacted like a call's, and each
candidate's template goes through the redactor's text rules, so a key written into the code does not
reach the disk either.
"""

from __future__ import annotations

import hashlib
import os
import queue
import threading
from pathlib import Path
from typing import Any, Callable, Iterator

from .. import jsoncodec
from .extract import Extractor

FILE = "code-routes.jsonl"
_JS_MIME = ("javascript", "ecmascript")
_JS_EXT = (".js", ".mjs", ".cjs")


def is_javascript(mime: str | None, url: str, dest: str | None = None) -> bool:
    """A script: by content type, by fetch destination, or by a ``.js`` path when neither says."""
    if mime and any(m in mime.lower() for m in _JS_MIME):
        return True
    if dest and dest.lower() == "script":
        return True
    path = url.split("?", 1)[0].split("#", 1)[0].lower()
    return not mime and path.endswith(_JS_EXT)


def script_of(raw: Any) -> tuple[bytes, str | None] | None:
    """A HAR entry that is a script saved with its content: ``(its bytes, the page that loaded it)``."""
    if not isinstance(raw, dict):
        return None
    req, resp = raw.get("request"), raw.get("response")
    if not isinstance(req, dict) or not isinstance(resp, dict) or not isinstance(resp.get("content"), dict):
        return None
    content = resp["content"]
    text = content.get("text")
    if not isinstance(text, str) or not text or not isinstance(req.get("url"), str):
        return None
    dest = "script" if str(raw.get("_resourceType", "")).lower() == "script" else None
    if not is_javascript(content.get("mimeType"), req["url"], dest):
        return None
    if content.get("encoding") == "base64":
        import base64
        import binascii

        try:
            data = base64.b64decode(text, validate=False)
        except (binascii.Error, ValueError):
            return None
    else:
        data = text.encode("utf-8", "surrogatepass")
    headers = hs if isinstance(hs := req.get("headers"), list) else []
    page = next((h.get("value") for h in headers if isinstance(h, dict) and str(h.get("name", "")).lower() == "referer"), None)
    if page is None and isinstance(raw.get("_initiator"), dict):
        page = raw["_initiator"].get("url")
    return data, page if isinstance(page, str) else None


def bundle_record(url: str, page: str | None, data: bytes, extractor: Extractor,
                  redact_url: Callable[[str], str], redact_text: Callable[[str], str],
                  sha256: str | None = None) -> dict[str, Any]:
    """What a capture keeps of one bundle (``sha256``: its hash, when the caller has it already)."""
    candidates = []
    for c in extractor.extract(data):
        d = c.as_dict()
        d["template"] = redact_text(c.template)
        candidates.append(d)
    return {"url": redact_url(url), "page": redact_url(page) if page else None, "size": len(data),
            "sha256": sha256 or hashlib.sha256(data).hexdigest(), "candidates": candidates}


class BundleLog:
    """Appends bundle records to a capture's ``code-routes.jsonl``, each hash once."""

    def __init__(self, capture: str | Path) -> None:
        self.path = Path(capture) / FILE
        self.seen = {b["sha256"] for b in read_bundles(capture)}
        self._lock = threading.Lock()

    def known(self, sha256: str) -> bool:
        return sha256 in self.seen

    def add(self, record: dict[str, Any]) -> bool:
        with self._lock:
            if record["sha256"] in self.seen:
                return False
            self.seen.add(record["sha256"])
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, jsoncodec.dumps(record) + b"\n")
            finally:
                os.close(fd)
            return True


def read_bundles(capture: str | Path, warn: Callable[[str], None] | None = None) -> Iterator[dict[str, Any]]:
    path = Path(capture) / FILE
    if not path.exists():
        return
    with open(path, "rb") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = jsoncodec.loads(line)
            except ValueError:
                if warn:
                    warn(f"{path}: line {n}: not a JSON object (a torn write?); skipped")
                continue
            if isinstance(rec, dict) and isinstance(rec.get("sha256"), str):
                yield rec


class BundleScanner:
    """Scans bundles in a worker thread, after the response has gone on to the browser."""

    def __init__(self, capture: str | Path, extractor: Extractor, redact_url: Callable[[str], str],
                 redact_text: Callable[[str], str], lock: threading.Lock,
                 on_error: Callable[[str], None] | None = None, on_scanned: Callable[[], None] | None = None) -> None:
        """``lock``: held while redacting (the redactor is the session's, shared with the calls)."""
        self.log = BundleLog(capture)
        self.extractor = extractor
        self._redact = (redact_url, redact_text)
        self._lock = lock
        self._queue: queue.Queue[tuple[str, str | None, bytes, str] | None] = queue.Queue(maxsize=64)
        self._on_error = on_error or (lambda m: None)
        self._on_scanned = on_scanned or (lambda: None)
        self.scanned = 0
        self._thread = threading.Thread(target=self._run, name="portalspec-bundles", daemon=True)
        self._thread.start()

    def submit(self, url: str, page: str | None, raw: bytes, encoding: str = "") -> None:
        """Hand over a bundle's bytes as they came (``encoding``: its Content-Encoding, decoded in the worker).
        Never waits: when 64 bundles are already waiting, this one is skipped with a warning rather than
        holding up the page (and memory stays bounded)."""
        try:
            self._queue.put_nowait((url, page, raw, encoding))
        except queue.Full:
            self._on_error(f"the script scanner is behind: {url} was not scanned for routes")

    def _run(self) -> None:
        from ..fixtures.decoding import DecodeError, decode_content

        while True:
            item = self._queue.get()
            if item is None:
                return
            url, page, raw, enc = item
            try:
                data = decode_content(raw, enc, 1 << 62)[0] if enc else raw
                sha = hashlib.sha256(data).hexdigest()
                if self.log.known(sha):
                    continue
                with self._lock:
                    rec = bundle_record(url, page, data, self.extractor, *self._redact, sha256=sha)
                    if self.log.add(rec):
                        self.scanned += 1
                        self._on_scanned()
            except (DecodeError, OSError, ValueError) as e:
                self._on_error(f"could not scan the script {url}: {e}")

    def close(self) -> None:
        self._queue.put(None)  # waits for room: the worker drains the queue
        self._thread.join(60)
