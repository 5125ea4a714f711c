"""Redaction keeps shape and type: strings stay strings, numbers stay numbers, keys and words stay."""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portalspec.redaction import detectors as d
from portalspec.redaction.redactor import Redactor
from portalspec.shapes.drift import media_schema, response_for
from portalspec.synth import value_for

_KEYS = ["id", "name", "displayName", "skipToken", "$skiptoken", "nextPageToken", "continuationToken",
         "SignatureState", "tokenType", "secretType", "accessToken", "password", "pin", "clientSecret",
         "sessionId", "state", "code", "count", "enabled", "@odata.nextLink", "csrfToken", "tokenExpiresOn"]
_WORDS = ["Unsigned", "Signed", "NotConfigured", "Bearer", "read_write", "Enabled", "ABC", "v2"]


def _tokens() -> st.SearchStrategy[str]:
    return st.builds(lambda n: secrets.token_urlsafe(n), st.integers(8, 40))


_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=False, allow_infinity=False),
                     st.sampled_from(_WORDS), _tokens(), st.text(max_size=20))
_json = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(_KEYS), inner, max_size=5)), max_leaves=25)


def _types(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _types(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_types(v) for v in value]
    return type(value).__name__


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=_json, remembered=st.lists(_tokens(), max_size=3))
def test_json_types_never_change(body: Any, remembered: list[str]) -> None:
    for fast in (True, False):
        r = Redactor(fast=fast)
        for v in remembered:  # secrets of earlier calls, swept out of this one
            r.redact_header("Authorization", "Bearer " + v)
        entry = {"request": {"method": "POST", "url": "https://portal.example/api/x", "headers": [],
                             "postData": {"mimeType": "application/json", "text": json.dumps(body)}},
                 "response": {"status": 200, "headers": [], "content": {"mimeType": "application/json",
                                                                        "text": json.dumps(body)}}}
        r.redact_entry(entry)
        for text in (entry["request"]["postData"]["text"], entry["response"]["content"]["text"]):
            assert _types(json.loads(text)) == _types(body)


def test_numbers_cursors_and_words() -> None:
    r = Redactor()
    body = {"skipToken": 123456, "$skiptoken": "Page2", "pin": 12345678, "tokenExpiresOn": 1732000000,
            "SignatureState": "Unsigned", "tokenType": "Bearer", "secretType": "ClientSecret",
            "nextPageToken": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.abcdefghijk",
            "continuationToken": secrets.token_urlsafe(32), "password": "hunter22hunter"}
    out = json.loads(r.redact_body(json.dumps(body), "application/json"))
    assert out["skipToken"] == 123456 and out["$skiptoken"] == "Page2" and out["tokenExpiresOn"] == 1732000000
    assert out["pin"] == 0 and r._ctx.counts["number"] == 1
    assert (out["SignatureState"], out["tokenType"], out["secretType"]) == ("Unsigned", "Bearer", "ClientSecret")
    assert out["nextPageToken"].startswith("<redacted:jwt:")  # a cursor that carries a secret by the other rules
    assert out["continuationToken"].startswith("<redacted:token:")
    assert out["password"].startswith("<redacted:field:")  # a secret's own name: redacted, but a word is not
    assert "hunter22hunter" not in r._known and "Unsigned" not in r._known  # remembered for the sweep
    # another call of the session: the word inside a key and a value stays
    entry = {"request": {"method": "GET", "url": "https://portal.example/api/x", "headers": []},
             "response": {"status": 200, "headers": [], "content": {
                 "mimeType": "application/json",
                 "text": json.dumps({"liveResponseUnsignedScriptExecution": True, "state": "Unsigned"})}}}
    r.redact_entry(entry)
    assert json.loads(entry["response"]["content"]["text"]) == {"liveResponseUnsignedScriptExecution": True,
                                                                "state": "Unsigned"}


def test_query_cursor_keeps_its_value() -> None:
    r = Redactor()
    url = "https://portal.example/api/items?$skiptoken=Page%2F2&nextPageToken=12345678&sig=" + secrets.token_urlsafe(32)
    out = r.redact_url(url)
    assert "$skiptoken=Page%2F2" in out and "nextPageToken=12345678" in out and "sig=<redacted:param:" in out


def _walk(value: Any, path: str = "") -> Any:
    if isinstance(value, dict):
        for k, v in value.items():
            yield ("key", path, k)
            yield from _walk(v, f"{path}/{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk(v, f"{path}/{i}")
    elif isinstance(value, str) and d.reads_as_words(value):
        yield ("word", path, value)


def test_nodoc_bodies_keep_every_key_and_word(nodoc_index) -> None:  # type: ignore[no-untyped-def]
    """Every operation's example bodies, request and response, through one session of the redactor."""
    r = Redactor()
    bodies = []
    for op in nodoc_index.operations:
        rb = (op.request_body or {}).get("content")
        schema = media_schema(rb, "application/json")[0] if rb else None
        if isinstance(schema, dict) and schema:
            bodies.append(value_for(schema, mode="request"))
        robj, found = response_for(op, 200)
        schema = media_schema((robj or {}).get("content"), "application/json")[0] if found and robj else None
        if isinstance(schema, dict) and schema:
            bodies.append(value_for(schema))
    assert len(bodies) > 1000
    changed: list[tuple[str, str]] = []
    own: set[str] = set()
    for body in bodies:
        entry = {"request": {"method": "POST", "url": "https://portal.example/api", "headers": [],
                             "postData": {"mimeType": "application/json", "text": json.dumps(body)}},
                 "response": {"status": 200, "headers": [], "content": {"mimeType": "application/json", "text": "{}"}}}
        r.redact_entry(entry)
        out = json.loads(entry["request"]["postData"]["text"])
        before, after = list(_walk(body)), list(_walk(out))
        if [x for x in before if x[0] == "key"] != [x for x in after if x[0] == "key"]:
            changed.append(("keys", body))
        lost = set(before) - set(after)
        for kind, path, value in lost:
            if kind != "word":
                continue
            if d.names_a_secret(path.rsplit("/", 1)[-1]):
                own.add(path.rsplit("/", 1)[-1])  # a secret's own name: its value is redacted, word or not
            else:
                changed.append((path, value))
    assert changed == [], changed[:20]
    # what is left are credentials' own names (today: AccessToken, Token, password, sessionId, portalAuthorization)
    assert all(re.search(r"(password|token|authorization|sessionid|secret|key|signature)$", k.lower()) for k in own), own
