"""Block policies for the Anthropic wire: what one prior thinking block becomes.

The contract's ``thinking`` mode (``BlockMode``) picks one policy per call from ``POLICIES``:

- ``verify`` (Anthropic): own-origin signed blocks verbatim; unsigned, dead or foreign ones
  dropped (or, opted in, turned into text);
- ``carry`` (DeepSeek, Kimi, MiMo, ...): the family's own thinking kept, written the way it
  takes unsigned thinking; another family's reasoning not replayed;
- ``pass`` (unknown): the agent's thinking as it is, minus what is known to be another
  target's (do no harm);
- ``drop`` (strict servers): no prior thinking is sent.

A policy is one object. ``decide`` gives a block's ``Verdict``: the block itself (kept), a new
block, or None (left out; ``foreign`` when it is another family's reasoning), and the explain
entries, recorded by the caller once the turn's fate is known. ``plain`` is the one predicate
of the mode's common case, a block that goes as ``shaped`` makes it with nothing to say but
"kept": ``decide`` answers a plain block that way first, and ``turn``, the whole-turn shortcut a
call takes when nobody listens, is derived from the same predicate, so the two cannot differ.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from attrs import frozen

from agent.body import BlockPath, block_key, without
from agent.errors import InvalidRequest, json_kind
from agent.explain import Action, Tally
from agent.families import AnthropicContract
from agent.families.contracts import BlockMode
from agent.middleware.context import HOW_TO_SET, Call, Note

#: (bound once: an enum member looked up on its class is a slow descriptor, on every turn)
_KEPT, _UNSIGNED = Action.KEPT, Action.UNSIGNED


class Verdict(NamedTuple):
    """What one thinking block becomes, and what explain says of it (a named tuple: one per
    block, on the hot path).

    Attributes:
        block: the block itself (kept), a new block, or None (left out).
        notes: its explain entries (none when nobody listens, where a policy may skip them).
        foreign: left out as another family's reasoning (the turn is then one that had only
            foreign thinking, and may get the family's pad).
    """

    block: Any
    notes: tuple[Note, ...]
    foreign: bool = False


Decide = Callable[[Call, Mapping[str, Any], int, int, bool], Verdict]
Plain = Callable[[Call, Mapping[str, Any]], bool]
Shape = Callable[[Call, Mapping[str, Any]], Mapping[str, Any]]


@frozen
class Policy:
    """One mode's decision on a prior thinking block.

    Attributes:
        decide: a block's verdict and its explain entries (``(call, block, i, j, send_turn)``,
            ``send_turn``: the turn's thinking is sent at all).
        plain: the common case's predicate: a block that goes as ``shaped`` makes it, kept
            (None: the mode has no common case).
        shaped: how a plain block goes, written the family's way (None: as it is).
    """

    decide: Decide
    plain: Plain | None = None
    shaped: Shape | None = None

    def turn(
        self,
        call: Call,
        message: Mapping[str, Any],
        content: Sequence[Any],
        positions: list[int],
    ) -> Mapping[str, Any] | None:
        """The whole-turn shortcut of a sent turn: the message with every thinking block as
        ``shaped`` makes it, when all are plain; None (decide block by block) otherwise.
        Notes that only count (a ``Tally``) count what ``decide`` says of a plain block: kept
        as it is, or unsigned when written the family's way."""
        plain, shaped = self.plain, self.shaped
        if plain is None:
            return None
        out: list[Any] | None = None
        rewritten = 0
        for j in positions:
            block = content[j]
            if not plain(call, block):
                return None
            new = block if shaped is None else shaped(call, block)
            if new is not block:
                if out is None:
                    out = list(content)
                out[j] = new
                rewritten += 1
        if isinstance(tally := call.notes, Tally):
            tally.count(_UNSIGNED, rewritten)
            tally.count(_KEPT, len(positions) - rewritten)
        return message if out is None else {**message, "content": out}


