"""Relay emulation: what LiteLLM and claude-code-router do to requests and errors on the way.

Measured in front of these emulators (LiteLLM proxy 1.108, https://github.com/BerriAI/litellm;
claude-code-router 1.0.73, https://github.com/musistudio/claude-code-router):

- ``litellm``: thinking blocks whose text is ``""`` or ``" "`` are deleted from requests (an
  empty or blank ``reasoning_content`` likewise); errors come back rewrapped as
  ``{"type":"error","error":{"message":"litellm.BadRequestError: AnthropicException -
  {provider JSON}\\n\\nLiteLLM: model group ..."}}``.
- ``ccr`` (claude-code-router): model ids arrive as ``provider,model`` and the provider part
  is removed; errors become ``{"error":{"message":"Error from provider(provider,model: 400):
  {json}Error: ...<stack trace>"}}``.
- ``openrouter`` (chat wire, in front of the Gemini emulator): model ids arrive as
  ``vendor/model``; a reply's thought signatures travel as ``reasoning_details`` items
  (``reasoning.encrypted`` with the call's ``id``, format ``google-gemini-v1``) and come back
  to the upstream from them; errors arrive as ``{"error":{"message":"Provider returned
  error","code":400,"metadata":{"raw":"<upstream body>","provider_name":...}}}``
  (https://openrouter.ai/docs/guides/best-practices/reasoning-tokens). Each request is served
  by one upstream provider (the one it pins with ``provider.only`` / ``provider.order``, else
  the emulator's ``upstreams`` in turn), named in the reply's ``provider``; an encrypted item
  another provider made cannot be decoded there: Gemini's 400 ``Corrupted thought
  signature.`` (OpenRouterTeam/ai-sdk-provider #491; google-gemini/gemini-cli #13467).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from agent.testing.emulators.errors import HTTPError

RELAYS = ("litellm", "ccr", "openrouter")
#: The format OpenRouter names Gemini's reasoning items with.
_GEMINI_FORMAT = "google-gemini-v1"
_BLANK = ("", " ")


#: OpenRouter's display names for the upstream providers it answers with.
PROVIDER_NAMES = {"google-vertex": "Google", "google-ai-studio": "Google AI Studio"}
_CORRUPTED = {
    "error": {"code": 400, "message": "Corrupted thought signature.", "status": "INVALID_ARGUMENT"}
}


def routed(body: Mapping[str, Any], upstreams: tuple[str, ...], n: int) -> str:
    """The upstream provider that serves request ``n``: the one the body pins, else the
    emulator's upstreams in turn."""
    routing = body.get("provider")
    if isinstance(routing, Mapping):
        for key in ("only", "order"):
            names = routing.get(key)
            if isinstance(names, list) and names and isinstance(names[0], str):
                return names[0]
    return upstreams[n % len(upstreams)]


def forward(
    relay: str | None, body: Mapping[str, Any], provider: str = "google-vertex"
) -> Mapping[str, Any]:
    """The body as the relay passes it on to the provider (``provider``: the upstream
    provider that serves it, behind OpenRouter)."""
    if relay == "ccr" and isinstance(body.get("model"), str):
        body = {**body, "model": body["model"].rsplit(",", 1)[-1]}
    if relay == "openrouter":
        return _to_upstream(body, provider)
    if relay != "litellm":
        return body
    messages = []
    for message in body["messages"]:
        if not isinstance(message, Mapping) or message.get("role") != "assistant":
            messages.append(message)
            continue
        if message.get("reasoning_content") in _BLANK:
            message = {k: v for k, v in message.items() if k != "reasoning_content"}
        content = message.get("content")
        if isinstance(content, list):
            message = {
                **message,
                "content": [
                    b
                    for b in content
                    if not (
                        isinstance(b, Mapping)
                        and b.get("type") == "thinking"
                        and b.get("thinking") in _BLANK
                    )
                ],
            }
        messages.append(message)
    return {**body, "messages": messages}


