"""Recognisers for secret-bearing names and secret-looking values. Pure functions, no state."""

from __future__ import annotations

import math
import re
from collections import Counter
from functools import lru_cache

from .wordlike import is_identifier

# Names are normalised (lower case, letters and digits only) before they are compared.
_SECRET_NAME_EXACT = frozenset(
    {
        "code", "sig", "key", "pin", "otp", "pwd", "auth", "session", "sid", "ticket",
        "state", "nonce", "passcode", "mfa", "totp", "jwt", "bearer", "spsig",
    }
)
_SECRET_NAME_PARTS = (
    "password", "passwd", "secret", "token", "assertion", "apikey", "credential",
    "signature", "sessionkey", "sessionid", "authorization", "samlresponse", "samlrequest",
    "privatekey", "cookie", "formdigest", "requestdigest", "xsrf", "csrf", "routekey",
    "accesskey", "clientassertion", "authcode", "refresh", "sharedaccess", "connectionstring",
    "accountkey", "sharedkey", "masterkey", "subscriptionkey", "encryptionkey", "signingkey", "storagekey",
)
# Header names: any name that says token, key, secret, session, auth, digest, xsrf/csrf.
_SECRET_HEADER_PARTS = (
    "token", "key", "secret", "session", "auth", "digest", "xsrf", "csrf", "cookie",
    "password", "signature", "credential", "assertion",
)
# Headers whose names match the rule above but that carry no secret (``:authority`` is HTTP/2's
# host; ``WWW-Authenticate`` is the server's challenge). Their values still go through the text rules.
_HEADER_ALLOW = frozenset({"keepalive", "secwebsocketextensions", "accesscontrolallowcredentials", "authority",
                           "wwwauthenticate"})

_NORM = re.compile(r"[^a-z0-9]")


def normalise_name(name: str) -> str:
    return _NORM.sub("", name.lower())


_NAME_PARTS_RE = re.compile("|".join(_SECRET_NAME_PARTS))
_HEADER_PARTS_RE = re.compile("|".join(_SECRET_HEADER_PARTS))


@lru_cache(maxsize=8192)
def is_secret_name(name: str) -> bool:
    """True for a query, form or JSON key whose value is a credential (case/punctuation-insensitive)."""
    n = normalise_name(name)
    if not n:
        return False
    return n in _SECRET_NAME_EXACT or _NAME_PARTS_RE.search(n) is not None


@lru_cache(maxsize=4096)
def is_secret_header(name: str) -> bool:
    n = normalise_name(name)
    if n in _HEADER_ALLOW:
        return False
    return _HEADER_PARTS_RE.search(n) is not None


JWT_RE = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
# JWE / opaque compact tokens with 5 parts are caught by the entropy rule.
BEARER_RE = re.compile(r"(?i)\b(bearer|basic|negotiate|ntlm|pop)\s+([A-Za-z0-9._~+/=-]{8,})")
PEM_RE = re.compile(
    r"-----BEGIN ([A-Z0-9 ]*(?:PRIVATE KEY|CERTIFICATE|ENCRYPTED KEY|SECRET)[A-Z0-9 ]*)-----"
    r"[\s\S]*?(?:-----END \1-----|$)"
)
# key=value / "key": "value" pairs in free text (HTML, JS, truncated JSON, logs).
KV_RE = re.compile(
    r"""(?ix)
    (?P<q>["']?)(?P<name>[A-Za-z0-9_.\-]{2,64})(?P=q)      # a name, maybe quoted
    (?P<sep>\s*[:=]\s*)
    (?P<vq>\\?["']?)(?P<value>[^"'\s&,;<>}{\\]{4,})        # its value
    """
)
# HTML fields that carry anti-forgery tokens: <meta name=... content=...>, <input name=... value=...>.
HTML_FIELD_RE = re.compile(r"<(?:meta|input)\b[^>]{0,2000}>", re.I)
HTML_NAME_RE = re.compile(r"""\b(?:name|id|property)\s*=\s*(["'])([^"'>]*)\1""", re.I)
HTML_VALUE_RE = re.compile(r"""\b(?:content|value)\s*=\s*(["'])([^"'>]*)\1""", re.I)
# Candidate runs for the entropy rule: long runs of token alphabet characters.
TOKEN_RUN_RE = re.compile(r"[A-Za-z0-9+/_=.~%-]{32,}")
EMAIL_RE = re.compile(r"\b[A-Za-z0-9._%+'-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,24}\b")
GUID_RE = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
ONMICROSOFT_RE = re.compile(r"\b[A-Za-z0-9-]{1,63}\.onmicrosoft\.com\b", re.I)
_HEX_RE = re.compile(r"[0-9a-fA-F-]+")
_LOWER, _UPPER = re.compile(r"[a-z]"), re.compile(r"[A-Z]")
_PLACEHOLDER_RE = re.compile(r"<redacted:[a-z-]+:[0-9a-f]{8}>")


_XLOGX = [0.0] + [c * math.log2(c) for c in range(1, 513)]


def entropy(s: str) -> float:
    """Shannon entropy in bits per character: log2(n) - sum(c log2 c) / n over character counts c."""
    if not s:
        return 0.0
    n = len(s)
    counts = Counter(s).values()
    if n <= 512:
        return math.log2(n) - sum(map(_XLOGX.__getitem__, counts)) / n
    return -sum(c / n * math.log2(c / n) for c in counts)


def looks_high_entropy(s: str) -> bool:
    """A long random-looking credential: not a hex id, a URL, an identifier or prose.

    Hex-only strings (machine ids, hashes) are ids in portal traffic, not secrets. Runs of up to 256
    characters are remembered (paths and ids repeat on every call).
    """
    return _looks_random(s) if len(s) <= 256 else _random_uncached(s)


def _random_uncached(s: str) -> bool:
    core = s.strip("=%.")
    if len(core) < 32 or _HEX_RE.fullmatch(core) or core.count(".") > 3:
        return False
    if core.startswith("www.") or "%2F" in core or "%3A" in core:
        return False
    if not (_LOWER.search(core) and _UPPER.search(core)):
        return False
    return not is_identifier(core) and entropy(core[:512]) >= 3.5  # identifier first: cheaper, and decides most runs


_looks_random = lru_cache(maxsize=16384)(_random_uncached)


_NOT_SECRET_RE = re.compile(
    r"(?i)(?:true|false|null|none|undefined|bearer|basic|"
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?)"
)


def plainly_not_secret(value: str) -> bool:
    """Values a secret-named field can hold that are not secrets: flags, very short values, dates."""
    return len(value) < 4 or _NOT_SECRET_RE.fullmatch(value) is not None


def is_placeholder(s: str) -> bool:
    return bool(_PLACEHOLDER_RE.fullmatch(s))
