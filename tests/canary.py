"""Canary secrets planted in every place a portal can carry one, and the check that none leaked."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import quote, quote_plus


def token(n: int = 30) -> str:
    """A random secret with characters that change under URL and base64 encoding."""
    return base64.b64encode(os.urandom(n)).decode().rstrip("=")


def jwt(claims: dict[str, Any]) -> str:
    def b64(d: Any) -> str:
        return base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")

    sig = base64.urlsafe_b64encode(os.urandom(64)).decode().rstrip("=")
    return f"{b64({'alg': 'RS256', 'typ': 'JWT'})}.{b64(claims)}.{sig}"


def encodings(secret: str) -> set[str]:
    raw = secret.encode()
    b64 = base64.b64encode(raw).decode()
    forms = {secret, quote(secret, safe=""), quote_plus(secret), b64, b64.rstrip("="),
             base64.urlsafe_b64encode(raw).decode().rstrip("=")}
    return {f for f in forms if len(f) >= 8}


class Canaries:
    """Named canaries; ``.jwt`` is a bearer token whose claims must survive as a summary."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self.tid = "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
        self.jwt_token = jwt({"aud": "https://canary.portal.test", "scp": "Canary.Read", "tid": self.tid,
                              "iss": f"https://sts.windows.net/{self.tid}/", "exp": 4102444800})
        self.values["jwt"] = self.jwt_token
        self.values["jwt_sig"] = self.jwt_token.split(".")[2]
        self.values["path_token"] = token().replace("/", "_").replace("+", "-")  # a path segment

    def __getattr__(self, name: str) -> str:
        if name.startswith("_") or name in ("values",):
            raise AttributeError(name)
        if name not in self.values:
            self.values[name] = token()
        return self.values[name]

    def forms(self) -> dict[str, set[str]]:
        return {k: encodings(v) for k, v in self.values.items()}

    def leaks(self, paths: Iterable[Path]) -> list[str]:
        """Every (canary, form, file) found; an empty list means nothing leaked."""
        found = []
        forms = self.forms()
        for p in paths:
            files = [p] if p.is_file() else [f for f in p.rglob("*") if f.is_file()]
            for f in files:
                data = f.read_bytes()
                for name, fs in forms.items():
                    for form in fs:
                        if form.encode() in data:
                            found.append(f"{name} ({form[:12]}...) in {f}")
        return found


def portal_entry(c: Canaries, host: str = "https://admin.demo-portal.example") -> dict[str, Any]:
    """One HAR entry with a canary in every place: headers, cookies, set-cookie, query, JSON at
    depth, JWT in a body string, base64 and URL-encoded copies, URL path, form and multipart."""
    body = {
        "settings": {"nested": {"deeper": {"password": c.password, "client_secret": c.client_secret}}},
        "note": f"copied token {c.jwt_token}",
        "b64copy": base64.b64encode(c.sccauth.encode()).decode(),
        "urlcopy": quote(c.ajax, safe=""),
        "embedded": json.dumps({"refresh_token": c.refresh_in_string}),
        "redirect": f"https://login.example/cb?code={quote(c.oauth_code, safe='')}&state=1",
        "requests": [{"url": "/me", "headers": {"Authorization": f"Bearer {c.batch_bearer}"}}],
        "privateKey": "-----BEGIN PRIVATE KEY-----\n" + c.pem + "\n-----END PRIVATE KEY-----",
    }
    return {
        "startedDateTime": "2026-11-20T10:00:00.000Z",
        "time": 12.5,
        "request": {
            "method": "POST",
            "url": f"{host}/api/reset/{c.path_token}/apply?access_token={quote(c.query_token, safe='')}&sig={quote(c.sig, safe='')}&$top=5",
            "httpVersion": "HTTP/1.1",
            "headers": [
                {"name": "Authorization", "value": f"Bearer {c.jwt_token}"},
                {"name": "Cookie", "value": f"sccauth={c.sccauth}; AjaxSessionKey={c.ajax_cookie}; FedAuth={c.fedauth}; rtFa={c.rtfa}; XSRF-TOKEN={c.xsrf}"},
                {"name": "AjaxSessionKey", "value": c.ajax},
                {"name": "x-portal-routekey", "value": c.routekey},
                {"name": "X-RequestDigest", "value": c.digest},
                {"name": "x-xsrf-token", "value": c.xsrf_header},
                {"name": "Content-Type", "value": "application/json"},
                {"name": "Referer", "value": f"{host}/#/page?token={quote(c.referer_token, safe='')}"},
            ],
            "cookies": [{"name": "sccauth", "value": c.sccauth}],
            "queryString": [{"name": "access_token", "value": c.query_token}, {"name": "sig", "value": c.sig},
                            {"name": "$top", "value": "5"}],
            "postData": {"mimeType": "application/json", "text": json.dumps(body)},
            "headersSize": -1, "bodySize": -1,
        },
        "response": {
            "status": 200, "statusText": "OK", "httpVersion": "HTTP/1.1",
            "headers": [
                {"name": "Set-Cookie", "value": f"sccauth={c.set_cookie}; path=/; secure; HttpOnly"},
                {"name": "Location", "value": f"{host}/cb#access_token={c.location_token}&token_type=Bearer"},
                {"name": "Content-Type", "value": "application/json"},
            ],
            "cookies": [{"name": "sccauth", "value": c.set_cookie}],
            "content": {"size": 10, "mimeType": "application/json",
                        "text": json.dumps({"access_token": c.resp_access, "id_token": c.resp_id,
                                            "value": [{"id": 1, "apiKey": c.resp_apikey}]})},
            "redirectURL": "", "headersSize": -1, "bodySize": -1,
        },
        "cache": {}, "timings": {"send": 1, "wait": 10, "receive": 1},
    }


def form_entries(c: Canaries, host: str = "https://admin.demo-portal.example") -> list[dict[str, Any]]:
    """Form-encoded and multipart bodies with secrets."""
    boundary = "----portalspecBoundary7MA4YWxk"
    multipart = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"client_secret\"\r\n\r\n{c.mp_secret}\r\n"
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"meta\"\r\nContent-Type: application/json\r\n\r\n"
        + json.dumps({"password": c.mp_json_password}) + f"\r\n--{boundary}--\r\n"
    )
    base = portal_entry(c, host)
    form = json.loads(json.dumps(base))
    form["request"]["postData"] = {
        "mimeType": "application/x-www-form-urlencoded",
        "text": f"grant_type=refresh_token&refresh_token={quote(c.form_refresh, safe='')}&client_id=abc&password={quote(c.form_password, safe='')}",
        "params": [{"name": "refresh_token", "value": c.form_refresh}, {"name": "password", "value": c.form_password}],
    }
    mp = json.loads(json.dumps(base))
    mp["request"]["postData"] = {"mimeType": f"multipart/form-data; boundary={boundary}", "text": multipart}
    return [form, mp]


def har(entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {"log": {"version": "1.2", "creator": {"name": "test", "version": "1"}, "pages": [], "entries": entries}}
