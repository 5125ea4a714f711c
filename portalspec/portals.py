"""Portal families by host, so fixtures and reports can say which portal a call belonged to."""

from __future__ import annotations

import fnmatch
from functools import lru_cache

# Host patterns of the portals portalspec's users document, most specific first.
FAMILIES: tuple[tuple[str, str], ...] = (
    ("security.microsoft.com", "defender-xdr"),
    ("*.security.microsoft.com", "defender-xdr"),
    ("purview.microsoft.com", "purview"),
    ("compliance.microsoft.com", "purview"),
    ("admin.cloud.microsoft", "m365-admin"),
    ("admin.microsoft.com", "m365-admin"),
    ("*-admin.sharepoint.com", "sharepoint-admin"),
    ("admin.teams.microsoft.com", "teams"),
    ("admin.exchange.microsoft.com", "exchange"),
    ("*.iam.ad.ext.azure.com", "entra"),
    ("*.azure.com", "entra"),
    ("entra.microsoft.com", "entra"),
    ("intune.microsoft.com", "intune"),
    ("*.autopatch.microsoft.com", "intune"),
    ("admin.powerplatform.microsoft.com", "power-platform"),
    ("*.crm.dynamics.com", "power-platform"),
    ("engage.cloud.microsoft", "viva-engage"),
    ("*.office.com", "m365-apps"),
    ("*.office.net", "m365-apps"),
    ("*.securitycopilot.microsoft.com", "security-copilot"),
    ("*.securityplatform.microsoft.com", "security-copilot"),
    ("graph.microsoft.com", "graph"),
)


def portal_family(host: str, extra: dict[str, str] | None = None) -> str | None:
    """The family of ``host``; ``extra`` maps host patterns (e.g. from specs) to families first."""
    return _family(host.lower().split(":")[0], tuple((extra or {}).items()))


@lru_cache(maxsize=4096)
def _family(host: str, extra: tuple[tuple[str, str], ...]) -> str | None:
    for pattern, family in (*extra, *FAMILIES):
        if fnmatch.fnmatchcase(host, pattern):
            return family
    return None
