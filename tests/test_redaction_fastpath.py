"""The fast path (Hyperscan triggers decide which strings the rules read) must change nothing.

Each test redacts the same input twice with the same key, once with ``fast=True`` and once with
the reference ``fast=False`` (every string read by the rules), and compares byte for byte.
"""

from __future__ import annotations

import copy
import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portalspec.redaction import Redactor
from portalspec.redaction import triggers

from . import test_redaction_audit as audit
from .canary import Canaries, portal_entry

pytestmark = pytest.mark.skipif(not triggers.AVAILABLE, reason="hyperscan is not installed")

KEY = os.urandom(32)


def _both(entry: dict, pseudonymize: tuple[str, ...] = ()) -> tuple[dict, dict]:
    fast = Redactor(key=KEY, pseudonymize=pseudonymize).redact_entry(copy.deepcopy(entry))
    ref = Redactor(key=KEY, pseudonymize=pseudonymize, fast=False).redact_entry(copy.deepcopy(entry))
    return fast, ref


@pytest.mark.parametrize("case", sorted(audit.CASES))
def test_audit_corpus_same_on_both_paths(case: str) -> None:
    entry = audit.CASES[case]("CANARY" + os.urandom(12).hex())
    fast, ref = _both(entry)
    assert fast == ref


@pytest.mark.parametrize("pseudonymize", [(), ("upn", "email", "tenant")])
def test_canary_entries_same_on_both_paths(pseudonymize: tuple[str, ...]) -> None:
    c = Canaries()
    for _ in range(5):
        fast, ref = _both(portal_entry(c), pseudonymize)
        assert fast == ref


