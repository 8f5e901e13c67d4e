"""ThinkingRoundTrip on the OpenAI Responses wire: the reasoning items of ``input``.

A reasoning item (``{"type": "reasoning", "id": "rs_...", "encrypted_content": ...}``) is
opaque and bound to the model and organisation that made it; it precedes the function calls
it led to. The rules, each from an error users hit
(https://github.com/openai/openai-agents-js/issues/546, https://github.com/vercel/ai/issues/12869):

- with ``store: false`` OpenAI keeps nothing server-side, so there a reasoning item without
  its ``encrypted_content`` (or an ``item_reference`` to one) is a 404 ``Item with id 'rs_...'
  not found``: the observed item is sent whole instead, or, unknown, it is left out (the
  family's ``bare_ids: 404``; other Responses servers, and bridges to chat models, keep the
  agent's items: LiteLLM #26395, CLIProxyAPI #3451); ``include:
  ["reasoning.encrypted_content"]`` is asked for where the family says (OpenAI with store:
  false, xAI unless the request continues a stored response), so the next answer can be
  sent back; a host whose 404 showed that it keeps nothing is treated as ``store: false``;
- an item observed from another model, or rejected by the provider, is left out (``The
  encrypted content for item rs_... could not be verified``);
- a function call whose reasoning item was lost gets it back from the store by call id (a
  ``keep`` family), or, where its reasoning item is left out, loses its ``id`` (``Item 'fc_...'
  of type 'function_call' was provided without its required 'reasoning' item``);
- a reasoning item with no item after it that it led to is left out (``... was provided
  without its required following item``);
- a server-side ``compaction`` item (``cmp_...``, with its ``encrypted_content``) goes
  verbatim, in its place, is restored with the turn's reasoning where it was lost, and is left
  out once the provider rejected it (stale, bound to another caller: vercel/ai PR #12647;
  Wei-Shaw/sub2api PR #5084).

Which families keep, pass or drop the items is the family's ``details`` mode (the same
opaque, model-bound carrier as OpenRouter's reasoning_details).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent.body import plain_json, without
from agent.explain import Action
from agent.middleware.context import Call
from agent.request import Request
from agent.store import Origin, StoredTurn

REASONING = "reasoning"
COMPACTION = "compaction"
#: Items a response's reasoning travels in: reasoning items, and server-side compaction.
CARRIED = (REASONING, COMPACTION)
ENCRYPTED = "encrypted_content"
INCLUDE = "reasoning.encrypted_content"
#: Input items a reasoning item never leads to (what follows it must be its output).
_NOT_OUTPUT = ("reasoning", "function_call_output", "item_reference")


def run(call: Call) -> Request:
    """The request with its reasoning items fitted to the target's contract."""
    body = call.request.body
    items = body.get("input")
    if not isinstance(items, list):
        return call.request
    store_off = body.get("store") is False or call.dialect.stateless
    out: list[Any] = []
    changed = False
    strip_ids = False  # the function calls after a left-out reasoning item lose their ids
    present = {
        i["id"]
        for i in items
        if isinstance(i, Mapping) and i.get("type") in CARRIED and isinstance(i.get("id"), str)
    }
    for k, item in enumerate(items):
        kind = item.get("type") if isinstance(item, Mapping) else None
        if kind == COMPACTION and _stale(call, k, item):
            changed = True
            continue
        if kind in (REASONING, "item_reference") and _refers_to_reasoning(item):
            new = _reasoning(call, k, item, store_off)
            if new is not None and not _led_somewhere(items, k):
                call.notes.add(
                    f"input[{k}]",
                    Action.DROPPED,
                    "a reasoning item needs the item it led to right after it (a function call "
                    "or a message); that item is gone, so the provider would answer 400 'was "
                    "provided without its required following item'",
                )
                new = None
            changed = changed or new is not item
            strip_ids = new is None
            if new is not None:
                out.append(new)
            continue
        if kind == "function_call":
            restored = [] if strip_ids else _restore(call, k, items, out, present)
            if restored:
                out.extend(restored)
                changed = True
            elif strip_ids and "id" in item:
                call.notes.add(
                    f"input[{k}].id",
                    Action.DROPPED,
                    "its reasoning item is left out, and a function call sent with its id "
                    "without it is a 400 ('provided without its required reasoning item')",
                )
                item = without(item, "id")
                changed = True
            out.append(item)
            continue
        strip_ids = False
        out.append(item)
    new_body = _included(call, body, store_off, out if changed else items)
    if not changed and new_body is body:
        return call.request
    if changed:
        new_body = {**new_body, "input": out}
    return call.finish(None, new_body)


