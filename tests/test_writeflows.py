"""Write flows: grouping by page and idle gaps (also across byte ranges merged in order), roles, lineage."""

from __future__ import annotations

import json
import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from portalspec.writeflows.collect import FlowCollector, Step
from portalspec.writeflows.lineage import answer_headers, finish, linkable, sent_headers


def _step(t: float, method: str, path: str, status: int = 200, resp: Any = None, req: Any = None,
          params: dict[str, str] | None = None, headers: list[tuple[str, str]] | None = None,
          resp_headers: list[tuple[str, str]] | None = None, template: str | None = None) -> Step:
    return Step(t=t, started=f"t{t:08.1f}", method=method, url=f"https://p.example{path}", host="p.example", path=path,
                query=path.split("?", 1)[1] if "?" in path else "", template=template,
                operation_id=template and f"op{t:g}", spec=template and "s",
                status=status, blocked=False, synthetic=None, params=params or {},
                sent_headers=sent_headers([{"name": k, "value": v} for k, v in headers or []]),
                answer_headers=answer_headers([{"name": k, "value": v} for k, v in resp_headers or []]), req_text=json.dumps(req) if req is not None else None,
                resp_text=json.dumps(resp) if resp is not None else None)


def _calls(seed: int, n: int = 400) -> list[tuple[str, Step]]:
    rng = random.Random(seed)
    t, out = 0.0, []
    for i in range(n):
        t += rng.choice([1, 2, 5, 30, 61, 200])
        page = rng.choice(["/a", "/b", "/c"])
        method = rng.choice(["GET"] * 5 + ["POST", "PATCH"])
        out.append((page, _step(t, method, f"/api/x/{i}")))
    return out


def _segments(c: FlowCollector) -> list[tuple[str, list[str]]]:
    return [(f["page"], [st["started"] for st in f["steps"]]) for f in c.flows()]


def _flow(c: FlowCollector) -> dict[str, Any]:
    [f] = c.flows()
    return f


def test_ranges_merged_in_order_find_the_flows_one_pass_finds() -> None:
    for seed in range(8):
        calls = _calls(seed)
        whole = FlowCollector(60)
        for page, step in calls:
            whole.add(page, step)
        expected = _segments(whole)
        assert expected and all(len(steps) > 0 for _, steps in expected)
        rng = random.Random(seed)
        cuts = sorted(rng.sample(range(1, len(calls)), 6))
        parts = []
        for a, b in zip([0, *cuts], [*cuts, len(calls)]):
            c = FlowCollector(60, ranged=True)
            for page, step in calls[a:b]:
                c.add(page, step)
            parts.append(c)
        total = FlowCollector(60)
        for p in parts:
            total.merge(p)
        assert _segments(total) == expected


def _busy_calls(seed: int) -> list[tuple[str, Step]]:
    """A busy day: one page that reads more than a flow holds before its first write, then writes
    without an idle gap for longer than a flow holds; times now and then a little out of order."""
    rng = random.Random(seed)
    t, out = 0.0, []
    for i in range(2500):
        t += rng.choice([0.5, 1, 1, 2, 5]) if rng.random() > 0.004 else 61 + rng.random() * 100
        page = rng.choices(["/a", "/b", "/c"], [7, 2, 1])[0]
        write = (i > 800 or page != "/a") and rng.random() < 0.2
        at = t - rng.uniform(0, 30) if rng.random() < 0.03 else t
        out.append((page, _step(at, rng.choice(["POST", "PATCH"]) if write else "GET", f"/api/x/{i}",
                                resp={"id": f"item-{i:05d}"}, req={"ref": f"item-{rng.randrange(max(i, 1)):05d}"})))
    return out


def _ranges(calls: list[tuple[str, Step]], seed: int, cuts: int) -> list[FlowCollector]:
    """The collectors of ``calls`` cut at ``cuts`` random places, each settled as a worker leaves it."""
    at = sorted(random.Random(seed).sample(range(1, len(calls)), cuts))
    parts = []
    for a, b in zip([0, *at], [*at, len(calls)]):
        part = FlowCollector(60, ranged=True)
        for page, step in calls[a:b]:
            part.add(page, step)
        part.settle()
        parts.append(part)
    return parts


def test_busy_pages_cut_into_ranges_find_the_flows_one_pass_finds() -> None:
    """Pages busier than a flow holds: byte ranges merged in order find the flows one pass finds, lineage
    included, and no write is lost: a flow full at ``MAX_STEPS`` steps is followed by the next on its page."""
    from portalspec.writeflows import collect

    for seed in range(3):
        calls = _busy_calls(seed)
        whole = FlowCollector(60)
        for page, step in calls:
            whole.add(page, step)
        expected = list(whole.flows())
        writes = sum(1 for _, s in calls if s.method != "GET")
        assert sum(f["writes"] for f in expected) == writes  # none lost
        assert max(len(f["steps"]) for f in expected) == collect.MAX_STEPS and sum(f["lineage"] != [] for f in expected) > 5
        for cut_seed in range(3):
            total = FlowCollector(60)
            for part in _ranges(calls, cut_seed, 5):
                total.merge(part)
            assert list(total.flows()) == expected


