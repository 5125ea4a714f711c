"""mitmproxy flow files (``.flows``/``.mitm``), read with mitmproxy's own reader and converters.

Files from every mitmproxy version its converters still take (0.11 onward) are read. Flows are
read one at a time, so a flow that mitmproxy cannot convert, or that is not HTTP (TCP, UDP, DNS),
is skipped with a warning naming it and the rest of the file is kept.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Callable, Iterator

from ..errors import PortalspecError
from ..fixtures.flow_entry import flow_to_entry


SCRIPT_KEY = "_portalspec_script"  # (bytes, page) of a script flow, for the import step only; never written


def _script(fl: Any) -> tuple[bytes, str | None] | None:
    from ..coderoutes.bundles import is_javascript

    req, resp = fl.request, fl.response
    if resp is None or not 200 <= resp.status_code < 300:
        return None
    if not is_javascript(resp.headers.get("content-type"), req.path, req.headers.get("sec-fetch-dest")):
        return None
    data = resp.get_content(strict=False)
    return (data, req.headers.get("referer")) if data else None


def iter_flows(path: Path, limit: int, warn: Callable[[str], None],
               progress: Callable[[int], None] | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    from mitmproxy import flow as mflow, http
    from mitmproxy.io import compat, tnetstring

    index = -1  # HTTP flows yielded
    read = 0  # flows read, of any kind
    other: Counter[str] = Counter()
    with open(path, "rb") as f:
        if f.peek(3)[:3] == b"\xef\xbb\xbf":  # type: ignore[attr-defined]
            f.read(3)
        while True:
            pos = f.tell()
            try:
                loaded = tnetstring.load(f)
            except (ValueError, TypeError, IndexError, EOFError) as e:
                if str(e) == "not a tnetstring: empty file":
                    break
                if read == 0:
                    raise PortalspecError(f"not a readable mitmproxy flow file ({e})", str(path), f"byte {pos}") from None
                warn(f"{path}: after flow {read} (byte {pos}): file is damaged or truncated ({e}); "
                     f"the {read} flows before it were kept")
                break
            read += 1
            try:
                if not isinstance(loaded, dict):
                    raise ValueError("not a flow")
                fl = mflow.Flow.from_state(compat.migrate_flow(loaded))
            except Exception as e:  # noqa: BLE001 - whatever mitmproxy's converters raise, one flow is lost, not the file
                if read == 1 and not isinstance(loaded, dict):
                    raise PortalspecError("not a readable mitmproxy flow file (its first item is not a flow)",
                                          str(path), f"byte {pos}") from None
                why = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
                warn(f"{path}: flow {read} (byte {pos}): mitmproxy cannot read it ({why}); skipped")
                continue
            if not isinstance(fl, http.HTTPFlow):
                other[type(fl).__name__] += 1
                continue
            try:
                entry = flow_to_entry(fl, limit)
                script = _script(fl)
                if script is not None:  # scanned whole for routes by the import step, then left out
                    entry[SCRIPT_KEY] = script
            except Exception as e:  # noqa: BLE001
                warn(f"{path}: flow {read} (byte {pos}): cannot be turned into an entry ({type(e).__name__}: {e}); skipped")
                continue
            index += 1
            if progress:
                progress(f.tell())
            yield index, entry
    if other:
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(other.items()))
        warn(f"{path}: {sum(other.values())} flows that are not HTTP skipped ({kinds})")
