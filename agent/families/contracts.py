"""The thinking contract of a family on each wire (each field read from config by the parser
in its metadata: ``fields``)."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Literal, get_args

from attrs import field, frozen

from agent.families import fields as read
from agent.families.fields import choice, matches, one_of, overridden, parsed, parser


class BlockMode(StrEnum):
    """What a family's prior thinking blocks get on the Anthropic wire (a contract's
    ``thinking``), with what the passes ask of it."""

    #: Signatures are checked: only the target's own signed blocks travel, unmodified.
    VERIFY = "verify"
    #: The family's own thinking travels on every turn, unsigned or with its own signature.
    CARRY = "carry"
    #: Nothing is known: what the agent sent, minus what is known to be another target's.
    PASS = "pass"
    #: No prior thinking is sent.
    DROP = "drop"

    @property
    def checks_signatures(self) -> bool:
        """Only own signed blocks verify: a restored turn must line up and start with its
        thinking, and the active tool loop's turn must start with thinking."""
        return self is BlockMode.VERIFY

    @property
    def carries_unsigned(self) -> bool:
        """Unsigned thinking is the family's own: written its way, padded where it needs
        reasoning, found again by any of a turn's tool ids."""
        return self is BlockMode.CARRY

    @property
    def sends_back(self) -> bool:
        """A known contract that wants the turn's own reasoning back: restored from the
        store, and a framework's text copy turned back into thinking."""
        return self in (BlockMode.VERIFY, BlockMode.CARRY)

    @property
    def sends_thinking(self) -> bool:
        """Some prior thinking travels (every mode but drop)."""
        return self is not BlockMode.DROP


Turns = Literal["all", "latest", "by_model"]
EmptySignature = Literal["required", "accepted", "forbidden"]
ReasoningMode = Literal["keep", "pass", "drop"]
PadOn = Literal["tool_calls", "active_loop"]
BareIds = Literal["pass", "404"]
AskEncrypted = Literal["never", "store_off", "always"]
#: Kimi's switch that keeps (and then requires) reasoning on every assistant message.
KEEP_ALL = "all"


_reasoning = one_of(get_args(ReasoningMode))


def _mode(value: object, where: str) -> BlockMode:
    return BlockMode(choice(value, [m.value for m in BlockMode], where))


def _ask(value: object, where: str) -> str:
    """``ask_encrypted``: true (with store: false) and false, or a name."""
    if value is True:
        return "store_off"
    if value is False:
        return "never"
    return choice(value, get_args(AskEncrypted), where)


def keeps_every(pad_every: tuple[str, ...], keep_switch: bool, model: str, body: Any) -> bool:
    """Whether this request wants reasoning on every assistant message: a model that always
    does (Kimi K3, K2.7 Code), or ``thinking.keep: "all"`` where the family honours it."""
    if matches(model, pad_every):
        return True
    thinking = body.get("thinking") if keep_switch else None
    return isinstance(thinking, Mapping) and thinking.get("keep") == KEEP_ALL


# "claude-opus-4-5-20251101", "claude-opus-4.1", "claude-opus-4-20250514" (a date is no minor)
_TIER_FIRST = re.compile(
    r"-(?P<tier>[a-z]+)-(?P<major>\d{1,2})(?!\d)(?:[.-](?P<minor>\d{1,2})(?!\d))?"
)
# "claude-3-7-sonnet-20250219", "claude-3-haiku-20240307"
_VERSION_FIRST = re.compile(r"-(?P<major>\d{1,2})(?:[.-](?P<minor>\d{1,2}))?-(?P<tier>[a-z]+)")


@functools.lru_cache(maxsize=512)  # asked on every call, of the few models an agent uses
def tier_version(model: str) -> tuple[str, tuple[int, int]] | None:
    """A Claude id's tier and (major, minor) version, or None when it has none we can read."""
    for pattern in (_TIER_FIRST, _VERSION_FIRST):
        found = pattern.search(model)
        if found:
            minor = int(found["minor"]) if found["minor"] else 0
            return found["tier"], (int(found["major"]), minor)
    return None


