"""Spec updates as OpenAPI Overlay 1.0 documents, in the spec repository's own layout and names.

``spec-update.overlay.yaml`` is a YAML stream with one Overlay document per spec file it changes
(``extends`` names that file). A new endpoint goes where its spec's maintainers would put it
(``placement.py``: the sibling file of the surface it was seen on, with a ``$ref`` line in the root
where the root's order puts it; a new method on a ``$ref``'d path into the referenced file), named
in the spec's convention (``naming.py``), with nodoc's evidence extensions
(``x-nodoc-live-capture`` and ``x-nodoc-operation-context.provenance``); observed properties land
in the schema object that documents their parent, in whatever file a ``$ref`` leads to; new
statuses in the operation's ``responses``. ``apply.py`` splices them into the files.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

from .. import __version__
from ..paths import display_path
from ..specs.hosts import HostServers
from ..writeflows.context import workflows as flow_workflows
from .apply import AFTER
from .locate import _pointer_tokens, body_schema, jsonpath, operation_cursor, parent_object
from .naming import operation_id, summary
from .placement import PlacementPlanner

_TYPES = {"string", "integer", "number", "boolean", "object", "array"}


def _params(u: dict[str, Any], template: str, renames: dict[str, str]) -> list[dict[str, Any]]:
    out = []
    back = {v: k for k, v in renames.items()}
    for name in re.findall(r"\{([^}]+)\}", template):
        ev = u["params"].get(name) or u["params"].get(back.get(name, ""), {})
        desc = "Observed in live capture"
        if ev:
            n = ev.get("distinct_values")
            desc += f" ({ev.get('evidence')}, {n} distinct value{'' if n == 1 else 's'})"
        out.append({"name": name, "in": "path", "required": True, "description": desc, "schema": {"type": "string"}})
    return out


def _rename(template: str, renames: dict[str, str]) -> str:
    for old, new in renames.items():
        template = template.replace("{" + old + "}", "{" + new + "}")
    return template


def _responses(u: dict[str, Any], neighbour: dict[str, Any] | None, reuse: Any = None) -> dict[str, Any]:
    """Observed statuses; shared responses reused as the neighbour references them, schemas as the
    spec's own components where the shape is one of them."""
    example = u.get("example") or {}
    shared = (neighbour or {}).get("responses")
    shared = shared if isinstance(shared, dict) else {}
    out: dict[str, Any] = {}
    for status in sorted(u["statuses"]):
        if status == "0":
            continue
        if status.startswith("2"):
            resp: dict[str, Any] = {"description": "OK" if status == "200" else "Observed in live capture"}
            if u.get("response_schema"):
                media: dict[str, Any] = {"schema": reuse(u["response_schema"]) if reuse else u["response_schema"]}
                body = (example.get("response") or {}).get("body")
                if body is not None and str((example.get("response") or {}).get("status")) == status:
                    media["example"] = body
                resp["content"] = {"application/json": media}
            out[status] = resp
        elif isinstance(shared.get(status), dict) and "$ref" in shared[status]:
            out[status] = {"$ref": shared[status]["$ref"]}
        else:
            out[status] = {"description": "Observed in live capture"}
    if not out:
        why = ("Not observed: the write was intercepted and answered locally; it never reached the portal."
               if u.get("blocked") else "Not observed: found in the portal's code, never called"
               if u.get("code_route") else "Observed in live capture")
        out["default"] = {"description": why}
    return out