def test_a_page_busy_across_ranges_is_added_again_only_until_it_goes_as_in_its_range(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Where the range before continues a page, the merge adds the range's opening calls again only until
    the page's segment holds only reads, as many as a segment keeps, in both; from there the range's
    own flows are taken as they are, and they are those of one pass. (A segment cut at ``MAX_STEPS``
    rarely lines up with the range's again soon, so most calls are still added again.)"""
    from portalspec.writeflows import collect

    rng = random.Random(7)
    t, calls = 0.0, []
    for _ in range(40):
        for kind, n in (("GET", rng.choice([5, 20, 49, 50, 51, 80, 130])), ("POST", rng.choice([1, 2, 5])),
                        ("mixed", rng.choice([0, 30, 280]))):
            for _ in range(n):
                t += 1
                method = rng.choice(["GET", "GET", "PATCH"]) if kind == "mixed" else kind
                calls.append(("/p", _step(t, method, f"/api/x/{len(calls)}", resp={"id": f"item-{len(calls):05d}"},
                                          req={"ref": f"item-{rng.randrange(len(calls) + 1):05d}"})))
    whole = FlowCollector(60)
    for page, step in calls:
        whole.add(page, step)
    expected = list(whole.flows())
    added, opening, again = [0], 0, 0
    append = collect.Segment.append
    monkeypatch.setattr(collect.Segment, "append", lambda seg, st: (added.__setitem__(0, added[0] + 1), append(seg, st)))
    for cut_seed in range(12):
        parts = _ranges(calls, cut_seed, 4)
        opening += sum(len(part.opening["/p"]) for part in parts)
        added[0] = 0
        total = FlowCollector(60)
        for part in parts:
            total.merge(part)
        again += added[0]
        assert list(total.flows()) == expected, cut_seed
    assert again < 0.95 * opening  # some of the opening calls were not added again


def test_a_gap_cuts_a_flow_and_read_only_segments_are_no_flows() -> None:
    c = FlowCollector(60)
    c.add("/p", _step(0, "GET", "/api/a"))
    c.add("/p", _step(10, "POST", "/api/b"))
    c.add("/p", _step(100, "GET", "/api/c"))  # after the gap: a new segment, reads only
    c.add("/q", _step(101, "GET", "/api/d"))
    assert [[s["url"].split(".example")[1] for s in f["steps"]] for f in c.flows()] == [["/api/a", "/api/b"]]


def test_roles_and_lineage() -> None:
    steps = [
        _step(0, "GET", "/api/roles", resp={"value": [{"id": "role-guid-0001", "name": "Reader", "enabled": True}]}),
        _step(1, "POST", "/api/assignments", 201, req={"roleId": "role-guid-0001", "enabled": True, "note": "true"},
              resp={"id": "assign-0042", "etag": "W/1"}, resp_headers=[("etag", "W/\"abcd1234\"")]),
        _step(2, "PATCH", "/api/assignments/assign-0042", 200, req={"justification": "Quarterly"},
              params={"assignmentId": "assign-0042"}, headers=[("If-Match", "W/\"abcd1234\"")]),
        _step(3, "GET", "/api/assignments/assign-0042/status", 404, params={"assignmentId": "assign-0042"}),
        _step(4, "POST", "/api/exports", 202, req={"kind": "csv"},
              resp_headers=[("location", "https://p.example/api/exports/ops/77aa88bb")]),
        _step(5, "GET", "/api/exports/ops/77aa88bb", 200),
        _step(6, "GET", "/api/exports/ops/77aa88bb", 200),
    ]
    c = FlowCollector(60)
    for s in steps:
        c.add("/wizard", s)
    flow = _flow(c)
    assert [s["role"] for s in flow["steps"]] == ["read", "write", "write", "poll", "export", "poll", "poll"]
    links = {(lk["from"]["step"], lk["from"]["location"], lk["from"]["pointer"], lk["to"]["step"], lk["to"]["location"],
              lk["to"]["pointer"]) for lk in flow["lineage"]}
    assert (1, "body", "/value/0/id", 2, "body", "/roleId") in links
    assert (2, "body", "/id", 3, "path", "assignmentId") in links and (2, "body", "/id", 4, "path", "assignmentId") in links
    assert (5, "header", "location", 6, "path", "segment 4") not in links  # a 202's Location makes polls, not lineage
    assert (2, "header", "etag", 3, "header", "If-Match") in links
    # booleans, short values and common words are not traced
    assert not any(lk["to"]["pointer"] in ("/enabled", "/note") for lk in flow["lineage"])
    assert linkable(True) is None and linkable("abc") is None and linkable("true") is None and linkable(999) is None
    assert linkable("<redacted:token:0a1b2c3d>") == "<redacted:token:0a1b2c3d>" and linkable(123456) == "123456"


def test_a_write_is_an_export_by_any_export_word_in_its_path_or_operation() -> None:
    from portalspec.writeflows.lineage import _EXPORT_WORDS, _is_export

    for word in _EXPORT_WORDS:
        assert _is_export(f"/api/{word.upper()}s/x", None) and _is_export("/api/x", f"Start{word.title()}")
    assert not _is_export("/api/assignments", "CreateAssignment") and not _is_export("/api/exp/ort", None)


def test_a_documented_call_sends_path_values_in_its_parameters_only() -> None:
    """A literal segment of a documented call's template is the API's, not a value the page chose: it is not
    linked, even where an earlier answer holds the same word; an undocumented call's segments all may be."""
    from portalspec.writeflows.lineage import _value_segments, path_params

    c = FlowCollector(60)
    c.add("/p", _step(0, "POST", "/api/assignments", 201, resp={"kind": "assignments", "id": "assign-0042"}))
    c.add("/p", _step(1, "PATCH", "/api/assignments/assign-0042/", req={"n": 1}, template="/assignments/{assignmentId}",
                      params={"assignmentId": "assign-0042"}))
    c.add("/p", _step(2, "GET", "/api/assignments/assign-0042/status"))
    links = {(lk["from"]["pointer"], lk["to"]["step"], lk["to"]["pointer"]) for lk in _flow(c)["lineage"] if lk["to"]["location"] == "path"}
    assert links == {("/id", 2, "assignmentId"), ("/kind", 3, "segment 2"), ("/id", 3, "segment 3")}
    assert _value_segments("/api/a/x1/b", "/a/{id}/b") == [(3, "x1")]
    assert _value_segments("/api/a/b", "/a/b") == []
    assert _value_segments("/api/z/x1/b", "/a/{id}/b") == [(1, "api"), (2, "z"), (3, "x1"), (4, "b")]  # not lined up: all
    # a parameter is named as its template writes it, also where its name holds a character regexes escape
    assert path_params("/x/{api-version}/items/{a.b}", "/api/x/2024-01-01/items/i1") == {"api-version": "2024-01-01",
                                                                                      "a.b": "i1"}


_SEGMENT_PARTS = ["a", "b", "v1", "", "{id}", "{x}.{y}", "items('{k}')", "{a}{b}", "x{y}z", "{p/q}", "{", "}"]


@settings(max_examples=300, deadline=None)
@given(st.booleans(), st.lists(st.sampled_from(_SEGMENT_PARTS), min_size=1, max_size=5),
       st.sampled_from(["", "/api", "/api/v2"]), st.lists(st.sampled_from(["x1", "abc", "a.b", "it('q')"]), min_size=1, max_size=4),
       st.sampled_from(["", "/"]), st.lists(st.sampled_from(["a", "b", "x1", ""]), max_size=6), st.booleans())
def test_path_values_sit_where_the_template_has_a_parameter(slash, parts, base, values, trail, other, lined_up) -> None:  # type: ignore[no-untyped-def]
    """For a path its template lines up with, the positions given are those of the segments where the template's
    regex finds a parameter (``template_regex``), whatever a parameter looks like; else every segment."""
    import itertools
    import re

    from portalspec.writeflows.lineage import _value_segments, template_regex

    template = ("/" if slash else "") + "/".join(parts)
    it = itertools.cycle(values)
    body = re.sub(r"\{([^}]*)\}", lambda m: next(it), template)
    path = (base + ("" if body.startswith("/") else "/") + body + trail) if lined_up else "/" + "/".join(other)
    segs = path.split("/")
    if "{" not in template:
        assert _value_segments(path, template) == []
        return
    rx, names = template_regex(template)
    m = rx.search(path)
    if m is None:
        assert _value_segments(path, template) == [(i, seg) for i, seg in enumerate(segs) if seg]
    else:
        at = sorted({path.count("/", 0, m.start(f"p{i}")) for i in range(len(names))})
        assert _value_segments(path, template) == [(i, segs[i]) for i in at]


def test_redacted_values_link_through_their_placeholders(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The same secret gets the same placeholder in a session, so lineage survives redaction."""
    from portalspec.redaction.redactor import Redactor

    r = Redactor()
    token = "kD8sLq0Zx7Pm3Vb9Rt2Wy5Nc4Hj6Gf1Qa8Ew3Tz"
    first = {"request": {"method": "GET", "url": "https://p.example/api/session", "headers": []},
             "response": {"status": 200, "headers": [], "content": {"mimeType": "application/json",
                                                                    "text": json.dumps({"sessionToken": token})}}}
    second = {"request": {"method": "POST", "url": "https://p.example/api/act", "headers": [],
                          "postData": {"mimeType": "application/json", "text": json.dumps({"sessionToken": token})}},
              "response": {"status": 201, "headers": [], "content": {"mimeType": "application/json", "text": "{}"}}}
    r.redact_entry(first)
    r.redact_entry(second)
    a = json.loads(first["response"]["content"]["text"])["sessionToken"]
    b = json.loads(second["request"]["postData"]["text"])["sessionToken"]
    assert a == b and a.startswith("<redacted:") and token not in a
    c = FlowCollector(60)
    c.add("/p", _step(0, "GET", "/api/session", resp={"sessionToken": a}))
    c.add("/p", _step(1, "POST", "/api/act", 201, req={"sessionToken": b}))
    flow = _flow(c)
    assert flow["lineage"] == [{"from": {"step": 1, "location": "body", "pointer": "/sessionToken"},
                                "to": {"step": 2, "location": "body", "pointer": "/sessionToken"}}]


def test_memory_of_a_read_only_page_is_bounded() -> None:
    from portalspec.writeflows import collect

    c = FlowCollector(60)
    for i in range(5000):
        c.add("/dashboard", _step(i, "GET", f"/api/tiles/{i}"))
    assert len(c.tails["/dashboard"].steps) == collect.MAX_READS_BEFORE_WRITE  # the last reads before a write
    assert c.flows() == []


def test_overlay_writes_a_workflows_sentence_for_a_documented_write(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import shutil
    from pathlib import Path

    from portalspec.specs.index import SpecIndex
    from portalspec.specwrite.overlay import build_overlay

    root = Path(__file__).resolve().parent.parent / "specs" / "demo"
    spec = tmp_path / "demo"
    shutil.copytree(root, spec)
    paths = spec / "paths.yml"
    paths.write_text(paths.read_text().replace("      operationId: Roles.Assign\n",
                                               "      operationId: Roles.Assign\n      x-nodoc-operation-context:\n"
                                               "        surface: Roles > Assignments\n"))
    index = SpecIndex.load([spec], use_cache=False)
    step = {"index": 1, "method": "GET", "url": "https://x/api/users", "template": "/users", "operationId": "Users.List",
            "status": 200, "blocked": False, "synthetic": None, "role": "read", "started": "t"}
    write = {**step, "index": 2, "method": "POST", "template": "/roleAssignments", "operationId": "Roles.Assign",
             "status": 201, "blocked": True, "synthetic": "schema", "role": "write"}
    report = {"undocumented": [], "drift": [], "operations": [], "specs": [{"root": str(spec / "openapi.yml")}],
              "flows": [{"id": "flow-1", "page": "p", "started": "t", "steps": [step, write],
                         "lineage": [{"from": {"step": 1, "location": "body", "pointer": "/value/0/id"},
                                      "to": {"step": 2, "location": "body", "pointer": "/principalId"}}]}]}
    docs = build_overlay(report, index)
    actions = [a for d in docs for a in d["actions"]]
    ctx = [a for a in actions if a["target"].endswith("['x-nodoc-operation-context']")]
    assert ctx and ctx[0]["update"]["workflows"] == [
        "Seen after GET /users; sends /principalId from GET /users /value/0/id."]
    assert not any("200" in a["update"] or "201" in a["update"] for a in actions)  # a synthetic answer is no response


def test_many_flows_go_to_disk_and_come_back_the_same() -> None:
    """Past ``SPILL_AT`` closed flows, the report's collector keeps them on disk: the flows read back,
    in order, are the ones a collector holding everything in memory gives, and report.json holds them."""
    from portalspec.report.run import report_json
    from portalspec.writeflows import collect

    from dataclasses import replace

    from portalspec import jsoncodec

    calls = [(page, replace(step, template="/x/{n}", operation_id="op", spec="s") if i % 9 else step)
             for i, (page, step) in enumerate(_calls(3, n=3000))]  # some flows hold an undocumented step, most none
    kept, spilled = FlowCollector(60), FlowCollector(60, spill=True)
    for page, step in calls:
        kept.add(page, step)
        spilled.add(page, step)
    assert spilled._spill is not None and len(spilled._spill.offsets) > collect.SPILL_AT
    assert len(spilled.closed) <= collect.SPILL_AT + 1
    a, b = spilled.flows(), list(kept.flows())
    assert len(a) == len(b) > 100 and a == b and a[5] == b[5] and a[-1] == b[-1] and a[:3] == b[:3]
    doc = json.loads(b"".join(report_json({"summary": {}, "flows": a})))
    assert doc["flows"] == b
    # report.json takes a spilled flow with nothing to name as its line, id put first: the same bytes
    named = spilled._spill.named
    assert 0 < len(named) < len(spilled._spill.offsets) - 100
    assert list(a.json_lines()) == [jsoncodec.dumps(f) for f in b]


def _reference_workflows(flows: list[dict[str, Any]]) -> dict[tuple[str, str], list[str]]:
    """Per written (method, template), its first three distinct sentences, flows and steps read in order."""
    from portalspec.writeflows.context import sentences

    out: dict[tuple[str, str], list[str]] = {}
    for f in flows:
        for method, template, sentence in sentences(f):
            kept = out.setdefault((method, template), [])
            if sentence not in kept and len(kept) < 3:
                kept.append(sentence)
    return out


def test_the_sentences_made_as_flows_close_are_those_of_the_flows_read_in_order() -> None:
    """The overlay's sentences (``x-nodoc-operation-context.workflows``) are made as flows are compacted
    and kept as they come, closing order and disk or not: they are the first three distinct ones of
    the flows in the report's order, also for flows whose steps are named at the end."""
    from dataclasses import replace

    from portalspec.writeflows.context import workflows

    rng = random.Random(5)
    calls = []
    for i, (page, step) in enumerate(_calls(11, n=3000)):
        tpl = f"/x{rng.randrange(6)}/{{n}}"
        calls.append((page, replace(step, template=tpl, operation_id="op", spec="s") if i % 9 else step))
    kept, spilled = FlowCollector(60), FlowCollector(60, spill=True)
    for page, step in calls:
        kept.add(page, step)
        spilled.add(page, step)
    name = lambda host, method, path: f"/named{int(path.rsplit('/', 1)[1]) % 4}"  # noqa: E731
    flows = list(kept.flows(name))
    want = _reference_workflows(flows)
    assert sum(len(v) == 3 for v in want.values()) >= 4 and any(k[1].startswith("/named") for k in want)
    assert spilled._spill is not None and spilled._spill.offsets
    assert workflows(spilled.flows(name)) == workflows(kept.flows(name)) == workflows(flows) == want


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["POST", "PATCH"]), st.sampled_from(["/a", "/b"]),
                          st.sampled_from("pqrstu")), min_size=1, max_size=12), st.randoms(use_true_random=False))
