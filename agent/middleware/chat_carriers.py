"""The chat wire's other reasoning carriers: OpenRouter's ``reasoning_details`` and Gemini's
tool-call thought signatures (``tool_calls[].extra_content.google.thought_signature``).

Both are opaque and bound to the model that produced them, so the rules are the same: what
the target itself produced goes back verbatim; what is known (observed) to come from another
model is never sent; what the agent lost is put back from the store by tool call id (``keep``
families); a strict server gets neither field. Gemini 3 additionally rejects the current
turn's steps whose first function call has no signature: where the real one is unknown, the
value Google documents for calls the model did not make goes instead, and explain says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent.body import thought_signature, tool_call_ids, without
from agent.explain import Action
from agent.families.builtin import DETAILS_HOSTS
from agent.middleware.context import Call

DETAILS = "reasoning_details"


def _details_host(host: str) -> bool:
    """A host whose carrier is reasoning_details (the family table's DETAILS_HOSTS)."""
    return any(host == h or host.endswith("." + h) for h in DETAILS_HOSTS)


def carriers(call: Call, i: int, message: Mapping[str, Any], current: bool) -> Mapping[str, Any]:
    """``message`` with its reasoning_details and thought signatures fitted to the target."""
    contract = call.family.chat
    if DETAILS in message or (contract.details == "keep" and message.get("tool_calls")):
        message = _details(call, i, message)
    calls = message.get("tool_calls")
    if type(calls) is list and calls and (contract.tool_signatures != "pass" or _signed(calls)):
        message = _signatures(call, i, message, current)
    return message


def _signed(calls: list[Any]) -> bool:
    return any(thought_signature(c) for c in calls)


def _details(call: Call, i: int, message: Mapping[str, Any]) -> Mapping[str, Any]:
    mode = call.family.chat.details
    path = f"messages[{i}].{DETAILS}"
    items = message.get(DETAILS)
    if mode == "drop":
        if DETAILS in message:
            call.notes.add(
                path,
                Action.DROPPED,
                "{}; reasoning fields are not sent ({})",
                call.match.describe(),
                call.family.why,
            )
            return without(message, DETAILS)
        return message
    if isinstance(items, list) and items:
        origin = _foreign(call, items)
        if origin is None:
            call.notes.add(path, Action.KEPT, "passed back unmodified, in order (OpenRouter)")
            return message
        call.notes.add(
            path,
            Action.DROPPED,
            "observed from {}, another model: a reasoning_details sequence must be the one the "
            "model produced, or the provider fails the request",
            origin,
        )
        message = without(message, DETAILS)
    if mode != "keep" or not call.options.restore:
        return message
    ids = list(tool_call_ids(message.get("tool_calls")))
    turn = call.turn_for_tool(ids[0]) if ids else None
    if (
        turn is None
        or not turn.details
        or turn.tool_ids != tuple(ids)
        or not call.options.trusts(turn.origin, call.match)
    ):
        return message
    call.notes.add(
        path,
        Action.RESTORED,
        "this turn's own reasoning_details, observed from {}, found again by tool call id {}",
        turn.origin,
        ids[0],
    )
    return {**message, DETAILS: [dict(item) for item in turn.details]}


def _foreign(call: Call, items: list[Any]) -> object:
    """The origin of the first item observed from a target it does not verify at, or None."""
    for item in items:
        if not isinstance(item, Mapping):
            continue
        key = item.get("signature") or item.get("data")
        text = item.get("text")
        origin = call.foreign_origin(
            key if isinstance(key, str) else None, text if isinstance(text, str) else None
        )
        if origin is not None:
            return origin
    return None


def _signatures(call: Call, i: int, message: Mapping[str, Any], current: bool) -> Mapping[str, Any]:
    contract = call.family.chat
    calls: list[Any] = message["tool_calls"]
    ids = [c.get("id") if isinstance(c, Mapping) else None for c in calls]
    first = next((k for k, x in enumerate(ids) if isinstance(x, str)), None)
    required = signature_required(call, current) and not _details_host(call.match.host)
    changes: dict[int, Any] = {}
    for k, tool_call in enumerate(calls):
        path = f"messages[{i}].tool_calls[{k}].extra_content.google.thought_signature"
        signature = thought_signature(tool_call)
        if contract.tool_signatures == "drop":
            if signature is not None:
                call.notes.add(path, Action.DROPPED, "{}; not sent", call.match.describe())
                changes[k] = _signed_as(tool_call, None)
            continue
        if signature is not None:
            if not foreign_signature(call, signature, path):
                continue  # its own (or never seen): verbatim
            changes[k] = tool_call = _signed_as(tool_call, None)
        keep = contract.tool_signatures == "keep"
        restored = restored_signature(call, ids[k], path) if keep else None
        if restored is not None:
            changes[k] = _signed_as(tool_call, restored)
        elif required and k == first:
            changes[k] = _signed_as(tool_call, bypass_signature(call, path))
    if not changes:
        return message
    return {**message, "tool_calls": [changes.get(k, c) for k, c in enumerate(calls)]}


def signature_required(call: Call, current: bool) -> bool:
    """Whether a current-turn step's first function call must carry a signature (the family
    names the models that check, and the value to send when the real one is unknown)."""
    contract = call.family.chat
    return (
        current
        and contract.signature_dummy is not None
        and contract.requires_signatures(call.match.model)
    )


def foreign_signature(call: Call, signature: str, path: str) -> bool:
    """Whether a thought signature was observed from another model (then it is not sent)."""
    origin = call.foreign_origin(signature, None)
    if origin is None:
        return False
    call.notes.add(
        path,
        Action.DROPPED,
        "observed from {}: a thought signature is bound to the model that made it",
        origin,
    )
    return True


def bypass_signature(call: Call, path: str) -> str:
    """The value the provider documents for a call the model did not make, said in explain."""
    dummy = call.family.chat.signature_dummy
    assert dummy is not None
    call.notes.add(
        path,
        Action.PADDED,
        "{} needs a signature on the first function call of each step of the current turn and "
        "this one's is unknown; sent {!r}, the value Google documents for calls the model did "
        "not make ({})",
        call.match.model,
        dummy,
        call.family.why,
    )
    return dummy


def restored_signature(call: Call, key: object, path: str) -> str | None:
    """A tool call's own observed thought signature, found by its key (the call id; natively
    also its name and arguments), or None; explain says where it came from."""
    if not isinstance(key, str) or not call.options.restore:
        return None
    turn = call.turn_for_tool(key)
    if turn is None or not turn.signatures or not call.options.trusts(turn.origin, call.match):
        return None
    found = dict(zip(turn.tool_ids, turn.signatures, strict=False)).get(key)
    if found is None:
        return None
    call.notes.add(
        path,
        Action.RESTORED,
        "this call's own thought signature, observed from {}, found again by the call's id "
        "(natively, by its name and arguments when it has none)",
        turn.origin,
    )
    return found


def _signed_as(tool_call: Any, signature: str | None) -> Any:
    """A copy of a tool call with its thought signature set, or removed (None), leaving out
    the ``google`` and ``extra_content`` objects it empties."""
    if not isinstance(tool_call, Mapping):
        return tool_call
    extra = tool_call.get("extra_content")
    extra = dict(extra) if isinstance(extra, Mapping) else {}
    google = extra.get("google")
    google = dict(google) if isinstance(google, Mapping) else {}
    if signature is None:
        google.pop("thought_signature", None)
    else:
        google["thought_signature"] = signature
    if google:
        extra["google"] = google
    else:
        extra.pop("google", None)
    out = {k: v for k, v in tool_call.items() if k != "extra_content"}
    if extra:
        out["extra_content"] = extra
    return out
