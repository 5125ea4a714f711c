"""Matching on the real nodoc corpus: every operation round-trips, and each rule holds."""

from __future__ import annotations

import random
import shutil
from collections import defaultdict
from pathlib import Path

import yaml

from portalspec.matching.matcher import Call
from portalspec.specs.index import SpecIndex
from portalspec.synth import build_url, drop_paths


def test_every_operation_round_trips(nodoc_index) -> None:  # type: ignore[no-untyped-def]
    ops = nodoc_index.operations
    assert len(ops) == 1941
    rng = random.Random(3)
    failures = []
    checked = 0
    for op in ops:
        for server in op.servers:
            url = build_url(op, rng, server)
            m = nodoc_index.matcher.match(Call(op.method, url))
            checked += 1
            if m.op is not op:
                failures.append((op.key, url, m.reason, m.op.key if m.op else None, m.candidates))
    assert checked > 1941
    assert failures == []


def test_same_path_in_two_specs_is_told_apart_by_host(nodoc_index) -> None:  # type: ignore[no-untyped-def]
    by_path = defaultdict(list)
    for op in nodoc_index.operations:
        by_path[(op.method, op.path)].append(op)
    pairs = {k: v for k, v in by_path.items() if len({o.spec for o in v}) > 1}
    specs_of = defaultdict(int)
    for v in pairs.values():
        specs_of[tuple(sorted({o.spec for o in v}))] += 1
    assert specs_of[("defender-xdr", "purview")] >= 10
    assert specs_of[("m365-admin", "sharepoint-admin")] >= 3
    rng = random.Random(5)
    for ops in pairs.values():
        for op in ops:
            m = nodoc_index.matcher.match(Call(op.method, build_url(op, rng)))
            assert m.op is op, (op.key, m.reason, m.candidates)


def _m(ix, method: str, url: str):  # type: ignore[no-untyped-def]
    return ix.matcher.match(Call(method, url))


def test_base_path_is_not_doubled(nodoc_index) -> None:  # type: ignore[no-untyped-def]
    m = _m(nodoc_index, "GET", "https://security.microsoft.com/apiproxy/arm/subscriptions")
    assert m.op is not None and m.op.path == "/apiproxy/arm/subscriptions" and m.op.spec == "defender-xdr"
    assert _m(nodoc_index, "GET", "https://security.microsoft.com/apiproxy/apiproxy/arm/subscriptions").op is None


def test_query_string_is_not_part_of_a_parameter(nodoc_index) -> None:  # type: ignore[no-untyped-def]
    op = next(o for o in nodoc_index.operations if o.spec == "defender-xdr" and o.path.endswith("/{IncidentId}") and o.method == "GET")
    url = build_url(op, random.Random(1)).rsplit("/", 1)[0] + "/12345?x=1&IncidentId=9"
    m = _m(nodoc_index, "GET", url)
    assert m.op is op and m.params == {"IncidentId": "12345"}


def test_literal_beats_template_and_case_and_trailing_slash(nodoc_index) -> None:  # type: ignore[no-untyped-def]
    m = _m(nodoc_index, "GET", "https://admin.cloud.microsoft/admin/api/users/currentUser")
    assert m.op.path == "/admin/api/users/currentUser" and m.how == ["exact"]
    # Exact case picks the right one of two paths that differ only by case and slash.
    a = _m(nodoc_index, "GET", "https://security.microsoft.com/apiproxy/mtp/tvm/analytics/changeevents")
    b = _m(nodoc_index, "GET", "https://security.microsoft.com/apiproxy/mtp/tvm/analytics/changeEvents/")
    assert a.op.path == "/mtp/tvm/analytics/changeevents" and b.op.path == "/mtp/tvm/analytics/changeEvents/"
    assert a.how == b.how == ["exact"]
    c = _m(nodoc_index, "GET", "https://admin.cloud.microsoft/ADMIN/api/users/CURRENTUSER/")
    assert c.op.path == "/admin/api/users/currentUser"
    assert c.how == ["exact", "case-insensitive", "trailing-slash"]