def test_sentences_kept_are_the_first_whatever_order_flows_come_in(rows, rng) -> None:  # type: ignore[no-untyped-def]
    from portalspec.writeflows.context import Contexts

    flows = [rows[i:i + 3] for i in range(0, len(rows), 3)]
    want: dict[tuple[str, str], list[str]] = {}
    for found in flows:
        for method, template, sentence in found:
            kept = want.setdefault((method, template), [])
            if sentence not in kept and len(kept) < 3:
                kept.append(sentence)
    order = list(enumerate(flows))
    rng.shuffle(order)
    got = Contexts()
    for n, found in order:
        got.add(n, found)
    assert got.result() == want


def _reference_links(steps: list[Step]) -> list[list[Any]]:
    """Lineage by its definition: every value a step from the first write on sends, linked to the
    first earlier answer (and place in it) that gave it, every answer read in full."""
    from portalspec.specs.model import WRITE_METHODS
    from portalspec.writeflows.lineage import gives, sends

    first = next((i for i, s in enumerate(steps) if s.method in WRITE_METHODS), len(steps))
    given = [gives(s) for s in steps]
    links = []
    for i in range(first, len(steps)):
        for loc, ptr, v in sends(steps[i]):
            src = next(((j, gl, gp) for j in range(i) for gl, gp, gv in given[j] if gv == v), None)
            if src is not None:
                links.append([src[0] + 1, src[1], src[2], i + 1, loc, ptr, v])
    return links


