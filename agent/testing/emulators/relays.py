"""Relay emulation: what LiteLLM and claude-code-router do to requests and errors on the way.

Measured in front of these emulators (shared/wild.md §1):

- ``litellm``: thinking blocks whose text is ``""`` or ``" "`` are deleted from requests (an
  empty or blank ``reasoning_content`` likewise); errors come back rewrapped as
  ``{"type":"error","error":{"message":"litellm.BadRequestError: AnthropicException -
  {provider JSON}\\n\\nLiteLLM: model group ..."}}``.
- ``ccr`` (claude-code-router): model ids arrive as ``provider,model`` and the provider part
  is removed; errors become ``{"error":{"message":"Error from provider(provider,model: 400):
  {json}Error: ...<stack trace>"}}``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from agent.testing.emulators.errors import HTTPError

RELAYS = ("litellm", "ccr")
_BLANK = ("", " ")


def forward(relay: str | None, body: Mapping[str, Any]) -> Mapping[str, Any]:
    """The body as the relay passes it on to the provider."""
    if relay == "ccr" and isinstance(body.get("model"), str):
        body = {**body, "model": body["model"].rsplit(",", 1)[-1]}
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
    return error
