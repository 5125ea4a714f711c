"""JWT claims summaries: what a token was for (audience, scopes, roles), never the token."""

from __future__ import annotations

import binascii
from typing import Any, Callable

from .. import jsoncodec

# Claims worth keeping: they tell which API and permissions a call used.
_KEPT = ("aud", "iss", "scp", "roles", "appid", "azp", "idtyp", "ver")


def decode_part(part: str) -> dict[str, Any] | None:
    try:
        raw = binascii.a2b_base64(part.replace("-", "+").replace("_", "/") + "=" * (-len(part) % 4))
        value = jsoncodec.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def claims_summary(token: str, tenant_placeholder: Callable[[str], str]) -> dict[str, Any]:
    """Summarise a compact JWT. ``tid`` (also inside ``iss``) becomes a placeholder."""
    parts = token.split(".")
    header = decode_part(parts[0]) or {}
    claims = decode_part(parts[1]) if len(parts) > 1 else None
    if claims is None:
        return {"valid": False}
    out: dict[str, Any] = {k: claims[k] for k in _KEPT if k in claims and _plain(claims[k])}
    if "alg" in header:
        out["alg"] = header["alg"]
    tid = claims.get("tid")
    if isinstance(tid, str) and tid:
        ph = tenant_placeholder(tid)
        out["tid"] = ph
        if isinstance(out.get("iss"), str):
            out["iss"] = out["iss"].replace(tid, ph)
    exp = claims.get("exp")
    if isinstance(exp, (int, float)):
        out["exp"] = exp  # made relative by ``relative_expiry``; never written as is
        if isinstance(claims.get("iat"), (int, float)):
            out["lifetime_s"] = int(exp - claims["iat"])
    return out


def relative_expiry(summary: dict[str, Any], started_epoch: float | None) -> dict[str, Any]:
    """The summary with ``exp`` replaced by seconds from the call's start (``exp_in_s``)."""
    out = {k: v for k, v in summary.items() if k != "exp"}
    if "exp" in summary and started_epoch is not None:
        out["exp_in_s"] = int(summary["exp"] - started_epoch)
    return out


def _plain(v: Any) -> bool:
    if isinstance(v, (str, int, float, bool)):
        return len(str(v)) < 512
    if isinstance(v, list):
        return all(isinstance(x, str) and len(x) < 256 for x in v) and len(v) < 200
    return False
