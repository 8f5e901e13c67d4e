"""The OpenAI Responses API, emulated: ``POST .../v1/responses`` with reasoning items.

What it validates, each with the error text users report (and where they reported it):

- a reasoning item's ``encrypted_content`` must be this emulator's, for this model:
  ``The encrypted content for item rs_... could not be verified. Reason: Encrypted content could
  not be decrypted or parsed.`` (code ``invalid_encrypted_content``; vscode-unify-chat-provider
  #178, openai/codex #8145);
- a reasoning item without it, or an ``item_reference``, must name an item the server kept
  (``store`` not false): else the 404 ``Item with id 'rs_...' not found. Items are not persisted
  when `store` is set to false...``;
- a reasoning item must be followed by what it led to: ``Item 'rs_...' of type 'reasoning' was
  provided without its required following item.`` (continuedev/continue #8933);
- a function call the server kept, sent with its ``id``, must come after its reasoning item:
  ``Item 'fc_...' of type 'function_call' was provided without its required 'reasoning' item:
  'rs_...'.`` (mastra-ai/mastra #8738).

These are OpenAI's own rules (the ``openai`` family). Any other family is served the way a
Responses server in front of that model is (a bridge to its chat API, or xAI): no item is
kept and none is a 404; a bridge turns each reasoning item back into the reasoning of the
function calls after it, so a function call whose reasoning item is gone meets the model's
own "must be passed back" error (BerriAI/litellm #26395; router-for-me/CLIProxyAPI #3451);
xAI fails nothing, but reasoning reaches the model only with its encrypted content
(docs.x.ai troubleshooting-reasoning: "nothing fails: the API returns 200"), recorded in
``Emulator.reached``.

The reply is a tool round (a reasoning item, then a function call) until ``rounds`` calls were
answered, then a message; ``include: ["reasoning.encrypted_content"]`` adds the encrypted
content to its reasoning item.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from agent.testing.emulators.errors import HTTPError, item_not_found, responses_error
from agent.testing.emulators.late_rules import check_compaction_items
from agent.testing.emulators.rules import RULES, Signer

INCLUDE = "reasoning.encrypted_content"


def _sealed(signer: Signer, model: object, item_id: object) -> str:
    """The encrypted content of a reasoning item: bound to the model and the item."""
    return "enc_" + signer.sign(f"{model}:{item_id}")


def compaction_seal(signer: Signer, item_id: object) -> str:
    """The encrypted content of a compaction item this server made for this caller."""
    return "enc_" + signer.sign(f"compaction:{item_id}")


def check(
    body: Mapping[str, Any], signer: Signer, kept: Mapping[str, Any], links: Mapping[str, str]
) -> None:
    """Validate the ``input`` items like the Responses API."""
    items = body.get("input")
    if not isinstance(items, list):
        raise responses_error("Invalid type for 'input': expected a string or an array.")
    check_compaction_items(items, lambda item_id: compaction_seal(signer, item_id))
    for k, item in enumerate(items):
        if not isinstance(item, Mapping):
            continue
        kind, item_id = item.get("type"), item.get("id")
        if kind == "reasoning":
            sealed = item.get("encrypted_content")
            if sealed is not None and sealed != _sealed(signer, body.get("model"), item_id):
                raise responses_error(
                    f"The encrypted content for item {item_id} could not be verified. Reason: "
                    "Encrypted content could not be decrypted or parsed.",
                    code="invalid_encrypted_content",
                )
            if sealed is None and item_id not in kept:
                raise item_not_found(str(item_id))
            if not _followed(items, k):
                raise responses_error(
                    f"Item '{item_id}' of type 'reasoning' was provided without its required "
                    "following item."
                )
        elif kind == "item_reference" and item_id not in kept:
            raise item_not_found(str(item_id))
        elif kind == "function_call" and isinstance(item_id, str) and item_id in links:
            before = {
                i.get("id")
                for i in items[:k]
                if isinstance(i, Mapping) and i.get("type") in ("reasoning", "item_reference")
            }
            if links[item_id] not in before:
                raise responses_error(
                    f"Item '{item_id}' of type 'function_call' was provided without its "
                    f"required 'reasoning' item: '{links[item_id]}'."
                )


def bridged(
    family: str, body: Mapping[str, Any], signer: Signer, reached: list[list[str | None]]
) -> None:
    """A Responses server in front of a non-OpenAI model: each step's function calls carry
    the reasoning item before them to the model; a step without one meets the model's own
    chat rule. What reached the model (xAI: only sealed reasoning) is recorded."""
    items = body.get("input")
    if not isinstance(items, list):
        raise responses_error("Invalid type for 'input': expected a string or an array.")
    seen: list[str | None] = []
    previous: Any = None
    for k, item in enumerate(items):
        if not isinstance(item, Mapping) or item.get("type") != "function_call":
            previous = item
            continue
        if isinstance(previous, Mapping) and previous.get("type") == "function_call":
            continue  # the same step's next call
        reasoning = _carried(family, previous, signer, body.get("model"))
        seen.append(reasoning)
        rule = RULES[family].chat if family in RULES else None
        message = {"role": "assistant", "tool_calls": [item], "reasoning_content": reasoning}
        error = rule(k, message, True) if rule is not None and reasoning is None else None
        if error is not None:
            raise error
        previous = item
    reached.append(seen)


def _carried(family: str, item: object, signer: Signer, model: object) -> str | None:
    """The reasoning a bridge hands the model from the item before a step's calls."""
    if not isinstance(item, Mapping) or item.get("type") != "reasoning":
        return None
    sealed = item.get("encrypted_content")
    if family == "xai":  # only the encrypted content carries it
        return "sealed" if sealed == _sealed(signer, model, item.get("id")) else None
    summary = item.get("summary")
    texts = [
        part.get("text", "")
        for part in (summary if isinstance(summary, list) else ())
        if isinstance(part, Mapping)
    ]
    return "".join(texts) or (sealed if isinstance(sealed, str) else None) or ""