@pytest.mark.parametrize("limit", [8192, 12])
def test_one_redactor_over_a_session_same_on_both_paths(limit: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Repeated headers are redacted once and replayed: counts, token expiry relative to each
    call's start, cookie names and remembered secrets (also once forgotten, with a small memory)
    must come out as if read afresh."""
    from portalspec.redaction import redactor

    monkeypatch.setattr(redactor, "_KNOWN_LIMIT", limit)
    c = Canaries()
    entries = []
    for i in range(8):
        e = portal_entry(c)
        e["startedDateTime"] = f"2026-11-20T1{i}:00:00.000Z"
        if i % 3 == 2:
            e["request"]["headers"].append({"name": "X-Note", "value": f"refresh_token={c.refresh_in_string}"})
        entries.append(e)
    echo = "Zx9q-" + os.urandom(4).hex()  # caught only by the sweep, after its header was redacted
    for i in range(6):
        e = audit._entry(req_headers=[{"name": "X-Session-Key", "value": echo},
                                      {"name": "X-Request-Digest", "value": os.urandom(20).hex()}],
                         resp_body=f"your key is {echo}.", resp_mime="text/plain")
        entries.append(e)
    fast = Redactor(key=KEY)
    ref = Redactor(key=KEY, fast=False)
    for e in entries:
        a, b = fast.redact_entry(copy.deepcopy(e)), ref.redact_entry(copy.deepcopy(e))
        assert a == b
    assert len({json.dumps(fast.redact_entry(copy.deepcopy(e))["_portalspec"]["redaction"]["tokens"]) for e in entries[:8]}) > 1


def test_fast_path_really_skips_clean_strings() -> None:
    """The gate is not a no-op: plain portal text is found clean, planted secrets are not."""
    t = triggers.Triggers()
    plain = ["application/json", "https://admin.demo-portal.example/api/users/5f0c3d2e-1111-2222-3333-444455556666",
             '{"displayName":"Ann","id":"5f0c3d2e-1111-2222-3333-444455556666","enabled":true}',
             "https://security.microsoft.com/apiproxy/mtp/alertsApiService/alerts/da638361234567890_1234"]
    assert t.clean(plain) == set(plain)
    dirty = ['{"refresh_token":"x"}', '{"Code": 5}', "x=1&pass-word=y", "Bearer\u00a0abcdefgh", "x7Qp2LmZ9vT4kW1sR8nY3bH6cJ0dF5gA", "aG3iA/zSpjq/G5VYT/dor2F/qbcku/uzy9Q",
             "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.x", "-----BEGIN PRIVATE KEY-----", "%63ode=1234",
             '{"x":"a\\ncode=1234"}', '{"api key": "v"}', "\u212aey: value", '{"h":"Bearer\\tabcdefgh"}',
             "pop+abcdefgh", "basic\x1fabcdefgh", "negotiate\u2003abcdefgh", '{"\\u0063ode": 1}',
             "abc%2526code%253D1234", "s\u0130d=abcdef", "/a/b/c/x/aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z/y/z", '<meta name="code" content="ab/cd/ef/gh">',
             "a=b/c/d/e&next=x/aB3dE5fG7hJ9kL1mN3p/Q5rS7tU9vW1xY3z"]
    assert t.clean(dirty) == set()


def test_hex_ids_are_plain_because_no_name_is_spelt_in_hex() -> None:
    """Lower-case hex-and-dash strings skip the scan (``_PLAIN``): that holds while every word a rule
    looks for has a letter past ``f`` (a name spelt in hex, ``fade``, would make them readable)."""
    from portalspec.redaction import detectors as d

    words = [*d._SECRET_NAME_EXACT, *d._SECRET_NAME_PARTS, *d._SECRET_HEADER_PARTS,
             "bearer", "basic", "negotiate", "ntlm", "pop", "sharedaccesssignature", "eyj", "begin", "onmicrosoft"]
    assert all(set(w.lower()) - set("0123456789abcdef") for w in words), words
    guid = "5f0c3d2e-1111-2222-3333-444455556666"
    assert triggers._PLAIN.fullmatch(guid) and not triggers._PLAIN.fullmatch("5F0c3d2e-1111-2222-3333-444455556666")
    assert triggers.Triggers().clean([guid, "deadbeef" * 8]) == {guid, "deadbeef" * 8}


# Building blocks that sit close to every rule's edge: names split by separators and escapes,
# encodings, case-folding characters, random runs, JWT and scheme starts, structure characters.
PIECES = [
    "code", "co_de", "Code", "pass", "word", "pass-word", "token", "to.ken", "api", "key", "api key", "state",
    "session", "sessionId", "sig", "xsrf", "refresh", "nonce", "auth", "Authorization", "bearer", "Bearer ",
    "basic", "pop", "ntlm", "eyJhbGciOiJub25lIn0", "eyJzdWIiOiIxIn0", ".", "-", "_", "=", ":", ": ", '"', "'",
    "\\n", "\\t", "\\u0063", "\\\\", "\\/", "%3D", "%63", "%", "+", "&", "?", "/", "{", "}", "[", "]", ",", " ",
    "\n", "\u00a0", "\x1f", "\u017f", "\u212a", "\u0130", "\u0131", "é", "@", "onmicrosoft", ".com",
    "-----BEGIN PRIVATE KEY-----", "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z", "5f0c3d2e-1111-2222-3333-444455556666",
    "0123456789abcdef0123456789abcdef", "abcd", "WXYZ", "1234", "<meta ", "<INPUT ", "name=", "content=",
    "value=", "#/cb", "#",
]
texts = st.lists(st.sampled_from(PIECES), min_size=1, max_size=12).map("".join)


@settings(max_examples=int(os.environ.get("PORTALSPEC_FASTPATH_EXAMPLES", "1500")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_clean_means_no_rule_changes_it(s: str) -> None:
    """The superset property itself: a string found clean is left alone by every rule, read any way."""
    forms = [s, json.dumps({s: "value1234"}), json.dumps({"k": s}, ensure_ascii=False), s + "=abcd1234", "a=" + s]
    for pii in (False, True):
        for w in _T[pii].clean(forms):
            r = Redactor(key=KEY, pseudonymize=("upn", "email", "tenant") if pii else (), fast=False)
            assert r.redact_text(w) == w
            assert r.redact_string(w) == w
            assert r.redact_url(w) == w
            assert r.redact_url("https://h.example/p?" + w) == "https://h.example/p?" + w
            for mime in ("application/json", "application/x-www-form-urlencoded", "text/html", ""):
                assert r.redact_body(w, mime) == w
            assert not r._ctx.counts, (w, r._ctx.counts)


_T = {False: triggers.Triggers(False), True: triggers.Triggers(True)}


@settings(max_examples=int(os.environ.get("PORTALSPEC_FASTPATH_EXAMPLES", "1500")) // 3, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(texts, min_size=5, max_size=5))
def test_random_entries_same_on_both_paths(parts: list[str]) -> None:
    header, query, key, value, generic = parts
    entry = audit._entry(url=f"{audit.HOST}/api/x?q={query}", method="POST",
                         req_headers=[{"name": "X-Note", "value": header}, {"name": "Referer", "value": query}],
                         req_body=f'{{"{key}": "{value}", "n": "{generic}"}}',
                         resp_body=value, resp_mime="text/plain")
    entry["request"]["queryString"] = [{"name": key, "value": value}]
    entry["_initiator"] = {"type": "script", "url": generic, "stack": [header]}
    fast, ref = _both(entry)
    assert fast == ref


def test_malformed_headers_same_on_both_paths() -> None:
    c = Canaries()
    for bad in (["not a dict"], [{"name": "X-Token"}], [{"name": 5, "value": "v"}], [{"name": "Cookie", "value": 7}],
                [{"name": "Authorization", "value": f"Bearer {c.jwt_token}"}, {"value": "no name"}]):
        e = portal_entry(c)
        e["request"]["headers"] = bad + e["request"]["headers"]
        fast, ref = _both(e)
        assert fast == ref
        assert c.jwt_token not in json.dumps(fast)


def _rotating_session(n: int) -> list[dict]:
    """Calls that each bring their own token, cookie and request id, every other one a signed URL
    that its HTTP/2 ``:path`` header repeats, and now and then an echo of an earlier token."""
    import base64
    from urllib.parse import quote

    out, tokens = [], []
    for i in range(n):
        token = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4IiwiZXhwIjoxNzk0MDAwMDAwfQ." + base64.urlsafe_b64encode(os.urandom(24)).decode()
        tokens.append(token)
        tail = f"/api/items/{i % 5}"
        if i % 2:
            tail += f"?sv=2024-08-04&sr=b&sig={quote(base64.b64encode(os.urandom(32)).decode(), safe='')}"
        e = audit._entry(url=f"{audit.HOST}{tail}", req_headers=[
            {"name": ":path", "value": tail}, {"name": "authorization", "value": f"Bearer {token}"},
            {"name": "cookie", "value": f"sccauth={base64.b64encode(os.urandom(48)).decode()}; lang=en"},
            {"name": "x-ms-client-request-id", "value": str(__import__('uuid').uuid4())},
            {"name": "referer", "value": f"{audit.HOST}/portal/items"}],
            resp_body=json.dumps({"n": i, "seen": tokens[i // 2][-20:] if i % 7 == 0 else "plain"}))
        e["startedDateTime"] = f"2026-11-20T10:{i // 60:02d}:{i % 60:02d}.000Z"
        out.append(e)
    return out


def test_rotating_secrets_same_on_both_paths() -> None:
    """The URL memo (a call's URL and its :path redacted once), the header memo's churn rule (a
    header new on every call is not kept) and the groups of remembered secrets change nothing:
    every call, its counts and token summaries come out as the reference reads them afresh."""
    fast, ref = Redactor(key=KEY), Redactor(key=KEY, fast=False)
    entries = _rotating_session(120)
    for e in entries:
        a, b = fast.redact_entry(copy.deepcopy(e)), ref.redact_entry(copy.deepcopy(e))
        assert a == b
    # the churn rule did take over: per-call tokens no longer fill the header memo
    kept = [k for k in list(fast._headers.cur) + list(fast._headers.old) if k[0] == "authorization"]
    assert 0 < len(kept) <= 40
    # the signed URLs' tails were redacted once and replayed into :path
    assert len(fast._urls.cur) + len(fast._urls.old) >= 50
