"""An undocumented call's nearest template: the trie walk gives what scoring every template gives."""

from __future__ import annotations

import random
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from portalspec.matching.matcher import Call, Matcher, _Bucket
from portalspec.matching.templates import LITERAL, PARAM, split_path
from portalspec.specs.model import Operation, Server


def _scored_one_by_one(buckets: list[_Bucket], segs: list[str]) -> str | None:
    """Every template scored in turn: shared leading literals 1, parameters 0.5, up to the first segment
    that differs, less 0.25 per segment of difference in length; the first of the best, if above 1."""
    best, best_score = None, 1.0
    for bucket in buckets:
        for c in bucket.all:
            score = 0.0
            for t, s in zip(c.template.segments, segs):
                if t.kind == LITERAL:
                    if t.folded != s.casefold():
                        break
                    score += 1
                elif t.kind == PARAM or (t.iregex is not None and t.iregex.fullmatch(s)):
                    score += 0.5
                else:
                    break
            score -= abs(len(c.template.segments) - len(segs)) * 0.25
            if score > best_score:
                best, best_score = f"{c.op.method} {c.op.path}", score
    return best


def _check(matcher: Matcher, method: str, url: str) -> str | None:
    m = matcher.match(Call(method, url))
    if m.reason != "undocumented":
        return None
    host, _, path = url.partition("://")[2].partition("/")
    segs = split_path("/" + path.split("?")[0])[0]
    assert m.nearest == _scored_one_by_one(matcher._buckets_for(host), segs), url
    return m.nearest


_HOSTS = ["security.microsoft.com", "admin.microsoft.com", "compliance.microsoft.com", "purview.microsoft.com",
          "entra.microsoft.com", "portal.azure.com", "admin.powerplatform.microsoft.com", "contoso-admin.sharepoint.com"]


def test_nodoc_paths_changed_get_the_nearest_of_a_full_scan(nodoc_index) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(11)
    words = ["api", "v1", "v2.0", "users", "Settings", "policies", "items", "{x}", "42", "ab-cd", "Roles(1)"]
    ops = nodoc_index.operations
    found = checked = 0
    for op in rng.sample(ops, 400):
        for server in op.servers[:1]:
            segs = [s if "{" not in s else f"v{rng.randrange(10**6)}" for s in (server.base_path + op.path).split("/")[1:]]
            for _ in range(4):
                changed = list(segs)
                how = rng.randrange(4)
                if how == 0 and changed:
                    changed[rng.randrange(len(changed))] = rng.choice(words)
                elif how == 1:
                    changed.insert(rng.randrange(len(changed) + 1), rng.choice(words))
                elif how == 2 and len(changed) > 1:
                    del changed[rng.randrange(len(changed))]
                else:
                    changed += [rng.choice(words) for _ in range(rng.randrange(1, 4))]
                host = next((h for h in _HOSTS if server.host_regex and re.fullmatch(server.host_regex, h)), "x.test")
                checked += 1
                found += _check(nodoc_index.matcher, rng.choice(["GET", "POST", "PATCH"]),
                                f"https://{host}/" + "/".join(changed)) is not None
    assert checked == 1600 and found > 400, found  # most changed paths still have a nearest template


_SEGMENT = st.sampled_from(["a", "A", "b", "api", "{id}", "{x}", "items({key})", "n{n}.json", "c"])
_PATH_SEGMENT = st.sampled_from(["a", "A", "b", "api", "7", "", "items(3)", "n2.JSON", "c", "zz"])


def _op(method: str, path: str) -> Operation:
    return Operation("s", method, path, None, [Server("https://h.test", "h\\.test", "", "https")], [], None, {},
                     "f.yaml", "/paths")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["GET", "POST"]), st.lists(_SEGMENT, min_size=0, max_size=5)),
                min_size=1, max_size=12),
       st.lists(st.lists(_PATH_SEGMENT, min_size=1, max_size=6), min_size=1, max_size=8))
def test_any_templates_and_paths_nearest_as_a_full_scan(templates, paths) -> None:  # type: ignore[no-untyped-def]
    matcher = Matcher([_op(m, "/" + "/".join(t)) for m, t in templates])
    for segs in paths:
        _check(matcher, "DELETE", "https://h.test/" + "/".join(segs))


def test_a_tie_goes_to_the_first_template_even_when_met_later_in_the_walk() -> None:
    # both score 2 for /a/b/c/d: the first (leaving the path after /a/b) is met after the second
    # (parameters taken first), at a node whose score so far only equals the best
    matcher = Matcher([_op("GET", "/a/b/x/y"), _op("GET", "/a/{p}/{q}/z")])
    assert _check(matcher, "DELETE", "https://h.test/a/b/c/d") == "GET /a/b/x/y"
    matcher = Matcher([_op("GET", "/a/{p}/{q}/z"), _op("GET", "/a/b/x/y")])
    assert _check(matcher, "DELETE", "https://h.test/a/b/c/d") == "GET /a/{p}/{q}/z"