def test_odata_keys_plain_and_url_encoded(nodoc_index) -> None:  # type: ignore[no-untyped-def]
    ops = {o.path: o for o in nodoc_index.operations if "supportRequests('{supportRequestId}')" in o.path}
    assert ops
    for url in ("/support/odata/v1/supportRequests('7a1b')/activities",
                "/support/odata/v1/supportRequests%28%277a1b%27%29/activities"):
        srv = next(iter(ops.values())).servers[0]
        m = _m(nodoc_index, "GET", f"{srv.url.rstrip('/')}{url}")
        assert m.op is not None and m.op.path.endswith("supportRequests('{supportRequestId}')/activities"), (url, m.reason)
        assert m.params == {"supportRequestId": "7a1b"}


def test_templated_hosts(nodoc_index) -> None:  # type: ignore[no-untyped-def]
    sp = next(o for o in nodoc_index.operations if o.spec == "sharepoint-admin" and "{" not in o.path and o.method == "GET")
    m = _m(nodoc_index, "GET", f"https://fabrikam-admin.sharepoint.com{sp.path}")
    assert m.op is sp and m.server == "https://{tenant}-admin.sharepoint.com"
    assert _m(nodoc_index, "GET", f"https://fabrikam.sharepoint.com{sp.path}").op is None
    assert _m(nodoc_index, "GET", "https://nowhere.example.org:8443/x").op is None
    crm = next(o for o in nodoc_index.operations if any("{organizationHost}" in s.url for s in o.servers))
    m = _m(nodoc_index, crm.method, build_url(crm, random.Random(2)).replace("h", "h", 1))
    assert m.op is crm


def test_host_variable_spanning_labels(nodoc_index) -> None:  # type: ignore[no-untyped-def]
    """Power Platform's ``{tenantHost}`` is seen live as ``<id>.<island>``: two labels, any values."""
    ops = [o for o in nodoc_index.operations if any("{tenantHost}" in s.url for s in o.servers) and "{" not in o.path]
    assert ops
    for op in ops:
        for host in ("847b5907ca1540f4b171eb18619dbf.ab", "1234abcd.cd", "single"):
            m = _m(nodoc_index, op.method, f"https://{host}.tenant.api.powerplatform.com{op.path}")
            assert m.op is op, (host, op.path, m.reason)
    sp = next(o for o in nodoc_index.operations if o.spec == "sharepoint-admin" and "{" not in o.path and o.method == "GET")
    assert _m(nodoc_index, "GET", f"https://a.b-admin.sharepoint.com{sp.path}").op is None  # one label stays one


def test_method_missing_is_told_apart_from_undocumented(nodoc_index) -> None:  # type: ignore[no-untyped-def]
    m = _m(nodoc_index, "DELETE", "https://admin.cloud.microsoft/admin/api/users/currentUser")
    assert m.op is None and m.reason == "path_documented_method_missing" and m.nearest == "GET /admin/api/users/currentUser"
    u = _m(nodoc_index, "GET", "https://admin.cloud.microsoft/admin/api/users/currentUser/nothing/here")
    assert u.reason == "undocumented" and u.nearest and u.nearest.startswith("GET /admin/api/users")


def test_batch_inner_requests_are_matched(nodoc_index) -> None:  # type: ignore[no-untyped-def]
    import json

    body = json.dumps({"requests": [
        {"id": "1", "method": "GET", "url": "/users?$top=1"},
        {"id": "2", "method": "GET", "url": "/nothing/documented/here"},
    ]})
    m = nodoc_index.matcher.match(Call("POST", "https://admin.cloud.microsoft/fd/msgraph/v1.0/$batch", body))
    assert m.op is not None and "batch" in m.how
    assert len(m.inner) == 2 and m.inner[1].op is None
    if m.inner[0].op is not None:
        assert "batch-inner" in m.inner[0].how


