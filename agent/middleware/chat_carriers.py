"""The chat wire's opaque reasoning carriers: OpenRouter's ``reasoning_details``, Copilot's
``reasoning_text`` + ``reasoning_opaque`` pair, and Gemini's tool-call thought signatures
(``tool_calls[].extra_content.google.thought_signature``).

All are bound to the model that produced them, so the rules are the same: what the target
itself produced goes back verbatim; what is known (observed) to come from another model is
never sent; what the agent lost is put back from the store by tool call id (``keep``
families); a strict server gets none. A vendor's own host never gets details observed at
another host (OpenRouter's shape: Kimi and MiniMax answer 400 to it). Gemini 3 additionally
rejects the current turn's steps whose first function call has no signature: where the real
one is unknown, the value Google documents for calls the model did not make goes instead,
and explain says so (not where the host carries signatures inside its own carrier).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent.body import thought_signature, without
from agent.explain import Action
from agent.families.dialects import OPAQUE
from agent.middleware.chat_fields import DETAILS
from agent.middleware.context import Call
from agent.middleware.routed import other_provider, pinned
from agent.store import Origin, StoredTurn

#: Copilot's readable half, and how a pair is kept in the store (an opaque item of its own).
TEXT = "reasoning_text"
PAIR = "copilot.reasoning"


def carriers(call: Call, i: int, message: Mapping[str, Any], current: bool) -> Mapping[str, Any]:
    """``message`` with its reasoning_details, reasoning pair and thought signatures fitted to
    the target and its host."""
    contract = call.family.chat
    dialect = call.dialect
    if dialect.carrier == "pair":
        message = _pair(call, i, message)
    no_details = dialect.strict and dialect.carrier != "details"  # the schema has no field
    if DETAILS in message or (
        contract.details == "keep" and message.get("tool_calls") and not no_details
    ):
        message = _details(call, i, message)
    calls = message.get("tool_calls")
    if type(calls) is list and calls and (contract.tool_signatures != "pass" or _signed(calls)):
        message = _signatures(call, i, message, current)
    return message


def turn_for(call: Call, i: int, exact: bool = False) -> tuple[StoredTurn, str] | None:
    """The observed turn assistant message ``i``'s tool calls came from, trusted at the
    target, and the id that found it: any of the calls' ids, as long as every id is one of
    that turn's (an agent or ToolPairing may have left some calls out; ``exact``: all of them,
    in order, for carriers bound to the whole sequence)."""
    ids = call.request.history.tool_ids(i)
    for key in ids:
        turn = call.turn_for_tool(key)
        if turn is None:
            continue
        if (turn.tool_ids != ids) if exact else not set(ids) <= set(turn.tool_ids):
            return None  # the agent's turn does not line up with the observed one
        return (turn, key) if call.options.trusts(turn.origin, call.match) else None
    return None


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
        reason = _not_sent(call, items)
        if reason is None:
            call.notes.add(path, Action.KEPT, "passed back unmodified, in order (OpenRouter)")
            return message
        call.notes.add(path, Action.DROPPED, "{}", reason)
        message = without(message, DETAILS)
    if mode != "keep" or not call.options.restore or call.dialect.carrier == "pair":
        return message
    found = turn_for(call, i, exact=True)
    details = [dict(d) for d in found[0].details if d.get("type") != PAIR] if found else []
    if (
        found is None
        or not details
        or found[0].origin.host != call.match.host  # (details are in that host's shape)
        or other_provider(call.match, call.request.body, found[0].origin)
    ):
        return message
    call.notes.add(
        path,
        Action.RESTORED,
        "this turn's own reasoning_details, observed from {}, found again by tool call id {}",
        found[0].origin,
        found[1],
    )
    return {**message, DETAILS: details}


def _not_sent(call: Call, items: list[Any]) -> str | None:
    """Why a reasoning_details list is not sent to this target (None: it is)."""
    for item in items:
        key = item.get("signature") or item.get("data") if isinstance(item, Mapping) else None
        if isinstance(key, str) and key in call.dead:
            return call.dead_reason(key)
    origin = _foreign(call, items)
    if origin is not None:
        return (
            f"observed from {origin}, another model: a reasoning_details sequence must be the "
            "one the model produced, or the provider fails the request"
        )
    origin = _elsewhere(call, items)
    if origin is not None:
        return (
            f"observed from {origin}: details in another host's shape, which this vendor's own "
            f"host answers 400 to ({call.dialect.why})"
        )
    origin = _other_route(call, items)
    if origin is not None:
        return (
            f"observed from {origin}, while this request pins the provider "
            f"{pinned(call.request.body)}: {call.dialect.why}"
        )
    return None


def _origins(call: Call, items: list[Any]) -> list[Origin]:
    """The observed origins of a reasoning_details list's items."""
    found = []
    for item in items:
        if not isinstance(item, Mapping):
            continue
        key, text = item.get("signature") or item.get("data"), item.get("text")
        origin = (
            call.origin_of(key)
            if isinstance(key, str) and key
            else call.origin_of_text(text)
            if isinstance(text, str) and text.strip()
            else None
        )
        if origin is not None:
            found.append(origin)
    return found


