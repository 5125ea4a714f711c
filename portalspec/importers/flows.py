"""mitmproxy flow files (``.flows``/``.mitm``), read with mitmproxy's own reader."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator

from ..errors import PortalspecError
from ..fixtures.flow_entry import flow_to_entry


def iter_flows(path: Path, limit: int, warn: Callable[[str], None],
               progress: Callable[[int], None] | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    from mitmproxy import http, io as mio
    from mitmproxy.exceptions import FlowReadException

    index = -1
    with open(path, "rb") as f:
        try:
            for flow in mio.FlowReader(f).stream():
                if not isinstance(flow, http.HTTPFlow):
                    continue
                index += 1
                if progress:
                    progress(f.tell())
                yield index, flow_to_entry(flow, limit)
        except (FlowReadException, ValueError, KeyError, TypeError) as e:
            if index < 0:
                raise PortalspecError(f"not a readable mitmproxy flow file ({e})", str(path), f"byte {f.tell()}") from None
            warn(f"{path}: after flow {index} (byte {f.tell()}): file is damaged or truncated ({e}); "
                 f"the {index + 1} flows before it were kept")
