"""Block policies for the Anthropic wire: what one prior thinking block becomes.

The family contract's ``thinking`` mode picks one policy per call from ``POLICIES``:

- ``verify`` (Anthropic): own-origin signed blocks verbatim; unsigned, dead or foreign ones
  dropped (or, opted in, turned into text);
- ``carry`` (DeepSeek, Kimi, MiMo, ...): the family's own thinking kept, written the way it
  takes unsigned thinking; another family's reasoning not replayed;
- ``pass`` (unknown): the agent's thinking as it is, minus what is known to be another
  target's (do no harm);
- ``drop`` (strict servers): no prior thinking is sent.

A policy returns a verdict ``(new block, notes)``: the block itself (kept as it is), a new
block, ``None`` (dropped) or ``FOREIGN`` (dropped as another family's), and the explain
entries, recorded by the caller once the turn's fate is known.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from agent.body import BlockPath, block_key, without
from agent.errors import InvalidRequest, json_kind
from agent.explain import Action
from agent.families import AnthropicContract
from agent.middleware.context import HOW_TO_SET, Call, Note

#: A block removed because it is another family's reasoning (not replayed).
FOREIGN: Any = object()

Verdict = tuple[Any, tuple[Note, ...]]
Policy = Callable[[Call, Mapping[str, Any], int, int, bool], Verdict]


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
        return without(block, "cache_control"), (
            (
                ".cache_control",
                Action.STRIPPED,
                "cache_control cannot be set on thinking blocks; removed from the block only",
                (),
            ),
        )
    return block, (("", Action.KEPT, "{} ({})", (why, call.family.name)),)


def _unsendable(call: Call, block: Mapping[str, Any], why: str) -> Verdict:
    text = block.get("thinking")
    if call.options.unsigned_to_anthropic == "text" and isinstance(text, str) and text.strip():
        return {"type": "text", "text": text}, (
            ("", Action.CONVERTED, "{}; turned into text (unsigned_to_anthropic=text)", (why,)),
        )
    return None, (
        (
            "",
            Action.DROPPED,
            "{}; dropped, not turned into text (unsigned_to_anthropic=drop)",
            (why,),
        ),
    )


def _own_signed(call: Call, block: Mapping[str, Any]) -> bool:
    """The common case of a signature-checking target: an own signed block, sent as it is."""
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


def verify_turn(
    call: Call, message: Mapping[str, Any], content: Sequence[Any], positions: list[int]
) -> Mapping[str, Any] | None:
    """The whole-turn shortcut of ``verify``: the message itself when every thinking block is
    an own signed block sent as it is; None (decide block by block) otherwise."""
    for j in positions:
        if not _own_signed(call, content[j]):
            return None
    return message


def verify(call: Call, block: Mapping[str, Any], i: int, j: int, send_turn: bool) -> Verdict:
    """A signature-checking target: only what verifies there, unmodified, travels."""
    if send_turn and _own_signed(call, block):
        return block, call.kept_own
    if not send_turn:
        return None, (
            (
                "",
                Action.DROPPED,
                "{} keeps only the latest assistant turn's thinking; earlier turns' blocks are "
                "stripped by the API anyway",
                (call.match.model,),
            ),
        )
    if block.get("type") == "redacted_thinking":
        data = block.get("data")
        if not isinstance(data, str) or not data:
            return None, (
                ("", Action.DROPPED, "redacted_thinking without data cannot be verified", ()),
            )
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


def carry(call: Call, block: Mapping[str, Any], i: int, j: int, send_turn: bool) -> Verdict:
    """A family that takes its own (or unsigned) thinking back on every turn."""
    family = call.family.name
    if block.get("type") == "redacted_thinking":
        data = block.get("data")
        origin = call.foreign_origin(data if isinstance(data, str) else None, None, i)
        if origin is not None:
            return FOREIGN, (
                ("", Action.DROPPED, "redacted thinking from {} is opaque to {}", (origin, family)),
            )
        return keep(call, block, "passed back unchanged")
    text, signature = _text_and_signature(block, i, j)
    origin = call.foreign_origin(signature, text, i)
    if origin is not None:
        return _foreign(call, text, origin)
    if signature:
        return keep(call, block, "own thinking passed back with its signature")
    contract = call.family.anthropic
    padded = pad_empty(contract, block)
    shaped = unsigned_form(contract, padded)
    out = without(shaped, "cache_control") if "cache_control" in shaped else shaped
    if not call.listening:
        return out, ()
    notes: list[Note] = []
    if padded is not block:
        notes.append(
            (
                "",
                Action.PADDED,
                "empty thinking becomes the pad {!r} ({} rejects an empty reasoning text)",
                (contract.pad, family),
            )
        )
    if shaped is not padded:
        notes.append(("", Action.UNSIGNED, unsigned_reason(contract, family), ()))
    if out is not shaped:
        notes.extend(keep(call, shaped, "")[1])
    elif shaped is block:
        notes.append(
            ("", Action.KEPT, "unsigned thinking kept on every turn ({})", (call.family.why,))
        )
    return out, tuple(notes)


def _foreign(call: Call, text: str, origin: object) -> Verdict:
    family, option = call.family.name, call.options.foreign
    if option != "keep_text":
        return FOREIGN, (
            (
                "",
                Action.DROPPED,
                "thinking observed from {} is another vendor's reasoning; not replayed to {} "
                "(foreign={})",
                (origin, family, option),
            ),
        )
    new = unsigned_form(call.family.anthropic, {"type": "thinking", "thinking": text})
    return new, (
        (
            "",
            Action.UNSIGNED,
            "thinking observed from {}: its signature removed, its text kept (foreign=keep_text)",
            (origin,),
        ),
    )


def drop(call: Call, block: Mapping[str, Any], i: int, j: int, send_turn: bool) -> Verdict:
    """A family whose contract sends no prior thinking."""
    return None, (
        (
            "",
            Action.DROPPED,
            "{}; prior thinking is not sent ({})",
            (call.match.describe(), call.family.why),
        ),
    )


def _not_foreign(call: Call, block: Mapping[str, Any]) -> bool:
    """Neither dead nor observed from another target (what ``pass`` sends as it is)."""
    key = block_key(block)
    if key is not None:
        return key not in call.dead and call.foreign_origin(key, None) is None
    text = block.get("thinking")
    return not isinstance(text, str) or call.foreign_origin(None, text) is None


def pass_through(call: Call, block: Mapping[str, Any], i: int, j: int, send_turn: bool) -> Verdict:
    """An unknown target: the agent's thinking goes as it is, minus what is known to be
    another target's (do no harm: what succeeds without the pipeline succeeds with it)."""
    if _not_foreign(call, block):
        return block, (
            (
                "",
                Action.KEPT,
                "passed through as the agent sent it ({}; {})",
                (call.match.describe(), HOW_TO_SET),
            ),
        )
    key = block_key(block)
    if key is not None and key in call.dead:
        why = call.dead_reason(key)
    else:
        text = block.get("thinking")
        origin = call.foreign_origin(key, None if key else text if isinstance(text, str) else None)
        why = f"observed from {origin}, another target"
    return None, (("", Action.DROPPED, "{}; not sent to an unknown target", (why,)),)


