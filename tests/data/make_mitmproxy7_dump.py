"""Writes ``mitmproxy7.flows`` with mitmproxy 7.0.4's own writer (run it with that version installed:
``python3.10 -m venv v && v/bin/pip install mitmproxy==7.0.4 && v/bin/python make_mitmproxy7_dump.py``).

The file holds what a mitmproxy 7 user's dump holds: HTTP calls to a portal (GET, a JSON POST), a
WebSocket flow with messages in both directions, and a raw TCP flow. Its secrets are made up.
"""

import json
import sys

from mitmproxy import io
from mitmproxy.test import tflow

flows = []
get = tflow.tflow(resp=True)
get.request.host, get.request.path = "security.microsoft.com", "/apiproxy/mtp/alerts?$top=10"
get.request.headers["Authorization"] = "Bearer mitm7CanaryToken0123456789abcdefXYZ"
get.response.headers["content-type"] = "application/json"
get.response.content = json.dumps({"value": [{"id": "da637", "title": "Suspicious sign-in"}]}).encode()
flows.append(get)

post = tflow.tflow(resp=True)
post.request.method, post.request.host, post.request.path = "POST", "security.microsoft.com", "/apiproxy/mtp/alerts/da637/assign"
post.request.headers["content-type"] = "application/json"
post.request.content = json.dumps({"assignedTo": "analyst@contoso.com"}).encode()
post.response.content = b"{}"
flows.append(post)

ws = tflow.twebsocketflow()
ws.request.host, ws.request.path = "security.microsoft.com", "/apiproxy/signalr/connect"
flows.append(ws)

flows.append(tflow.ttcpflow())

with open(sys.argv[1] if len(sys.argv) > 1 else "mitmproxy7.flows", "wb") as f:
    w = io.FlowWriter(f)
    for fl in flows:
        w.add(fl)