def _text_and_signature(block: Mapping[str, Any], i: int, j: int) -> tuple[str, str | None]:
    text = block.get("thinking")
    if not isinstance(text, str):
        raise InvalidRequest(
            f"{BlockPath(i, j)}.thinking", f"expected the thinking text, got {json_kind(text)}"
        )
    signature = block.get("signature")
    if signature is not None and not isinstance(signature, str):
        raise InvalidRequest(
            f"{BlockPath(i, j)}.signature", f"expected a string, got {json_kind(signature)}"
        )
    return text, signature


def keep(call: Call, block: Mapping[str, Any], why: str) -> Verdict:
    """The block kept; only ``cache_control`` is removed (thinking blocks cannot carry it)."""
    if "cache_control" in block:
        removed = "cache_control cannot be set on thinking blocks; removed from the block only"
        return Verdict(
            without(block, "cache_control"), (Note(".cache_control", Action.STRIPPED, removed),)
        )
    return Verdict(block, (Note("", Action.KEPT, "{} ({})", (why, call.family.name)),))


def _unsendable(call: Call, block: Mapping[str, Any], why: str) -> Verdict:
    text = block.get("thinking")
    if call.options.unsigned_to_anthropic == "text" and isinstance(text, str) and text.strip():
        return Verdict(
            {"type": "text", "text": text},
            (
                Note(
                    "",
                    Action.CONVERTED,
                    "{}; turned into text (unsigned_to_anthropic=text)",
                    (why,),
                ),
            ),
        )
    dropped = "{}; dropped, not turned into text (unsigned_to_anthropic=drop)"
    return Verdict(None, (Note("", Action.DROPPED, dropped, (why,)),))


# ---------------------------------------------------------------- verify (signatures checked)


def _own_signed(call: Call, block: Mapping[str, Any]) -> bool:
    """``verify``'s common case: an own signed block, sent as it is."""
    signature = block.get("signature")
    return (
        type(signature) is str
        and signature != ""
        and signature not in call.dead
        and block.get("type") == "thinking"
        and type(block.get("thinking")) is str
        and "cache_control" not in block
        and (
            (origin := call.origin_of(signature)) is None
            or origin is call.last_origin
            or call.foreign_origin(signature, None) is None
        )
    )


def verify(call: Call, block: Mapping[str, Any], i: int, j: int, send_turn: bool) -> Verdict:
    """A signature-checking target: only what verifies there, unmodified, travels."""
    if send_turn and _own_signed(call, block):
        return Verdict(block, call.kept_own)
    if not send_turn:
        earlier = (
            "{} keeps only the latest assistant turn's thinking; earlier turns' blocks are "
            "stripped by the API anyway"
        )
        return Verdict(None, (Note("", Action.DROPPED, earlier, (call.match.model,)),))
    if block.get("type") == "redacted_thinking":
        data = block.get("data")
        if not isinstance(data, str) or not data:
            no_data = "redacted_thinking without data cannot be verified"
            return Verdict(None, (Note("", Action.DROPPED, no_data),))
        if data in call.dead:
            return _unsendable(call, block, call.dead_reason(data, "data"))
        origin = call.foreign_origin(data, None, i)
        if origin is not None:
            return _unsendable(call, block, f"minted by {origin}, not by {call.target}")
        return keep(call, block, "redacted_thinking passed back unchanged, in place")
    _, signature = _text_and_signature(block, i, j)
    if not signature:
        return _unsendable(
            call,
            block,
            "unsigned thinking (Anthropic answers 400 "
            "'Invalid `signature` in `thinking` block'; never minted)",
        )
    if signature in call.dead:
        return _unsendable(call, block, call.dead_reason(signature))
    origin = call.foreign_origin(signature, None, i)
    if origin is not None:
        return _unsendable(
            call,
            block,
            f"signed by {origin}, not by {call.target}; a foreign signature is rejected",
        )
    return keep(call, block, "own signed thinking passed back verbatim, in order")


