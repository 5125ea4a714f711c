"""The one redactor shared by import and record: HAR entry in, redacted HAR entry out.

Every secret becomes a stable placeholder ``<redacted:KIND:xxxxxxxx>`` (a keyed BLAKE2b MAC of the
value under a per-capture random key that is never written), so two calls that used the same
session show the same placeholder. Values found in structured places (headers, cookies,
secret-named fields) are remembered and swept out of every other string of the entry, also in
their URL-encoded and base64 forms.
"""

from __future__ import annotations

import binascii
import hashlib
import os
import re
import uuid
from collections import OrderedDict, defaultdict
from datetime import datetime
from functools import lru_cache
from typing import Any, Callable, Iterable
from urllib.parse import quote, quote_plus, unquote_plus

from .. import jsoncodec
from . import detectors as d
from .jwt import claims_summary, relative_expiry
from .known import KnownSecrets
from .memo import Memo
from .triggers import Triggers

PII_KINDS = frozenset({"upn", "email", "tenant"})
_URL_HEADERS = frozenset({"location", "referer", "origin", "content-location", "link", "refresh", ":path"})
_MIN_SWEEP_LEN = 8
_SCHEME_WORDS = ("bearer", "basic", "negotiate", "ntlm", "pop ")
_KNOWN_LIMIT = 8192  # secret variants remembered for the sweep (about 1,400 secrets)
_CLEAN_CACHE = 4096  # short strings already found clean (header values repeat from call to call)
_CLEAN_CACHE_LEN = 1024  # serialised ``_initiator`` stacks are 0.5-1 KB and repeat
_HEADER_MEMO = 2048  # redacted headers by (name, value): most headers repeat from call to call
_CHURN = 32  # calls in a row with a new value of a header, after which its results are not kept
_URL_MEMO = 1024  # redacted URLs with a query or fragment by what follows the origin
_TRIGGERS: dict[bool, Triggers] = {}
# No space, "=", ":", "<" or "@": no scheme, pair, tag or address; under 32 characters: no random run.
_WORD = re.compile(r"[A-Za-z0-9_.~-]+")
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9_.~+/=-]*")  # URL-quoting leaves all but + / = as they are


def _triggers(pii: bool) -> Triggers:
    if pii not in _TRIGGERS:
        _TRIGGERS[pii] = Triggers(pii)
    return _TRIGGERS[pii]


@lru_cache(maxsize=4096)
def _scanned_header(name: str) -> bool:
    """Whether the trigger scan reads this header's value (cookies and tokens are redacted whole)."""
    return name.lower() not in ("cookie", "set-cookie") and not d.is_secret_header(name)


@lru_cache(maxsize=4096)
def _url_header(name: str) -> bool:
    return name.lower() in _URL_HEADERS


@lru_cache(maxsize=4096)
def _free_text_header(name: str) -> bool:
    """Whether ``redact_header`` reads this header's value as free text (not a cookie, token or URL)."""
    return _scanned_header(name) and name.lower() not in _URL_HEADERS


class _EntryContext:
    """What one entry's redaction found: counts by kind, token summaries, values to sweep."""

    __slots__ = ("counts", "tokens", "started", "_epoch", "claims", "secrets")

    def __init__(self, started: Any = None) -> None:
        self.counts: defaultdict[str, int] = defaultdict(int)
        self.tokens: list[dict[str, Any]] = []
        self.started = started
        self._epoch: float | None | bool = False  # parsed when a token's expiry needs it
        self.claims: list[dict[str, Any]] = []  # JWT claim summaries met, before expiry
        self.secrets: list[tuple[str, str]] = []  # (value, placeholder) remembered

    @property
    def started_epoch(self) -> float | None:
        if self._epoch is False:
            self._epoch = _epoch(self.started)
        return self._epoch  # type: ignore[return-value]


