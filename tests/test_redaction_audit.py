"""Redaction audit: over a hundred realistic secret placements, each a case of its own.

All cases are imported into one capture and reported once; each case then asserts that its
canary is nowhere in the capture or the report, in any encoding.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote

import pytest

from portalspec.importers import import_file

from .canary import encodings, har, jwt, token

ROOT = Path(__file__).resolve().parent.parent
HOST = "https://admin.demo-portal.example"


def _entry(url: str = f"{HOST}/api/x", method: str = "GET", req_headers: list[dict[str, str]] | None = None,
           req_body: str | None = None, req_mime: str = "application/json", resp_headers: list[dict[str, str]] | None = None,
           resp_body: str = "{}", resp_mime: str = "application/json", status: int = 200) -> dict[str, Any]:
    req: dict[str, Any] = {"method": method, "url": url, "httpVersion": "HTTP/2", "headers": req_headers or [],
                           "cookies": [], "queryString": [], "headersSize": -1, "bodySize": -1}
    if req_body is not None:
        req["postData"] = {"mimeType": req_mime, "text": req_body}
    return {"startedDateTime": "2026-11-20T10:00:00Z", "time": 1, "request": req,
            "response": {"status": status, "statusText": "", "httpVersion": "HTTP/2", "headers": resp_headers or [],
                         "cookies": [], "content": {"size": len(resp_body), "mimeType": resp_mime, "text": resp_body},
                         "redirectURL": "", "headersSize": -1, "bodySize": -1}, "cache": {}, "timings": {}}


def _h(name: str, value: str) -> list[dict[str, str]]:
    return [{"name": name, "value": value}]


Case = Callable[[str], dict[str, Any]]
CASES: dict[str, Case] = {}
NEEDLES: dict[str, list[str]] = {}  # secret -> what to look for, where the secret is inside an encoded blob


def _basic(s: str) -> dict[str, Any]:
    blob = base64.b64encode(f"admin:{s}".encode()).decode()
    NEEDLES[s] = [blob]
    return _entry(req_headers=_h("Authorization", "Basic " + blob))


def _saml(s: str) -> dict[str, Any]:
    blob = base64.b64encode(f"<samlp:Response><Assertion>{s}</Assertion></samlp:Response>".encode()).decode()
    NEEDLES[s] = [blob]
    return _entry(method="POST", req_mime="application/x-www-form-urlencoded",
                  req_body="SAMLResponse=" + quote(blob, safe="") + "&RelayState=x")

# Cookies the portals use, in the Cookie header and in Set-Cookie.
for name in ("sccauth", "XSRF-TOKEN", "AjaxSessionKey", "FedAuth", "rtFa", "SPOIDCRL", "ESTSAUTH", "ESTSAUTHPERSISTENT",
             "x-ms-gateway-slice", "s.SessID", "OpenIdConnect.nonce.abc", "MSISAuth", ".AspNet.Cookies", "buid"):
    CASES[f"cookie:{name}"] = lambda s, n=name: _entry(req_headers=_h("Cookie", f"a=1; {n}={s}; b=2"))
    CASES[f"set-cookie:{name}"] = lambda s, n=name: _entry(resp_headers=_h("Set-Cookie", f"{n}={s}; path=/; secure; HttpOnly"))
# Headers whose names say they carry a secret.
for name in ("Authorization", "AjaxSessionKey", "x-portal-routekey", "X-RequestDigest", "x-xsrf-token", "X-CSRF-Token",
             "x-ms-client-session-id", "X-Api-Key", "Ocp-Apim-Subscription-Key", "x-functions-key", "X-Auth-Token",
             "Proxy-Authorization", "x-ms-token-aad-access-token", "X-Session-Key", "x-secret"):
    CASES[f"header:{name}"] = lambda s, n=name: _entry(req_headers=_h(n, s))
CASES["header:Authorization Basic"] = _basic
# Bearer JWTs.
for where in ("request-header", "response-header", "json-body", "text-body", "query", "path"):
    def _jwt_case(s: str, w: str = where) -> dict[str, Any]:
        t = jwt({"aud": "https://graph.microsoft.com", "nonce": s, "tid": "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"})
        NEEDLES[s] = [t, t.split(".")[2]]
        return {"request-header": lambda: _entry(req_headers=_h("Authorization", f"Bearer {t}")),
                "response-header": lambda: _entry(resp_headers=_h("x-ms-token", t)),
                "json-body": lambda: _entry(resp_body=json.dumps({"result": {"value": t}})),
                "text-body": lambda: _entry(resp_body=f"token={t};", resp_mime="text/plain"),
                "query": lambda: _entry(url=f"{HOST}/api/x?t={t}"),
                "path": lambda: _entry(url=f"{HOST}/api/tokens/{t}/x")}[w]()
    CASES[f"jwt:{where}"] = _jwt_case
# Query parameters with secret names.
for name in ("access_token", "refresh_token", "id_token", "code", "sig", "apikey", "api_key", "client_secret", "password",
             "token", "SAMLResponse", "assertion", "sessionKey", "x-ms-token", "AccessToken", "spsig"):
    CASES[f"query:{name}"] = lambda s, n=name: _entry(url=f"{HOST}/api/x?a=1&{n}={quote(s, safe='')}&b=2")
# JSON fields with secret names, at depth.
for name in ("password", "client_secret", "refresh_token", "accessToken", "secret", "apiKey", "privateKey", "credential",
             "connectionString", "sharedAccessKey", "clientAssertion", "Password", "new_password", "otp"):
    CASES[f"json:{name}"] = lambda s, n=name: _entry(method="POST", req_body=json.dumps({"a": {"b": [{"c": {n: s}}]}}))
# Form bodies (OAuth token requests, SAML posts).
for name in ("refresh_token", "client_secret", "password", "code", "SAMLResponse", "client_assertion", "__RequestVerificationToken"):
    CASES[f"form:{name}"] = lambda s, n=name: _entry(method="POST", req_body=f"grant_type=x&{n}={quote(s, safe='')}&scope=openid",
                                                      req_mime="application/x-www-form-urlencoded")
CASES["saml:assertion-base64"] = _saml
# OAuth responses.
CASES["oauth:token-response"] = lambda s: _entry(resp_body=json.dumps({"token_type": "Bearer", "access_token": s, "expires_in": 3599}))
CASES["oauth:code-in-location"] = lambda s: _entry(status=302, resp_headers=_h("Location", f"https://portal.example/cb?code={quote(s, safe='')}&state=abc"))
CASES["oauth:token-in-fragment"] = lambda s: _entry(status=302, resp_headers=_h("Location", f"https://portal.example/cb#access_token={quote(s, safe='')}&token_type=Bearer"))
CASES["oauth:redirect-url-in-body"] = lambda s: _entry(resp_body=json.dumps({"next": f"https://login.example/authorize?id_token_hint={quote(s, safe='')}"}))
CASES["oauth:referer"] = lambda s: _entry(req_headers=_h("Referer", f"https://portal.example/#/cb?code={quote(s, safe='')}"))
# MSAL cache in session-storage-like JSON.
CASES["msal:access-token-entry"] = lambda s: _entry(resp_body=json.dumps({"homeAccountId": "x", "credentialType": "AccessToken", "secret": s}))
CASES["msal:refresh-token-entry"] = lambda s: _entry(resp_body=json.dumps({"credentialType": "RefreshToken", "secret": s, "clientId": "y"}))
CASES["msal:json-in-string"] = lambda s: _entry(resp_body=json.dumps({"msal.cache": json.dumps({"RefreshToken": {"k": {"secret": s}}})}))
# Tokens in HTML and JS bodies.
CASES["html:hidden-input"] = lambda s: _entry(resp_mime="text/html", resp_body=f'<form><input type="hidden" name="__RequestVerificationToken" value="{s}"></form>')
CASES["html:meta"] = lambda s: _entry(resp_mime="text/html", resp_body=f'<meta name="csrf-token" content="{s}">')
CASES["js:assignment"] = lambda s: _entry(resp_mime="application/javascript", resp_body=f'window.__config = {{"formDigest": "{s}", "a": 1}};')
CASES["js:var"] = lambda s: _entry(resp_mime="text/javascript", resp_body=f'var sessionKey = "{s}"; var x = 1;')
CASES["js:bootstrap-json"] = lambda s: _entry(resp_mime="text/html", resp_body=f'<script>var boot = {{"AjaxSessionKey":"{s}"}};</script>')
# GraphQL and $batch.
CASES["graphql:variables"] = lambda s: _entry(method="POST", req_body=json.dumps({"operationName": "Q", "variables": {"token": s}}))
CASES["graphql:persisted-auth"] = lambda s: _entry(method="POST", req_body=json.dumps({"extensions": {"auth": {"bearer": s}}}))
CASES["batch:inner-authorization"] = lambda s: _entry(method="POST", req_body=json.dumps({"requests": [{"id": "1", "method": "GET", "url": "/me", "headers": {"Authorization": f"Bearer {s}"}}]}))
CASES["batch:inner-cookie"] = lambda s: _entry(method="POST", req_body=json.dumps({"requests": [{"id": "1", "url": "/x", "headers": {"Cookie": f"sccauth={s}"}}]}))
CASES["batch:inner-url"] = lambda s: _entry(method="POST", req_body=json.dumps({"requests": [{"id": "1", "url": f"/x?access_token={quote(s, safe='')}"}]}))
CASES["batch:response-body"] = lambda s: _entry(resp_body=json.dumps({"responses": [{"id": "1", "body": {"refresh_token": s}}]}))
# Copies: the same secret in a structured place and again, encoded, elsewhere.
CASES["copy:base64-in-body"] = lambda s: _entry(req_headers=_h("Cookie", f"sccauth={s}"), resp_body=json.dumps({"echo": base64.b64encode(s.encode()).decode()}))
CASES["copy:urlencoded-in-body"] = lambda s: _entry(req_headers=_h("AjaxSessionKey", s), resp_body=json.dumps({"u": "x=" + quote(s, safe="")}))
CASES["copy:raw-in-text"] = lambda s: _entry(req_headers=_h("X-RequestDigest", s), resp_mime="text/plain", resp_body=f"digest was {s} ok")
CASES["copy:in-url-path"] = lambda s: _entry(url=f"{HOST}/api/sessions/{quote(s, safe='')}/x", req_headers=_h("Cookie", f"FedAuth={s}"))
CASES["copy:base64url"] = lambda s: _entry(req_headers=_h("x-xsrf-token", s), resp_body=json.dumps({"v": base64.urlsafe_b64encode(s.encode()).decode().rstrip("=")}))
# Multipart parts.
CASES["multipart:secret-field"] = lambda s: _entry(method="POST", req_mime="multipart/form-data; boundary=XyZ",
                                                   req_body=f"--XyZ\r\nContent-Disposition: form-data; name=\"client_secret\"\r\n\r\n{s}\r\n--XyZ--\r\n")
CASES["multipart:json-part"] = lambda s: _entry(method="POST", req_mime="multipart/form-data; boundary=XyZ",
                                                req_body=f"--XyZ\r\nContent-Disposition: form-data; name=\"meta\"\r\nContent-Type: application/json\r\n\r\n" + json.dumps({"password": s}) + "\r\n--XyZ--\r\n")
CASES["multipart:file-with-key"] = lambda s: _entry(method="POST", req_mime="multipart/form-data; boundary=XyZ",
                                                    req_body=f"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"k.pem\"\r\nContent-Type: text/plain\r\n\r\n-----BEGIN PRIVATE KEY-----\n{s}\n-----END PRIVATE KEY-----\r\n--XyZ--\r\n")
# Private keys and connection strings.
CASES["pem:in-json"] = lambda s: _entry(resp_body=json.dumps({"certificate": f"-----BEGIN RSA PRIVATE KEY-----\n{s}\n-----END RSA PRIVATE KEY-----"}))
CASES["connstr:storage"] = lambda s: _entry(resp_body=json.dumps({"value": f"DefaultEndpointsProtocol=https;AccountName=x;AccountKey={s};EndpointSuffix=core.windows.net"}))
CASES["sas:query"] = lambda s: _entry(url=f"https://x.blob.core.windows.net/c/b?sv=2022-11-02&se=2026&sig={quote(s, safe='')}")
# Long single-line bodies and odd places.
CASES["long:single-line"] = lambda s: _entry(resp_mime="text/plain", resp_body="a" * 200_000 + f" token={s} " + "b" * 200_000)
CASES["long:json-array"] = lambda s: _entry(resp_body=json.dumps({"rows": [{"i": i} for i in range(5000)] + [{"apiKey": s}]}))
CASES["ext:initiator"] = lambda s: {**_entry(), "_initiator": {"type": "script", "url": f"https://portal.example/app.js?token={s}"}}
CASES["ext:websocket"] = lambda s: {**_entry(), "_webSocketMessages": [{"type": "send", "time": 1, "opcode": 1, "data": json.dumps({"auth": s})}]}
CASES["key:in-json-key"] = lambda s: _entry(resp_body=json.dumps({s: {"x": 1}}))


def _forms(secret: str) -> set[str]:
    forms = encodings(secret)
    for needle in NEEDLES.get(secret, []):
        forms |= encodings(needle)
    return forms


def _secret(shape: str) -> str:
    """A random secret; ``slashes`` puts a ``/`` or ``+`` every few characters, as base64 tokens
    sometimes have: pieces of five characters between separators, which the random-token rule must
    not read as a path (measured: one such 43-character token in a million is kept)."""
    s = token(32)
    if shape == "slashes":
        s = "".join(c if i % 6 != 5 else "/+"[(i // 6) % 2] for i, c in enumerate(s))
    return s


@pytest.fixture(scope="module", params=["random", "slashes"])
def audited(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], list[Path]]:
    tmp = tmp_path_factory.mktemp("audit")
    secrets = {name: _secret(request.param) for name in CASES}
    entries = [CASES[name](secret) for name, secret in secrets.items()]
    src = tmp / "audit.har"
    src.write_text(json.dumps(har(entries)))
    raw = src.read_bytes()
    planted = [n for n, sec in secrets.items() if any(f.encode() in raw or json.dumps(f)[1:-1].encode() in raw
                                                       for f in _forms(sec))]
    assert len(planted) == len(CASES), set(CASES) - set(planted)  # every canary really is in the input
    res = import_file(src, tmp / "cap", progress=False)
    assert res.imported == len(CASES)
    src.unlink()
    r = subprocess.run([sys.executable, "-m", "portalspec.cli", "report", str(tmp / "cap"), "--specs",
                        str(ROOT / "specs" / "demo"), "--out", str(tmp / "report")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    print(f"redaction audit corpus: {len(CASES)} placements")
    return secrets, [tmp / "cap", tmp / "report"]


def test_corpus_size() -> None:
    assert len(CASES) >= 100, len(CASES)


@pytest.mark.parametrize("case", sorted(CASES))
def test_canary_nowhere(audited: tuple[dict[str, str], list[Path]], case: str) -> None:
    secrets, paths = audited
    forms = _forms(secrets[case])
    files = [f for p in paths for f in p.rglob("*") if f.is_file()]
    assert len(files) >= 6
    for f in files:
        data = f.read_bytes()
        for form in forms:
            assert form.encode() not in data, f"{case}: {form[:10]}... in {f.name}"