def _followed(items: list[Any], k: int) -> bool:
    for later in items[k + 1 :]:
        if not isinstance(later, Mapping):
            return False
        kind = later.get("type")
        if kind in ("reasoning", "item_reference"):
            continue
        if kind == "message" or (kind is None and "role" in later):
            return later.get("role") == "assistant"
        return kind not in ("function_call_output",)
    return False


def reply(
    body: Mapping[str, Any], n: int, family: str, rounds: int, signer: Signer
) -> dict[str, Any]:
    """The ``n``-th answer: a tool round (reasoning, function call) or the final message."""
    given = body.get("input")
    items: list[Any] = given if isinstance(given, list) else []
    last_user = max(
        (i for i, m in enumerate(items) if isinstance(m, Mapping) and m.get("role") == "user"),
        default=-1,
    )
    k = sum(
        1
        for m in items[last_user + 1 :]
        if isinstance(m, Mapping) and m.get("type") == "function_call_output"
    )
    model = body.get("model", "emulated")
    include = body.get("include")
    reasoning: dict[str, Any] = {
        "type": "reasoning",
        "id": f"rs_{family}_{n:04d}",
        "summary": [{"type": "summary_text", "text": f"[{family}] round {k + 1}"}],
    }
    if isinstance(include, list) and INCLUDE in include:
        reasoning["encrypted_content"] = _sealed(signer, model, reasoning["id"])
    if k < rounds:
        last: dict[str, Any] = {
            "type": "function_call",
            "id": f"fc_{family}_{n:04d}",
            "call_id": f"call_{family}_{n:04d}",
            "name": "run",
            "arguments": json.dumps({"step": k + 1}),
            "status": "completed",
        }
    else:
        last = {
            "type": "message",
            "id": f"msg_{family}_{n:04d}",
            "role": "assistant",
            "status": "completed",
            "content": [
                {"type": "output_text", "text": f"Done after {k} tool calls.", "annotations": []}
            ],
        }
    return {
        "id": f"resp_{family}_{n:04d}",
        "object": "response",
        "created_at": 1_700_000_000 + n,
        "status": "completed",
        "model": model,
        "output": [reasoning, last],
        "usage": {"input_tokens": 10 * len(items), "output_tokens": 20, "total_tokens": 0},
    }


def respond(
    body: Any,
    n: int,
    family: str,
    rounds: int,
    signer: Signer,
    kept: dict[str, Any],
    links: dict[str, str],
    reached: list[list[str | None]],
    keeps: bool = True,
) -> dict[str, Any]:
    """Validate, answer, and (OpenAI) keep the answer's items unless ``store`` is false (or
    ``keeps`` is false: a relay in front that forces store off)."""
    if not isinstance(body, Mapping):
        raise HTTPError(400, {"error": {"message": "body: expected an object"}})
    if family != "openai":
        bridged(family, body, signer, reached)
        return reply(body, n, family, rounds, signer)
    check(body, signer, kept, links)
    answer = reply(body, n, family, rounds, signer)
    if body.get("store") is not False and keeps:
        reasoning, last = answer["output"]
        kept[reasoning["id"]] = reasoning
        kept[last["id"]] = last
        if last["type"] == "function_call":
            links[last["id"]] = reasoning["id"]
    return answer