# ---------------------------------------------------------------- carry (unsigned, every turn)


def _plain_carry(call: Call, block: Mapping[str, Any]) -> bool:
    """``carry``'s common case: the family's own (or never observed) non-empty unsigned
    thinking without ``cache_control``, sent the way the family takes it."""
    text = block.get("thinking")
    signature = block.get("signature")
    if (
        type(text) is not str
        or not text
        or text.isspace()  # blank: the real reasoning may replace it
        or block.get("type") != "thinking"
        or (signature is not None and signature != "")
        or "cache_control" in block
    ):
        return False
    origin = call.origin_of_text(text)
    return origin is None or origin is call.last_origin or call.foreign_origin(None, text) is None


def _unsigned(call: Call, block: Mapping[str, Any]) -> Mapping[str, Any]:
    return unsigned_form(call.family.anthropic, block)


def carry(call: Call, block: Mapping[str, Any], i: int, j: int, send_turn: bool) -> Verdict:
    """A family that takes its own (or unsigned) thinking back on every turn."""
    if _plain_carry(call, block):
        shaped = _unsigned(call, block)
        if not call.listening:
            return Verdict(shaped, ())
        return Verdict(shaped, _carried(call, rewritten=shaped is not block))
    family = call.family.name
    if block.get("type") == "redacted_thinking":
        data = block.get("data")
        origin = call.foreign_origin(data if isinstance(data, str) else None, None, i)
        if origin is not None:
            opaque = "redacted thinking from {} is opaque to {}"
            return Verdict(None, (Note("", Action.DROPPED, opaque, (origin, family)),), True)
        return keep(call, block, "passed back unchanged")
    text, signature = _text_and_signature(block, i, j)
    origin = call.foreign_origin(signature, text, i)
    if origin is not None:
        return _foreign(call, text, origin)
    if signature:
        return keep(call, block, "own thinking passed back with its signature")
    return _rewritten(call, block)


def _carried(call: Call, rewritten: bool) -> tuple[Note, ...]:
    """The explain entry of a plain block (the same for every one: made once per call)."""
    notes = call.plain_notes.get(rewritten)
    if notes is None:
        if rewritten:
            reason = unsigned_reason(call.family.anthropic, call.family.name)
            notes = (Note("", Action.UNSIGNED, reason),)
        else:
            kept = "unsigned thinking kept on every turn ({})"
            notes = (Note("", Action.KEPT, kept, (call.family.why,)),)
        call.plain_notes[rewritten] = notes
    return notes


def _rewritten(call: Call, block: Mapping[str, Any]) -> Verdict:
    """Unsigned thinking that is not plain (empty, blank, or with ``cache_control``): padded
    where the family rejects an empty text, written its way, ``cache_control`` removed."""
    contract = call.family.anthropic
    padded = pad_empty(contract, block)
    shaped = unsigned_form(contract, padded)
    out = without(shaped, "cache_control") if "cache_control" in shaped else shaped
    if not call.listening:
        return Verdict(out, ())
    notes: list[Note] = []
    if padded is not block:
        empty = "empty thinking becomes the pad {!r} ({} rejects an empty reasoning text)"
        notes.append(Note("", Action.PADDED, empty, (contract.pad, call.family.name)))
    if shaped is not padded:
        notes.append(Note("", Action.UNSIGNED, unsigned_reason(contract, call.family.name)))
    if out is not shaped:
        notes.extend(keep(call, shaped, "").notes)
    elif shaped is block:
        kept = "unsigned thinking kept on every turn ({})"
        notes.append(Note("", Action.KEPT, kept, (call.family.why,)))
    return Verdict(out, tuple(notes))


