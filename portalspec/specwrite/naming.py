"""Names for a new operation in its spec's own convention, learned from its neighbours.

Conventions seen in nodoc: ``Tag.VerbNoun`` and ``Prefix.Group.VerbNoun`` (dotted PascalCase),
``Service_method_path_words`` (generated from the method and path), ``Tag_VerbNoun``, and
``verbNoun`` (camelCase). The nearest neighbour (same file, longest shared path) gives the
convention and its prefix; the verb comes from the method and the path (``List``, ``Get``,
``Create``, ``Update``, ``Delete``, or an action word the path ends with: ``merge``, ``search``),
the noun from the path's last literal words. The summary says the same in words, imperative, as
the specs do ("List secure score initiatives"). Ids stay unique in their spec.
"""

from __future__ import annotations

import re
from typing import Iterable

_DOTTED = re.compile(r"^[A-Z][A-Za-z0-9]*(?:\.[A-Z][A-Za-z0-9]*)+$")
_GENERATED = re.compile(r"^([A-Za-z0-9]+)_(get|put|post|patch|delete|head|options)_", re.I)
_UNDERSCORE = re.compile(r"^([A-Z][A-Za-z0-9]*)_[A-Z][A-Za-z0-9]*$")
_CAMEL = re.compile(r"^[a-z][a-z0-9]*(?:[A-Z][a-z0-9]*)+$")
_ACTIONS = {"update", "merge", "search", "query", "export", "import", "assign", "unassign", "validate", "add", "remove",
            "set", "run", "start", "stop", "cancel", "submit", "approve", "deny", "reset", "restore", "enable",
            "disable", "resolve", "invoke", "execute", "check", "preview", "publish", "sync", "refresh", "count",
            "find", "lookup", "delete", "create", "upload", "download", "generate", "test", "evaluate", "dismiss"}
_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


def convention(op_id: str | None) -> str:
    if not op_id:
        return "none"
    if _DOTTED.match(op_id):
        return "dotted"
    if _GENERATED.match(op_id):
        return "generated"
    if _UNDERSCORE.match(op_id):
        return "underscore"
    if _CAMEL.match(op_id) or op_id.isalpha() and op_id.islower():
        return "camel"
    return "other"


def words(segment: str) -> list[str]:
    """``secureScoreSecurityInitiativesV2`` -> secure, score, security, initiatives, v2."""
    out: list[str] = []
    for part in re.split(r"[^A-Za-z0-9]+", segment):
        out += [w.lower() for w in _WORDS.findall(part)]
    merged: list[str] = []
    for w in out:  # a version number sticks to its letter: V2, O365
        if merged and w.isdigit() and len(merged[-1]) == 1:
            merged[-1] += w
        else:
            merged.append(w)
    return merged


def _literals(path: str) -> list[str]:
    out = []
    for seg in path.strip("/").split("/"):
        if not seg or seg.startswith("{"):
            continue
        seg = re.sub(r"\(.*\)$", "", seg)  # OData key: the entity set is the word
        if seg:
            out.append(seg)
    return out


def singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def verb_and_noun(method: str, path: str) -> tuple[str, list[str]]:
    """The verb (lower case) and noun words for an operation."""
    lits = _literals(path)
    ends_in_param = path.rstrip("/").endswith("}") or path.rstrip("/").endswith(")")
    last = lits[-1] if lits else ""
    if ends_in_param and method != "POST":
        last = singular(last)  # one of them: /signIns/{id} gets a sign in
    last_words = words(last)
    if method == "POST" and last_words and last_words[0] in _ACTIONS and len(lits) > 1 and not ends_in_param:
        return last_words[0], (last_words[1:] or words(lits[-2]))
    noun = last_words or ["resource"]
    if method == "GET":
        if ends_in_param:
            return "get", noun
        return ("list" if noun[-1].endswith("s") and not noun[-1].endswith("ss") else "get"), noun
    return {"POST": "create", "PUT": "set", "PATCH": "update", "DELETE": "delete"}.get(method, method.lower()), noun


def _pascal(ws: Iterable[str]) -> str:
    return "".join(w[:1].upper() + w[1:] for w in ws)


def operation_id(method: str, path: str, neighbour: str | None, taken: set[str], tag: str | None = None) -> str:
    """A new operationId in the neighbour's convention, unique among ``taken``."""
    verb, noun = verb_and_noun(method, path)
    style = convention(neighbour)
    if style == "dotted":
        prefix = neighbour.rsplit(".", 1)[0]  # type: ignore[union-attr]  # a style: neighbour is not None
        base = f"{prefix}.{_pascal([verb, *noun])}"
    elif style == "generated":
        svc = _GENERATED.match(neighbour).group(1)  # type: ignore[arg-type,union-attr]  # style says it matches
        segs = re.sub(r"[^A-Za-z0-9]+", "_", path.strip("/")).strip("_")
        base = f"{svc}_{method.lower()}_{segs}"
    elif style == "underscore":
        base = f"{_UNDERSCORE.match(neighbour).group(1)}_{_pascal([verb, *noun])}"  # type: ignore[arg-type,union-attr]
    elif style == "camel" or not tag:
        base = verb + _pascal(noun)
    else:
        base = f"{_pascal(words(tag))}.{_pascal([verb, *noun])}"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}{n}", n + 1
    taken.add(name)
    return name


def summary(method: str, path: str) -> str:
    verb, noun = verb_and_noun(method, path)
    return f"{verb.capitalize()} {' '.join(noun)}"


def parameter_names(path: str, names: dict[str, str]) -> dict[str, str]:
    """Renames for ``path``'s parameters, from the spec's own names (``shapes.paths.spec_param_names``):
    the name it gives a parameter after the same literal segment (``/devices/{DeviceId}``), or to the
    key of the same OData entity."""
    out: dict[str, str] = {}
    segs = path.strip("/").split("/")
    for a, b in zip(segs, segs[1:]):
        m = re.fullmatch(r"\{([^}]+)\}", b)
        if m and a.lower() in names:
            out[m.group(1)] = names[a.lower()]
    for b in segs:
        if "(" in b:
            keys = re.findall(r"\{([^}]+)\}", b)
            known = names.get(b.split("(", 1)[0].lower() + "(")
            if known and len(keys) == 1:
                out[keys[0]] = known
    return out
