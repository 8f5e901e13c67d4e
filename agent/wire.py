"""The wires (APIs), where a request goes, and how a model id is read for detection."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal, get_args
from urllib.parse import urlsplit, urlunsplit

from agent.errors import InvalidRequest

Api = Literal["anthropic_messages", "chat_completions", "responses", "bedrock_converse", "gemini"]
APIS: tuple[str, ...] = get_args(Api)


def thinking_requested(body: Mapping[str, object]) -> bool:
    """Whether the body turns thinking on (``thinking: {type: enabled | adaptive |
    between_tools}``): a model that thinks only when asked is then a thinking model."""
    thinking = body.get("thinking")
    if type(thinking) is dict or isinstance(thinking, Mapping):
        return thinking.get("type") in THINKING_ON
    return False


#: The ``thinking.type`` values that turn thinking on.
THINKING_ON = ("enabled", "adaptive", "between_tools")

#: The host a request goes to when ``base_url`` is None: the official endpoint of the wire.
OFFICIAL_HOSTS: Mapping[str, str] = {
    "anthropic_messages": "api.anthropic.com",
    "chat_completions": "api.openai.com",
    "responses": "api.openai.com",
    "bedrock_converse": "bedrock-runtime.us-east-1.amazonaws.com",
    "gemini": "generativelanguage.googleapis.com",
}

_VENDOR_PREFIX = re.compile(r"^(?:[a-z]+\.)+(?=[a-z])")


def normalize_model(model: str) -> str:
    """Return the model id as detection sees it: trimmed, lowercased, after the last ``/`` and
    after a relay's ``provider,`` prefix (claude-code-router sends ``mimo,mimo-v2.5-pro``)."""
    return model.strip().lower().rsplit("/", 1)[-1].rsplit(",", 1)[-1].strip()


def model_candidates(model: str) -> tuple[str, ...]:
    """The ids tried in order: the normalized id, then without a dotted vendor prefix (Bedrock)."""
    normalized = normalize_model(model)
    stripped = _VENDOR_PREFIX.sub("", normalized)
    return (normalized,) if stripped == normalized else (normalized, stripped)


def safe_url(url: str | None) -> str | None:
    """``url`` as it may be printed: a password in its user info and every query value (some
    providers take the key as ``?key=``) replaced by ``***``; the fragment left out."""
    if url is None:
        return None
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            netloc = "***@" + netloc.rsplit("@", 1)[1]
        query = "&".join(
            f"{item.split('=', 1)[0]}=***" if "=" in item else "***"
            for item in parts.query.split("&")
            if item
        )
        return urlunsplit((parts.scheme, netloc, parts.path, query, ""))
    except ValueError:
        return "(not a URL)"


def host_of(base_url: str | None, api: str) -> str:
    """Return the lowercased host a request goes to (the wire's official host for None)."""
    if base_url is None:
        return OFFICIAL_HOSTS[api]
    text = base_url.strip()
    if "//" not in text:
        text = "//" + text
    try:
        host = urlsplit(text).hostname
    except ValueError:  # "http://[::1": a bracket never closed, a bad port
        # (the value is not shown: a URL can carry a key in its user info or query)
        raise InvalidRequest(
            "base_url", "not a URL (a bracket never closed, or a bad port)"
        ) from None
    return (host or "").lower().rstrip(".")


#: Wires whose model id travels in the URL path, not in the body, and the body fields that
#: name it in a Request (Gemini: ``.../models/{model}:generateContent``; Converse:
#: ``.../model/{modelId}/converse``).
MODEL_IN_PATH: Mapping[str, tuple[str, ...]] = {
    "gemini": ("model",),
    "bedrock_converse": ("model", "modelId"),
}


def for_the_wire(api: str, body: Mapping[str, Any]) -> tuple[Mapping[str, Any], str | None]:
    """The body as it goes on the wire, and the model id for the URL where the wire carries it
    there (None elsewhere): a Request carries the model in its body on every wire, and the
    provider must not get a field it does not know."""
    fields = MODEL_IN_PATH.get(api, ())
    if not any(f in body for f in fields):
        return body, None
    model = next((body[f] for f in fields if isinstance(body.get(f), str)), None)
    return {k: v for k, v in body.items() if k not in fields}, model


#: Message keys only Chat Completions has, and block types only the Anthropic Messages API
#: has; Converse blocks carry no ``type`` but one of these keys.
_CHAT_KEYS = ("tool_calls", "reasoning_content", "reasoning_details", "tool_call_id")
_ANTHROPIC_BLOCKS = ("tool_use", "tool_result", "thinking", "redacted_thinking")
_CONVERSE_BLOCKS = ("toolUse", "toolResult", "reasoningContent")


def wire_of(body: Mapping[str, Any]) -> tuple[str, str] | None:
    """The wire a request body's shape says it is written for, and the evidence; None when
    it does not say (a plain ``messages`` list of text fits several wires) or says two."""
    found: dict[str, str] = {}
    if "contents" in body and "messages" not in body:
        found["gemini"] = "it has contents"
    if "input" in body and "messages" not in body:
        found["responses"] = "it has input"
    if "modelId" in body:
        found["bedrock_converse"] = "it has modelId"
    messages = body.get("messages")
    for message in messages if isinstance(messages, list) else ():
        if not isinstance(message, Mapping):
            continue
        role = message.get("role")
        chat = [f"role {role}"] if role in ("tool", "system") else []
        chat += [k for k in _CHAT_KEYS if k in message]
        if chat:
            found.setdefault("chat_completions", f"a message has {chat[0]}")
        content = message.get("content")
        for block in content if isinstance(content, list) else ():
            if not isinstance(block, Mapping):
                continue
            if block.get("type") in _ANTHROPIC_BLOCKS:
                found.setdefault("anthropic_messages", f"a message has a {block['type']} block")
            elif "type" not in block and any(k in block for k in _CONVERSE_BLOCKS):
                found.setdefault("bedrock_converse", "a message has a Converse block")
    if len(found) != 1:
        return None
    ((api, why),) = found.items()
    return api, why