def _foreign(call: Call, text: str, origin: object) -> Verdict:
    family, option = call.family.name, call.options.foreign
    if option != "keep_text":
        replayed = (
            "thinking observed from {} is another vendor's reasoning; not replayed to {} "
            "(foreign={})"
        )
        return Verdict(None, (Note("", Action.DROPPED, replayed, (origin, family, option)),), True)
    new = unsigned_form(call.family.anthropic, {"type": "thinking", "thinking": text})
    kept = "thinking observed from {}: its signature removed, its text kept (foreign=keep_text)"
    return Verdict(new, (Note("", Action.UNSIGNED, kept, (origin,)),))


# ---------------------------------------------------------------- pass (unknown), drop (strict)


def _not_foreign(call: Call, block: Mapping[str, Any]) -> bool:
    """``pass``'s common case: neither dead nor observed from another target, sent as it is."""
    key = block_key(block)
    if key is not None:
        return key not in call.dead and call.foreign_origin(key, None) is None
    text = block.get("thinking")
    return not isinstance(text, str) or call.foreign_origin(None, text) is None


def pass_through(call: Call, block: Mapping[str, Any], i: int, j: int, send_turn: bool) -> Verdict:
    """An unknown target: the agent's thinking goes as it is, minus what is known to be
    another target's (do no harm: what succeeds without the pipeline succeeds with it)."""
    if _not_foreign(call, block):
        sent = "passed through as the agent sent it ({}; {})"
        return Verdict(block, (Note("", Action.KEPT, sent, (call.match.describe(), HOW_TO_SET)),))
    key = block_key(block)
    if key is not None and key in call.dead:
        why = call.dead_reason(key)
    else:
        text = block.get("thinking")
        origin = call.foreign_origin(key, None if key else text if isinstance(text, str) else None)
        why = f"observed from {origin}, another target"
    return Verdict(None, (Note("", Action.DROPPED, "{}; not sent to an unknown target", (why,)),))


def drop(call: Call, block: Mapping[str, Any], i: int, j: int, send_turn: bool) -> Verdict:
    """A family whose contract sends no prior thinking."""
    why = (call.match.describe(), call.family.why)
    return Verdict(None, (Note("", Action.DROPPED, "{}; prior thinking is not sent ({})", why),))


#: The policy of each ``thinking`` mode, chosen once per call.
POLICIES: Mapping[BlockMode, Policy] = {
    BlockMode.VERIFY: Policy(verify, _own_signed),
    BlockMode.CARRY: Policy(carry, _plain_carry, _unsigned),
    BlockMode.PASS: Policy(pass_through, _not_foreign),
    BlockMode.DROP: Policy(drop),
}


def pad_empty(contract: AnthropicContract, block: Mapping[str, Any]) -> Mapping[str, Any]:
    """An empty unsigned thinking text becomes the pad, for families that reject ''."""
    if block.get("thinking") == "" and contract.empty_to_pad and contract.pad:
        return {**block, "thinking": contract.pad}
    return block


def unsigned_form(contract: AnthropicContract, block: Mapping[str, Any]) -> Mapping[str, Any]:
    """Unsigned thinking written the way the family takes it (``signature: ""`` or none)."""
    rule = contract.empty_signature
    if rule == "required" and block.get("signature") != "":
        return {**block, "signature": ""}
    if rule == "forbidden" and "signature" in block:
        return without(block, "signature")
    return block


def unsigned_reason(contract: AnthropicContract, family: str) -> str:
    """Why unsigned thinking was rewritten, in words."""
    if contract.empty_signature == "required":
        return f'{family} takes unsigned thinking with signature ""'
    return (
        f"{family} takes unsigned thinking without a signature field; "
        'signature "" goes only to families that accept it'
    )


def pad_block(contract: AnthropicContract) -> dict[str, Any]:
    """The family's documented pad as a thinking block."""
    assert contract.pad is not None
    block: dict[str, Any] = {"type": "thinking", "thinking": contract.pad}
    if contract.empty_signature != "forbidden":
        block["signature"] = ""
    return block
