"""Writes ``mitmproxy<MAJOR>.flows`` with the installed mitmproxy's own writer and test flows, for
versions before 7 (WebSocket flows were flows of their own then). Run with that version installed:
``python3.9 -m venv v && v/bin/pip install mitmproxy==6.0.2 && v/bin/python make_old_dumps.py``
(4.0.4 on Python 3.8 likewise). Secrets in them are made up.
"""

import json

from mitmproxy import io, version
from mitmproxy.test import tflow

flows = []
get = tflow.tflow(resp=True)
get.request.host, get.request.path = "admin.microsoft.com", "/admin/api/users?$top=5"
get.request.headers["Authorization"] = "Bearer oldDumpCanaryToken0123456789abcdefXYZ"
get.response.headers["content-type"] = "application/json"
get.response.content = json.dumps({"value": [{"id": 1}]}).encode()
flows.append(get)
if hasattr(tflow, "twebsocketflow"):
    flows.append(tflow.twebsocketflow())
if hasattr(tflow, "ttcpflow"):
    flows.append(tflow.ttcpflow())
major = version.VERSION.split(".")[0]
with open(f"mitmproxy{major}.flows", "wb") as f:
    w = io.FlowWriter(f)
    for fl in flows:
        w.add(fl)
print(major, [type(x).__name__ for x in flows])