def pass_turn(
    call: Call, message: Mapping[str, Any], content: Sequence[Any], positions: list[int]
) -> Mapping[str, Any] | None:
    """The whole-turn shortcut of ``pass``: the message itself when no block is foreign."""
    for j in positions:
        if not _not_foreign(call, content[j]):
            return None
    return message


#: The block policy of each ``thinking`` mode, chosen once per call.
POLICIES: Mapping[str, Policy] = {
    "verify": verify,
    "carry": carry,
    "pass": pass_through,
    "drop": drop,
}


def carry_turn(
    call: Call, message: Mapping[str, Any], content: Sequence[Any], positions: list[int]
) -> Mapping[str, Any] | None:
    """The whole-turn shortcut of ``carry``: when every thinking block is the family's own
    (or never observed) non-empty unsigned thinking, the message with each written the way the
    family takes it; None (decide block by block) otherwise."""
    contract = call.family.anthropic
    out: list[Any] | None = None
    for j in positions:
        block = content[j]
        text = block.get("thinking")
        if (
            type(text) is not str
            or not text
            or text.isspace()  # blank: the real reasoning may replace it (slow path)
            or block.get("type") != "thinking"
            or block.get("signature")
            or "cache_control" in block
        ):
            return None
        origin = call.origin_of_text(text)
        if not (
            origin is None or origin is call.last_origin or call.foreign_origin(None, text) is None
        ):
            return None
        new = unsigned_form(contract, block)
        if new is not block:
            if out is None:
                out = list(content)
            out[j] = new
    return message if out is None else {**message, "content": out}


Turn = Callable[[Call, Mapping[str, Any], Sequence[Any], list[int]], Mapping[str, Any] | None]

#: Per mode, a whole-turn shortcut for the common case of a turn whose thinking blocks all
#: take the plain path (None: no shortcut). Used only when nobody listens to explain.
TURNS: Mapping[str, Turn | None] = {
    "verify": verify_turn,
    "carry": carry_turn,
    "pass": pass_turn,
    "drop": None,
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
