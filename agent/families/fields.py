"""How a family's config fields are read: each contract field carries its parser in its attrs
metadata (``parser(...)``), so a field is defined with how config reads it, and a contract
class with a field that has none fails when it is defined (``parsed``), not at the first load
that names the field."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import attrs
from attrs import AttrsInstance

from agent.errors import FamilyDefinitionError, shown

#: A field's parser: (config value, where it is) -> the field's value, or FamilyDefinitionError.
Parser = Callable[[object, str], Any]
#: The metadata key a field's parser is kept under.
PARSE = "agent.parse"

C = TypeVar("C", bound=AttrsInstance)


def parser(read: Parser) -> dict[str, Parser]:
    """The metadata of a field that config reads with ``read``."""
    return {PARSE: read}


def parsed(cls: type[C]) -> type[C]:
    """``cls`` (an attrs class) once every field of it says how config reads it; a field
    without a parser is a FamilyDefinitionError naming it, when the class is defined."""
    for a in attrs.fields(cls):
        if PARSE not in a.metadata:
            raise FamilyDefinitionError(
                f"{cls.__name__}.{a.name}", "a contract field needs a parser (metadata=parser(...))"
            )
    return cls


def overridden(base: C, data: object, where: str) -> C:
    """``base`` with the fields ``data`` (a config mapping) gives, each read by its parser."""
    if not isinstance(data, Mapping):
        raise FamilyDefinitionError(where, "expected a mapping")
    known = attrs.fields_dict(type(base))
    check_keys(data, known, where)
    changes = {k: known[k].metadata[PARSE](v, f"{where}.{k}") for k, v in data.items()}
    new: C = _evolve(base, **changes)
    return new


#: (mypy's attrs plugin cannot check ``evolve`` on a type variable bound to attrs classes)
_evolve: Any = attrs.evolve


def choice(value: object, allowed: Iterable[str], where: str) -> str:
    """``value`` if it is one of ``allowed``; FamilyDefinitionError otherwise."""
    options = tuple(allowed)
    if value not in options:
        raise FamilyDefinitionError(where, f"{shown(value)} is not one of {', '.join(options)}")
    return str(value)


def one_of(allowed: Iterable[str]) -> Parser:
    """A parser of one of ``allowed``."""
    options = tuple(allowed)
    return lambda value, where: choice(value, options, where)


def check_keys(data: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
    """Raise FamilyDefinitionError naming the first key of ``data`` not in ``allowed``."""
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise FamilyDefinitionError(
            where, f"unknown field {unknown[0]!r} (known: {', '.join(sorted(allowed))})"
        )


def version(text: object, where: str) -> tuple[int, ...]:
    """A version like ``4.5``, as numbers."""
    try:
        return tuple(int(part) for part in str(text).split("."))
    except ValueError:
        raise FamilyDefinitionError(where, f"{shown(text)} is not a version like '4.5'") from None


def pad(value: object, where: str) -> str | None:
    """A pad (or a documented dummy value): a string, or null."""
    if value is not None and not isinstance(value, str):
        raise FamilyDefinitionError(where, "the pad must be a string or null")
    return value


def flag(value: object, where: str) -> bool:
    """True or false."""
    if not isinstance(value, bool):
        raise FamilyDefinitionError(where, f"expected true or false, got {shown(value)}")
    return value


def text(value: object, where: str) -> str:
    """A string."""
    if not isinstance(value, str):
        raise FamilyDefinitionError(where, "expected a string")
    return value


def sources(value: object, where: str) -> dict[str, str]:
    """Rule -> the source that says it (a URL or a citation)."""
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise FamilyDefinitionError(where, "expected rule: source")
    return dict(value)


def host_names(hosts: tuple[str, ...], where: str) -> tuple[str, ...]:
    """``hosts`` (already lowercased strings) if each is a host name."""
    for host in hosts:
        if not re.fullmatch(r"[a-z0-9.-]+", host) or host.startswith("."):
            raise FamilyDefinitionError(where, f"{shown(host)} is not a host name")
    return hosts


def choices(allowed: Iterable[str]) -> Parser:
    """A parser of a list of ``allowed`` names, as a frozenset."""
    options = tuple(allowed)

    def read(value: object, where: str) -> frozenset[str]:
        if not isinstance(value, Sequence) or isinstance(value, str):
            raise FamilyDefinitionError(where, f"expected a list of {', '.join(options)}")
        return frozenset(choice(v, options, where) for v in value)

    return read


def tier_versions(value: object, where: str) -> dict[str, tuple[int, ...]]:
    """Model tier -> a version (``{opus: "4.5"}``)."""
    if not isinstance(value, Mapping):
        raise FamilyDefinitionError(where, "expected tier: version")
    return {str(k).lower(): version(v, f"{where}.{k}") for k, v in value.items()}


def model_globs(value: object, where: str) -> tuple[str, ...]:
    """A list of model id patterns, lowercased."""
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise FamilyDefinitionError(where, "expected a list of model id patterns")
    if not all(isinstance(v, str) and v for v in value):
        raise FamilyDefinitionError(where, "expected a list of model id patterns")
    return tuple(v.lower() for v in value)


def reads(value: object, where: str) -> dict[str, tuple[str, ...]]:
    """Model pattern -> the origin model patterns it reads."""
    if not isinstance(value, Mapping):
        raise FamilyDefinitionError(where, "expected model pattern: [origin model patterns]")
    return {str(k).lower(): model_globs(v, f"{where}.{k}") for k, v in value.items()}


def matches(model: str, patterns: Iterable[str]) -> bool:
    """Whether ``model`` matches one of ``patterns`` (globs)."""
    return any(fnmatch.fnmatchcase(model, p) for p in patterns)
