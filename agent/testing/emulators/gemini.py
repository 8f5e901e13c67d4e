"""Gemini's native API, emulated: ``POST .../v1beta/models/{model}:generateContent``.

Gemini 3 models check that the first function call of each step of the current turn carries
a ``thoughtSignature`` the model made (or a documented bypass value) and answer otherwise with
Gemini's 400 (natively an object; the OpenAI-compatible wire wraps it in an array). Replies
sign each step's function call. The current turn and what a signature is bound to are read
here as Google documents them, apart from the pipeline's Gemini pass (which this judges): the
current turn is every step since the last user content that is more than function responses,
and a signature belongs to the function call it came with (its name and arguments, and its
``id`` when it has one; https://ai.google.dev/gemini-api/docs/thought-signatures).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from agent.testing.emulators.errors import (
    HTTPError,
    gemini_corrupted,
    gemini_invalid,
    gemini_missing,
)
from agent.testing.emulators.rules import GEMINI_BYPASS, Signer, enforces_signatures

#: Where a part carries its signature, beside its content.
SIGNATURE = "thoughtSignature"


def signed_call(part: Mapping[str, Any]) -> str:
    """What the signature of a function call part is bound to: the call itself."""
    call = part.get("functionCall")
    try:
        return json.dumps(call, sort_keys=True, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(call)


def current_start(contents: list[Any]) -> int:
    """The first content of the current turn: the one after the last user content that holds
    anything but function responses (a user content of function responses continues it)."""
    start = 0
    for i, content in enumerate(contents):
        if not isinstance(content, Mapping) or content.get("role", "user") != "user":
            continue
        parts = content.get("parts")
        if not isinstance(parts, list) or not all(
            isinstance(p, Mapping) and "functionResponse" in p for p in parts or [None]
        ):
            start = i + 1
    return start


def check(model: str, contents: list[Any], signer: Signer) -> None:
    """Gemini 3 and 2.5: each current-turn step's first function call carries its own
    signature."""
    if not enforces_signatures(model):
        return
    for i, content in enumerate(contents[current_start(contents) :], current_start(contents)):
        if not isinstance(content, Mapping) or content.get("role") != "model":
            continue
        parts = [p for p in content.get("parts") or [] if isinstance(p, Mapping)]
        calls = [p for p in parts if "functionCall" in p]
        if not calls:
            continue
        signature = calls[0].get(SIGNATURE)
        if not isinstance(signature, str):
            missing = gemini_missing(i, str(calls[0]["functionCall"].get("name")))
            raise HTTPError(400, missing.body[0])  # natively an object, not an array
        if signature not in GEMINI_BYPASS and not signature.startswith("sig_"):
            raise gemini_corrupted()  # not a signature at all (AI Studio's words)
        if signature not in GEMINI_BYPASS and not signer.verifies(signed_call(calls[0]), signature):
            raise gemini_invalid()


def reply(model: str, contents: list[Any], rounds: int, signer: Signer) -> dict[str, Any]:
    """The answer: the next step's function call (signed), or the final text."""
    start = current_start(contents)
    k = sum(
        1
        for c in contents[start:]
        if isinstance(c, Mapping)
        and c.get("role") == "user"
        and any(isinstance(p, Mapping) and "functionResponse" in p for p in c.get("parts") or [])
    )
    if k < rounds:
        part: dict[str, Any] = {"functionCall": {"name": "run", "args": {"step": k + 1}}}
        part[SIGNATURE] = signer.sign(signed_call(part))
        finish = "STOP"
    else:
        part = {"text": f"Done after {k} tool calls."}
        finish = "STOP"
    return {
        "candidates": [
            {"content": {"role": "model", "parts": [part]}, "finishReason": finish, "index": 0}
        ],
        "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 20},
        "modelVersion": model,
    }


def respond(model: str, body: Any, rounds: int, signer: Signer) -> dict[str, Any]:
    """Validate a ``generateContent`` body and answer it."""
    contents = body.get("contents") if isinstance(body, Mapping) else None
    if not isinstance(contents, list):
        raise HTTPError(
            400,
            {
                "error": {
                    "code": 400,
                    "message": "* GenerateContentRequest.contents: contents is not specified",
                    "status": "INVALID_ARGUMENT",
                }
            },
        )
    if "model" in body:  # the model goes in the URL; the API does not know this field
        raise HTTPError(
            400,
            {
                "error": {
                    "code": 400,
                    "message": 'Invalid JSON payload received. Unknown name "model": Cannot find '
                    "field.",
                    "status": "INVALID_ARGUMENT",
                }
            },
        )
    check(model, contents, signer)
    return reply(model, contents, rounds, signer)
