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


# Pagination cursors: their names say "token", but they are cursors, not credentials. A cursor is
# redacted only when its value carries a secret by the free-text rules (a JWT, a signed URL, a random
# run), and then as a string placeholder; a number stays the number it is.
_CURSOR_NAMES = frozenset({"skiptoken", "continuationtoken", "nexttoken", "deltatoken", "synctoken", "nextlink",
                           "odatanextlink", "odatadeltalink", "cursor", "nextcursor", "resumetoken"})


@lru_cache(maxsize=8192)
def is_cursor_name(name: str) -> bool:
    n = normalise_name(name)
    return n in _CURSOR_NAMES or n.endswith("pagetoken")


@lru_cache(maxsize=8192)
def names_a_secret(name: str) -> bool:
    """The name is a secret's own (its last word is a secret word: ``accessToken``, ``clientSecret``,
    ``password``), not one that mentions a secret word before another (``SignatureState``, ``tokenType``)."""
    n = normalise_name(name)
    if n in _WORD_NAMES:
        return False
    return n in _SECRET_NAME_EXACT or any(n.endswith(p) for p in _SECRET_NAME_PARTS)


# Exact secret names that portals also use for enums and words (``"state": "Active"``, ``"code": "NotFound"``):
# their values are secrets unless they read as words.
_WORD_NAMES = frozenset({"code", "state", "key", "session", "sid", "ticket", "auth", "nonce", "mfa"})


_WORDISH = re.compile(r"[A-Za-z][A-Za-z0-9]*+(?:[ _.:-][A-Za-z0-9]++)*+")


def reads_as_words(value: str) -> bool:
    """A word, an enum value or an identifier (``Unsigned``, ``NotConfigured``, ``read_write``, ``ABC``)."""
    if len(value) > 64 or not _WORDISH.fullmatch(value):
        return False
    return (len(value) <= 5 and value.isalpha()) or is_identifier(value)


def secret_by_name(name: str, value: str) -> bool:
    """Whether a string value under ``name`` (a JSON key, a query or form parameter, an HTML field, a
    ``key=value`` pair) is a credential because of its name."""
    if not value or plainly_not_secret(value) or is_placeholder(value):
        return False
    if not is_secret_name(name) or is_cursor_name(name):
        return False
    return names_a_secret(name) or not reads_as_words(value)


def secret_number(name: str, value: object) -> bool:
    """A large number under a secret's own name (a PIN, a one-time code); cursors and names that only
    mention a secret word (``tokenExpiresOn``) keep their numbers."""
    if type(value) not in (int, float) or abs(value) < 100000:  # type: ignore[arg-type]
        return False
    return names_a_secret(name) and not is_cursor_name(name)


def worth_remembering(value: str) -> bool:
    """Whether a value redacted for its name is swept out of the session's other strings: not when it
    reads as a word, an enum value or an identifier, nor when it is all digits (ids, counters: a sweep
    would turn JSON numbers into strings)."""
    return not value.isdigit() and not reads_as_words(value)


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