@parsed
@frozen
class AnthropicContract:
    """What a family wants back as prior thinking on the Anthropic Messages wire.

    Attributes:
        thinking: ``verify`` (signatures are checked: only own-origin signed blocks travel),
            ``carry`` (thinking travels unsigned or with the family's own signature), ``pass``
            (what the agent sent travels as it is, minus what is known to be another
            target's: the unknown target's do-no-harm rule), or ``drop`` (none is sent back).
        turns: ``all`` assistant turns keep their thinking, only the ``latest``, or ``by_model``
            (keep-all from the versions in ``keep_all_from``, latest-only below them).
        keep_all_from: model tier -> first version that keeps earlier turns' thinking.
        adaptive_from: model tier -> first version that thinks (adaptively) when the request
            does not mention ``thinking``.
        cannot_disable: models whose thinking cannot be turned off (``thinking.type.disabled``
            is not supported): the ``thinking`` parameter is never removed for them.
        reads: target model pattern -> origin model patterns whose signed blocks it also
            verifies (a newer model that reads an older one's blocks).
        prefix_bound: models whose thinking is bound to the conversation before it: removing
            one block invalidates every later one.
        empty_signature: how unsigned thinking is written: ``required`` (``signature: ""``),
            ``accepted`` (left as it is), ``forbidden`` (the empty ``signature`` is removed).
        pad: the documented filler for a turn that must carry thinking and has none.
        pad_on: where the pad goes: ``tool_calls`` turns, every turn of the ``active_loop``.
        empty_to_pad: whether an empty unsigned thinking text becomes the pad.
        pad_every: models (globs) that want thinking (or the pad) on every assistant
            message (preserved thinking always on: Kimi K3, K2.7 Code).
        keep_switch: a request with ``thinking.keep: "all"`` wants it on every assistant
            message too (Kimi K2.6).
        no_prefill: models (globs) that refuse an assistant message holding only reasoning
            and want thinking first in its message (Bedrock Converse, Claude 5.x): such a
            message is merged into the next assistant message of its turn.
    """

    thinking: BlockMode = field(default=BlockMode.DROP, converter=BlockMode, metadata=parser(_mode))
    turns: Turns = field(default="all", metadata=parser(one_of(get_args(Turns))))
    keep_all_from: Mapping[str, tuple[int, ...]] = field(
        factory=dict, metadata=parser(read.tier_versions)
    )
    adaptive_from: Mapping[str, tuple[int, ...]] = field(
        factory=dict, metadata=parser(read.tier_versions)
    )
    cannot_disable: tuple[str, ...] = field(default=(), metadata=parser(read.model_globs))
    prefix_bound: tuple[str, ...] = field(default=(), metadata=parser(read.model_globs))
    reads: Mapping[str, tuple[str, ...]] = field(factory=dict, metadata=parser(read.reads))
    empty_signature: EmptySignature = field(
        default="forbidden", metadata=parser(one_of(get_args(EmptySignature)))
    )
    pad: str | None = field(default=None, metadata=parser(read.pad))
    pad_on: frozenset[str] = field(
        default=frozenset(), metadata=parser(read.choices(get_args(PadOn)))
    )
    empty_to_pad: bool = field(default=False, metadata=parser(read.flag))
    pad_every: tuple[str, ...] = field(default=(), metadata=parser(read.model_globs))
    keep_switch: bool = field(default=False, metadata=parser(read.flag))
    no_prefill: tuple[str, ...] = field(default=(), metadata=parser(read.model_globs))

    def refuses_prefill(self, model: str) -> bool:
        """Whether ``model`` refuses a reasoning-only assistant message."""
        return matches(model, self.no_prefill)

    def keeps_all_turns(self, model: str) -> bool:
        """Whether thinking of turns before the latest one is sent to ``model``."""
        if self.turns != "by_model":
            return self.turns == "all"
        parsed = tier_version(model)
        if parsed is None or parsed[0] not in self.keep_all_from:
            return True  # an id we cannot place is a newer model: keep everything
        tier, version = parsed
        return version >= self.keep_all_from[tier]

    def thinks_unasked(self, model: str) -> bool:
        """Whether ``model`` thinks when the request does not mention ``thinking``."""
        parsed = tier_version(model)
        return (
            parsed is not None
            and parsed[0] in self.adaptive_from
            and (parsed[1] >= self.adaptive_from[parsed[0]])
        )

    def can_disable(self, model: str) -> bool:
        """Whether ``model``'s thinking can be turned off."""
        return not matches(model, self.cannot_disable)

    def binds_prefix(self, model: str) -> bool:
        """Whether ``model`` binds its thinking to the conversation prefix."""
        return matches(model, self.prefix_bound)

    def reads_from(self, model: str, origin_model: str) -> bool:
        """Whether ``model`` verifies signed blocks ``origin_model`` wrote."""
        return any(
            matches(model, (target,)) and matches(origin_model, origins)
            for target, origins in self.reads.items()
        )

    @classmethod
    def from_mapping(
        cls, data: object, where: str, base: AnthropicContract | None = None
    ) -> AnthropicContract:
        """Build (or, given ``base``, override) a contract from its config mapping."""
        return overridden(base or cls(), data, where)

    def describe(self) -> str:
        """One line saying what this contract does to prior thinking."""
        if self.thinking is BlockMode.DROP:
            return "prior thinking dropped"
        if self.thinking is BlockMode.PASS:
            return "what the agent sent passes through unchanged, minus blocks known to be foreign"
        if self.thinking is BlockMode.VERIFY:
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


