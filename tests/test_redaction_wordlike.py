"""The free-text rule for random-looking tokens: random credentials are taken, identifiers are not.

The rule has no name to go by (a token as a JSON key, alone in a text body, in a path), so it is
measured on both sides: tokens drawn at random must all be taken, and the paths and operation ids
of the real nodoc specs must almost all be kept.
"""

from __future__ import annotations

import base64
import random
import string
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from portalspec.redaction import wordlike
from portalspec.redaction.detectors import TOKEN_RUN_RE, looks_high_entropy
from portalspec.redaction.redactor import Redactor


def _tokens(rng: random.Random, n: int) -> list[str]:
    out: list[str] = []
    for size in (24, 30, 48):  # 32, 40 and 64 characters
        for _ in range(n):
            raw = rng.getrandbits(size * 8).to_bytes(size, "big")
            out.append(base64.b64encode(raw).decode().rstrip("="))
            out.append(base64.urlsafe_b64encode(raw).decode().rstrip("="))
            out.append("".join(rng.choice(string.ascii_letters + string.digits) for _ in range(size * 4 // 3)))
    return out


def test_random_tokens_are_all_taken() -> None:
    """Measured over a million tokens of each kind: at most 1 in a million missed; here 90,000 drawn."""
    tokens = _tokens(random.Random(20261127), 10_000)
    missed = [t for t in tokens if not looks_high_entropy(t)]
    assert len(tokens) == 90_000 and missed == []


def test_a_random_token_as_a_json_key_is_redacted() -> None:
    rng = random.Random(5)
    for token in _tokens(rng, 20):
        for fast in (True, False):
            r = Redactor(b"k" * 32, fast=fast)
            entry = {"request": {"method": "GET", "url": "https://portal.example/api/x", "headers": []},
                     "response": {"status": 200, "headers": [],
                                  "content": {"mimeType": "application/json", "text": '{"%s": {"x": 1}}' % token}}}
            assert token not in str(r.redact_entry(entry))


# Identifiers of the kinds portals send, written for this test: paths with versions and numbers in
# them, dotted operation ids, snake_case ids with GUIDs, constants, camelCase names with acronyms.
IDENTIFIERS = [
    "/admin/api/settings/apps/m365groups",
    "/admin/api/Settings/security/o365guestuser",
    "/apiproxy/mtp/userPreferences/api/mgmt/userpreferencesservice/userPreference",
    "/providers/Microsoft.BusinessAppPlatform/t2tmigrationapprovals",
    "/cbill/LicenseUsage/E5TenantSolutionBreakdown",
    "/fd/msgraph/v1.0/subscribedSkus/serviceStatus",
    "IntuneAutopatch.Reporting.ListFeatureUpdateTrendingOData",
    "WindowsFeatureUpdateSummaryReleaseODataCollection",
    "ApplicationSso.FederatedSsoClaimsPolicyV3.Set",
    "DynamicsCrm_get_api_data_v9_0_roles_roleid_3f199ebd_977e_43e5_abe5_fe865a1f2904",
    "RoleId=3f199ebd-977e-43e5-abe5-fe865a1f2904",
    "CONSOLE2_GENERAL_SETTINGS_EMAIL_MASK_POLICIES_NAME_FULL",
    "GetCertificateByThumbprintBase64String",
    "isExchangeGoLocalResidencyGuaranteed",
    "/components/parameters/XMsClientRequestId",
    "/mtp/secureScore/security/secureScoreControlProfilesV2",
]


@pytest.mark.parametrize("identifier", IDENTIFIERS)
def test_identifiers_are_kept(identifier: str) -> None:
    assert not looks_high_entropy(identifier)


def test_nodoc_paths_and_operation_ids_are_kept(nodoc_index) -> None:  # type: ignore[no-untyped-def]
    strings: set[str] = set()
    for op in nodoc_index.operations:
        strings.add(op.path)
        if op.operation_id:
            strings.add(op.operation_id)
        for server in op.servers:
            strings.add(urlsplit(server.url).path.rstrip("/") + op.path)
    runs = {m.group(0) for s in strings for m in TOKEN_RUN_RE.finditer(s)}
    taken = sorted(r for r in runs if looks_high_entropy(r))
    assert len(runs) > 2000
    assert len(taken) <= len(runs) // 50, taken  # measured: 21 of 2,871 (the previous rule took 182)


def test_identifier_needs_every_piece_to_parse_and_word_like_letters() -> None:
    assert wordlike.is_identifier("/admin/api/settings/apps/bookings")
    assert not wordlike.is_identifier("/admin/api/settings/apps/bookings/qZx7Tk9wLp")  # a random piece
    # Parses piece by piece (``at 7 kpfpz Mazm 7 YD Elv ...``) but its letters are not words.
    assert not wordlike.is_identifier("at7kpfpzMazm7YDElvImrwTPYyjekni1")


_STDLIB = Path("/usr/lib/python3.11")


@pytest.mark.skipif(not (_STDLIB / "os.py").exists() or sys.platform != "linux",
                    reason="the table was counted from Debian's python3.11 standard library")
def test_bigram_table_is_the_one_counted_from_the_standard_library() -> None:
    assert wordlike._table(wordlike._count(_STDLIB)) == list(wordlike._TABLE)


def test_fast_split_gives_the_regex_pieces() -> None:
    """``_pieces`` splits with string methods where it can; its non-empty pieces are the regex's."""
    rng = random.Random(11)
    alphabet = string.ascii_letters + string.digits + "/._~+=-%"
    for _ in range(20_000):
        s = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        assert [p for p in wordlike._pieces(s) if p] == [p for p in wordlike._SEPARATORS.split(s) if p], s