def test_lineage_finds_what_reading_every_answer_in_full_finds(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The cheap first tests (all answers as one text, or their tokens for large flows where many values
    are sent, or first the one and then the other; answers with escapes by their values; floats
    written otherwise; a query read without decoding when it needs none) never lose a link that
    reading every answer in full finds, and add none."""
    from urllib.parse import quote

    from portalspec.writeflows import lineage

    pool: list[Any] = ["role-guid-0001", "assign-0042", "9b2e7c1a-55d4-4b8e-9f0a-3c6d1e2f4a5b", "<redacted:token:0a1b2c3d>",
                       'W/"abcd1234"', "Zürich Team", "a/b/c/d", "Quarterly review", 123456, 1500.0, 2048, "true",
                       "abc", "2026-11-20T10:00:00Z", " padded-value ", "x" * 40, "ops/77aa88bb", -98765]
    found = 0
    for seed in range(150):
        rng = random.Random(seed)

        def value() -> Any:
            return rng.choice(pool)

        def tree(depth: int = 0) -> Any:
            if depth > 2 or rng.random() < 0.3:
                return value()
            if rng.random() < 0.5:
                return [tree(depth + 1) for _ in range(rng.randint(0, 3))]
            return {rng.choice(["id", "name", "roleId", "items", "etag", "next"]) + str(k): tree(depth + 1)
                    for k in range(rng.randint(0, 3))}

        def text(obj: Any) -> str:
            t = json.dumps(obj, ensure_ascii=rng.random() < 0.5, indent=rng.choice([None, 2]))
            return t.replace("1500.0", "1.5e3") if rng.random() < 0.5 else t

        steps = []
        for i in range(rng.randint(2, 9)):
            method = rng.choice(["GET", "GET", "POST", "PATCH", "DELETE"])
            segs = [str(rng.choice(pool)) if rng.random() < 0.3 else "api" for _ in range(rng.randint(1, 3))]
            path = "/" + "/".join(quote(s, safe="") for s in segs)
            query = "&".join(f"q{k}={quote(str(value()), safe='') if rng.random() < 0.5 else str(value()).replace(' ', '+')}"
                             for k in range(rng.randint(0, 2)))
            s = _step(i, method, path, headers=[("If-Match", str(value())), ("Accept", str(value()))],
                      resp_headers=[("ETag", str(value()))] if rng.random() < 0.3 else [])
            s.query = query.replace("&", "&&") if rng.random() < 0.2 else query
            s.req_text = text(tree()) if method != "GET" else None
            s.resp_text = text(tree()) if rng.random() < 0.9 else None
            if steps and rng.random() < 0.4:  # a request sent again, or an answer given again, or both
                again = rng.choice(steps)
                if rng.random() < 0.6:
                    s.method, s.path, s.req_text = again.method, again.path, again.req_text
                    s.query = again.query if rng.random() < 0.7 else s.query
                    s.sent_headers = list(again.sent_headers) if rng.random() < 0.7 else s.sent_headers
                if rng.random() < 0.6:
                    s.resp_text = again.resp_text
                    s.answer_headers = list(again.answer_headers) if rng.random() < 0.7 else s.answer_headers
            steps.append(s)
        writes = {i: lineage._body(s) for i, s in enumerate(steps) if s.method in ("POST", "PATCH", "DELETE")}
        expected = _reference_links(steps)
        flow = lineage.compact("/p", 0.0, steps, len(writes), 0)  # answers given again read once, as one list
        assert [r["role"] for r in flow["steps"]] == lineage.roles(steps), seed
        assert [[x["from"]["step"], x["to"]["step"]] for x in flow["lineage"]] == [e[0:4:3] for e in expected], seed
        found += len(expected)
        wanted = {v for *_, v in expected} | {"abc", "none-such-value"}
        for s in steps:  # an answer read for some values gives where reading it in full first gives each of them
            full, first = lineage.gives(s), lineage.first_given(s, set(wanted))
            assert lineage.given_values(s, lineage._body(s)) == [v for *_, v in full], seed  # read for its ids
            assert all(g in full for g in first), seed
            for v in wanted:
                assert next((g for g in first if g[2] == v), None) == next((g for g in full if g[2] == v), None), (seed, v)
        assert lineage._links(steps, writes) == expected, seed
        monkeypatch.setattr(lineage, "HAY_SCANNED", 0)  # every flow as a large one: the first values searched
        for searches in (0, 3):  # in the text of all answers, the others by the answers' tokens
            monkeypatch.setattr(lineage, "SEARCHES", searches)
            assert lineage._links(steps, writes) == expected, (seed, searches)
        monkeypatch.undo()
    assert found > 100  # the flows are linked, not empty


def test_a_request_or_answer_seen_again_is_read_again_where_its_headers_or_template_differ() -> None:
    """Within a flow, a request sent again and an answer given again are read once; one with other
    headers, or matched to another template, is another request or answer."""
    from portalspec.writeflows import lineage

    same = {"ok": True}
    steps = [_step(0, "GET", "/api/items", resp={"value": [{"id": "item-0000-1111"}]}),
             _step(1, "POST", "/api/tasks", req={}, resp=same, resp_headers=[("ETag", "task-aaaa-1111")]),
             _step(2, "POST", "/api/tasks", req={}, resp=same, resp_headers=[("ETag", "task-bbbb-2222")]),
             _step(3, "GET", "/api/tasks/task-bbbb-2222/status"),
             _step(4, "PATCH", "/api/items/item-0000-1111", req={}, template="/api/items/{id}",
                   params={"id": "item-0000-1111"}),
             _step(5, "PATCH", "/api/items/item-0000-1111", req={}, template="/api/items/item-0000-1111"),
             _step(6, "PATCH", "/api/items/item-0000-1111", req={}, template="/api/items/{id}",
                   params={"id": "item-0000-1111"}, headers=[("If-Match", "task-aaaa-1111")])]
    flow = lineage.compact("/p", 0.0, steps, 4, 0)
    assert [r["role"] for r in flow["steps"]] == ["read", "write", "write", "poll", "write", "write", "write"]
    assert [(x["from"]["step"], x["to"]["step"], x["to"]["location"], x["to"]["pointer"]) for x in flow["lineage"]] == [
        (3, 4, "path", "segment 3"), (1, 5, "path", "id"), (1, 7, "path", "id"), (2, 7, "header", "If-Match")]


def test_a_query_is_read_as_parse_qsl_reads_it() -> None:
    from urllib.parse import parse_qsl

    from portalspec.writeflows.lineage import _query

    rng = random.Random(5)
    parts = ["a=1", "b=", "c", "", "d=x+y", "e=%20z%2B", "f=a=b", "g=caf%C3%A9", "h=plain-value", "=v"]
    for _ in range(500):
        q = "&".join(rng.choice(parts) for _ in range(rng.randint(0, 5)))
        assert _query(q) == parse_qsl(q, keep_blank_values=True), q


def test_header_positions_are_remembered_only_for_the_same_names() -> None:
    """Which headers lineage keeps is remembered by the list of names; a list that joins to the same
    text (a name holding a newline) or has other values is read afresh."""
    a = [{"name": "X-Tenant", "value": "t-0001"}, {"name": "Accept", "value": "*/*"}]
    assert sent_headers(a) == [("X-Tenant", "t-0001")]
    assert sent_headers([{"name": "X-Tenant\nAccept", "value": "v-0002"}]) == [("X-Tenant\nAccept", "v-0002")]
    assert sent_headers([{"name": "X-Tenant", "value": 5}, {"name": "Accept", "value": "*/*"}]) == [("X-Tenant", "5")]
    assert answer_headers([{"name": "ETag", "value": 'W/"1"'}, {"name": "Location", "value": "/x"}]) == [
        ("etag", 'W/"1"'), ("location", "/x")]
    assert answer_headers([{"name": "Date", "value": "today"}]) == []


def test_undocumented_steps_are_named_at_the_end_and_the_flow_is_left_as_it_was() -> None:
    """An undocumented step gets its template when the pass is over (``finish``), and a path value
    sent to it the template's parameter name; naming leaves the compacted flow as it was, so a flow
    read twice (report.json, then the overlay) is named the same both times."""
    import copy

    c = FlowCollector(60)
    c.add("/p", _step(0, "POST", "/api/assignments", 201, resp={"id": "assign-0042"}))
    c.add("/p", _step(1, "PATCH", "/api/assignments/assign-0042", 200, req={"note": "Quarterly review"}))
    raw = c.tails["/p"].flow()
    before = copy.deepcopy(raw)
    tpl = {("PATCH", "/api/assignments/assign-0042"): "/api/assignments/{assignmentId}"}
    named = finish(raw, 1, lambda host, method, path: tpl.get((method, path)))
    assert raw == before
    assert [s["template"] for s in named["steps"]] == [None, "/api/assignments/{assignmentId}"]
    assert [(lk["to"]["step"], lk["to"]["pointer"]) for lk in named["lineage"]] == [(2, "assignmentId")]
    unnamed = finish(raw, 1, lambda host, method, path: None)
    assert [(lk["to"]["step"], lk["to"]["pointer"]) for lk in unnamed["lineage"]] == [(2, "segment 3")]
    assert finish(raw, 1, lambda host, method, path: tpl.get((method, path))) == named and raw == before


def test_a_read_before_a_write_is_read_again_only_when_a_flow_holds_it(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A read before its segment's first write is kept as where its line is, and read again only when
    a write makes it part of a flow; then what it sent is asked where a write came before it (a
    range before may end with one), so merged ranges link what one pass over all calls links."""
    from types import SimpleNamespace

    from portalspec.fixtures import store
    from portalspec.writeflows.collect import Unread

    def entry(t: int, method: str, path: str, sent: list[tuple[str, str]] = [],
              answer: list[tuple[str, str]] = []) -> dict[str, Any]:
        return {"startedDateTime": f"2026-11-20T10:{t // 60:02d}:{t % 60:02d}Z",
                "request": {"method": method, "url": f"https://p.example{path}",
                            "headers": [{"name": k, "value": v} for k, v in sent]},
                "response": {"status": 200, "headers": [{"name": k, "value": v} for k, v in answer],
                             "content": {"text": "{}"}}}

    calls = [entry(0, "GET", "/api/items/x", answer=[("ETag", 'W/"abcd1234"')]), entry(1, "POST", "/api/items"),
             entry(2, "GET", "/api/items/y", sent=[("If-Match", 'W/"abcd1234"')]),
             entry(200, "GET", "/api/other/1"), entry(201, "GET", "/api/other/2"),  # after a gap: reads only
             entry(202, "GET", "/api/q/1"), entry(400, "GET", "/api/q/2")]  # another page: reads, a gap, reads
    pages = ["/p"] * 5 + ["/q"] * 2
    shard = tmp_path / "entries-0001.jsonl"
    shard.write_text("".join(json.dumps(e) + "\n" for e in calls))
    spans = [(offset, length) for _, offset, length, _ in store.iter_shard_spans(shard)]
    reads: list[int] = []
    real = store.read_span
    monkeypatch.setattr("portalspec.writeflows.collect.read_span",
                        lambda sh, off, n: (reads.append(off), real(sh, off, n))[1])

    def fill(c: FlowCollector, which: range) -> FlowCollector:
        for i in which:
            e = calls[i]
            m = SimpleNamespace(method=e["request"]["method"], op=None, params={})
            t = float(int(e["startedDateTime"][14:16]) * 60 + int(e["startedDateTime"][17:19]))
            c.add_call(pages[i], t, e, m, "p.example", e["request"]["url"].split(".example")[1], "", (shard, *spans[i]))
        return c

    def links(c: FlowCollector) -> list[Any]:
        return [(lk["from"], lk["to"]) for f in c.flows() for lk in f["lineage"]]

    whole = fill(FlowCollector(60), range(7))
    # after a gap, a page whose segment before had a write keeps its reads as steps (a write is likely to
    # come, and reading them again would cost more); a page that only read keeps their places
    assert [type(s) for s in whole.tails["/p"].steps] == [Step, Step]
    assert [type(s) for s in whole.tails["/q"].steps] == [Unread]
    assert links(whole) == [({"step": 1, "location": "header", "pointer": "etag"},
                             {"step": 3, "location": "header", "pointer": "If-Match"})]
    assert reads == [spans[0][0]]  # the one read a flow holds was read again, once
    merged = fill(FlowCollector(60), range(2))
    merged.merge(fill(FlowCollector(60, ranged=True), range(2, 7)))  # the If-Match read is the later range's first call
    assert links(merged) == links(whole)
    shard.write_text("")  # a capture replaced since: its line is lost, and the flow says so
    lost = fill(FlowCollector(60), range(2))
    [flow] = lost.flows()
    assert flow["steps_dropped"] == 1 and [s["method"] for s in flow["steps"]] == ["POST"]


def test_ranges_settled_in_their_own_process_give_the_flows_of_one_pass(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A worker compacts its heads and open tails itself (``settle``) and only their places cross to the
    process that merges; a segment a neighbouring range continues is read again there, writes included,
    so the flows and their lineage are those of one pass over all calls, wherever the ranges are cut."""
    import pickle
    from types import SimpleNamespace

    from portalspec.fixtures import store
    from portalspec.writeflows.collect import Unread

    rng = random.Random(7)
    calls: list[tuple[str, float, dict[str, Any]]] = []
    ids: list[str] = []
    t = 0.0
    for i in range(300):
        t += rng.choice([1, 2, 5, 30, 61, 200] if rng.random() < 0.2 else [1, 2, 5])
        method = rng.choice(["GET"] * 4 + ["POST", "PATCH"])
        ref = rng.choice(ids[-6:]) if ids and rng.random() < 0.7 else f"fresh-{i:04d}"
        path = f"/api/items/{ref}" if method != "POST" else "/api/items"
        answer = {"id": f"item-{i:04d}-{rng.randrange(10**6):06d}", "etc": {"owner": rng.choice(ids or ['nobody-x'])}}
        ids.append(answer["id"])
        entry = {"startedDateTime": f"t{t}", "request": {"method": method, "url": f"https://p.example{path}",
                                                        "headers": [{"name": "x-item", "value": ref}],
                                                        "postData": {"text": json.dumps({"ref": ref, "n": i})}},
                 "response": {"status": 200, "headers": [{"name": "ETag", "value": f'W/"{answer["id"]}"'}],
                              "content": {"text": json.dumps(answer)}}}
        calls.append((rng.choice(["/a", "/b"]), t, entry))
    shard = tmp_path / "entries-0001.jsonl"
    shard.write_text("".join(json.dumps(e) + "\n" for _, _, e in calls))
    spans = [(offset, length) for _, offset, length, _ in store.iter_shard_spans(shard)]

    def fill(c: FlowCollector, which: range, places: bool = True) -> FlowCollector:
        for i in which:
            page, t, e = calls[i]
            path = e["request"]["url"].split(".example")[1]
            c.add_call(page, t, e, SimpleNamespace(method=e["request"]["method"], op=None, params={}),
                       "p.example", path, "", (shard, *spans[i]) if places else None)
        return c

    from portalspec.writeflows import collect

    kept: list[str] = []  # how each call was kept: a place, a step with its answer only, a whole step
    append = collect.Segment.append
    monkeypatch.setattr(collect.Segment, "append", lambda seg, st: (kept.append(
        "place" if type(st) is Unread else "answers" if st.req_text is None and not st.sent_headers else "whole"),
        append(seg, st))[1])
    whole = list(fill(FlowCollector(60), range(len(calls))).flows())
    monkeypatch.undo()
    assert kept.count("place") >= 5 and kept.count("answers") >= 20, (kept.count("place"), kept.count("answers"))
    assert sum(len(f["lineage"]) for f in whole) > 50 and any(f["steps"][0]["method"] != "GET" for f in whole)
    # reads kept as places, as steps with their answers only, or (no places known) whole: the same flows
    assert list(fill(FlowCollector(60), range(len(calls)), places=False).flows()) == whole
    for seed in range(6):
        cuts = sorted(random.Random(seed).sample(range(1, len(calls)), 8))
        total = FlowCollector(60)
        for a, b in zip([0, *cuts], [*cuts, len(calls)]):
            part = fill(FlowCollector(60, ranged=True), range(a, b))
            part.settle()
            assert all(type(s) is Unread for seg in part.tails.values() for s in seg.steps)
            assert all(type(s) is tuple and Unread._make(s) for calls in part.opening.values() for s in calls)  # pickled in C
            total.merge(pickle.loads(pickle.dumps(part)))  # as a worker's result crosses
        assert list(total.flows()) == whole


def test_lineage_reads_large_bodies_from_the_capture(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A portal's list reads are often longer than a step holds in memory: such a call is kept as where
    its line is and read again, whole, when its flow closes, so a role picked far down a long list is
    still linked, as is a value a long request body sends, also across byte ranges; a flow's budget of
    bodies read again bounds it."""
    import pickle
    from types import SimpleNamespace

    from portalspec.fixtures import store
    from portalspec.writeflows import collect

    roles = {"value": [{"id": f"role-{i:04d}-{i * 7919 % 10007:05d}", "displayName": f"Role {i}",
                        "description": "Can manage " + "things " * 8} for i in range(1000)]}
    picked = roles["value"][900]["id"]
    rules = [{"name": f"rule {i}", "weight": i} for i in range(2000)]
    calls = [("GET", "/api/roles", None, roles),
             ("POST", "/api/assignments", {"roleId": picked, "reason": "on call"}, {"id": "asg-7f3e2a19c4"}),
             ("PATCH", "/api/assignments/asg-7f3e2a19c4", {"justification": "ticket 4411"}, {"status": "done"}),
             ("PUT", "/api/policies/pol-1", {"rules": rules, "assignment": "asg-7f3e2a19c4"}, {"ok": True})]
    shard = tmp_path / "entries-0001.jsonl"
    with open(shard, "w") as f:
        for n, (method, path, sent, answer) in enumerate(calls):
            req: dict[str, Any] = {"method": method, "url": f"https://p.example{path}", "headers": []}
            if sent is not None:
                req["postData"] = {"mimeType": "application/json", "text": json.dumps(sent)}
            f.write(json.dumps({"startedDateTime": f"t{n}", "request": req, "response": {
                "status": 200, "headers": [], "content": {"text": json.dumps(answer)}}}) + "\n")
    assert len(json.dumps(roles)) > 4 * collect.BODY_KEPT and len(json.dumps(rules)) > 2 * collect.BODY_KEPT

    spans = list(store.iter_shard_spans(shard))

    def fill(c: FlowCollector, which: range) -> FlowCollector:
        for n in which:
            _, offset, length, e = spans[n]
            path = e["request"]["url"].split(".example")[1]
            c.add_call("/roles", float(n), e, SimpleNamespace(method=e["request"]["method"], op=None, params={}),
                       "p.example", path, "", (shard, offset, length))
        return c

    def links(cut: int | None = None) -> list[tuple[Any, ...]]:
        if cut is None:
            c = fill(FlowCollector(60), range(len(spans)))
        else:  # two byte ranges, each settled in its own process and merged, as a parallel report does
            c, later = fill(FlowCollector(60), range(cut)), fill(FlowCollector(60, ranged=True), range(cut, len(spans)))
            c.settle()
            later.settle()
            c.merge(pickle.loads(pickle.dumps(later)))
        [flow] = c.flows()
        assert [s["method"] for s in flow["steps"]] == ["GET", "POST", "PATCH", "PUT"]
        return [(lk["from"]["step"], lk["from"]["pointer"], lk["to"]["step"], lk["to"]["location"], lk["to"]["pointer"])
                for lk in flow["lineage"]]

    found = links()
    assert (1, "/value/900/id", 2, "body", "/roleId") in found
    assert (2, "/id", 3, "path", "segment 3") in found and (2, "/id", 4, "body", "/assignment") in found
    assert all(links(cut) == found for cut in range(1, len(spans)))
    monkeypatch.setattr(collect, "FLOW_BODIES_READ", len(json.dumps(roles)) - 1)  # the list no longer fits
    found = links()
    assert not any(lk[0] == 1 for lk in found) and (2, "/id", 3, "path", "segment 3") in found


def test_an_answer_gives_each_value_at_its_json_pointer() -> None:
    """Pointers escape ``~`` and ``/`` in keys (RFC 6901) and count list positions, at any depth; a leaf
    past nested containers gets its own path, not its predecessor's."""
    from portalspec.writeflows.lineage import _walk, linkable

    doc = {"a/b": [{"~x": "value-1234", "deep": [[{"id": "inner-0001"}]]}, "second-5678"], "tail": "last-9012",
           "n": 4096, "skip": "ok"}
    assert _walk(doc, linkable) == [("/a~1b/0/~0x", "value-1234"), ("/a~1b/0/deep/0/0/id", "inner-0001"),
                                    ("/a~1b/1", "second-5678"), ("/tail", "last-9012"), ("/n", "4096")]
    assert _walk(["just-a-value"], linkable) == [("/0", "just-a-value")] and _walk("root-value", linkable) == [("", "root-value")]


def test_flows_that_make_the_same_writes_are_one_kind() -> None:
    """A kind is a flow's writes, each once, in the order first made (reads and repeats aside); the most
    common kinds come first, each drawn by its flow that traces the most values (the earliest of those),
    and a page's tabs are one page."""
    from portalspec.writeflows.kinds import flow_kinds

    def flow(n: int, page: str, writes: list[tuple[str, str | None, str]], links: int) -> dict[str, Any]:
        steps = [{"index": 1, "method": "GET", "url": "https://p.example/api/roles", "template": "/roles", "role": "read"}]
        steps += [{"index": i, "method": m, "url": f"https://p.example{u}?q=1", "template": t, "role": "write"}
                  for i, (m, t, u) in enumerate(writes, 2)]
        return {"id": f"flow-{n}", "page": page, "steps": steps, "lineage": [{}] * links}

    wizard = [("POST", "/assignments", "/api/assignments"), ("PATCH", "/assignments/{id}", "/api/assignments/7")]
    flows = [flow(1, "/roles [tab-1]", [("DELETE", None, "/api/x/9")], 0),
             flow(2, "/roles [tab-1]", wizard, 1),
             flow(3, "/roles [tab-2]", wizard + wizard, 3),  # the wizard twice: the same kind
             flow(4, "/other", wizard, 3),
             flow(5, "/roles", list(reversed(wizard)), 5)]
    assert flow_kinds(flows) == [
        {"writes": ["POST /assignments", "PATCH /assignments/{id}"], "flows": 3, "pages": 2, "example": "flow-3",
         "first": "flow-2"},
        {"writes": ["DELETE /api/x/9"], "flows": 1, "pages": 1, "example": "flow-1", "first": "flow-1"},
        {"writes": ["PATCH /assignments/{id}", "POST /assignments"], "flows": 1, "pages": 1, "example": "flow-5",
         "first": "flow-5"}]


def test_the_kinds_made_as_flows_close_are_those_of_the_flows_read_in_order() -> None:
    """Kinds are made as flows are compacted and kept beside them, on disk or not; they are those of the
    report's flows read in order, also for flows whose steps are named only at the end."""
    from dataclasses import replace

    from portalspec.writeflows.kinds import flow_kinds

    rng = random.Random(7)
    calls = []
    for i, (page, step) in enumerate(_calls(13, n=3000)):
        calls.append((page, replace(step, template=f"/x{rng.randrange(3)}/{{n}}", operation_id="op", spec="s")
                      if i % 7 else step))
    kept, spilled = FlowCollector(60), FlowCollector(60, spill=True)
    for page, step in calls:
        kept.add(page, step)
        spilled.add(page, step)
    name = lambda host, method, path: f"/named{int(path.rsplit('/', 1)[1]) % 3}"  # noqa: E731
    want = flow_kinds(list(kept.flows(name)))
    assert spilled._spill is not None and spilled._spill.kinds and spilled._spill.named
    listed = spilled.flows(name)
    assert listed.kinds() == kept.flows(name).kinds() == want
    # report.json, written after the kinds, takes each flow they named as it was named then: the same bytes
    from portalspec import jsoncodec

    assert listed._read and list(listed.json_lines()) == [jsoncodec.dumps(f) for f in kept.flows(name)]
    assert len(want) > 5 and any(w.startswith(("POST /named", "PATCH /named")) for k in want for w in k["writes"])
    assert sum(k["flows"] for k in want) == len(kept.flows(name)) and want[0]["flows"] > want[-1]["flows"]
