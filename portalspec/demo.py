"""The bundled demo: a browser-style HAR of the invented demo portal, secrets included.

``captures/demo`` is this HAR after ``portalspec import`` (redacted). The HAR itself is built
in memory and written only to a temporary file, so no unredacted secret is ever committed.
"""

from __future__ import annotations

import base64
import json
import random
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

HOST = "https://admin.demo-portal.example"


def _jwt(claims: dict[str, Any]) -> str:
    def b64(d: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")

    return f"{b64({'alg': 'RS256', 'typ': 'JWT'})}.{b64(claims)}.{base64.urlsafe_b64encode(random.randbytes(64)).decode().rstrip('=')}"


def _user(rng: random.Random, **extra: Any) -> dict[str, Any]:
    uid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    name = rng.choice(["Adele Vance", "Alex Wilber", "Megan Bowen", "Lee Gu", "Nestor Wilke"])
    upn = name.lower().replace(" ", ".") + "@contoso.example"
    return {"id": uid, "displayName": name, "userPrincipalName": upn, "accountEnabled": True,
            "department": rng.choice(["Sales", "IT", None]), **extra}


def demo_har(seed: int = 7) -> dict[str, Any]:
    """A HAR 1.2 log of one admin session on the demo portal."""
    rng = random.Random(seed)
    random.seed(seed)
    t0 = datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc)
    session = base64.b64encode(rng.randbytes(48)).decode()
    ajax = base64.urlsafe_b64encode(rng.randbytes(30)).decode()
    token = _jwt({"aud": "https://admin.demo-portal.example", "iss": "https://sts.windows.net/7d3f1c2a-0b4e-4c1d-9a8b-3e2f1d0c9b8a/",
                  "tid": "7d3f1c2a-0b4e-4c1d-9a8b-3e2f1d0c9b8a", "scp": "Directory.ReadWrite.All",
                  "roles": ["User.Admin"], "appid": "00000000-0000-0000-0000-00000000d3m0".replace("d3m0", "0d30"),
                  "exp": int((t0 + timedelta(hours=1)).timestamp())})
    users = [_user(rng) for _ in range(4)]
    entries: list[dict[str, Any]] = []

    def call(method: str, path: str, status: int, resp: Any = None, body: Any = None, referer: str = "/#/users") -> None:
        started = t0 + timedelta(seconds=len(entries) * 3)
        headers = [
            {"name": "Accept", "value": "application/json"},
            {"name": "Cookie", "value": f"sccauth={session}; XSRF-TOKEN={ajax[:20]}; s.theme=dark"},
            {"name": "AjaxSessionKey", "value": ajax},
            {"name": "x-portal-routekey", "value": "weu"},
            {"name": "Authorization", "value": f"Bearer {token}"},
            {"name": "Referer", "value": HOST + referer},
            {"name": "x-ms-client-request-id", "value": str(uuid.UUID(int=rng.getrandbits(128), version=4))},
        ]
        req: dict[str, Any] = {"method": method, "url": HOST + path, "httpVersion": "HTTP/2", "headers": headers,
                               "cookies": [], "queryString": [], "headersSize": -1, "bodySize": 0}
        if body is not None:
            text = json.dumps(body)
            req["postData"] = {"mimeType": "application/json", "text": text}
            req["bodySize"] = len(text)
        content: dict[str, Any] = {"size": 0, "mimeType": "application/json"}
        if resp is not None:
            content["text"] = json.dumps(resp)
            content["size"] = len(content["text"])
        entries.append({
            "startedDateTime": started.isoformat().replace("+00:00", "Z"), "time": 42.0, "request": req,
            "response": {"status": status, "statusText": "", "httpVersion": "HTTP/2",
                         "headers": [{"name": "Content-Type", "value": "application/json; charset=utf-8"},
                                     {"name": "Set-Cookie", "value": f"sccauth={session}; path=/; secure; HttpOnly"}],
                         "cookies": [], "content": content, "redirectURL": "", "headersSize": -1, "bodySize": -1},
            "cache": {}, "timings": {"send": 1, "wait": 40, "receive": 1},
        })

    call("GET", "/api/users/me", 200, users[0], referer="/#/home")
    # A changed shape: an undocumented property and a boolean sent as a string.
    page = [*users[:2], {**users[2], "onPremisesSyncEnabled": False, "accountEnabled": "yes"}]
    call("GET", "/api/users?$top=3", 200, {"value": page, "@odata.nextLink": HOST + "/api/users?$skiptoken=Zm9vYmFy"})
    for u in users[:3]:
        call("GET", f"/api/users/{u['id']}", 200, u)
    call("GET", "/api/roleAssignments('ra-1001')", 200,
         {"id": "ra-1001", "principalId": users[1]["id"], "roleDefinitionId": "helpdesk", "directoryScopeId": "/"})
    call("POST", "/api/roleAssignments", 201,
         {"id": "ra-1002", "principalId": users[2]["id"], "roleDefinitionId": "reader", "directoryScopeId": "/"},
         body={"principalId": users[2]["id"], "roleDefinitionId": "reader", "directoryScopeId": "/"},
         referer="/#/roles")
    call("PATCH", f"/api/users/{users[3]['id']}", 204, body={"department": "Finance", "displayName": users[3]["displayName"]})
    call("DELETE", "/api/roleAssignments('ra-1001')", 204, referer="/#/roles")
    call("GET", "/api/settings/security", 200,
         {"mfaRequired": True, "sessionTimeoutMinutes": 60, "legacyAuthBlocked": True, "passkeyPolicy": "optional"},
         referer="/#/settings")
    call("POST", "/api/reports/query", 200, {"rows": [{"day": "2026-11-19", "signIns": 112}]},
         body={"reportType": "signIns", "days": 7}, referer="/#/reports")
    # Undocumented: sign-in logs, a list and three items, and a password reset (a write).
    call("GET", "/api/auditLogs/signIns?$top=2", 200,
         {"value": [{"id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "status": "success", "riskLevel": "low"}]},
         referer="/#/signins")
    for _ in range(3):
        sid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        call("GET", f"/api/auditLogs/signIns/{sid}", 200,
             {"id": sid, "status": rng.choice(["success", "failure"]), "riskLevel": rng.choice(["low", "medium"]),
              "ipAddress": f"203.0.113.{rng.randint(1, 254)}", "createdDateTime": "2026-11-19T08:00:00Z"},
             referer="/#/signins")
    call("POST", f"/api/users/{users[1]['id']}/resetPassword", 200, {"status": "queued"},
         body={"newPassword": "Winter2026!Winter2026!", "forceChangePasswordNextSignIn": True})
    return {"log": {"version": "1.2", "creator": {"name": "portalspec-demo", "version": "1"}, "pages": [], "entries": entries}}