@parsed
@frozen
class ChatContract:
    """What a family wants back as ``reasoning_content`` on the Chat Completions wire.

    Attributes:
        reasoning_content: ``keep`` the field, ``pass`` it through as the agent sent it (minus
            another target's known reasoning), or ``drop`` it and every other reasoning field
            (strict servers answer 400/422).
        pad: the documented filler for an assistant message that must carry it and has none.
        pad_on: ``tool_calls`` messages, and/or every assistant message of the ``active_loop``.
        empty_to_pad: whether ``""`` becomes the pad.
        details: OpenRouter's ``reasoning_details`` (an assistant message's list of
            ``reasoning.text`` / ``reasoning.encrypted`` / ``reasoning.summary`` items): ``keep``
            (own-origin items verbatim, a lost list restored by tool call id), ``pass`` (as
            sent), ``drop``; a list holding another model's items is never sent (the sequence
            must match what the model produced).
        ask_encrypted: Responses wire: when to ask for ``include:
            ["reasoning.encrypted_content"]``: ``store_off`` (with ``store: false``: only the
            encrypted content can be sent back without a stored item; OpenAI), ``always``
            (unless the request continues a stored response with ``previous_response_id``;
            xAI), or ``never``.
        tool_signatures: Gemini's ``tool_calls[].extra_content.google.thought_signature``:
            ``keep`` (own verbatim, lost ones restored), ``pass`` (as sent), ``drop``; another
            model's signature is never sent.
        signatures_required: models (globs) that reject a step's first tool call of the current
            turn without its signature (Gemini 3).
        signature_dummy: the value the provider documents for a tool call it did not make
            (Gemini: ``skip_thought_signature_validator``), used where a signature is required
            and the real one is unknown.
        pad_every: models (globs) that want reasoning (or the pad) on every assistant message.
        keep_switch: ``thinking.keep: "all"`` in a request wants it on every message too.
        bare_ids: Responses wire, ``store: false``: ``404`` where the target keeps nothing,
            so a reasoning item without its encrypted content is a 404 ``Item with id ... not
            found`` (OpenAI, Azure OpenAI); ``pass`` (others keep the agent's items).
    """

    reasoning_content: ReasoningMode = field(default="drop", metadata=parser(_reasoning))
    pad: str | None = field(default=None, metadata=parser(read.pad))
    pad_on: frozenset[str] = field(
        default=frozenset(), metadata=parser(read.choices(get_args(PadOn)))
    )
    empty_to_pad: bool = field(default=False, metadata=parser(read.flag))
    details: ReasoningMode = field(default="pass", metadata=parser(_reasoning))
    ask_encrypted: AskEncrypted = field(default="never", metadata=parser(_ask))
    tool_signatures: ReasoningMode = field(default="pass", metadata=parser(_reasoning))
    signatures_required: tuple[str, ...] = field(default=(), metadata=parser(read.model_globs))
    signature_dummy: str | None = field(default=None, metadata=parser(read.pad))
    pad_every: tuple[str, ...] = field(default=(), metadata=parser(read.model_globs))
    keep_switch: bool = field(default=False, metadata=parser(read.flag))
    bare_ids: BareIds = field(default="pass", metadata=parser(one_of(get_args(BareIds))))

    def requires_signatures(self, model: str) -> bool:
        """Whether ``model`` rejects a step's first tool call without its thought signature."""
        return matches(model, self.signatures_required)

    @classmethod
    def from_mapping(
        cls, data: object, where: str, base: ChatContract | None = None
    ) -> ChatContract:
        """Build (or, given ``base``, override) a contract from its config mapping."""
        return overridden(base or cls(), data, where)

    def describe(self) -> str:
        """One line saying what this contract does to ``reasoning_content``."""
        if self.reasoning_content == "drop" and self.details == "drop":
            return "reasoning fields removed" + self._carriers()
        if self.reasoning_content == "drop":
            return "reasoning_content and its aliases removed" + self._carriers()
        if self.reasoning_content == "pass":
            return (
                "reasoning_content passes through as sent, minus another target's known reasoning"
                + self._carriers()
            )
        text = "reasoning_content kept"
        if self.empty_to_pad and self.pad is not None:
            text += f", '' becomes {self.pad!r}"
        if self.pad is not None and self.pad_on:
            text += f"; pad {self.pad!r} on {', '.join(sorted(self.pad_on))} without it"
        return text + self._carriers()

    def describe_responses(self) -> str:
        """What the Responses wire's reasoning items get (they follow ``details``)."""
        if self.details == "drop":
            return "reasoning items removed"
        text = "own reasoning items verbatim, another model's left out"
        if self.bare_ids == "404":
            text += ", bare ids never with store: false"
        if self.details == "keep":
            text += "; lost ones restored by call id"
        if self.ask_encrypted != "never":
            when = "with store: false" if self.ask_encrypted == "store_off" else "unless continued"
            text += f"; encrypted reasoning asked for ({when})"
        return text

    def _carriers(self) -> str:
        """The carriers beyond reasoning_content, when they are kept or dropped."""
        parts = []
        if self.details == "keep":
            parts.append("reasoning_details kept")
        if self.tool_signatures == "keep":
            signed = "tool-call thought signatures kept"
            if self.signatures_required and self.signature_dummy:
                signed += f" (required on {', '.join(self.signatures_required)})"
            parts.append(signed)
        elif self.tool_signatures == "drop":
            parts.append("tool-call thought signatures removed")
        return "; " + "; ".join(parts) if parts else ""