def _stale(call: Call, k: int, item: Mapping[str, Any]) -> bool:
    """Whether a compaction item is to be left out: the provider rejected its encrypted
    content (``invalid_encrypted_content``, ``... was not issued to this caller``: a stale
    item bound to another caller). Otherwise it goes verbatim, in its place."""
    key = item.get(ENCRYPTED)
    if not (isinstance(key, str) and key in call.dead):
        return False
    call.notes.add(f"input[{k}]", Action.DROPPED, "{}", call.dead_reason(key, "compaction item"))
    return True


def _refers_to_reasoning(item: Mapping[str, Any]) -> bool:
    if item.get("type") == REASONING:
        return True
    ref = item.get("id")
    return isinstance(ref, str) and ref.startswith("rs_")


def _led_somewhere(items: list[Any], k: int) -> bool:
    """Whether reasoning item ``k`` is followed (after more reasoning) by what it led to."""
    for later in items[k + 1 :]:
        if not isinstance(later, Mapping):
            return False
        kind = later.get("type")
        if kind in (REASONING, "item_reference") and _refers_to_reasoning(later):
            continue
        if kind == "message" or (kind is None and "role" in later):
            return later.get("role") == "assistant"
        return kind not in _NOT_OUTPUT
    return False


def _reasoning(
    call: Call, k: int, item: Mapping[str, Any], store_off: bool
) -> Mapping[str, Any] | None:
    """One reasoning item (or a reference to one): itself, the observed whole item, or None."""
    path = f"input[{k}]"
    mode = call.family.chat.details
    if mode == "drop":
        call.notes.add(path, Action.DROPPED, "{}; reasoning is not sent", call.match.describe())
        return None
    item_id = item.get("id")
    encrypted = item.get(ENCRYPTED) if item.get("type") == REASONING else None
    key = encrypted if isinstance(encrypted, str) and encrypted else None
    if key is not None and key in call.dead:
        call.notes.add(path, Action.DROPPED, "{}", call.dead_reason(key, "encrypted content"))
        return None
    observed = _observed(call, item_id) if key is None else None  # used only then
    origin = (
        call.foreign_origin(key, None)
        if key is not None
        else observed.origin
        if observed is not None and not call.options.trusts(observed.origin, call.match)
        else None
    )
    if origin is not None:
        return _foreign(call, path, item, origin)
    if key is not None or not store_off:
        return item  # whole, or a reference the server keeps (store is on)
    return _unstored(call, path, item, observed)


def _foreign(
    call: Call, path: str, item: Mapping[str, Any], origin: object
) -> Mapping[str, Any] | None:
    """Another model's reasoning item: left out (it is bound to the model and organisation
    that made it); but in front of a model that needs reasoning on every tool-call turn (a
    Responses server bridging to DeepSeek, Kimi, MiMo), the family's pad in its place, as
    the chat wire does, else that model answers 400."""
    chat = call.family.chat
    if chat.bare_ids == "404" or chat.pad is None or not call.mode.carries_unsigned:
        call.notes.add(
            path,
            Action.DROPPED,
            "observed from {}: reasoning is bound to the model and organisation that made it",
            origin,
        )
        return None
    text = chat.pad if call.options.foreign != "keep_text" else _summary(item) or chat.pad
    call.notes.add(
        path,
        Action.PADDED,
        "observed from {}, another vendor's: {} needs reasoning here, so {} goes (foreign={})",
        origin,
        call.family.name,
        "its summary, unsigned" if text != chat.pad else f"the documented pad {chat.pad!r}",
        call.options.foreign,
    )
    keep = {k: v for k, v in item.items() if k not in ("summary", ENCRYPTED)}
    return {**keep, "summary": [{"type": "summary_text", "text": text}]}


def _summary(item: Mapping[str, Any]) -> str:
    parts = item.get("summary")
    return "".join(
        p.get("text", "")
        for p in (parts if isinstance(parts, list) else ())
        if isinstance(p, Mapping) and isinstance(p.get("text"), str)
    )


