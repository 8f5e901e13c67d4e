"""ThinkingRoundTrip on the Anthropic Messages wire: one pass over the assistant turns.

Per assistant message: each prior thinking block goes through the call's block policy
(``policies``); then the turn-level rules: a signed turn that no longer starts with its
thinking was reordered (its signatures are dead); a tool turn that lost its thinking gets its
own observed blocks back (restore) or, where the family needs reasoning, the documented pad;
an emptied message is left out (when that is the last assistant message, the turn before it
is the latest one: ``sent_turns``). Finally, with thinking on, the active tool loop's turn
must start with thinking (``on_missing_loop_thinking``). Paths in ``explain`` refer to the body
as it came in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from agent.body import REMOVE, THINKING_TYPES, rebuild, with_messages
from agent.errors import ThinkingContractError
from agent.explain import SILENT, Action, Tally
from agent.middleware.context import Call, Note
from agent.middleware.policies import POLICIES, Policy, pad_block
from agent.middleware.restore import restore_turn, undo_downgrade
from agent.middleware.sent_turns import continued_turn, latest_turn_start
from agent.request import Request
from agent.wire import thinking_requested

log = logging.getLogger(__name__)

_REORDERED = (
    "the turn's blocks were reordered (a thinking block must come first), so its signatures "
    "no longer verify"
)


def run(call: Call) -> Request:
    """The request with every assistant turn's thinking fitted to the target's contract."""
    history = call.request.history
    contract = call.family.anthropic
    policy = POLICIES[call.mode]
    fast = policy.plain is not None and (not call.listening or isinstance(call.notes, Tally))
    keep_all = contract.keeps_all_turns(call.match.model)
    messages, thinking_at = history.messages, history.thinking
    latest_start = (
        history.latest_start if keep_all else latest_turn_start(history, _left_out(call, policy))
    )
    changes: dict[int, Any] = {}
    for i in history.assistants:
        message = messages[i]
        positions = thinking_at.get(i)
        send_turn = keep_all or i >= latest_start
        if (
            positions is None
            and call.mode.sends_back
            and send_turn
            and undo_downgrade(call, i, changes)
        ):
            continue  # a turn whose reasoning came back from a framework's text copy
        new = None
        if fast and positions is not None and positions[0] == 0 and send_turn:
            # the common case: every block takes the plain path, and the turn starts with its
            # thinking (so no turn-level rule applies)
            new = policy.turn(call, message, message["content"], positions)
        if new is None:
            new = _message(call, policy, i, message, positions, send_turn)
        if new is not message:
            changes[i] = REMOVE if new is None else new
    out = rebuild(messages, changes) if changes else None
    if call.dialect.rejects and any("." in f for f in call.dialect.rejects):
        out = _without_block_fields(call, out if out is not None else messages) or out
    last = continued_turn(history, changes)
    if call.mode.checks_signatures and last is not None:
        final = changes.get(last, messages[last])
        if not _starts_with_thinking(final):
            body = with_messages(call.request.body, out) if out is not None else call.request.body
            new_body = _missing_loop_thinking(call, f"messages[{last}].content[0]", body)
            if new_body is not call.request.body:
                return call.finish(None, new_body)
    return call.request if out is None else call.finish(out)


def _left_out(call: Call, policy: Policy) -> Callable[[int], bool]:
    """Whether the pass leaves assistant message ``i`` out as the latest turn's (asked quietly)."""
    history = call.request.history

    def left_out(i: int) -> bool:
        quiet = Call(call.options, call.request, SILENT, call.view)
        message, positions = history.messages[i], history.thinking.get(i)
        return _message(quiet, policy, i, message, positions, True) is None

    return left_out


def _without_block_fields(call: Call, messages: list[Any]) -> list[Any] | None:
    """``messages`` without the block fields the host's errors named (``compaction.
    encrypted_content``: Anthropic's compaction beta refuses its own field back,
    anthropics/anthropic-sdk-python #1828); the block itself goes as the agent sent it.
    None when no block has one."""
    rejects = [f.split(".", 1) for f in call.dialect.rejects if "." in f]
    out: list[Any] = []
    changed = False
    for i, message in enumerate(messages):
        content = message.get("content") if isinstance(message, Mapping) else None
        if not isinstance(content, list):
            out.append(message)
            continue
        new = list(content)
        for j, block in enumerate(content):
            for kind, field in rejects:
                if isinstance(block, Mapping) and block.get("type") == kind and field in block:
                    new[j] = block = {k: v for k, v in block.items() if k != field}
                    call.notes.add(
                        f"messages[{i}].content[{j}].{field}",
                        Action.DROPPED,
                        "the host rejected this field of {} blocks (Extra inputs are not "
                        "permitted); the block goes without it",
                        kind,
                    )
        if new == content:
            out.append(message)
        else:
            out.append({**message, "content": new})
            changed = True
    return out if changed else None


