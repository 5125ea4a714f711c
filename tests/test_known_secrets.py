"""The memory of secrets: the exact set of remembered variants in a text, at a cost that does not
grow with how many are remembered."""

from __future__ import annotations

import math
import random
import string

import pytest

from portalspec.redaction import known
from portalspec.redaction.known import KnownSecrets, escaped_forms

_ALPHABET = string.ascii_letters + string.digits + "+/=_-.%~"


def _secret(rng: random.Random) -> str:
    n = rng.choice((8, 9, 12, 20, 43, 120))
    s = "".join(rng.choice(_ALPHABET) for _ in range(n))
    r = rng.random()
    if r < 0.05:
        s = s[:4] + '"\\' + s[4:]  # JSON-escaped form differs
    elif r < 0.08:
        s = s[:3] + "\x00" + s[3:]  # a NUL byte (Hyperscan's binding cannot take it)
    elif r < 0.1:
        s = "é" + s[:7]  # multi-byte
    return s


def _brute(mem: KnownSecrets, blob: bytes) -> set[str]:
    return {v for v in mem.map if any(f.encode("utf-8", "surrogatepass") in blob for f in escaped_forms(v))}


@pytest.mark.parametrize("count,limit", [(10, 8192), (600, 8192), (5000, 1024), (3000, 8192)])
def test_find_is_exact_in_both_structures(count: int, limit: int) -> None:
    rng = random.Random(count)
    mem = KnownSecrets(limit)
    added: list[str] = []
    for i in range(count):
        s = _secret(rng)
        mem.add(s, f"<redacted:token:{i:08x}>")
        added.append(s)
        if i % 97 == 0 or i == count - 1:
            # a text with some current, some forgotten, some cut secrets, also JSON-escaped
            picks = rng.sample(added, min(6, len(added)))
            parts = [rng.choice(escaped_forms(p)) for p in picks] + [added[0][:-1], "noise " * 20]
            rng.shuffle(parts)
            blob = "|".join(parts).encode("utf-8", "surrogatepass")
            assert mem.find(blob) == _brute(mem, blob)
    assert len(mem) <= limit
    if count > known.SMALL_MAX:
        assert mem._index is not None  # the anchor index took over


def test_secret_at_every_position_and_overlapping() -> None:
    mem = KnownSecrets(8192)
    rng = random.Random(7)
    secrets = [_secret(rng) for _ in range(700)]
    for i, s in enumerate(secrets):
        mem.add(s, f"<redacted:token:{i:08x}>")
    assert mem._index is not None
    target = secrets[-1]
    for pad in range(0, 17):
        blob = ("x" * pad + target + "y" * pad).encode("utf-8", "surrogatepass")
        assert mem.find(blob) == _brute(mem, blob) and target in mem.find(blob)
    # one form inside another, and at the very end of the text
    jwts = [f"eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0.{_secret(rng)}" for _ in range(50)]  # one shared start
    for i, j in enumerate(jwts):
        mem.add(j, f"<redacted:jwt:{i:08x}>")
    blob = ("Bearer " + jwts[17] + " and " + jwts[3][:-2]).encode()
    assert mem.find(blob) == _brute(mem, blob) and jwts[17] in mem.find(blob)
    assert max(len(b) for b in mem._index.anchors.values()) <= 2  # anchors spread over buckets
    mem.add("abcdefgh", "<redacted:token:aaaaaaaa>")
    mem.add("abcdefghij", "<redacted:token:bbbbbbbb>")
    assert mem.find(b"--abcdefghij") == {"abcdefgh", "abcdefghij"}
    assert mem.find(b"abcdefg") == set()


def test_cost_does_not_grow_with_the_number_of_secrets() -> None:
    """Hyperscan builds are logarithmic in the secrets and stop once the index takes over; the index rebuilds its bitmap about once per
    ``limit`` forgotten secrets (each rebuild is one vectorised pass), never per secret."""
    limit = 2048
    mem = KnownSecrets(limit)
    rng = random.Random(1)
    n = 30_000
    for i in range(n):
        mem.add(_secret(rng), f"<redacted:token:{i:08x}>")
    # each build at least doubles the database: logarithmic in the secrets it ever held
    assert mem.builds <= math.log2(known.SMALL_MAX / known.PENDING_MAX) + 1
    forms = 3  # escaped forms a variant can have, at most
    assert mem.index_rebuilds <= n * forms // limit + 1
    # the index holds what the map holds, nothing more: memory bounded by the limit
    held = {variant for bucket in mem._index.anchors.values() for _, variant, _, _ in bucket}
    assert held | {variant for _, variant, _ in mem._index.short} == set(mem.map)
    assert set(mem._index.heads) == set(mem._groups)


def test_a_secret_and_its_encodings_are_forgotten_together() -> None:
    mem = KnownSecrets(40)
    rng = random.Random(3)
    groups = [[_secret(rng) + str(i) for _ in range(4)] for i in range(300)]
    for i, g in enumerate(groups):
        mem.add_all(g, f"<redacted:token:{i:08x}>")
        assert len(mem) <= 40
        for old in groups[: i + 1]:
            assert all(v in mem for v in old) or not any(v in mem for v in old)
    assert all(v in mem for v in groups[-1]) and not any(v in mem for v in groups[0])
    blob = "|".join(groups[-1] + groups[0]).encode("utf-8", "surrogatepass")
    assert mem.find(blob) == set(groups[-1]) == _brute(mem, blob)