class Redactor:
    """Redacts HAR entries. One instance per capture session; it holds the placeholder key in memory only."""

    def __init__(self, key: bytes | None = None, pseudonymize: Iterable[str] = (), fast: bool = True) -> None:
        """``fast=False`` reads every string with the rules and keeps no result for repeats (the
        reference the fast path is tested against)."""
        self._key = key if key is not None else os.urandom(32)
        self.pseudonymize = frozenset(pseudonymize)
        unknown = self.pseudonymize - PII_KINDS
        if unknown:
            raise ValueError(f"unknown pseudonymize kind(s): {', '.join(sorted(unknown))}")
        self._known = KnownSecrets(_KNOWN_LIMIT)  # secret variant -> placeholder
        self._triggers = _triggers(bool(self.pseudonymize)) if fast else None
        self._clean: set[str] = set()  # this entry's strings that no free-text rule can change
        self._clean_cache: OrderedDict[str, None] = OrderedDict()
        self._headers: Memo[tuple[str, str]] = Memo(_HEADER_MEMO)  # (name, value) -> (redacted, effects)
        self._urls: Memo[str] = Memo(_URL_MEMO)  # a URL's path, query and fragment -> (redacted, effects)
        self._runs: dict[str, tuple[int, int]] = {}  # header name -> (last call with a new value, calls in a row)
        self._entries = 0
        self._sweep_re: re.Pattern[str] | None = None
        self._sweep_key: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
        self._tenants: set[str] = set()
        self._ph_cache: dict[tuple[str, str], str] = {}
        self._jwt_cache: dict[str, dict[str, Any]] = {}
        self._ctx = _EntryContext()

    # -- placeholders -------------------------------------------------------------------------
    def _digest(self, value: str) -> bytes:
        return hashlib.blake2b(value.encode("utf-8", "surrogatepass"), key=self._key, digest_size=16).digest()

    def placeholder(self, kind: str, value: str, remember: bool = True) -> str:
        if value.startswith("<redacted:") and d.is_placeholder(value):
            return value  # already redacted: redaction is idempotent
        ph = self._ph_cache.get((kind, value))
        if ph is None:
            ph = f"<redacted:{kind}:{self._digest(value)[:4].hex()}>"
            if len(self._ph_cache) >= _KNOWN_LIMIT:
                self._ph_cache.clear()
            self._ph_cache[(kind, value)] = ph
        self._ctx.counts[kind] += 1
        if remember and len(value) >= _MIN_SWEEP_LEN:
            self._ctx.secrets.append((value, ph))
            if value not in self._known:
                self._remember(value, ph)
        return ph

    def _remember(self, value: str, ph: str) -> None:
        """Remember ``value`` with its URL-quoted and base64 forms, for the sweep."""
        if _TOKEN_CHARS.fullmatch(value):  # what quote() and quote_plus() would give, without them
            variants = [value, value.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")]
        else:
            variants = [value, quote(value, safe=""), quote_plus(value)]
        b64 = binascii.b2a_base64(value.encode("utf-8", "surrogatepass"), newline=False).decode()
        bare = b64.rstrip("=")
        variants += (b64, bare, bare.replace("+", "-").replace("/", "_"))
        self._known.add_all(sorted({v for v in variants if len(v) >= _MIN_SWEEP_LEN}), ph)

    def _pseudo_guid(self, value: str) -> str:
        return str(uuid.UUID(bytes=self._digest(value.lower())[:16], version=4))

    def tenant_placeholder(self, tid: str) -> str:
        low = tid.lower()
        if len(low) >= _MIN_SWEEP_LEN:
            self._tenants.add(low)
        if "tenant" in self.pseudonymize:
            return self._pseudo_guid(tid)
        return f"<redacted:tenant:{self._digest(tid.lower())[:4].hex()}>"

    # -- entry ---------------------------------------------------------------------------------
    def redact_entry(self, entry: dict[str, Any], sweep: bool = True) -> dict[str, Any]:
        """Redact one HAR entry in place and record a summary under ``_portalspec.redaction``.

        ``sweep=False`` leaves the sweep of remembered secrets to ``sweep_serialised``, for a
        caller that serialises the entry anyway (one serialisation instead of two).
        """
        self._ctx = ctx = _EntryContext(entry.get("startedDateTime"))
        self._entries += 1
        req = entry.get("request") or {}
        resp = entry.get("response") or {}
        generic = {key: entry[key] for key in entry if key not in ("request", "response", "_portalspec")}
        plans: list[list[tuple[dict[str, Any], tuple[str, str], Any]] | None] = [None, None]
        skip_generic = self._gate(req, resp, generic, plans) if self._triggers is not None else set()
        cookie_names: dict[str, list[str]] = {}
        for side, msg, plan in (("request", req, plans[0]), ("response", resp, plans[1])):
            if not isinstance(msg, dict):
                continue
            names = self._redact_message(msg, plan)
            if names:
                cookie_names[side] = names
        if isinstance(req, dict) and isinstance(req.get("url"), str):
            req["url"] = self.redact_url(req["url"])
        if isinstance(resp, dict) and isinstance(resp.get("redirectURL"), str):
            resp["redirectURL"] = self.redact_url(resp["redirectURL"])
        for key in generic:
            if key not in skip_generic:
                entry[key] = self._generic(entry[key])
        self._clean = set()
        if sweep:
            self._sweep_entry(entry)
        ext = entry.setdefault("_portalspec", {})
        summary: dict[str, Any] = {"counts": dict(sorted(ctx.counts.items()))}
        if ctx.tokens:
            summary["tokens"] = ctx.tokens
        if cookie_names:
            summary["cookies"] = cookie_names
        ext["redaction"] = summary
        return entry

    def _gate(self, req: Any, resp: Any, generic: dict[str, Any],
              plans: list[list[tuple[dict[str, Any], tuple[str, str], Any]] | None]) -> set[str]:
        """Scan the entry's free-text strings at once; fills ``self._clean``, returns generic keys to skip.

        Headers are looked up in the memo here, once: ``plans`` gets each side's headers with
        their memo hit (or None), and only the values of misses are scanned.
        """
        texts: list[str] = []
        memo = self._headers.cur
        url = req.get("url") if type(req) is dict else None
        path = _origin_tail(url) if type(url) is str else None  # an HTTP/2 ``:path`` of the same call
        for side, msg in enumerate((req, resp)):
            if type(msg) is not dict:
                continue
            for key in ("url", "redirectURL"):
                if type(msg.get(key)) is str:
                    texts.append(msg[key])
            headers = msg.get("headers")
            if type(headers) is list:
                try:
                    keys = [(h["name"], h["value"]) for h in headers]
                    hits = [memo.get(k) for k in keys]
                except (TypeError, KeyError):  # not name/value dicts: the reference loop takes them
                    keys, hits = [], []
                else:
                    if None in hits and self._headers.old:
                        hits = [h if h is not None else self._headers.get(k) for k, h in zip(keys, hits)]
                    plans[side] = list(zip(headers, keys, hits))
                texts += [value for (name, value), hit in zip(keys, hits)
                          if hit is None and type(name) is str and type(value) is str and _scanned_header(name)
                          and (value != path or name != ":path")]  # the URL's verdict is the path's
            for q in msg.get("queryString") or ():
                if isinstance(q, dict) and isinstance(q.get("value"), str):
                    if not (isinstance(q.get("name"), str) and d.secret_by_name(q["name"], q["value"])):
                        texts.append(q["value"])  # a value redacted for its name needs no verdict
            for body_key in ("postData", "content"):
                body = msg.get(body_key)
                if isinstance(body, dict):
                    if isinstance(body.get("text"), str):
                        texts.append(body["text"])
                    for q in body.get("params") or ():
                        if isinstance(q, dict) and isinstance(q.get("value"), str):
                            texts.append(q["value"])
        serial = {k: v if isinstance(v, str) else jsoncodec.dumps_str(v) for k, v in generic.items()
                  if isinstance(v, (str, list)) or (isinstance(v, dict) and _has_text(v))}
        texts += serial.values()
        cache = self._clean_cache
        todo = [t for t in texts if t not in cache]
        clean = self._triggers.clean(todo) if todo else set()  # type: ignore[union-attr]
        for t in clean:
            if len(t) <= _CLEAN_CACHE_LEN:
                cache[t] = None
        while len(cache) > _CLEAN_CACHE:
            cache.popitem(last=False)
        self._clean = clean | {t for t in texts if t in cache}
        if path is not None and url in self._clean:
            self._clean.add(path)
        return {k for k in generic if k not in serial or serial[k] in self._clean}

    def _redact_message(self, msg: dict[str, Any], plan: list[tuple[dict[str, Any], tuple[str, str], Any]] | None
                        ) -> list[str]:
        cookie_names: list[str] = []
        if plan is not None:
            clean = self._clean
            for h, key, hit in plan:
                if hit is None:
                    if type(key[0]) is not str or type(key[1]) is not str:
                        continue
                    if key[1] in clean and _free_text_header(key[0]):
                        continue  # redact_header would give it back as it is, with no effects
                    if _url_header(key[0]) or self._churning(key[0]):  # a URL's reuse is the URL memo's
                        h["value"] = self.redact_header(key[0], key[1], cookie_names)
                        continue
                    hit = self._memo_header(key)
                h["value"] = hit[0] if hit[1] is None else self._replay(hit, cookie_names)
        elif isinstance(msg.get("headers"), list):
            for h in msg["headers"]:
                if isinstance(h, dict) and isinstance(h.get("name"), str) and isinstance(h.get("value"), str):
                    h["value"] = self.redact_header(h["name"], h["value"], cookie_names)
        cookies = msg.get("cookies")
        if isinstance(cookies, list):
            for c in cookies:
                if isinstance(c, dict) and isinstance(c.get("value"), str):
                    if isinstance(c.get("name"), str) and c["name"] not in cookie_names:
                        cookie_names.append(c["name"])
                    c["value"] = self.placeholder("cookie", c["value"]) if c["value"] else ""
        qs = msg.get("queryString")
        if isinstance(qs, list):
            for p in qs:
                if isinstance(p, dict) and isinstance(p.get("value"), str):
                    p["value"] = self._param(str(p.get("name", "")), p["value"])
        for body_key in ("postData", "content"):
            body = msg.get(body_key)
            if not isinstance(body, dict):
                continue
            if isinstance(body.get("text"), str):
                body["text"] = self.redact_body(body["text"], str(body.get("mimeType") or ""))
            params = body.get("params")
            if isinstance(params, list):
                for p in params:
                    if isinstance(p, dict) and isinstance(p.get("value"), str):
                        p["value"] = self._param(str(p.get("name", "")), p["value"])
        return cookie_names

    # -- headers -------------------------------------------------------------------------------
    def _churning(self, name: str) -> bool:
        """Whether the header ``name`` brought a new value in each of the last ``_CHURN`` calls (a
        token per call): its results are then not kept, but for one call in ``_CHURN``, so that a
        value repeating again is seen (a kept value found again ends the run)."""
        n = self._entries
        last, run = self._runs.get(name, (-2, 0))
        if last != n:
            run = run + 1 if last == n - 1 else 1
            if len(self._runs) >= _HEADER_MEMO:
                self._runs.clear()
            self._runs[name] = (n, run)
        return run >= _CHURN and run % _CHURN != 0

    def _memo_header(self, key: tuple[str, str]) -> tuple[str, Any]:
        """``redact_header`` once per distinct header, its result and effects kept for repeats."""
        hit = self._headers.get(key)
        if hit is None:
            hit = self._capture(self.redact_header, key[0], key[1])
            self._headers.put(key, hit)
        return hit

    def _capture(self, redact: Callable[..., str], *args: Any) -> tuple[str, Any]:
        """``redact(*args, cookie_names)`` run apart from the entry: its result and its effects."""
        outer = self._ctx
        self._ctx = _EntryContext(outer.started)
        names: list[str] = []
        try:
            out = redact(*args, names)
        finally:
            eff, self._ctx = self._ctx, outer
        effects = (eff.counts, eff.claims, tuple(names), eff.secrets)
        return out, effects if any(effects) else None

    def _replay(self, hit: tuple[str, Any], cookie_names: list[str]) -> str:
        """A memoised redaction applied to this entry: counts, token expiry relative to this call,
        cookie names, remembered secrets (again, should they have been forgotten)."""
        out, effects = hit
        if effects is None:
            return out
        counts, claims, names_, secrets = effects
        ctx = self._ctx
        for kind, n in counts.items():
            ctx.counts[kind] += n
        for cached in claims:
            ctx.claims.append(cached)
            summary = relative_expiry(cached, ctx.started_epoch)
            if summary not in ctx.tokens:
                ctx.tokens.append(summary)
        for n in names_:
            if n not in cookie_names:
                cookie_names.append(n)
        for v, ph in secrets:
            ctx.secrets.append((v, ph))
            if v not in self._known:
                self._remember(v, ph)
        return out

    def redact_header(self, name: str, value: str, cookie_names: list[str] | None = None) -> str:
        lname = name.lower()
        names = cookie_names if cookie_names is not None else []
        if lname == "cookie":
            return self._cookie_header(value, names)
        if lname == "set-cookie":
            return self._set_cookie(value, names)
        if d.is_secret_header(name):
            m = re.match(r"(?i)^\s*(bearer|basic|negotiate|ntlm|pop|sharedaccesssignature)\s+(.+)$", value)
            if m:
                return f"{m.group(1)} {self._token(m.group(2).strip(), 'bearer')}"
            return self._token(value, "header") if value else value
        if lname in _URL_HEADERS:
            return self.redact_url(value)
        return self.redact_text(value)

    def _token(self, token: str, kind: str) -> str:
        if d.JWT_RE.fullmatch(token):
            return self._jwt(token)
        if kind in ("field", "param"):  # redacted for its name: remembered only when it reads as a secret
            return self.placeholder(kind, token, remember=d.worth_remembering(token))
        return self.placeholder(kind, token)

    def _jwt(self, token: str) -> str:
        ph = self.placeholder("jwt", token)
        cached = self._jwt_cache.get(token)
        if cached is None:
            cached = claims_summary(token, self.tenant_placeholder)
            cached["placeholder"] = ph
            if len(self._jwt_cache) >= 256:
                self._jwt_cache.clear()
            self._jwt_cache[token] = cached
        self._ctx.claims.append(cached)
        summary = relative_expiry(cached, self._ctx.started_epoch)
        if summary not in self._ctx.tokens:
            self._ctx.tokens.append(summary)
        return ph

    def _cookie_header(self, value: str, names: list[str]) -> str:
        out = []
        for piece in value.split(";"):
            name, sep, val = piece.strip().partition("=")
            if not sep:
                out.append(piece.strip())
                continue
            if name not in names:
                names.append(name)
            out.append(f"{name}={self.placeholder('cookie', val) if val else ''}")
        return "; ".join(out)

    def _set_cookie(self, value: str, names: list[str]) -> str:
        first, _, attrs = value.partition(";")
        name, sep, val = first.strip().partition("=")
        if not sep:
            return self.redact_text(value)
        if name not in names:
            names.append(name)
        red = f"{name}={self.placeholder('cookie', val) if val else ''}"
        return red + (";" + attrs if attrs else "")

    # -- URLs and parameters ------------------------------------------------------------------
    def redact_url(self, url: str) -> str:
        """Redact path segments, query parameters and fragment; untouched parts keep their encoding."""
        if url in self._clean:
            return url
        base, hash_, frag = url.partition("#")
        base, q, query = base.partition("?")
        scheme_host, path = _split_origin(base)
        if not q and not hash_:
            return scheme_host + self._path(path)
        if self._triggers is None:  # the reference path reads every URL afresh
            return scheme_host + self._url_tail(path, query if q else None, frag if hash_ else None, [])
        tail = url[len(scheme_host):]  # the same in the call's URL and its ``:path`` header
        hit = self._urls.get(tail)
        if hit is None:
            hit = self._capture(self._url_tail, path, query if q else None, frag if hash_ else None)
            self._urls.put(tail, hit)
        return scheme_host + self._replay(hit, [])

    def _url_tail(self, path: str, query: str | None, frag: str | None, _names: list[str]) -> str:
        out = self._path(path)
        if query is not None:
            out += "?" + self._pairs(query)
        if frag is not None:
            out += "#" + self._fragment(frag)
        return out

    def _path(self, path: str) -> str:
        return "/".join(self._segment(s) for s in path.split("/"))

    def _fragment(self, frag: str) -> str:
        """A fragment: ``k=v`` pairs (OAuth implicit flow), or a single-page app's route with its
        own query (``#/cb?code=...``), or text."""
        route, q, query = frag.partition("?")
        if q:
            return self._path(route) + "?" + self._pairs(query)
        return self._pairs(frag) if "=" in frag else self.redact_text(frag)

    def _segment(self, seg: str) -> str:
        if not seg:
            return seg
        if d.JWT_RE.fullmatch(seg):
            return self._jwt(seg)
        return self.redact_text(seg)

    def _pairs(self, raw: str) -> str:
        parts = []
        for piece in raw.split("&"):
            name, sep, val = piece.partition("=")
            if sep:
                dec = _unquote(val)
                red = self._param(_unquote(name), dec)
                parts.append(f"{name}={val if red == dec else quote(red, safe='<>:')}")
            else:
                parts.append(self.redact_text(piece))
        return "&".join(parts)

    def _param(self, name: str, value: str) -> str:
        if d.secret_by_name(name, value):
            return self._token(value, "param")
        return self.redact_string(value)

    # -- bodies --------------------------------------------------------------------------------
    def redact_body(self, text: str, mime: str) -> str:
        m = mime.lower()
        if text in self._clean and "multipart/" not in m:
            return text
        stripped = text.lstrip()
        if "json" in m or (stripped[:1] in ("{", "[") and "html" not in m):
            red = self._json_text(text)
            if red is not None:
                return red
        if "x-www-form-urlencoded" in m:
            return self._pairs(text)
        if "multipart/" in m:
            red = self._multipart(text, mime)
            if red is not None:
                return red
        return self.redact_text(text)

    def _json_text(self, text: str) -> str | None:
        try:
            value = jsoncodec.loads(text)
        except (ValueError, RecursionError):
            return None
        before = sum(self._ctx.counts.values())
        try:
            red = self._json(value)
        except RecursionError:
            return None
        if sum(self._ctx.counts.values()) == before:
            return text
        return jsoncodec.dumps_str(red)

    def _json(self, value: Any) -> Any:
        if isinstance(value, dict):
            out = {}
            for k, v in value.items():
                key = self.redact_text(k) if len(k) >= 32 else k
                if isinstance(v, str) and d.secret_by_name(k, v):
                    out[key] = self._token(v, "field")
                elif d.secret_number(k, v):  # keeps its JSON type: a number becomes 0
                    self._ctx.counts["number"] += 1
                    out[key] = type(v)(0)
                else:
                    out[key] = self._json(v)
            return out
        if isinstance(value, list):
            return [self._json(v) for v in value]
        if isinstance(value, str):
            return self.redact_string(value)
        return value

    def redact_string(self, s: str) -> str:
        """A value of unknown kind: JSON inside a string, a URL, or free text."""
        if s in self._clean:
            return s
        st = s.strip()
        if len(st) > 1 and st[0] in "{[" and st[-1] in "}]":
            red = self._json_text(s)
            if red is not None:
                return red
        if "?" in s and re.match(r"^(https?:|wss?:|/)", st):
            return self.redact_url(s)
        return self.redact_text(s)

    def _multipart(self, text: str, mime: str) -> str | None:
        m = re.search(r'boundary="?([^";]+)"?', mime, re.I)
        if not m:
            return None
        sep = "--" + m.group(1)
        chunks = text.split(sep)
        out = [chunks[0]]
        for chunk in chunks[1:]:
            head, blank, body = chunk.partition("\r\n\r\n")
            if not blank:
                head, blank, body = chunk.partition("\n\n")
            if not blank:
                out.append(self.redact_text(chunk))
                continue
            nm = re.search(r'name="([^"]*)"', head)
            ct = re.search(r"(?im)^content-type:\s*(\S+)", head)
            trail = body[len(body.rstrip("\r\n")):]
            core = body[: len(body) - len(trail)]
            if nm and d.secret_by_name(nm.group(1), core):
                core = self._token(core, "field")
            else:
                core = self.redact_body(core, ct.group(1) if ct else "text/plain")
            out.append(head + blank + core + trail)
        return sep.join(out)

    # -- free text -----------------------------------------------------------------------------
    def redact_text(self, s: str) -> str:
        """Find secrets in free text: key blocks, JWTs, auth schemes, key=value pairs, random tokens."""
        if len(s) < 4 or s in self._clean:
            return s
        if len(s) < 32 and _WORD.fullmatch(s) and "eyJ" not in s and "-----" not in s and not self.pseudonymize:
            return s  # a path segment, an id, a word: no rule below can read anything in it
        if "-----BEGIN" in s:
            s = d.PEM_RE.sub(lambda m: self.placeholder("private-key", m.group(0)), s)
        if "eyJ" in s:
            s = d.JWT_RE.sub(lambda m: self._jwt(m.group(0)), s)
        if "<" in s:
            s = d.HTML_FIELD_RE.sub(self._html_field_sub, s)
        low = s.lower()
        if any(w in low for w in _SCHEME_WORDS):
            s = d.BEARER_RE.sub(self._scheme_sub, s)
        if "=" in s or ":" in s:
            s = d.KV_RE.sub(self._kv_sub, s)
        if len(s) >= 32:
            s = d.TOKEN_RUN_RE.sub(self._entropy_sub, s)
        if self.pseudonymize:
            s = self._pii(s)
        return s

    def _html_field_sub(self, m: re.Match[str]) -> str:
        """``<meta name="csrf-token" content="...">``, ``<input name="__RequestVerificationToken" value="...">``."""
        tag = m.group(0)
        name = d.HTML_NAME_RE.search(tag)
        value = d.HTML_VALUE_RE.search(tag)
        if not name or not value:
            return tag
        v = value.group(2)
        if v.startswith("<redacted") or not d.secret_by_name(name.group(2), v):
            return tag
        return tag[: value.start(2)] + self._token(v, "field") + tag[value.end(2):]

    def _scheme_sub(self, m: re.Match[str]) -> str:
        tok = m.group(2)
        if d.is_placeholder(tok) or tok.startswith("<redacted"):
            return m.group(0)
        return f"{m.group(1)} {self._token(tok, 'bearer')}"

    def _kv_sub(self, m: re.Match[str]) -> str:
        value = m.group("value")
        if value.startswith("<redacted") or not d.secret_by_name(m.group("name"), value):
            return m.group(0)
        start = m.start("value") - m.start(0)
        return m.group(0)[:start] + self._token(value, "field")

    def _entropy_sub(self, m: re.Match[str]) -> str:
        run = m.group(0)
        if "<redacted" in run or not d.looks_high_entropy(run):
            return run
        return self.placeholder("token", run)

    def _pii(self, s: str) -> str:
        if self.pseudonymize & {"upn", "email"} and "@" in s:
            s = d.EMAIL_RE.sub(self._email_sub, s)
        if "tenant" in self.pseudonymize and "onmicrosoft" in s.lower():
            s = d.ONMICROSOFT_RE.sub(self._tenant_domain_sub, s)
        return s

    def _email_sub(self, m: re.Match[str]) -> str:
        self._ctx.counts["pseudonym-email"] += 1
        return f"user-{self._digest(m.group(0).lower())[:4].hex()}@example.invalid"

    def _tenant_domain_sub(self, m: re.Match[str]) -> str:
        self._ctx.counts["pseudonym-tenant"] += 1
        return f"tenant-{self._digest(m.group(0).lower())[:4].hex()}.onmicrosoft.com"

    # -- the sweep ----------------------------------------------------------------------------
    def sweep_serialised(self, entry: dict[str, Any], line: bytes) -> bytes:
        """The sweep for an entry already serialised as ``line``: returns the line to write."""
        if not self._known and not self._tenants:
            return line
        if self._sweep_entry(entry, line):
            return jsoncodec.dumps(entry) + line[-1:] if line.endswith(b"\n") else jsoncodec.dumps(entry)
        return line

    def _sweep_entry(self, entry: dict[str, Any], blob: bytes | None = None) -> bool:
        """Replace every remembered secret (and its encodings) and known tenant id in all strings.

        One literal scan over the serialised entry finds which remembered variants occur, at a
        cost that does not grow with how many are remembered; most entries need no walk at all.
        Returns whether anything was replaced.
        """
        if not self._known and not self._tenants:
            return False
        if blob is None:
            blob = jsoncodec.dumps(entry)
        hits = tuple(sorted(self._known.find(blob))) if self._known else ()
        thits: tuple[str, ...] = ()
        if self._tenants:
            low = blob.decode("utf-8", "surrogatepass").lower()
            thits = tuple(t for t in self._tenants if t in low)
        if not hits and not thits:
            return False
        pat = self._pattern(hits, thits)
        stack: list[Any] = [entry]
        while stack:
            node = stack.pop()
            items = node.items() if isinstance(node, dict) else enumerate(node)
            for k, v in list(items):
                if isinstance(v, str):
                    if len(v) >= _MIN_SWEEP_LEN:
                        new = pat.sub(self._sweep_sub, v)
                        if new != v:
                            node[k] = new
                elif isinstance(v, (dict, list)):
                    stack.append(v)
        return True

    def _pattern(self, hits: tuple[str, ...], thits: tuple[str, ...]) -> re.Pattern[str]:
        key = (hits, thits)
        if self._sweep_re is None or self._sweep_key != key:
            alts = [re.escape(a) for a in sorted(hits, key=len, reverse=True)]
            alts += [f"(?i:{re.escape(t)})" for t in thits]
            self._sweep_re, self._sweep_key = re.compile("|".join(alts)), key
        return self._sweep_re

    def _sweep_sub(self, m: re.Match[str]) -> str:
        v = m.group(0)
        ph = self._known.get(v)
        if ph is not None:
            return ph
        if v.lower() in self._tenants:
            return self.tenant_placeholder(v)
        return v

    def _generic(self, value: Any) -> Any:
        """Extension fields (``_initiator``, ``_webSocketMessages``...): scan every string."""
        if isinstance(value, str):
            return self.redact_string(value)
        if isinstance(value, dict):
            return {k: self._generic(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._generic(v) for v in value]
        return value


def _unquote(s: str) -> str:
    return unquote_plus(s) if "%" in s or "+" in s else s


def _has_text(d: dict[str, Any]) -> bool:
    """Whether a dict (``timings``, ``cache``...) holds anything but numbers, booleans and nulls."""
    return not all(map(_NO_TEXT.__contains__, map(type, d.values())))


_NO_TEXT = frozenset({int, float, bool, type(None)})


def _origin_tail(url: str) -> str:
    """What follows a URL's origin (its path, query and fragment): ``redact_url`` reads it the same
    way in the URL and alone, so when the URL is clean, so is this."""
    base = url.partition("#")[0].partition("?")[0]
    return url[len(_split_origin(base)[0]):]


def _split_origin(base: str) -> tuple[str, str]:
    m = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*://[^/]*)(.*)$", base)
    if m:
        return m.group(1), m.group(2)
    return "", base


def _epoch(started: Any) -> float | None:
    if not isinstance(started, str):
        return None
    try:
        return datetime.fromisoformat(started.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