def _message(
    call: Call,
    policy: Policy,
    i: int,
    message: Mapping[str, Any],
    positions: list[int] | None,
    send_turn: bool,
) -> Mapping[str, Any] | None:
    """One assistant message fitted to the contract: the same object, a copy, or None."""
    content = message.get("content")
    if type(content) is not list:
        return _string_message(call, i, message)
    fitted = _blocks(call, policy, i, content, positions, send_turn)
    changes, kept = fitted.changes, fitted.kept
    reordered = _reordered(call, content, changes, kept)
    if reordered:
        kept = []
        changes.update(dict.fromkeys(reordered, REMOVE))
    real = _real_for_blank(call, i, content, changes, kept)
    if real is not None:  # the turn's real reasoning instead of blank thinking
        for j in kept:
            call.notes.add(f"messages[{i}].content[{j}]", Action.DROPPED, _BLANK)
        return {**message, "content": real}
    if fitted.verdicts is not None:
        _record(call, i, fitted.verdicts, reordered)
    if kept and not changes:
        return message
    current = rebuild(content, changes) if changes else content
    if not kept:
        current = _back_fill(call, i, current, send_turn, fitted.foreign_removed)
    if current is content:
        return message
    if not current:
        call.notes.add(
            f"messages[{i}]",
            Action.DROPPED,
            "the message held only thinking that cannot be sent; an empty message is "
            "rejected, so it is left out",
        )
        return None
    return {**message, "content": current}


Verdicts = list[tuple[int, tuple[Note, ...]]]


class Fitted(NamedTuple):
    """A turn's thinking blocks through the call's policy.

    Attributes:
        changes: position -> the new block, or REMOVE.
        kept: the positions of the thinking blocks that survive, in order.
        verdicts: each block's explain entries, when someone listens (else None).
        foreign_removed: a block was left out as another family's reasoning.
    """

    changes: dict[int, Any]
    kept: list[int]
    verdicts: Verdicts | None
    foreign_removed: bool


def _blocks(
    call: Call,
    policy: Policy,
    i: int,
    content: list[Any],
    positions: list[int] | None,
    send_turn: bool,
) -> Fitted:
    """Each thinking block through the call's policy."""
    changes: dict[int, Any] = {}
    kept: list[int] = []
    verdicts: Verdicts | None = [] if call.listening else None
    foreign_removed = False
    decide = policy.decide
    for j in positions or ():
        block = content[j]
        new, notes, foreign = decide(call, block, i, j, send_turn)  # (a Verdict)
        if verdicts is not None:
            verdicts.append((j, notes))
        if new is block:
            kept.append(j)
            continue
        foreign_removed = foreign_removed or foreign
        changes[j] = REMOVE if new is None else new
        if new is not None and new.get("type") in THINKING_TYPES:
            kept.append(j)
    return Fitted(changes, kept, verdicts, foreign_removed)


def _reordered(
    call: Call, content: list[Any], changes: Mapping[int, Any], kept: list[int]
) -> list[int]:
    """The signed blocks of a turn that no longer starts with its thinking (it was reordered,
    so its signatures no longer verify: "the first block must be thinking"); else none."""
    if (
        kept
        and kept[0] != 0
        and call.mode.checks_signatures
        and _first_kind(content, changes) not in THINKING_TYPES
    ):
        return kept
    return []


_BLANK = (
    "blank thinking replaced by this turn's real reasoning, observed before (relays such as "
    "LiteLLM delete blank thinking blocks, and the provider then answers 400)"
)


def _real_for_blank(
    call: Call, i: int, content: list[Any], changes: Mapping[int, Any], kept: list[int]
) -> list[Any] | None:
    """Prefer the real reasoning over a pad: a turn whose only thinking is blank and unsigned
    gets its own observed blocks back (found by tool-call id), when they line up."""
    if not (kept and call.mode.carries_unsigned and call.options.restore):
        return None
    for j in kept:
        block = changes.get(j, content[j])
        text = block.get("thinking")
        if block.get("signature") or not isinstance(text, str) or text.strip():
            return None
    ids = call.request.history.tool_ids(i)
    if not ids:
        return None
    positions = call.request.history.thinking.get(i, ())
    others = [b for j, b in enumerate(content) if j not in positions]
    return restore_turn(call, i, others, ids)


def _record(call: Call, i: int, verdicts: Verdicts, reordered: list[int]) -> None:
    """Record the turn's decisions; a reordered turn's kept blocks are recorded as dropped."""
    for j, notes in verdicts:
        if j in reordered:
            notes = tuple(n for n in notes if n.action != Action.KEPT)
        call.flush(f"messages[{i}].content[{j}]", notes)
    for j in reordered:
        call.notes.add(f"messages[{i}].content[{j}]", Action.DROPPED, _REORDERED)


