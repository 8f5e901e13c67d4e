"""Model families: the table that says what each provider wants back, and how a target is matched.

A family is data: its name, model-id patterns, host patterns and one thinking contract per wire.
The built-in table below is written in the same schema a config file's ``families:`` entries use,
and goes through the same parser, so adding a family is adding data.

Detection, first match wins (design §4):

1. an explicit family (``Request.family``, or ``family:`` on a configured provider);
2. the model id, trimmed, lowercased, after the last ``/`` (``xiaomi/mimo-v2.5-pro`` ->
   ``mimo-v2.5-pro``); a dotted vendor prefix (``us.anthropic.claude-...``) is tried next;
3. the base URL's host, or any subdomain of a family's host.

A model id listed in a family's ``not_models`` (``deepseek-chat``, a non-thinking model) is a
known look-alike: it matches nothing by model id and blocks that family's host rule too, so it
ends as ``unknown`` (thinking dropped) instead of being caught by ``api.deepseek.com``.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal, TypeVar, get_args
from urllib.parse import urlsplit

import attrs
from attrs import evolve, field, frozen

from agent.errors import FamilyDefinitionError, UnknownFamily

Api = Literal["anthropic_messages", "chat_completions"]
APIS: tuple[str, ...] = get_args(Api)

#: The host a request goes to when ``base_url`` is None: the official endpoint of the wire.
OFFICIAL_HOSTS: Mapping[str, str] = {
    "anthropic_messages": "api.anthropic.com",
    "chat_completions": "api.openai.com",
}

ThinkingMode = Literal["verify", "carry", "drop"]
Turns = Literal["all", "latest", "by_model"]
EmptySignature = Literal["required", "accepted", "forbidden"]
ReasoningMode = Literal["keep", "drop"]
PadOn = Literal["tool_calls", "active_loop"]
Rule = Literal["explicit", "model", "host", "none"]


def normalize_model(model: str) -> str:
    """Return the model id as detection sees it: trimmed, lowercased, after the last ``/``."""
    return model.strip().lower().rsplit("/", 1)[-1]


_VENDOR_PREFIX = re.compile(r"^(?:[a-z]+\.)+(?=[a-z])")


def _model_candidates(model: str) -> tuple[str, ...]:
    """The ids tried in order: the normalized id, then without a dotted vendor prefix (Bedrock)."""
    normalized = normalize_model(model)
    stripped = _VENDOR_PREFIX.sub("", normalized)
    return (normalized,) if stripped == normalized else (normalized, stripped)


def host_of(base_url: str | None, api: str) -> str:
    """Return the lowercased host a request goes to (the wire's official host for None)."""
    if base_url is None:
        return OFFICIAL_HOSTS[api]
    text = base_url.strip()
    if "//" not in text:
        text = "//" + text
    host = urlsplit(text).hostname
    return (host or "").lower().rstrip(".")


def _version(text: str, where: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in str(text).split("."))
    except ValueError:
        raise FamilyDefinitionError(f"{where}: {text!r} is not a version like '4.5'") from None


# "claude-opus-4-5-20251101", "claude-opus-4.1", "claude-opus-4-20250514" (a date is no minor)
_TIER_FIRST = re.compile(
    r"-(?P<tier>[a-z]+)-(?P<major>\d{1,2})(?!\d)(?:[.-](?P<minor>\d{1,2})(?!\d))?"
)
# "claude-3-7-sonnet-20250219", "claude-3-haiku-20240307"
_VERSION_FIRST = re.compile(r"-(?P<major>\d{1,2})(?:[.-](?P<minor>\d{1,2}))?-(?P<tier>[a-z]+)")


def _tier_version(model: str) -> tuple[str, tuple[int, int]] | None:
    for pattern in (_TIER_FIRST, _VERSION_FIRST):
        found = pattern.search(model)
        if found:
            minor = int(found["minor"]) if found["minor"] else 0
            return found["tier"], (int(found["major"]), minor)
    return None


def _choice(value: object, allowed: Iterable[str], where: str) -> str:
    options = tuple(allowed)
    if value not in options:
        raise FamilyDefinitionError(f"{where}: {value!r} is not one of {', '.join(options)}")
    return str(value)


def _patterns(value: object, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Sequence) or not all(isinstance(v, str) and v for v in value):
        raise FamilyDefinitionError(f"{where}: expected a list of non-empty strings")
    for pattern in value:
        if pattern != pattern.strip() or "/" in pattern:
            raise FamilyDefinitionError(f"{where}: bad pattern {pattern!r}")
        try:
            re.compile(fnmatch.translate(pattern))
        except re.error as exc:  # pragma: no cover - fnmatch.translate escapes almost anything
            raise FamilyDefinitionError(f"{where}: bad pattern {pattern!r}: {exc}") from None
    return tuple(p.lower() for p in value)


def _pad(value: object, where: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise FamilyDefinitionError(f"{where}: the pad must be a string or null")
    return value


def _flag(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise FamilyDefinitionError(f"{where}: expected true or false, got {value!r}")
    return value


def _pad_on(value: object, where: str) -> frozenset[str]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise FamilyDefinitionError(f"{where}: expected a list of {', '.join(get_args(PadOn))}")
    return frozenset(_choice(v, get_args(PadOn), where) for v in value)


def _check_keys(data: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise FamilyDefinitionError(
            f"{where}: unknown field {unknown[0]!r} (known: {', '.join(sorted(allowed))})"
        )


def _keep_all_from(value: object, where: str) -> dict[str, tuple[int, ...]]:
    if not isinstance(value, Mapping):
        raise FamilyDefinitionError(f"{where}: expected tier: version")
    return {str(k).lower(): _version(v, f"{where}.{k}") for k, v in value.items()}


_Parser = Callable[[object, str], Any]

#: How each contract field is read from config (the same for both wires where shared).
_FIELD_PARSERS: Mapping[str, _Parser] = {
    "thinking": lambda v, w: _choice(v, get_args(ThinkingMode), w),
    "turns": lambda v, w: _choice(v, get_args(Turns), w),
    "keep_all_from": _keep_all_from,
    "empty_signature": lambda v, w: _choice(v, get_args(EmptySignature), w),
    "reasoning_content": lambda v, w: _choice(v, get_args(ReasoningMode), w),
    "pad": _pad,
    "pad_on": _pad_on,
    "empty_to_pad": _flag,
}

_C = TypeVar("_C", "AnthropicContract", "ChatContract")


def _override(base: _C, data: object, where: str) -> _C:
    """``base`` with the fields ``data`` (a config mapping) gives, each parsed and checked."""
    if not isinstance(data, Mapping):
        raise FamilyDefinitionError(f"{where}: expected a mapping")
    names = [a.name for a in attrs.fields(type(base))]
    _check_keys(data, names, where)
    return evolve(base, **{k: _FIELD_PARSERS[k](v, f"{where}.{k}") for k, v in data.items()})


@frozen
class AnthropicContract:
    """What a family wants back as prior thinking on the Anthropic Messages wire.

    Attributes:
        thinking: ``verify`` (signatures are checked: only own-origin signed blocks travel),
            ``carry`` (thinking travels unsigned or with the family's own signature), or
            ``drop`` (no thinking is sent back).
        turns: ``all`` assistant turns keep their thinking, only the ``latest``, or ``by_model``
            (keep-all from the versions in ``keep_all_from``, latest-only below them).
        keep_all_from: model tier -> first version that keeps earlier turns' thinking.
        empty_signature: how unsigned thinking is written: ``required`` (``signature: ""``),
            ``accepted`` (left as it is), ``forbidden`` (the empty ``signature`` is removed).
        pad: the documented filler for a turn that must carry thinking and has none.
        pad_on: where the pad goes: ``tool_calls`` turns, every turn of the ``active_loop``.
        empty_to_pad: whether an empty unsigned thinking text becomes the pad.
    """

    thinking: ThinkingMode = "drop"
    turns: Turns = "all"
    keep_all_from: Mapping[str, tuple[int, ...]] = field(factory=dict)
    empty_signature: EmptySignature = "forbidden"
    pad: str | None = None
    pad_on: frozenset[str] = frozenset()
    empty_to_pad: bool = False

    def keeps_all_turns(self, model: str) -> bool:
        """Whether thinking of turns before the latest one is sent to ``model``."""
        if self.turns != "by_model":
            return self.turns == "all"
        parsed = _tier_version(model)
        if parsed is None or parsed[0] not in self.keep_all_from:
            return True  # an id we cannot place is a newer model: keep everything
        tier, version = parsed
        return version >= self.keep_all_from[tier]

    @classmethod
    def from_mapping(
        cls, data: object, where: str, base: AnthropicContract | None = None
    ) -> AnthropicContract:
        """Build (or, given ``base``, override) a contract from its config mapping."""
        return _override(base or cls(), data, where)

    def describe(self) -> str:
        """One line saying what this contract does to prior thinking."""
        if self.thinking == "drop":
            return "prior thinking dropped"
        if self.thinking == "verify":
            turns = "every turn" if self.turns == "all" else "latest turn only"
            if self.turns == "by_model":
                tiers = ", ".join(
                    f"{t} >= {'.'.join(map(str, v))}" for t, v in self.keep_all_from.items()
                )
                turns = f"every turn on {tiers} and unknown ids, else latest turn only"
            return f"own-origin signed blocks verbatim ({turns}); unsigned and foreign dropped"
        sig = {
            "required": 'unsigned as signature ""',
            "accepted": 'unsigned, signature "" accepted',
            "forbidden": "unsigned (no empty signature)",
        }[self.empty_signature]
        text = f"kept on every turn, {sig}"
        if self.pad is not None and self.pad_on:
            text += f"; pad {self.pad!r} on {', '.join(sorted(self.pad_on))} without thinking"
        return text


@frozen
class ChatContract:
    """What a family wants back as ``reasoning_content`` on the Chat Completions wire.

    Attributes:
        reasoning_content: ``keep`` the field or ``drop`` it (strict servers answer 422).
        pad: the documented filler for an assistant message that must carry it and has none.
        pad_on: ``tool_calls`` messages, and/or every assistant message of the ``active_loop``.
        empty_to_pad: whether ``""`` becomes the pad.
    """

    reasoning_content: ReasoningMode = "drop"
    pad: str | None = None
    pad_on: frozenset[str] = frozenset()
    empty_to_pad: bool = False

    @classmethod
    def from_mapping(
        cls, data: object, where: str, base: ChatContract | None = None
    ) -> ChatContract:
        """Build (or, given ``base``, override) a contract from its config mapping."""
        return _override(base or cls(), data, where)

    def describe(self) -> str:
        """One line saying what this contract does to ``reasoning_content``."""
        if self.reasoning_content == "drop":
            return "reasoning_content removed"
        text = "reasoning_content kept"
        if self.empty_to_pad and self.pad is not None:
            text += f", '' becomes {self.pad!r}"
        if self.pad is not None and self.pad_on:
            text += f"; pad {self.pad!r} on {', '.join(sorted(self.pad_on))} without it"
        return text


_FAMILY_KEYS = ("name", "models", "not_models", "hosts", "anthropic", "chat", "why", "source")


@frozen
class ModelFamily:
    """One provider family: how to recognise it and what it wants back.

    Attributes:
        name: the family's name (``mimo``), used in config and in ``explain``.
        models: glob patterns over the normalized model id (``mimo-*``).
        not_models: look-alike ids that are *not* this family's thinking models.
        hosts: hosts whose subdomains also match (``xiaomimimo.com``).
        anthropic: the contract on the Anthropic Messages wire.
        chat: the contract on the Chat Completions wire.
        why: the provider rule in words, quoted by ``explain``.
        source: where the rule is documented.
    """

    name: str
    models: tuple[str, ...] = ()
    not_models: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    anthropic: AnthropicContract = AnthropicContract()
    chat: ChatContract = ChatContract()
    why: str = ""
    source: str = ""

    def contract(self, api: str) -> AnthropicContract | ChatContract:
        """The contract for one wire."""
        return self.anthropic if api == "anthropic_messages" else self.chat

    def model_pattern(self, model: str) -> str | None:
        """The first of ``models`` that matches a normalized id, or None."""
        return next((p for p in self.models if fnmatch.fnmatchcase(model, p)), None)

    def excluded_pattern(self, model: str) -> str | None:
        """The first of ``not_models`` that matches a normalized id, or None."""
        return next((p for p in self.not_models if fnmatch.fnmatchcase(model, p)), None)

    def host_pattern(self, host: str) -> str | None:
        """The first of ``hosts`` that is ``host`` or a parent domain of it, or None."""
        return next((h for h in self.hosts if host == h or host.endswith("." + h)), None)

    @classmethod
    def from_mapping(cls, data: object, where: str, base: ModelFamily | None = None) -> ModelFamily:
        """Build a family from its config mapping; with ``base``, fields given override it."""
        if not isinstance(data, Mapping):
            raise FamilyDefinitionError(f"{where}: expected a mapping")
        _check_keys(data, _FAMILY_KEYS, where)
        name = data.get("name", base.name if base else None)
        if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", name):
            raise FamilyDefinitionError(
                f"{where}.name: expected a lowercase name like 'mimo', got {name!r}"
            )
        family = base or cls(name=name)
        changes: dict[str, Any] = {"name": name}
        for key in ("models", "not_models"):
            if key in data:
                changes[key] = _patterns(data[key], f"{where}.{key}")
        if "hosts" in data:
            hosts = _patterns(data["hosts"], f"{where}.hosts")
            for host in hosts:
                if not re.fullmatch(r"[a-z0-9.-]+", host) or host.startswith("."):
                    raise FamilyDefinitionError(f"{where}.hosts: {host!r} is not a host name")
            changes["hosts"] = hosts
        if "anthropic" in data:
            changes["anthropic"] = AnthropicContract.from_mapping(
                data["anthropic"], f"{where}.anthropic", family.anthropic
            )
        if "chat" in data:
            changes["chat"] = ChatContract.from_mapping(data["chat"], f"{where}.chat", family.chat)
        for key in ("why", "source"):
            if key in data:
                if not isinstance(data[key], str):
                    raise FamilyDefinitionError(f"{where}.{key}: expected a string")
                changes[key] = data[key]
        if base is None and not (changes.get("models") or changes.get("hosts")):
            raise FamilyDefinitionError(f"{where}: a family needs at least one of models, hosts")
        return evolve(family, **changes)


UNKNOWN = ModelFamily(
    name="unknown",
    why=(
        "no family matched, so nothing says this endpoint wants reasoning back, and strict "
        "OpenAI-compatible servers reject an unknown reasoning_content field (422)"
    ),
)

_UNSIGNED_CARRY = {"thinking": "carry", "turns": "all", "empty_signature": "forbidden"}

#: The built-in table (design §4; sources in shared/providers.md), in the config schema.
BUILTIN_FAMILY_DATA: tuple[Mapping[str, Any], ...] = (
    {
        "name": "anthropic",
        "models": ["claude-*"],
        "hosts": ["anthropic.com"],
        "anthropic": {
            "thinking": "verify",
            "turns": "by_model",
            "keep_all_from": {"opus": "4.5", "sonnet": "4.6", "haiku": "4.6"},
            "empty_signature": "forbidden",
        },
        "chat": {"reasoning_content": "drop"},
        "why": (
            "Anthropic checks signatures: thinking blocks come back unmodified, in order, from "
            "the model that wrote them; unsigned, empty-signed or foreign blocks get HTTP 400 "
            "'Invalid `signature` in `thinking` block'"
        ),
        "source": "https://platform.claude.com/docs/en/build-with-claude/extended-thinking",
    },
    {
        "name": "deepseek",
        "models": ["deepseek-r*", "deepseek-v4*", "deepseek-pro*", "deepseek-flash*"],
        "not_models": ["deepseek-chat", "deepseek-v3*", "deepseek-coder*"],
        "hosts": ["api.deepseek.com"],
        "anthropic": {
            **_UNSIGNED_CARRY,
            "pad": " ",
            "pad_on": ["tool_calls", "active_loop"],
            "empty_to_pad": True,
        },
        "chat": {
            "reasoning_content": "keep",
            "pad": " ",
            "pad_on": ["tool_calls", "active_loop"],
            "empty_to_pad": True,
        },
        "why": (
            "DeepSeek: the reasoning of every tool-call turn must be passed back in all later "
            "requests, or HTTP 400 'The `reasoning_content` in the thinking mode must be passed "
            "back to the API.'"
        ),
        "source": "https://api-docs.deepseek.com/guides/thinking_mode",
    },
    {
        "name": "kimi",
        "models": ["kimi-*", "moonshot-*", "k2*", "k3*"],
        "hosts": ["moonshot.ai", "moonshot.cn", "api.kimi.com"],
        "anthropic": {
            **_UNSIGNED_CARRY,
            "empty_signature": "accepted",
            "pad": "",
            "pad_on": ["tool_calls"],
        },
        "chat": {"reasoning_content": "keep", "pad": "", "pad_on": ["tool_calls"]},
        "why": (
            "Kimi: every assistant tool-call message must carry its reasoning, or HTTP 400 "
            "'thinking is enabled but reasoning_content is missing in assistant tool call "
            "message at index N'; an empty string is accepted"
        ),
        "source": "https://platform.moonshot.ai/docs/guide/use-kimi-k2-thinking-model",
    },
    {
        "name": "mimo",
        "models": ["mimo-*", "mimo_*"],
        "hosts": ["xiaomimimo.com"],
        "anthropic": {
            **_UNSIGNED_CARRY,
            "empty_signature": "required",
            "pad": " ",
            "pad_on": ["tool_calls"],
            "empty_to_pad": True,
        },
        "chat": {
            "reasoning_content": "keep",
            "pad": " ",
            "pad_on": ["tool_calls"],
            "empty_to_pad": True,
        },
        "why": (
            "Xiaomi MiMo: every assistant message with tool calls must carry its full reasoning "
            '(unsigned, signature ""), or HTTP 400 \'Param Incorrect: The reasoning_content in '
            "the thinking mode must be passed back to the API.'"
        ),
        "source": "https://platform.xiaomimimo.com/docs/en-US/usage-guide/passing-back-reasoning_content",
    },
    {
        "name": "minimax",
        "models": ["minimax-*"],
        "hosts": ["minimax.io", "minimaxi.com"],
        "anthropic": dict(_UNSIGNED_CARRY),
        "chat": {"reasoning_content": "keep"},
        "why": (
            "MiniMax: the complete assistant message, thinking included, must be appended in "
            "multi-turn tool use; leaving it out costs quality, no error"
        ),
        "source": "https://platform.minimax.io/docs/api-reference/text-anthropic-api",
    },
    {
        "name": "glm",
        "models": ["glm-*"],
        "hosts": ["z.ai", "bigmodel.cn"],
        "anthropic": dict(_UNSIGNED_CARRY),
        "chat": {"reasoning_content": "keep"},
        "why": (
            "GLM: thinking blocks should be returned together with tool results (interleaved "
            "and preserved thinking); leaving them out costs quality and cache hits"
        ),
        "source": "https://docs.z.ai/guides/capabilities/thinking-mode",
    },
    {
        "name": "qwen",
        "models": ["qwen*", "qwq*"],
        "hosts": ["aliyuncs.com"],
        "anthropic": dict(_UNSIGNED_CARRY),
        "chat": {"reasoning_content": "keep"},
        "why": (
            "Qwen: prior reasoning_content is used with preserve_thinking; without it tool "
            "loops leak reasoning into content"
        ),
        "source": "https://help.aliyun.com/en/model-studio/deep-thinking",
    },
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
    """

    family: ModelFamily
    rule: Rule
    model: str
    host: str
    pattern: str | None = None
    note: str | None = None

    def describe(self) -> str:
        """A sentence saying which rule chose the family."""
        if self.rule == "explicit":
            text = f"family {self.family.name}: set explicitly (family: {self.pattern})"
        elif self.rule == "model":
            text = (
                f"family {self.family.name}: model id {self.model!r} matched {self.pattern!r} "
                "(the model id wins over the host)"
            )
        elif self.rule == "host":
            text = f"family {self.family.name}: host {self.host!r} matched {self.pattern!r}"
        else:
            text = (
                f"family unknown: neither model id {self.model!r} nor host {self.host!r} "
                "matches a family"
            )
        return f"{text}; {self.note}" if self.note else text


def _families(items: Iterable[ModelFamily]) -> tuple[ModelFamily, ...]:
    return tuple(items)


@frozen
class FamilyRegistry:
    """An ordered table of families with detection; later entries never shadow earlier ones."""

    families: tuple[ModelFamily, ...] = field(converter=_families)

    def __attrs_post_init__(self) -> None:
        names = [f.name for f in self.families]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise FamilyDefinitionError(f"family {dupes[0]!r} is defined twice")
        if "unknown" in names:
            raise FamilyDefinitionError("'unknown' is the reserved fallback family")

    @classmethod
    def builtin(cls) -> FamilyRegistry:
        """The built-in table of design §4."""
        return _BUILTIN

    @property
    def names(self) -> tuple[str, ...]:
        """Family names, in detection order."""
        return tuple(f.name for f in self.families)

    def get(self, name: str) -> ModelFamily:
        """The family called ``name`` (``unknown`` included); raises UnknownFamily."""
        key = name.strip().lower()
        if key == UNKNOWN.name:
            return UNKNOWN
        for family in self.families:
            if family.name == key:
                return family
        raise UnknownFamily(
            f"unknown family {name!r} (known: {', '.join((*self.names, UNKNOWN.name))})"
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
        return FamilyRegistry((*added, *families))

    def resolve(
        self, model: str, base_url: str | None, api: str, explicit: str | None = None
    ) -> FamilyMatch:
        """Detect the family of one target (explicit > model id > host)."""
        candidates = _model_candidates(model)
        normalized = candidates[0]
        host = host_of(base_url, api)
        if explicit is not None:
            return FamilyMatch(self.get(explicit), "explicit", normalized, host, explicit)
        blocked: dict[str, str] = {}
        for candidate in candidates:
            for family in self.families:
                excluded = family.excluded_pattern(candidate)
                if excluded is not None:
                    blocked[family.name] = excluded
                    continue
                pattern = family.model_pattern(candidate)
                if pattern is not None:
                    return FamilyMatch(family, "model", candidate, host, pattern)
        for family in self.families:
            if family.name in blocked:
                continue
            pattern = family.host_pattern(host)
            if pattern is not None:
                return FamilyMatch(family, "host", normalized, host, pattern)
        note = None
        if blocked:
            name, pattern = next(iter(blocked.items()))
            note = (
                f"{normalized!r} matches {pattern!r}, a non-thinking model listed under "
                f"{name}'s not_models, so the {name} host rule does not apply"
            )
        return FamilyMatch(UNKNOWN, "none", normalized, host, None, note)


_BUILTIN = FamilyRegistry(
    ModelFamily.from_mapping(data, f"builtin family {data['name']}") for data in BUILTIN_FAMILY_DATA
)