def new_operation(u: dict[str, Any], template: str, renames: dict[str, str], taken: set[str], source: str,
                  neighbour_id: str | None, tags: list[str], surface: str | None, header_profile: str | None,
                  sentences: list[str] | None, uses_context: bool, neighbour_node: dict[str, Any] | None,
                  reuse: Any = None) -> dict[str, Any]:
    """One new operation from an undocumented endpoint, in nodoc's shapes."""
    op: dict[str, Any] = {"summary": summary(u["method"], template),
                          "operationId": operation_id(u["method"], template, neighbour_id, taken, tags[0] if tags else None)}
    if tags:
        op["tags"] = list(tags)
    code = bool(u.get("code_route"))
    if not code:  # a route found only in the portal's code was never seen live
        op["x-nodoc-live-capture"] = {"source": source, "browsedPages": list(u.get("browsed_pages") or [])}
    context: dict[str, Any] = {}
    if surface:
        context["surface"] = surface
    if sentences and uses_context:
        context["workflows"] = sentences
    elif sentences:
        op["description"] = " ".join(sentences)
    if header_profile:
        context["headerProfile"] = header_profile
    intercepted = bool(u.get("blocked")) and not any(s != "0" for s in u["statuses"])
    if code:
        notes = [f"in the portal's JavaScript ({', '.join(u.get('bundles') or [])[:200]}); never called in the capture"]
        if u.get("method_assumed"):
            notes.append("the code names no method; GET assumed (fetch's default)")
        context["provenance"] = [{"source": "bundle-analysis", "confidence": "medium", "notes": notes}]
    else:
        context["provenance"] = [{"source": "intercepted-write-capture" if intercepted else "live-portal-capture",
                                  "confidence": "high",
                                  "notes": [f"{u['calls']} call{'' if u['calls'] == 1 else 's'} in portalspec's capture"
                                            + (", blocked and answered locally" if u.get("blocked") else "")]}]
    op["x-nodoc-operation-context"] = context
    params = _params(u, template, renames)
    if params:
        op["parameters"] = params
    example = u.get("example") or {}
    if u.get("request_schema"):
        media: dict[str, Any] = {"schema": reuse(u["request_schema"]) if reuse else u["request_schema"]}
        body = (example.get("request") or {}).get("body")
        if body is not None:
            media["example"] = body
        op["requestBody"] = {"content": {"application/json": media}}
    op["responses"] = _responses(u, neighbour_node, reuse)
    return op


def _header_profiles(report: dict[str, Any], planner: PlacementPlanner, index: Any,
                     actions: dict[str, list[dict[str, Any]]]) -> None:
    """Session headers go where a spec declares its header profiles (root ``x-nodoc-headerProfiles``)."""
    by_spec: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for h in report.get("session_headers") or []:
        by_spec[h["spec"]].append(h)
    for name, headers in by_spec.items():
        spec = next((s for s in index.specs if s.name == name), None) if index else None
        plan = planner.spec(planner.resolved(spec.root)) if spec else None
        if plan is None or not plan.profiles:
            continue
        profile = {"description": "Headers the portal sent on (nearly) every call in live capture.",
                   "observedHeaders": [{"name": h["header"], "description": f"Sent on {h['calls']} of {h['of']} calls."}
                                       for h in headers]}
        actions[plan.root].append({"target": "$['x-nodoc-headerProfiles']", "description": "session headers seen in live capture",
                                   "update": {f"{name}-live-session": profile}})


def _documented_workflows(report: dict[str, Any], planner: PlacementPlanner, index: Any,
                          workflows: dict[tuple[str, str], list[str]], actions: dict[str, list[dict[str, Any]]]) -> None:
    """A documented write seen in a flow gets a ``workflows`` sentence where its spec uses
    ``x-nodoc-operation-context`` (a ``description`` line where it does not and the operation has none).
    Existing sentences are kept; nothing is added where the operation has its own already."""
    if index is None:
        return
    by_key = {(op.method, op.path): op for op in index.operations}
    uses_context: dict[str, bool] = {}  # a spec's name -> whether it uses the extension (the first spec of that name)
    for spec in index.specs:
        if spec.name not in uses_context:
            uses_context[spec.name] = any(o.context for o in spec.operations)
    for (method, template), sentences in sorted(workflows.items()):
        op = by_key.get((method, template))
        if op is None or op.spec not in uses_context:
            continue
        tokens = _pointer_tokens(op.source_pointer)
        file = planner.resolved(op.source_file)
        context = op.context if op.context else None
        if uses_context[op.spec]:
            if context is None:
                actions[file].append({"target": jsonpath(tokens), "description": "write flow seen in live capture",
                                      "update": {"x-nodoc-operation-context": {"workflows": sentences}}})
            elif isinstance(context, dict) and "workflows" not in context:
                actions[file].append({"target": jsonpath([*tokens, "x-nodoc-operation-context"]),
                                      "description": "write flow seen in live capture", "update": {"workflows": sentences}})
        elif not op.has_description:
            actions[file].append({"target": jsonpath(tokens), "description": "write flow seen in live capture",
                                  "update": {"description": " ".join(sentences)}})