def _back_fill(
    call: Call, i: int, content: list[Any], send_turn: bool, foreign_removed: bool
) -> list[Any]:
    """A turn without thinking: a tool turn's own observed thinking back, or the pad where
    the family needs reasoning (tool turns, or every turn of the active loop)."""
    contract = call.family.anthropic
    calls = call.request.history.calls.get(i)
    ids = call.request.history.tool_ids(i)
    # restore only what a known contract sends back; an unknown target gets what the agent sent
    if ids and call.options.restore and call.mode.sends_back and send_turn:
        restored = restore_turn(call, i, content, ids)
        if restored is not None:
            return restored
    if not call.mode.carries_unsigned or contract.pad is None:
        return content
    needed = (
        (bool(calls) and "tool_calls" in contract.pad_on)
        or (i >= call.request.history.loop_start and "active_loop" in contract.pad_on)
        or call.every_message
    )
    if not needed:
        return content
    call.notes.add(
        f"messages[{i}].content[0]",
        Action.PADDED,
        "{} needs thinking on this turn and it {}; inserted the documented pad {!r} ({}){}",
        call.family.name,
        "had only foreign thinking" if foreign_removed else "had none",
        contract.pad,
        call.family.why,
        _seen_but_padded(call, ids),
    )
    return [pad_block(contract), *content]


def _seen_but_padded(call: Call, ids: tuple[str, ...]) -> str:
    """Explain's word when the real reasoning was observed and a pad went all the same."""
    if not call.listening or not ids:
        return ""
    first = ids[0]
    turn = call.turn_for_tool(first)
    if turn is None or not turn.blocks:
        return ""
    return (
        f"; the real reasoning was observed (tool_use id {first}, from {turn.origin}) but this "
        "turn no longer lines up with the observed one, so it could not be put back"
    )


def _string_message(call: Call, i: int, message: Mapping[str, Any]) -> Mapping[str, Any]:
    """A plain-text assistant message; only an active-loop pad can apply to it."""
    contract = call.family.anthropic
    if (
        call.mode.carries_unsigned
        and contract.pad is not None
        and (
            ("active_loop" in contract.pad_on and i >= call.request.history.loop_start)
            or call.every_message
        )
    ):
        text = message.get("content")
        blocks: list[Any] = [pad_block(contract)]
        if text:
            blocks.append({"type": "text", "text": text})
        call.notes.add(
            f"messages[{i}].content",
            Action.PADDED,
            "{} needs thinking on every message {}; inserted the pad {!r} ({})",
            call.family.name,
            "(preserved thinking)" if call.every_message else "of the active tool loop",
            contract.pad,
            call.family.why,
        )
        return {**message, "content": blocks}
    return message


def _missing_loop_thinking(call: Call, path: str, body: Mapping[str, Any]) -> Mapping[str, Any]:
    contract = call.family.anthropic
    model = call.match.model
    # on with any thinking type that thinks, or unasked where the model thinks by default
    enabled = thinking_requested(body) or (
        "thinking" not in body and contract.thinks_unasked(model)
    )
    if not enabled:
        return body
    problem = (
        "the active tool loop's assistant message has no thinking that can be sent; "
        "with thinking enabled Anthropic expects it to start with its thinking block "
        "(HTTP 400 'Expected `thinking` or `redacted_thinking`, but found ...' on strict "
        "models)"
    )
    policy = call.options.on_missing_loop_thinking
    if policy == "raise":
        raise ThinkingContractError(path, problem)
    log.warning("%s: %s (on_missing_loop_thinking=%s)", path, problem, policy)
    if policy == "drop_param" and contract.can_disable(model) and "thinking" in body:
        call.notes.add(
            "thinking", Action.DROPPED, "{}; thinking disabled for this request", problem
        )
        return {k: v for k, v in body.items() if k != "thinking"}
    if policy == "drop_param":
        call.notes.add(
            path,
            Action.WARNING,
            "{}; sent as is: {} cannot turn thinking off (on_missing_loop_thinking=drop_param)",
            problem,
            model,
        )
        return body
    call.notes.add(path, Action.WARNING, "{}; sent as is (on_missing_loop_thinking=send)", problem)
    return body


def _first_kind(content: Sequence[Any], changes: Mapping[int, Any]) -> object:
    """The type of the first block that survives ``changes``."""
    for j, block in enumerate(content):
        new = changes.get(j, block)
        if new is not REMOVE:
            return new.get("type")
    return None


def _starts_with_thinking(message: Mapping[str, Any]) -> bool:
    content = message.get("content")
    return (
        isinstance(content, list)
        and bool(content)
        and (type(content[0]) is dict or isinstance(content[0], Mapping))
        and content[0].get("type") in THINKING_TYPES
    )
