"""FamilyRegistry: an ordered table of families, and detection over it.

Detection, first match wins (the README's "Model families"):

1. an explicit family (``Request.family``, or ``family:`` on a configured provider);
2. the model id, trimmed, lowercased, after the last ``/`` (``xiaomi/mimo-v2.5-pro`` ->
   ``mimo-v2.5-pro``); a dotted vendor prefix (``us.anthropic.claude-...``) is tried next;
3. the base URL's host, or any subdomain of a family's host.

A model id listed in a family's ``not_models`` (``deepseek-chat``, a non-thinking model) is a
known look-alike: it matches nothing by model id and blocks that family's host rule too, so it
ends as ``unknown`` instead of being caught by ``api.deepseek.com``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from attrs import evolve, field, frozen

from agent.errors import FamilyDefinitionError, UnknownFamily, shown
from agent.families.builtin import BUILTIN_FAMILY_DATA
from agent.families.dialect_data import BUILTIN_DIALECT_DATA
from agent.families.dialects import UNKNOWN_DIALECT, HostDialect
from agent.families.family import UNKNOWN, FamilyMatch, ModelFamily
from agent.wire import host_of, model_candidates

_REMEMBERED = 1024  # answers kept per registry (targets are few; ids are bounded anyway)


def _families(items: Iterable[ModelFamily]) -> tuple[ModelFamily, ...]:
    return tuple(items)


def _dialects(items: Iterable[HostDialect]) -> tuple[HostDialect, ...]:
    return tuple(items)


def _builtin_dialects() -> tuple[HostDialect, ...]:
    return _BUILTIN_DIALECTS


_Key = tuple[str, str | None, str, str | None, bool, str | None]


@frozen
class FamilyRegistry:
    """The two tables detection reads, in order: the model families (what a model needs
    back) and the host dialects (how a host carries it); later entries never shadow earlier
    ones."""

    families: tuple[ModelFamily, ...] = field(converter=_families)
    dialects: tuple[HostDialect, ...] = field(
        factory=_builtin_dialects, converter=_dialects, kw_only=True
    )
    # detection's answers by target: the same few targets are asked before every call
    _answers: dict[_Key, FamilyMatch] = field(init=False, factory=dict, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        names = [f.name for f in self.families]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise FamilyDefinitionError("families", f"family {shown(dupes[0])} is defined twice")
        if "unknown" in names:
            raise FamilyDefinitionError("families", "'unknown' is the reserved fallback family")
        dialects = [d.name for d in self.dialects]
        if UNKNOWN_DIALECT.name in dialects or len(set(dialects)) != len(dialects):
            raise FamilyDefinitionError("dialects", "dialect names must be unique, not 'unknown'")

    @classmethod
    def builtin(cls) -> FamilyRegistry:
        """The built-in table (``BUILTIN_FAMILY_DATA``)."""
        return _BUILTIN

    @property
    def names(self) -> tuple[str, ...]:
        """Family names, in detection order."""
        return tuple(f.name for f in self.families)

    @property
    def dialect_names(self) -> tuple[str, ...]:
        """Dialect names, in detection order."""
        return tuple(d.name for d in self.dialects)

    def dialect(self, name: str) -> HostDialect:
        """The dialect called ``name`` (``unknown`` included); raises UnknownFamily."""
        key = name.strip().lower()
        if key == UNKNOWN_DIALECT.name:
            return UNKNOWN_DIALECT
        for dialect in self.dialects:
            if dialect.name == key:
                return dialect
        known = ", ".join((*self.dialect_names, UNKNOWN_DIALECT.name))
        raise UnknownFamily("dialect", f"unknown dialect {shown(name)} (known: {known})")

    def get(self, name: str) -> ModelFamily:
        """The family called ``name`` (``unknown`` included); raises UnknownFamily."""
        key = name.strip().lower()
        if key == UNKNOWN.name:
            return UNKNOWN
        for family in self.families:
            if family.name == key:
                return family
        raise UnknownFamily(
            "family",
            f"unknown family {shown(name)} (known: {', '.join((*self.names, UNKNOWN.name))})",
        )

    def with_definitions(
        self, definitions: Iterable[tuple[str, Mapping[str, Any]]]
    ) -> FamilyRegistry:
        """A registry where each ``(where, mapping)`` overrides a family of the same name or,
        for a new name, is added ahead of the built-ins (so a user's pattern wins)."""
        families = list(self.families)
        added: list[ModelFamily] = []
        for where, data in definitions:
            raw_name = data.get("name") if isinstance(data, Mapping) else None
            name = raw_name.strip().lower() if isinstance(raw_name, str) else None
            existing = next((i for i, f in enumerate(families) if f.name == name), None)
            if existing is not None:
                families[existing] = ModelFamily.from_mapping(data, where, families[existing])
            else:
                added.append(ModelFamily.from_mapping(data, where))
        return FamilyRegistry((*added, *families), dialects=self.dialects)

    def resolve(
        self,
        model: str,
        base_url: str | None,
        api: str,
        explicit: str | None = None,
        thinking: bool = False,
        dialect: str | None = None,
    ) -> FamilyMatch:
        """Detect the family of one target (explicit > authoritative host > model id > host)
        and, on the chat wire, its host's dialect (explicit > host > unknown).

        ``thinking``: the request turns thinking on (ids in a family's ``when_thinking`` are
        then its thinking models). ``dialect``: an explicit dialect (a provider's
        ``dialect:``).
        """
        key = (model, base_url, api, explicit, thinking, dialect)
        match = self._answers.get(key)
        if match is None:
            if len(self._answers) >= _REMEMBERED:
                self._answers.clear()
            found = self._detect(model, base_url, api, explicit, thinking)
            if api == "chat_completions":  # (the other wires carry reasoning in their own items)
                found = self._with_dialect(found, dialect)
            match = self._answers[key] = found
        return match

    def _with_dialect(self, match: FamilyMatch, explicit: str | None) -> FamilyMatch:
        """``match`` carrying its host's dialect: the explicit one, else the first row whose
        hosts hold the request's host."""
        if explicit is not None:
            return evolve(match, dialect=self.dialect(explicit), dialect_rule="explicit")
        for dialect in self.dialects:
            if dialect.host_pattern(match.host) is not None:
                return evolve(match, dialect=dialect, dialect_rule="host")
        return match

    def _detect(
        self, model: str, base_url: str | None, api: str, explicit: str | None, thinking: bool
    ) -> FamilyMatch:
        candidates = model_candidates(model)
        normalized = candidates[0]
        host = host_of(base_url, api)
        if explicit is not None:
            return FamilyMatch(self.get(explicit), "explicit", normalized, host, explicit)
        blocked: dict[str, str] = {}
        by_model = self._by_model(candidates, host, thinking, blocked)
        by_host = next(
            (
                FamilyMatch(f, "host", normalized, host, pattern)
                for f in self.families
                if f.name not in blocked and (pattern := f.host_pattern(host)) is not None
            ),
            None,
        )
        # only a base URL the caller gave is authoritative: with None the request may well go
        # elsewhere (an adapter that was not told the client's base URL)
        if by_host is not None and by_host.family.authoritative and base_url is not None:
            if by_model is None or by_model.family is by_host.family:
                return by_host if by_model is None else _overruled(by_model, by_host)
            serves = (
                f"{host} serves {by_host.family.name}'s models whatever the id says "
                f"({by_model.model!r} names {by_model.family.name}, which decides on other hosts)"
            )
            return FamilyMatch(by_host.family, "host", normalized, host, by_host.pattern, serves)
        if by_model is not None:
            return _overruled(by_model, by_host)
        if by_host is not None:
            return by_host
        note = None
        if blocked:
            name, pattern = next(iter(blocked.items()))
            note = (
                f"{normalized!r} matches {pattern!r}, a non-thinking model listed under "
                f"{name}'s not_models, so the {name} host rule does not apply"
            )
        return FamilyMatch(UNKNOWN, "none", normalized, host, None, note)

    def _by_model(
        self, candidates: tuple[str, ...], host: str, thinking: bool, blocked: dict[str, str]
    ) -> FamilyMatch | None:
        """The family a model id names (None), recording look-alikes in ``blocked``."""
        for candidate in candidates:
            for family in self.families:
                when = family.thinking_pattern(candidate)
                if when is not None and thinking:
                    return FamilyMatch(family, "model", candidate, host, when, _ASKED)
                excluded = family.excluded_pattern(candidate) or when
                if excluded is not None:
                    blocked[family.name] = excluded
                    continue
                pattern = family.model_pattern(candidate)
                if pattern is not None:
                    return FamilyMatch(family, "model", candidate, host, pattern)
        return None


_ASKED = "a thinking model because the request turns thinking on"


def _overruled(by_model: FamilyMatch, by_host: FamilyMatch | None) -> FamilyMatch:
    """The model id's answer, saying what the host alone would have said (explain then says
    whether the host agreed, was overruled, or matched nothing)."""
    if by_host is None:
        return by_model
    return evolve(by_model, host_family=by_host.family.name)


_BUILTIN_DIALECTS = tuple(
    HostDialect.from_mapping(data, f"builtin dialect {data['name']}")
    for data in BUILTIN_DIALECT_DATA
)
_BUILTIN = FamilyRegistry(
    ModelFamily.from_mapping(data, f"builtin family {data['name']}") for data in BUILTIN_FAMILY_DATA
)