def _to_upstream(body: Mapping[str, Any], provider: str) -> Mapping[str, Any]:
    """OpenRouter to Gemini: the vendor prefix off the model id; each assistant message's
    ``reasoning.encrypted`` items back onto the tool calls they belong to (by ``id``), each
    decoded by the provider that serves the request (another provider's is corrupted)."""
    model = body.get("model")
    messages = []
    for message in body["messages"]:
        if not isinstance(message, Mapping) or "reasoning_details" not in message:
            messages.append(message)
            continue
        details = message["reasoning_details"]
        signed = {
            d.get("id"): _decoded(d.get("data"), provider)
            for d in (details if isinstance(details, list) else [])
            if isinstance(d, Mapping) and d.get("type") == "reasoning.encrypted"
        }
        calls = [
            {**c, "extra_content": {"google": {"thought_signature": signed[c.get("id")]}}}
            if isinstance(c, Mapping) and c.get("id") in signed
            else c
            for c in message.get("tool_calls") or []
        ]
        rest = {k: v for k, v in message.items() if k != "reasoning_details"}
        messages.append({**rest, "tool_calls": calls} if calls else rest)
    out = {**body, "messages": messages}
    if isinstance(model, str):
        out["model"] = model.rsplit("/", 1)[-1]
    return out


def _decoded(data: object, provider: str) -> object:
    """An encrypted item's payload, as the serving provider decodes it."""
    made_by, _, payload = str(data).partition("~")
    if made_by != provider:
        raise HTTPError(400, _CORRUPTED)
    return payload


def backward(
    relay: str | None, reply: dict[str, Any], provider: str = "google-vertex"
) -> dict[str, Any]:
    """A chat reply as the relay hands it to the client: through OpenRouter, each tool call's
    thought signature becomes a ``reasoning.encrypted`` item of ``reasoning_details``, in the
    form only the serving provider decodes, and the reply names that provider."""
    if relay != "openrouter":
        return reply
    message = dict(reply["choices"][0]["message"])
    details: list[dict[str, Any]] = []
    calls = []
    for call in message.get("tool_calls") or []:
        extra = call.get("extra_content", {}).get("google", {})
        if "thought_signature" in extra:
            details.append(
                {
                    "type": "reasoning.encrypted",
                    "data": f"{provider}~{extra['thought_signature']}",
                    "id": call["id"],
                    "format": _GEMINI_FORMAT,
                    "index": len(details),
                }
            )
        calls.append({k: v for k, v in call.items() if k != "extra_content"})
    if calls:
        message["tool_calls"] = calls
    if details:
        message["reasoning_details"] = details
    choices = [{**reply["choices"][0], "message": message}]
    return {**reply, "choices": choices, "provider": PROVIDER_NAMES.get(provider, provider)}


def rewrap(relay: str | None, model: object, error: HTTPError) -> HTTPError:
    """The provider's error as the relay hands it to the client."""
    if relay == "litellm":
        text = (
            f"litellm.BadRequestError: AnthropicException - {json.dumps(error.body)}\n\n"
            f"LiteLLM: model group {model}"
        )
        return HTTPError(error.status, {"type": "error", "error": {"message": text}})
    if relay == "ccr":
        text = (
            f"Error from provider({model}: {error.status}): {json.dumps(error.body)}Error: "
            f"Error from provider({model}: {error.status})\n    at qn "
            "(/usr/lib/node_modules/@musistudio/claude-code-router/dist/cli.js:582:7451)"
        )
        return HTTPError(error.status, {"error": {"message": text}})
    if relay == "openrouter":
        raw = json.dumps(error.body)
        if "missing a thought_signature" in raw:
            raw = (
                "Gemini models require OpenRouter reasoning details to be preserved in each "
                "request. Please refer to our docs: https://openrouter.ai/docs/guides/"
                "best-practices/reasoning-tokens#preserving-reasoning-blocks. Upstream error: "
                + raw
            )
        body = {
            "error": {
                "message": "Provider returned error",
                "code": error.status,
                "metadata": {"raw": raw, "provider_name": "Google"},
            }
        }
        return HTTPError(error.status, body)
    return error