def _unstored(
    call: Call, path: str, item: Mapping[str, Any], observed: StoredTurn | None
) -> Mapping[str, Any] | None:
    """A reasoning item without its encrypted content, with nothing kept server-side: the
    observed whole item, the item as the agent sent it, or (OpenAI's 404) None."""
    mode = call.family.chat.details
    whole = _whole(observed, item.get("id"))
    fails = call.family.chat.bare_ids == "404"
    if whole is not None and (fails or mode == "keep"):
        call.notes.add(
            path,
            Action.RESTORED,
            "{}; the item observed from {} is sent whole, with its encrypted content",
            "with store: false nothing is kept server-side, so a bare id is a 404"
            if fails
            else "the real reasoning over a summary",
            observed.origin if observed is not None else "?",
        )
        return whole
    if not fails:
        call.notes.add(
            path,
            Action.KEPT,
            "kept as the agent sent it: a bare id with store: false is OpenAI's 404, not {}'s",
            call.family.name,
        )
        return item
    call.notes.add(
        path,
        Action.DROPPED,
        "with store: false a reasoning item without its encrypted content is a 404 ('Item with "
        "id ... not found'), and its content was never observed",
    )
    return None


def _observed(call: Call, item_id: object) -> StoredTurn | None:
    if not isinstance(item_id, str):
        return None
    return call.turn_for_tool(item_id)


def _whole(turn: StoredTurn | None, item_id: object) -> dict[str, Any] | None:
    """The observed item with this id, when it carries its encrypted content."""
    if turn is None:
        return None
    for block, _ in turn.blocks:
        if block.get("id") == item_id and isinstance(block.get(ENCRYPTED), str):
            return dict(block)
    return None


def _restore(
    call: Call, k: int, items: list[Any], out: list[Any], present: set[Any]
) -> list[dict[str, Any]]:
    """The turn's own observed reasoning items, for the first function call of a turn that
    lost them (a ``keep`` family), or none."""
    if call.family.chat.details != "keep" or not call.options.restore:
        return []
    if out and isinstance(out[-1], Mapping) and out[-1].get("type") in (REASONING, "function_call"):
        return []  # not the first call of its turn, or its reasoning is there
    call_id = items[k].get("call_id")
    turn = call.turn_for_tool(call_id) if isinstance(call_id, str) else None
    if turn is None or not turn.blocks or not call.options.trusts(turn.origin, call.match):
        return []
    store_off = call.request.body.get("store") is False
    restored = [
        dict(b)
        for b, _ in turn.blocks
        if b.get("id") not in present and (isinstance(b.get(ENCRYPTED), str) or not store_off)
    ]
    if restored:
        call.notes.add(
            f"input[{k}]",
            Action.RESTORED,
            "{} reasoning item(s) of this turn, observed from {}, put back before its function "
            "call (found by call id {})",
            len(restored),
            turn.origin,
            call_id,
        )
    return restored


def _included(
    call: Call, body: Mapping[str, Any], store_off: bool, items: list[Any]
) -> Mapping[str, Any]:
    """Where the family asks for it (OpenAI with store: false; xAI unless the request
    continues a stored response), encrypted reasoning is asked for (``include``), so the next
    answer's reasoning can be sent back."""
    ask = call.family.chat.ask_encrypted
    if ask == "never" or (ask == "store_off" and not store_off):
        return body
    if ask == "always" and body.get("previous_response_id") is not None:
        return body
    include = body.get("include")
    if isinstance(include, list) and INCLUDE in include:
        return body
    if include is not None and not isinstance(include, list):
        return body  # not ours to fix
    call.notes.add(
        "include",
        Action.CONVERTED,
        "added {!r}: {}",
        INCLUDE,
        "with store: false, reasoning goes back only with its encrypted content"
        if ask == "store_off"
        else f"{call.family.why}",
    )
    return {**body, "include": [*(include or []), INCLUDE]}


def observed_responses(origin: Origin, body: Mapping[str, Any]) -> StoredTurn | None:
    """The reasoning items of a Responses ``response``, found later by their ids and by the
    call ids of the function calls they led to."""
    output = body.get("output")
    if not isinstance(output, list):
        return None
    blocks = tuple(
        (item, k)
        for k, item in enumerate(output)
        if isinstance(item, Mapping) and item.get("type") in CARRIED and plain_json(item)
    )
    if not blocks:
        return None
    calls = [
        i["call_id"]
        for i in output
        if isinstance(i, Mapping)
        and i.get("type") == "function_call"
        and isinstance(i.get("call_id"), str)
    ]
    ids = [b["id"] for b, _ in blocks if isinstance(b.get("id"), str)]
    return StoredTurn(origin, blocks, None, (*calls, *ids), len(output))
