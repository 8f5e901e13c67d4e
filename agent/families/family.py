"""ModelFamily (one provider family as data) and FamilyMatch (detection's answer)."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from attrs import evolve, field, frozen

from agent.errors import FamilyDefinitionError, shown
from agent.families.contracts import AnthropicContract, ChatContract
from agent.families.dialects import UNKNOWN_DIALECT, HostDialect
from agent.families.fields import check_keys, flag, host_names, sources, text

Rule = Literal["explicit", "model", "host", "none"]
DialectRule = Literal["explicit", "host", "learned", "none"]

_FAMILY_KEYS = (
    "name",
    "models",
    "not_models",
    "when_thinking",
    "hosts",
    "authoritative",
    "anthropic",
    "chat",
    "why",
    "source",
    "sources",
)


def _patterns(value: object, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Sequence) or not all(isinstance(v, str) and v for v in value):
        raise FamilyDefinitionError(where, "expected a list of non-empty strings")
    for pattern in value:
        if pattern != pattern.strip() or "/" in pattern:
            raise FamilyDefinitionError(where, f"bad pattern {shown(pattern)}")
    return tuple(p.lower() for p in value)


def _hosts(value: object, where: str) -> tuple[str, ...]:
    return host_names(_patterns(value, where), where)


@frozen
class ModelFamily:
    """One provider family: how to recognise it and what it wants back.

    Attributes:
        name: the family's name (``mimo``), used in config and in ``explain``.
        models: glob patterns over the normalized model id (``mimo-*``).
        not_models: look-alike ids that are *not* this family's thinking models.
        when_thinking: ids that are this family's thinking models only when the request turns
            thinking on (``deepseek-chat`` with ``thinking: {type: enabled}``); else look-alikes.
        hosts: hosts whose subdomains also match (``xiaomimimo.com``).
        authoritative: the hosts serve this family's rules whatever model id is asked (vendor
            endpoints that map other vendors' names to their own models, strict servers).
        anthropic: the contract on the Anthropic Messages wire.
        chat: the contract on the Chat Completions wire.
        why: the provider rule in words, quoted by ``explain``.
        source: where the contract is documented.
        sources: where each further rule is documented (rule or host -> source).
    """

    name: str
    models: tuple[str, ...] = ()
    not_models: tuple[str, ...] = ()
    when_thinking: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    authoritative: bool = False
    anthropic: AnthropicContract = field(factory=AnthropicContract)
    chat: ChatContract = field(factory=ChatContract)
    why: str = ""
    source: str = ""
    sources: Mapping[str, str] = field(factory=dict)

    def contract(self, api: str) -> AnthropicContract | ChatContract:
        """The contract for one wire."""
        return self.anthropic if api == "anthropic_messages" else self.chat

    def model_pattern(self, model: str) -> str | None:
        """The first of ``models`` that matches a normalized id, or None."""
        return next((p for p in self.models if fnmatch.fnmatchcase(model, p)), None)

    def excluded_pattern(self, model: str) -> str | None:
        """The first of ``not_models`` that matches a normalized id, or None."""
        return next((p for p in self.not_models if fnmatch.fnmatchcase(model, p)), None)

    def thinking_pattern(self, model: str) -> str | None:
        """The first of ``when_thinking`` that matches a normalized id, or None."""
        return next((p for p in self.when_thinking if fnmatch.fnmatchcase(model, p)), None)

    def host_pattern(self, host: str) -> str | None:
        """The first of ``hosts`` that is ``host`` or a parent domain of it, or None."""
        return next((h for h in self.hosts if host == h or host.endswith("." + h)), None)

    @classmethod
    def from_mapping(cls, data: object, where: str, base: ModelFamily | None = None) -> ModelFamily:
        """Build a family from its config mapping; with ``base``, fields given override it."""
        if not isinstance(data, Mapping):
            raise FamilyDefinitionError(where, "expected a mapping")
        check_keys(data, _FAMILY_KEYS, where)
        name = data.get("name", base.name if base else None)
        if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", name):
            raise FamilyDefinitionError(
                f"{where}.name", f"expected a lowercase name like 'mimo', got {shown(name)}"
            )
        family = base or cls(name=name)
        changes: dict[str, Any] = {"name": name}
        readers = {
            "models": _patterns,
            "not_models": _patterns,
            "when_thinking": _patterns,
            "hosts": _hosts,
            "authoritative": flag,
            "anthropic": lambda v, w: AnthropicContract.from_mapping(v, w, family.anthropic),
            "chat": lambda v, w: ChatContract.from_mapping(v, w, family.chat),
            "why": text,
            "source": text,
            "sources": sources,
        }
        for key, read in readers.items():
            if key in data:
                changes[key] = read(data[key], f"{where}.{key}")
        if base is None and not (changes.get("models") or changes.get("hosts")):
            raise FamilyDefinitionError(where, "a family needs at least one of models, hosts")
        return evolve(family, **changes)


UNKNOWN = ModelFamily(
    name="unknown",
    anthropic=AnthropicContract(thinking="pass"),
    chat=ChatContract(reasoning_content="pass"),
    why=(
        "no family matched, so nothing says what this endpoint wants: do no harm, send what "
        "the agent sent (minus reasoning known to come from another target) and learn from a "
        "classified error"
    ),
    source="do no harm (the README's Model families); relays measured in front of this "
    "project's emulators: LiteLLM proxy 1.108 (https://github.com/BerriAI/litellm), "
    "claude-code-router 1.0.73 (https://github.com/musistudio/claude-code-router)",
)


@frozen
class FamilyMatch:
    """The answer of detection for one request, resolved once and carried with it.

    Attributes:
        family: the family that matched (``UNKNOWN`` when none did).
        rule: which rule decided: ``explicit``, ``model``, ``host`` or ``none``.
        model: the normalized model id.
        host: the host the request goes to.
        pattern: the pattern (or explicit name) that matched.
        note: why a rule that might have matched did not (a known look-alike).
        dialect: how the host carries reasoning (``UNKNOWN_DIALECT`` when no row matched).
        dialect_rule: which rule chose the dialect: ``explicit``, ``host``, ``learned`` (a
            host's classified errors taught it), or ``none``.
        host_family: the family the host alone matches, when the model id decided (None:
            the host matches none), so explain says whether it agreed or was overruled.
    """

    family: ModelFamily
    rule: Rule
    model: str
    host: str
    pattern: str | None = None
    note: str | None = None
    dialect: HostDialect = UNKNOWN_DIALECT
    dialect_rule: DialectRule = "none"
    host_family: str | None = None

    def describe(self) -> str:
        """A sentence saying which rule chose the family."""
        if self.rule == "explicit":
            text = f"family {self.family.name}: set explicitly (family: {self.pattern})"
        elif self.rule == "model":
            text = f"family {self.family.name}: model id {self.model!r} matched {self.pattern!r}"
            if self.host_family == self.family.name:
                text += f" (host {self.host!r} agrees)"
            elif self.host_family is not None:
                text += (
                    f" (the model id wins over host {self.host!r}, which would say "
                    f"{self.host_family})"
                )
        elif self.rule == "host":
            text = f"family {self.family.name}: host {self.host!r} matched {self.pattern!r}"
        else:
            text = (
                f"family unknown: neither model id {self.model!r} nor host {self.host!r} "
                "matches a family"
            )
        return f"{text}; {self.note}" if self.note else text

    def describe_target(self) -> str:
        """Both answers in words: which rule chose the family, and the host's dialect."""
        return self.describe() + self.describe_dialect()

    def describe_dialect(self) -> str:
        """The dialect's part of the description ('' for a host no row knows)."""
        if self.dialect_rule == "none":
            return ""
        how = {
            "explicit": "set explicitly",
            "host": f"host {self.host!r}",
            "learned": f"host {self.host!r}, with what its errors taught",
        }[self.dialect_rule]
        return f"; dialect {self.dialect.name} ({how}): {self.dialect.describe()}"
