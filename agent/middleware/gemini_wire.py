"""ThinkingRoundTrip on Gemini's native ``generateContent`` wire: ``thoughtSignature`` on parts.

A model turn is ``{"role": "model", "parts": [...]}``; a part that carries a signature has it
beside its content (``{"functionCall": {...}, "thoughtSignature": "..."}``). Gemini 3 rejects
a current-turn step whose first function call has none (``Function call is missing a
thought_signature in functionCall parts``; ai.google.dev thought-signatures), and a
signature is bound to the model that made it. The rules are the chat wire's carrier rules
(the family's ``tool_signatures``, ``signatures_required``, ``signature_dummy``): own
signatures verbatim, another model's removed, a lost one restored from the store (a call is
found again by its ``id``, or by its name and arguments), and where Gemini 3 requires one and
the real one is unknown, the documented bypass value. The model id travels in the URL
(``.../models/{model}:generateContent``); a Request carries it as ``body["model"]``, which an
adapter moves to the URL before sending.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from agent.body import plain_json
from agent.explain import Action
from agent.middleware.chat_carriers import (
    bypass_signature,
    foreign_signature,
    restored_signature,
    signature_required,
)
from agent.middleware.context import Call
from agent.request import Request
from agent.store import Origin, StoredTurn

SIGNATURE = "thoughtSignature"


def call_key(part: Mapping[str, Any]) -> str | None:
    """How a function call part is found again: its ``id``, else its name and arguments."""
    call = part.get("functionCall")
    if not isinstance(call, Mapping):
        return None
    if isinstance(call.get("id"), str) and call["id"]:
        return str(call["id"])
    try:
        args = json.dumps(call.get("args"), sort_keys=True, ensure_ascii=False)
    except (TypeError, ValueError):
        return None
    return f"{call.get('name')}:{args}"


def current_start(contents: list[Any]) -> int:
    """The first content of the current turn: after the last user content that is more than
    function responses."""
    start = 0
    for i, content in enumerate(contents):
        if not isinstance(content, Mapping) or content.get("role") not in (None, "user"):
            continue
        parts = content.get("parts")
        parts = parts if isinstance(parts, list) else []
        if not parts or any(isinstance(p, Mapping) and "functionResponse" not in p for p in parts):
            start = i + 1
    return start


def run(call: Call) -> Request:
    """The request with every model turn's thought signatures fitted to the target."""
    contents = call.request.body.get("contents")
    if not isinstance(contents, list):
        return call.request
    start = current_start(contents)
    changes: dict[int, Any] = {}
    for i, content in enumerate(contents):
        if not isinstance(content, Mapping) or content.get("role") != "model":
            continue
        parts = content.get("parts")
        if not isinstance(parts, list):
            continue
        new = _parts(call, i, parts, current=i >= start)
        if new is not parts:
            changes[i] = {**content, "parts": new}
    if not changes:
        return call.request
    body = {
        **call.request.body,
        "contents": [changes.get(i, c) for i, c in enumerate(contents)],
    }
    return call.finish(None, body)


def _parts(call: Call, i: int, parts: list[Any], current: bool) -> list[Any]:
    contract = call.family.chat
    mode = contract.tool_signatures
    required = signature_required(call, current)
    first = next(
        (j for j, p in enumerate(parts) if isinstance(p, Mapping) and "functionCall" in p), None
    )
    changes: dict[int, Any] = {}
    for j, part in enumerate(parts):
        if not isinstance(part, Mapping):
            continue
        path = f"contents[{i}].parts[{j}].{SIGNATURE}"
        signature = part.get(SIGNATURE)
        if isinstance(signature, str) and signature:
            if mode == "drop":
                call.notes.add(path, Action.DROPPED, "{}; not sent", call.match.describe())
                changes[j] = part = {k: v for k, v in part.items() if k != SIGNATURE}
                continue
            if not foreign_signature(call, signature, path):
                continue  # its own (or never seen): verbatim
            changes[j] = part = {k: v for k, v in part.items() if k != SIGNATURE}
        if "functionCall" not in part or mode != "keep":
            continue
        restored = restored_signature(call, call_key(part), path)
        if restored is not None:
            changes[j] = {**part, SIGNATURE: restored}
        elif required and j == first:
            changes[j] = {**part, SIGNATURE: bypass_signature(call, path)}
    if not changes:
        return parts
    return [changes.get(j, p) for j, p in enumerate(parts)]


def observed_gemini(origin: Origin, body: Mapping[str, Any]) -> StoredTurn | None:
    """The thought signatures of a ``generateContent`` answer, per function call."""
    candidates = body.get("candidates")
    if not isinstance(candidates, list) or not candidates:
        return None
    first = candidates[0]
    content = first.get("content") if isinstance(first, Mapping) else None
    parts = content.get("parts") if isinstance(content, Mapping) else None
    if not isinstance(parts, list):
        return None
    keys, signatures = [], []
    for part in parts:
        if not isinstance(part, Mapping) or not plain_json(part):
            continue
        key = call_key(part)
        if key is None:
            continue
        signature = part.get(SIGNATURE)
        keys.append(key)
        signatures.append(signature if isinstance(signature, str) and signature else None)
    if not any(signatures):
        return None
    return StoredTurn(origin, (), None, tuple(keys), signatures=tuple(signatures))