def code_only(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Undocumented routes found only in the portal's code, shaped as undocumented endpoints (never called)."""
    known = {(u["host"], u["method"], u["template"]) for u in report["undocumented"]}
    out = []
    for c in report.get("code_routes") or []:
        if c["documented"] or c["called"] or not c["hosts"]:
            continue
        method = c["method"] or "GET"
        template = c["template"]
        for host in c["hosts"][:1]:
            if (host, method, template) in known:
                continue
            params = {v[1:-1]: {"evidence": "code", "distinct_values": 0, "examples": []}
                      for v in re.findall(r"\{[^{}]+\}", template)}
            out.append({"id": f"code:{method}:{host}{template}", "host": host, "method": method, "template": template,
                        "calls": 0, "blocked": 0, "params": params, "statuses": {}, "request_schema": None,
                        "response_schema": None, "example": None, "browsed_pages": c.get("pages") or [],
                        "reason": "undocumented", "nearest": None, "code_route": True, "bundles": c["bundles"],
                        "method_assumed": c["method"] is None})
    return out


def build_overlay(report: dict[str, Any], index: Any = None, include_code_routes: bool = False) -> list[dict[str, Any]]:
    """Overlay documents, one per spec file they change. ``include_code_routes``: also the routes found only
    in the portal's code, labelled as such (``provenance: bundle-analysis``), never as confirmed traffic."""
    if index is None:
        from ..specs.index import SpecIndex

        roots = [s["root"] for s in report["specs"] if Path(s["root"]).exists()]
        index = SpecIndex.load(roots) if roots else None
    actions: dict[str, list[dict[str, Any]]] = defaultdict(list)
    planner = PlacementPlanner(report, index)
    hosts = HostServers(index)
    pending: dict[tuple[str, str, str | None], dict[str, Any]] = {}
    workflows = flow_workflows(report.get("flows") or [])
    for u in report["undocumented"] + (code_only(report) if include_code_routes else []):
        where = hosts.spec_for(u["host"], u["template"])
        if where is None:
            continue
        root, rel = where
        spec = planner.spec(planner.resolved(root))
        if spec is None:
            continue
        place = spec.place(u, rel, u["host"])
        if place is None:
            continue
        template = _rename(place.template, place.renames)
        op = new_operation(u, template, place.renames, spec.taken, spec.source, place.neighbour_id, place.tags,
                           place.surface, place.header_profile, workflows.get((u["method"], u["template"])),
                           spec.uses_context, place.neighbour_node, lambda s: spec.reuse(s, place.file))
        for file, target, update, after in place.writes(u["method"].lower(), op):
            key = (file, target, next(iter(update)) if len(update) == 1 and target.endswith("['paths']") else None)
            if key in pending:  # another method of the same new path: one path item
                merged = pending[key]["update"]
                for k, v in update.items():
                    if isinstance(merged.get(k), dict) and "$ref" not in merged[k]:
                        merged[k].update(v)
                    else:
                        merged.setdefault(k, v)
                continue
            pending[key] = {"target": target, "description": "undocumented endpoint found in the portal's code"
                            if u.get("code_route") else "undocumented endpoint seen in live capture",
                            "update": update, **({AFTER: after} if after else {})}
            actions[file].append(pending[key])
    _header_profiles(report, planner, index, actions)
    _documented_workflows(report, planner, index, workflows, actions)
    props: dict[tuple[str, str], dict[str, Any]] = defaultdict(dict)
    statuses: dict[tuple[str, str], dict[str, Any]] = defaultdict(dict)
    for d in report["drift"]:
        if not d.get("source_file") or not d.get("source_pointer"):
            continue
        cursor = operation_cursor(d["source_file"], d["source_pointer"])
        if cursor is None:
            continue
        if d["kind"] == "undocumented_status" and d["status"] is not None:
            responses = cursor.child("responses")
            if responses is not None:
                statuses[(responses.file, jsonpath(responses.tokens))][str(d["status"])] = {
                    "description": "Observed in live capture"}
        elif d["kind"] == "undocumented_property" and d["location"] in ("request", "response"):
            schema = body_schema(cursor, d["location"], d["status"])
            found = parent_object(schema, d["pointer"]) if schema else None
            if found is None:
                continue
            owner, name = found
            observed = d["observed"] if d["observed"] in _TYPES else None
            prop: dict[str, Any] = {"type": observed} if observed else {}
            if d["observed"] == "null":
                prop = {"nullable": True}
            prop["description"] = "Observed in live capture"
            has_props = isinstance(owner.node, dict) and isinstance(owner.node.get("properties"), dict)
            tokens = [*owner.tokens, "properties"] if has_props else owner.tokens
            where = (owner.file, jsonpath(tokens))
            if has_props:
                props[where][name] = prop
            else:
                props[where].setdefault("properties", {})[name] = prop
    for (file, target), update in props.items():
        actions[file].append({"target": target, "description": "properties observed in live capture", "update": update})
    for (file, target), update in statuses.items():
        actions[file].append({"target": target, "description": "statuses observed in live capture", "update": update})
    by_file: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for file, acts in actions.items():
        by_file[planner.resolved(file)] += acts
    actions = by_file
    docs = []
    for file in sorted(actions):
        docs.append({"overlay": "1.0.0",
                     "info": {"title": f"portalspec spec update for {Path(file).name}", "version": __version__},
                     "extends": display_path(file), "actions": actions[file]})
    return docs


_OPTIONS: dict[str, Any] = {"sort_keys": False, "allow_unicode": True, "width": 4096}
_CDUMPER = getattr(yaml, "CSafeDumper", None)  # PyYAML built with libyaml
_EMITTERS_DIFFER = re.compile("[\x85\u2028\u2029\U00010000-\U0010ffff]")  # libyaml escapes these; PyYAML does not
_KEY_DIFFERS = re.compile("[\x00-\x1f\x7f-\x9f]")  # a key with these libyaml writes as a complex key


def dump_overlay(docs: list[dict[str, Any]]) -> str:
    """The overlay as PyYAML writes it; by libyaml's emitter, about five times faster (the 100k day's 570 KB:
    0.65 s against 0.12 s), where it writes the same (``libyaml_writes_the_same``)."""
    if not docs:
        return "# portalspec: no spec updates proposed\n"
    if _CDUMPER is not None and libyaml_writes_the_same(docs):
        return yaml.dump_all(docs, Dumper=_CDUMPER, **_OPTIONS)  # type: ignore[no-any-return]
    return yaml.safe_dump_all(docs, **_OPTIONS)


def libyaml_writes_the_same(docs: list[Any]) -> bool:
    """Whether libyaml's emitter writes ``docs`` as PyYAML's does. It does not for a document that is not a
    mapping, an empty key, a key with a control character, a key of at most 128 characters but more than
    128 bytes, and NEL, the line and paragraph separators or a character beyond the BMP anywhere (found
    by comparing the two on random documents; a test keeps comparing them)."""
    if not all(type(d) is dict for d in docs):
        return False
    stack: list[Any] = list(docs)
    while stack:
        x = stack.pop()
        t = type(x)
        if t is dict:
            for k, v in x.items():
                if type(k) is str and (not k or _KEY_DIFFERS.search(k) or _EMITTERS_DIFFER.search(k)
                                       or (len(k) > 128) != (len(k.encode()) > 128)):  # PyYAML counts characters,
                    return False  # libyaml bytes: past 128 a key is written as a complex key
                if type(k) not in (str, int, bool) and k is not None:
                    return False
                stack.append(v)
        elif t is list:
            stack.extend(x)
        elif t is str:
            if _EMITTERS_DIFFER.search(x):
                return False
        elif t is not int and t is not float and t is not bool and x is not None:
            return False  # anything else the representers may write otherwise
    return True
