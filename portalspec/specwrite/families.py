"""New spec folders for portal families no spec serves yet (``update-spec --new-specs DIR``).

Calls to hosts that no loaded spec serves are grouped by host family (``portals.py``, else the
host's registrable name) into ``DIR/nodoc-NAME/specification/openapi.yml``, laid out like nodoc's
single-file specs: ``info`` (title, description, version, contact and licence as the other specs
give them), ``servers`` (one per host, with a description), ``tags``, and ``paths`` with the new
operations in nodoc's shapes. A re-run with ``--specs DIR`` added matches those calls.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from ..portals import portal_family
from .naming import words
from .style import Style, block


def family_of(host: str) -> str:
    fam = portal_family(host)
    if fam:
        return fam
    labels = host.split(":")[0].split(".")
    core = labels[-3] if len(labels) >= 3 and labels[-2] in ("microsoft", "office", "azure", "dynamics", "cloud") else labels[0]
    return re.sub(r"[^a-z0-9-]+", "-", core.lower()).strip("-") or "portal"


def new_family_specs(report: dict[str, Any], out: Path, index: Any) -> dict[Path, str]:
    """``{root file: text}`` for every family of undocumented calls on hosts no spec serves (a server
    whose whole host is a variable serves none in particular)."""
    from ..specs.hosts import HostServers
    from .overlay import new_operation

    served = HostServers(index)
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for u in report.get("undocumented") or []:
        if served.spec_for(u["host"], u["template"]) is None:
            groups[family_of(u["host"])].append(u)
    written: dict[Path, str] = {}
    for fam, rows in sorted(groups.items()):
        root = out / f"nodoc-{fam}" / "specification" / "openapi.yml"
        if root.exists():
            continue  # a folder someone keeps already: not overwritten
        title = " ".join(w.capitalize() for w in words(fam)) or fam
        tag = title
        taken: set[str] = set()
        hosts = sorted({u["host"] for u in rows})
        doc: dict[str, Any] = {
            "openapi": "3.0.1",
            "info": {"title": title,
                     "description": f"Endpoints of the {title} portal observed in live capture by portalspec; not yet "
                                    "reviewed. Exact schemas pending where only a few calls were seen.",
                     "version": "1.0",
                     "contact": {"name": "nodoc", "url": "https://github.com/nathanmcnulty/nodoc"},
                     "license": {"name": "Apache 2.0", "url": "https://www.apache.org/licenses/LICENSE-2.0.html"}},
            "servers": [{"url": f"https://{h}", "description": f"{h}, observed in live capture"} for h in hosts],
            "tags": [{"name": tag, "description": f"{title} endpoints observed in live capture."}],
            "paths": {},
        }
        multi_host = len(hosts) > 1
        for u in sorted(rows, key=lambda r: (r["template"], r["method"])):
            op = new_operation(u, u["template"], {}, taken, f"live {title} portal capture", None, [tag], None, None,
                               None, True, None)
            item = doc["paths"].setdefault(u["template"], {})
            if multi_host:
                item.setdefault("servers", [{"url": f"https://{u['host']}", "description": f"{u['host']}, observed in live capture"}])
            item[u["method"].lower()] = op
        written[root] = "".join(block(doc, 0, Style(indented_sequences=True)))
    return written