def _other_route(call: Call, items: list[Any]) -> object:
    """Behind a router that binds reasoning to the upstream provider: the origin of an item
    served by another provider than the one the request pins, or None."""
    if call.dialect.bound_to != "provider":
        return None
    body = call.request.body
    return next((o for o in _origins(call, items) if other_provider(call.match, body, o)), None)


def providers_of(call: Call, message: Mapping[str, Any]) -> set[str]:
    """The upstream providers that served a message's reasoning_details, as observed."""
    items = message.get(DETAILS)
    if not isinstance(items, list):
        return set()
    return {o.provider for o in _origins(call, items) if o.provider is not None}


def _elsewhere(call: Call, items: list[Any]) -> object:
    """At a vendor's own host: the origin of an item observed at another host (its details
    are in that host's shape, OpenRouter's, which the vendor answers 400 to), or None."""
    if not call.dialect.vendor:
        return None
    return next((o for o in _origins(call, items) if o.host != call.match.host), None)


def _pair(call: Call, i: int, message: Mapping[str, Any]) -> Mapping[str, Any]:
    """Copilot's reasoning_text + reasoning_opaque, one unit: the target's own pair verbatim,
    another model's left out whole, a lost one restored whole by tool call id; a half that
    arrives alone is kept as it came (nothing says whose it is)."""
    opaque = message.get(OPAQUE)
    path = f"messages[{i}].{OPAQUE}"
    if isinstance(opaque, str) and opaque:
        origin = call.foreign_origin(opaque, None)
        if origin is None:
            call.notes.add(
                path,
                Action.KEPT,
                "reasoning_text and its signature passed back as one unit ({})",
                call.dialect.why,
            )
            return message
        call.notes.add(
            path,
            Action.DROPPED,
            "observed from {}, another model: its signature does not verify here, so the pair "
            "(reasoning_text and reasoning_opaque) is left out whole",
            origin,
        )
        return {k: v for k, v in message.items() if k not in (TEXT, OPAQUE)}
    if TEXT in message or OPAQUE in message or not call.options.restore:
        return message  # a half alone: kept as it came
    if call.family.chat.details != "keep" and call.family.chat.reasoning_content != "keep":
        return message
    found = turn_for(call, i, exact=True)
    pair = next((d for d in found[0].details if d.get("type") == PAIR), None) if found else None
    if found is None or pair is None:
        return message
    call.notes.add(
        path,
        Action.RESTORED,
        "this turn's own reasoning_text and reasoning_opaque, observed from {}, found again by "
        "tool call id {} (one unit, both verbatim)",
        found[0].origin,
        found[1],
    )
    return {**message, TEXT: pair["text"], OPAQUE: pair["signature"]}


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
    # a host that carries signatures inside its own carrier gets none of Gemini's own wire
    inside = call.dialect.carrier in ("details", "pair")
    required = signature_required(call, current) and not inside
    changes: dict[int, Any] = {}
    for k, tool_call in enumerate(calls):
        path = f"messages[{i}].tool_calls[{k}].extra_content.google.thought_signature"
        signature = thought_signature(tool_call)
        if contract.tool_signatures == "drop" or call.dialect.strict:
            if signature is not None:
                why = (
                    f"host dialect {call.dialect.name} has a strict schema"
                    if call.dialect.strict
                    else call.match.describe()
                )
                call.notes.add(path, Action.DROPPED, "{}; not sent", why)
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
    """Whether a thought signature is not to be sent: the provider rejected it before, or
    it was observed from another model."""
    if signature in call.dead:
        call.notes.add(path, Action.DROPPED, "{}", call.dead_reason(signature))
        return True
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