def test_graphql_operation_name(nodoc_index) -> None:  # type: ignore[no-untyped-def]
    import json

    body = json.dumps({"operationName": "CurrentUserClients", "variables": {},
                       "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "ab" * 32}}})
    m = nodoc_index.matcher.match(Call("POST", "https://engage.cloud.microsoft/graphql", body))
    assert m.op is not None and m.variant == {"graphql": "CurrentUserClients", "persistedQuery": "ab" * 32}


def test_removed_operations_come_back_undocumented(nodoc: Path, tmp_path: Path) -> None:
    spec_dir = tmp_path / "defender"
    shutil.copytree(nodoc / "nodoc-defender-xdr", spec_dir)
    full = SpecIndex.load([spec_dir], use_cache=False)
    root = spec_dir / "specification" / "openapi.yml"
    removed_paths = drop_paths(root, 7)
    cut = SpecIndex.load([spec_dir], use_cache=False)
    assert len(cut.operations) < len(full.operations)
    rng = random.Random(11)
    changed_other, checked_removed = [], 0
    for op in full.operations:
        url = build_url(op, rng)
        after = cut.matcher.match(Call(op.method, url))
        if op.path in removed_paths:
            checked_removed += 1
            if after.op is not None:  # only a remaining template that really covers the call
                assert after.op.path not in removed_paths and after.op.path != op.path
                assert after.op.path.count("{") >= op.path.count("{")
        elif after.op is None or (after.op.method, after.op.path) != (op.method, op.path):
            changed_other.append(op.key)
    assert checked_removed > 10 and changed_other == []


def test_ambiguity_is_reported_not_guessed(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / f"{name}.yml").write_text(yaml.safe_dump({
            "openapi": "3.0.1", "info": {"title": name, "version": "1"},
            "servers": [{"url": "https://same.example/api"}],
            "paths": {"/things/{id}": {"get": {"operationId": f"{name}.get", "responses": {"200": {"description": "ok"}}}}},
        }))
    ix = SpecIndex.load([tmp_path], use_cache=False)
    m = ix.matcher.match(Call("GET", "https://same.example/api/things/1"))
    assert m.op is None and m.reason == "ambiguous" and m.candidates == ["a:a.get", "b:b.get"]


def test_synthetic_odata_forms_and_aliases(tmp_path: Path) -> None:
    spec = {
        "openapi": "3.0.1", "info": {"title": "odata", "version": "1"},
        "servers": [{"url": "https://exo.example/beta"}],
        "paths": {
            "/Mailbox({mailboxId})": {"get": {"operationId": "mbx", "responses": {}}},
            "/ConnectorReport(ReportType='{reportType}',StartDate={startDate},EndDate={endDate})":
                {"get": {"operationId": "report", "responses": {}}},
            "/web/lists/GetByTitle('{title}')/items": {"get": {"operationId": "items", "responses": {}}},
            "/settings/officeonline": {"get": {"operationId": "online", "responses": {},
                                               "x-nodoc-operation-context": {"pathAliases": ["/settings/officeontheweb"]}}},
            "/mode": {"get": {"operationId": "modeA", "responses": {},
                              "parameters": [{"name": "kind", "in": "query", "required": True,
                                              "schema": {"type": "string", "enum": ["a"]}}]}},
        },
    }
    (tmp_path / "o.yml").write_text(yaml.safe_dump(spec))
    ix = SpecIndex.load([tmp_path], use_cache=False)
    m = ix.matcher.match(Call("GET", "https://exo.example/beta/Mailbox('abc%40contoso.example')"))
    assert m.op.operation_id == "mbx" and m.params == {"mailboxId": "'abc@contoso.example'"}
    m = ix.matcher.match(Call("GET", "https://exo.example/beta/ConnectorReport(ReportType='Inbound',StartDate=2026-01-01,EndDate=2026-01-31)"))
    assert m.op.operation_id == "report"
    assert m.params == {"reportType": "Inbound", "startDate": "2026-01-01", "endDate": "2026-01-31"}
    m = ix.matcher.match(Call("GET", "https://exo.example/beta/ConnectorReport%28ReportType%3D%27Inbound%27%2CStartDate%3D1%2CEndDate%3D2%29"))
    assert m.op.operation_id == "report" and m.params["endDate"] == "2"
    m = ix.matcher.match(Call("GET", "https://exo.example/beta/web/lists/GetByTitle('Site%20Pages')/items"))
    assert m.op.operation_id == "items" and m.params == {"title": "Site Pages"}
    m = ix.matcher.match(Call("GET", "https://exo.example/beta/settings/officeontheweb"))
    assert m.op.operation_id == "online" and m.how == ["alias"]
    assert ix.matcher.match(Call("GET", "https://exo.example/beta/mode?kind=a")).how == ["exact"]
    assert "query-mismatch" in ix.matcher.match(Call("GET", "https://exo.example/beta/mode?kind=b")).how


def test_request_shape_variants_are_reported(nodoc_index) -> None:  # type: ignore[no-untyped-def]
    op = next(o for o in nodoc_index.operations
              if any(isinstance(v, dict) and v.get("location") == "query" for v in o.context.get("variants") or []))
    sel = next(v["selector"] for v in op.context["variants"] if v.get("location") == "query")
    url = build_url(op, random.Random(1))
    url += ("&" if "?" in url else "?") + f"{sel}=1"
    m = nodoc_index.matcher.match(Call(op.method, url))
    assert m.op is op and "variant" in m.how and m.variant["selectors"] == {sel: "1"}


def test_match_cli_jsonl_and_write(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    cap = tmp_path / "cap"
    shutil.copytree(root / "captures" / "demo", cap)
    r = subprocess.run([sys.executable, "-m", "portalspec.cli", "match", str(cap), "--specs", str(root / "specs" / "demo"),
                        "--jsonl"], capture_output=True, text=True)
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert r.returncode == 0 and len(lines) == 16
    assert {"started", "method", "url", "spec", "operationId", "template", "match", "reason"} <= set(lines[0])
    assert lines[0]["operationId"] == "Users.GetCurrent" and lines[0]["match"] == "exact"
    undoc = [x for x in lines if x["operationId"] is None]
    assert len(undoc) == 5 and all(x["reason"] == "undocumented" for x in undoc)
    table = subprocess.run([sys.executable, "-m", "portalspec.cli", "match", str(cap), "--specs", str(root / "specs" / "demo")],
                           capture_output=True, text=True).stdout
    assert "16 calls: 11 matched, 5 not matched (undocumented 5)" in table and "demo-admin: 11" in table
    w = subprocess.run([sys.executable, "-m", "portalspec.cli", "match", str(cap), "--specs", str(root / "specs" / "demo"),
                        "--write"], capture_output=True, text=True)
    assert w.returncode == 0
    from portalspec.fixtures.store import CaptureReader

    before = list(CaptureReader(root / "captures" / "demo"))
    entries = list(CaptureReader(cap))
    assert len(entries) == 16 and entries[0]["_portalspec"]["match"]["operationId"] == "Users.GetCurrent"
    assert [e["_portalspec"]["session"] for e in entries] == [e["_portalspec"]["session"] for e in before]
    assert [e["request"] for e in entries] == [e["request"] for e in before]
    assert not list(tmp_path.glob(".cap.rewrite*"))


def test_odd_paths(tmp_path: Path) -> None:
    spec = {"openapi": "3.0.1", "info": {"title": "o", "version": "1"}, "servers": [{"url": "https://o.example"}],
            "paths": {"/a/{x}/b": {"get": {"operationId": "ab", "responses": {}}},
                      "/straße/{x}": {"get": {"operationId": "sz", "responses": {}}}}}
    (tmp_path / "o.yml").write_text(yaml.safe_dump(spec, allow_unicode=True))
    ix = SpecIndex.load([tmp_path], use_cache=False)
    for url, op, params in (("https://o.example/A/1/B/", "ab", {"x": "1"}), ("https://o.example/a/%41/b", "ab", {"x": "A"}),
                            ("https://o.example/STRASSE/1", "sz", {"x": "1"}), ("https://o.example/straße/9", "sz", {"x": "9"}),
                            ("https://o.example/a//b", None, None), ("https://o.example", None, None)):
        m = ix.matcher.match(Call("GET", url))
        assert (m.op.operation_id if m.op else None) == op, url
        if params is not None:
            assert m.params == params
