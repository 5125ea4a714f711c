"""What each write of a flow was seen after, as one sentence: the reads before it and where the values
it sends came from. The overlay gives each written operation the first ``KEPT`` distinct sentences of
the flows, in order (``x-nodoc-operation-context.workflows``).

A flow's sentences are made where it is compacted (``collect.Closed``), so flows on disk are not read
again for them; ``Contexts`` keeps the first ones per operation whatever order flows are added in.
"""

from __future__ import annotations

from typing import Any

KEPT = 3  # sentences per written operation
Sentence = tuple[str, str, str]  # (method, template, sentence)


def sentences(flow: dict[str, Any]) -> list[Sentence]:
    """``(method, template, sentence)`` of each write or export step of a flow (as the report gives it)
    that has a template, in step order."""
    out: list[Sentence] = []
    steps = flow["steps"]
    into: dict[int, list[dict[str, Any]]] | None = None
    before: dict[str, None] = {}  # the reads so far, in the order first seen
    for s in steps:
        role = s["role"]
        if role != "write" and role != "export" or not s["template"]:
            if (role == "read" or role == "poll") and s["template"]:
                before.setdefault(f"{s['method']} {s['template']}")
            continue
        if into is None:
            into = {}
            for lk in flow["lineage"]:
                into.setdefault(lk["to"]["step"], []).append(lk)
        reads = list(before)[-3:]
        sentence = f"Seen after {', '.join(reads)}" if reads else "Seen as the first call of its page"
        links = into.get(s["index"], [])[:3]
        if links:
            parts = []
            for lk in links:
                src = steps[lk["from"]["step"] - 1]
                parts.append(f"{lk['to']['pointer']} from {src['method']} {src['template'] or src['url']} "
                             f"{lk['from']['pointer']}")
            sentence += "; sends " + ", ".join(parts)
        out.append((s["method"], s["template"], sentence + "."))
    return out


class Contexts:
    """Per written ``(method, template)``, the first ``KEPT`` distinct sentences by the order of the flows
    and of their steps, however the flows come: each sentence with the earliest place it was seen, the
    ``KEPT`` earliest kept (so memory grows with operations, not flows)."""

    def __init__(self) -> None:
        self._kept: dict[tuple[str, str], dict[str, tuple[Any, int]]] = {}

    def add(self, order: Any, found: list[Sentence]) -> None:
        """A flow's sentences (``sentences``); ``order``: the flow's place among all flows (comparable)."""
        for n, (method, template, sentence) in enumerate(found):
            at = (order, n)
            kept = self._kept.setdefault((method, template), {})
            was = kept.get(sentence)
            if was is not None:
                if at < was:
                    kept[sentence] = at
                continue
            if len(kept) >= KEPT:
                last = max(kept, key=kept.__getitem__)
                if at > kept[last]:
                    continue
                del kept[last]
            kept[sentence] = at

    def copy(self) -> "Contexts":
        out = Contexts()
        out._kept = {k: dict(v) for k, v in self._kept.items()}
        return out

    def result(self) -> dict[tuple[str, str], list[str]]:
        """Per ``(method, template)``, its sentences in the order first seen."""
        return {key: sorted(kept, key=kept.__getitem__) for key, kept in self._kept.items()}


def workflows(flows: Any) -> dict[tuple[str, str], list[str]]:
    """Per written ``(method, template)``: the first ``KEPT`` distinct sentences of ``flows`` (a list of
    the report's flows, or a ``collect.FlowList``, which has them made already)."""
    made = getattr(flows, "contexts", None)
    if made is not None:
        return made()  # type: ignore[no-any-return]
    out = Contexts()
    for i, f in enumerate(flows):
        out.add(i, sentences(f))
    return out.result()
