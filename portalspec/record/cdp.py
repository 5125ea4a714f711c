"""A small Chrome DevTools Protocol client: commands and events over the browser's websocket.

Built on ``websockets`` (its threaded client): a maintained, spec-complete websocket library with no
event loop to host. The CDP layer itself is a request id and a wait, too little to justify a client
library (those on PyPI are either unmaintained or drive a whole browser automation stack).
"""

from __future__ import annotations

import itertools
import json
import queue
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..errors import PortalspecError


class CDPError(PortalspecError):
    pass


@dataclass
class Event:
    method: str
    params: dict[str, Any]
    session: str | None


def browser_ws_url(endpoint: str, timeout: float = 5.0) -> str:
    """The browser target's websocket address from ``http://HOST:PORT`` (or a ``ws://`` address as is)."""
    if endpoint.startswith(("ws://", "wss://")):
        return endpoint
    if not endpoint.startswith(("http://", "https://")):
        endpoint = "http://" + endpoint
    url = endpoint.rstrip("/") + "/json/version"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:  # noqa: S310 - the user's own debugging port
            info = json.loads(r.read())
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise CDPError(f"{endpoint}: no browser answers there ({e}); start it with --remote-debugging-port="
                       f"{urlsplit(endpoint).port or 9222}") from None
    ws = info.get("webSocketDebuggerUrl")
    if not ws:
        raise CDPError(f"{url}: the answer names no webSocketDebuggerUrl")
    return ws


class CDPClient:
    """One websocket to the browser; commands wait for their answer; events go to ``events``."""

    def __init__(self, ws_url: str) -> None:
        from websockets.sync.client import connect

        try:
            # entered as a context (the form websockets keeps); closed in ``close``
            self._ws = connect(ws_url, max_size=None, open_timeout=10, compression=None).__enter__()
        except (OSError, Exception) as e:  # noqa: BLE001 - websockets raises its own kinds for a refused handshake
            raise CDPError(f"{ws_url}: could not connect ({e})") from None
        self._ids = itertools.count(1)
        self._waiting: dict[int, tuple[threading.Event, list[Any]]] = {}
        self._lock = threading.Lock()
        self.events: queue.Queue[Event | None] = queue.Queue()
        self.closed = threading.Event()
        self._reader = threading.Thread(target=self._read, name="cdp-reader", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        try:
            while True:
                msg = json.loads(self._ws.recv())
                if "id" in msg:
                    with self._lock:
                        slot = self._waiting.pop(msg["id"], None)
                    if slot is not None:
                        slot[1].append(msg)
                        slot[0].set()
                elif "method" in msg:
                    self.events.put(Event(msg["method"], msg.get("params") or {}, msg.get("sessionId")))
        except Exception:  # noqa: BLE001 - the browser went away: the loop below ends the session
            pass
        finally:
            self.closed.set()
            with self._lock:
                for done, _ in self._waiting.values():
                    done.set()
            self.events.put(None)

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None,
             timeout: float = 15.0) -> dict[str, Any]:
        """Send a command and return its result (raises ``CDPError`` with the browser's message)."""
        n = next(self._ids)
        done, box = threading.Event(), []  # type: threading.Event, list[Any]
        with self._lock:
            self._waiting[n] = (done, box)
        msg: dict[str, Any] = {"id": n, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        try:
            self._ws.send(json.dumps(msg))
        except Exception as e:  # noqa: BLE001
            raise CDPError(f"{method}: the browser connection is closed ({e})") from None
        if not done.wait(timeout) or not box:
            with self._lock:
                self._waiting.pop(n, None)
            raise CDPError(f"{method}: no answer from the browser")
        if "error" in box[0]:
            raise CDPError(f"{method}: {box[0]['error'].get('message')}")
        return box[0].get("result") or {}

    def close(self) -> None:
        try:
            self._ws.close()
        except Exception:  # noqa: BLE001
            pass
        self._reader.join(5)
