"""What a loaded spec is: operations with their servers, parameters and resolved schemas."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Server:
    """A server URL split into a host pattern (regex over ``host[:port]``) and a base path."""

    url: str
    host_regex: str | None  # None: relative URL, any host
    base_path: str  # without trailing slash, "" for none
    scheme: str | None
    defaults: tuple[tuple[str, str], ...] = ()  # server variables' defaults (the values seen live)

    @classmethod
    def parse(cls, url: str, variables: dict[str, Any] | None = None) -> "Server":
        variables = variables or {}
        m = re.match(r"^(?:(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*):)?//(?P<host>[^/]*)(?P<path>.*)$", url)
        if m is None:
            m2 = re.match(r"^(?P<host>\{[^}]+\}[^/]*|[A-Za-z0-9.{}-]+\.[A-Za-z]{2,}[^/]*)(?P<path>/.*)?$", url)
            if m2 is None or url.startswith("/"):
                return cls(url, None, url.rstrip("/"), None)
            host, path, scheme = m2.group("host"), m2.group("path") or "", None
        else:
            host, path, scheme = m.group("host"), m.group("path"), m.group("scheme")
        defaults = tuple((k, str(v["default"])) for k, v in variables.items() if isinstance(v, dict) and "default" in v)
        return cls(url, _host_regex(host, variables), _subst_defaults(path, variables).rstrip("/"), scheme, defaults)


def _subst_defaults(path: str, variables: dict[str, Any]) -> str:
    def sub(m: re.Match[str]) -> str:
        v = variables.get(m.group(1)) or {}
        return str(v.get("default", m.group(0))) if isinstance(v, dict) else m.group(0)

    return re.sub(r"\{([^}]+)\}", sub, path)


def _host_regex(host: str, variables: dict[str, Any]) -> str:
    out, pos = [], 0
    whole = re.fullmatch(r"\{[^}]+\}", host) is not None
    for m in re.finditer(r"\{([^}]+)\}", host):
        out.append(re.escape(host[pos : m.start()].lower()))
        var = variables.get(m.group(1)) if isinstance(variables.get(m.group(1)), dict) else None
        if var and isinstance(var.get("enum"), list) and var["enum"]:
            out.append("(?:" + "|".join(re.escape(str(e).lower()) for e in var["enum"]) + ")")
        elif whole:
            out.append("[^/]+")
        elif var and "." in str(var.get("default", "")):  # the value seen live spans host labels
            out.append("[a-z0-9-]+(?:\\.[a-z0-9-]+)*")
        else:
            out.append("[a-z0-9-]+")
        pos = m.end()
    out.append(re.escape(host[pos:].lower()))
    return "".join(out)


@dataclass
class Operation:
    spec: str
    method: str  # upper case
    path: str  # the path template as written in the spec
    operation_id: str | None
    servers: list[Server]
    parameters: list[dict[str, Any]]
    request_body: dict[str, Any] | None
    responses: dict[str, Any]
    source_file: str  # the file that defines the path item
    source_pointer: str
    tags: list[str] = field(default_factory=list)
    summary: str | None = None
    deprecated: bool = False
    context: dict[str, Any] = field(default_factory=dict)  # x-nodoc-operation-context
    known_headers: frozenset[str] = frozenset()  # lower-case: security schemes, x-nodoc-headerProfiles
    live: dict[str, Any] = field(default_factory=dict)  # x-nodoc-live-capture
    has_description: bool = False

    @property
    def key(self) -> str:
        """Identity: spec, method and path (operationIds are not unique in the wild)."""
        return f"{self.spec} {self.method} {self.path}"

    @property
    def label(self) -> str:
        return self.operation_id or f"{self.method} {self.path}"

    def query_params(self) -> list[dict[str, Any]]:
        return [p for p in self.parameters if p.get("in") == "query"]


@dataclass
class Spec:
    name: str  # short id: x-nodoc-route, else the folder name
    title: str
    root: str
    version: str
    servers: list[Server]
    operations: list[Operation]
    files: list[str]
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    paths_lost: list[str] = field(default_factory=list)  # path items that did not load (their operations are lost)
