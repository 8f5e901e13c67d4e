"""Provider rules from the late-2026 evidence, each with the error text users report:

- Kimi preserved thinking: with ``thinking.keep: "all"`` (kimi-k2.6), and always on
  kimi-k3, kimi-k2.7-code and later models, *every* earlier assistant message needs its
  reasoning, not only tool-call ones: ``thinking is enabled but reasoning_content is missing
  in assistant message at index N`` (MoonshotAI/kimi-code PR #1684; platform.kimi.ai docs).
- Bedrock Converse, Claude 5.x: an assistant message holding only reasoning is refused
  (``This model does not support assistant message prefill...``, NousResearch/hermes-agent
  #105780) and reasoning must come first (``If an assistant message contains any thinking
  blocks, the first block must be thinking. Found text``, aws/bedrock-agentcore-sdk-python PR
  #419).
- Anthropic's compaction beta refuses its own compaction block's ``encrypted_content`` back:
  ``messages.N.content.M.compaction.encrypted_content: Extra inputs are not permitted``
  (anthropics/anthropic-sdk-python #1828).
- OpenAI compaction items are bound to the caller that got them: a stale one is ``[invalid_
  request_error] reasoning `encrypted_content` was not issued to this caller``
  (can1357/oh-my-pi #11928; Wei-Shaw/sub2api PR #5084).

Written from that evidence, not from this library's tables.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from typing import Any

from agent.testing.emulators.errors import HTTPError, anthropic_error, openai_error

#: Kimi models whose preserved thinking is always on (k3, k2.7-code, and the next ones).
KIMI_PRESERVED = ("kimi-k3*", "kimi-k2.7-code*", "kimi-k4*")
#: Claude models that refuse reasoning-only assistant messages on Bedrock Converse.
CLAUDE_5 = ("claude-sonnet-5*", "claude-opus-5*", "claude-fable-5*", "claude-mythos-5*")
_THINKING = ("thinking", "redacted_thinking")


def _name(model: object) -> str:
    """A model id without a ``vendor/`` prefix or Bedrock's ``<region>.anthropic.``."""
    text = model.rsplit("/", 1)[-1] if isinstance(model, str) else ""
    return text.split(".anthropic.", 1)[-1]


def kimi_keeps_all(body: Mapping[str, Any]) -> bool:
    """Whether this Kimi request is in preserved-thinking mode."""
    thinking = body.get("thinking")
    keep = thinking.get("keep") if isinstance(thinking, Mapping) else None
    model = _name(body.get("model"))
    return keep == "all" or any(fnmatch.fnmatchcase(model, p) for p in KIMI_PRESERVED)


def check_kimi_preserved(body: Mapping[str, Any], anthropic_wire: bool) -> None:
    """Kimi in preserved-thinking mode: every assistant message carries its reasoning."""
    if not kimi_keeps_all(body):
        return
    for i, message in enumerate(body["messages"]):
        if not isinstance(message, Mapping) or message.get("role") != "assistant":
            continue
        if anthropic_wire:
            content = message.get("content")
            has = isinstance(content, list) and any(
                isinstance(b, Mapping) and b.get("type") in _THINKING for b in content
            )
        else:
            has = isinstance(message.get("reasoning_content"), str)
        if not has:
            raise openai_error(
                "thinking is enabled but reasoning_content is missing in assistant message "
                f"at index {i}"
            )


def check_claude_5_converse(model: str, messages: list[Any]) -> None:
    """Bedrock Converse, Claude 5.x: no reasoning-only assistant message; reasoning first."""
    if not any(fnmatch.fnmatchcase(_name(model), p) for p in CLAUDE_5):
        return
    for message in messages:
        content = message.get("content") if isinstance(message, Mapping) else None
        if message.get("role") != "assistant" or not isinstance(content, list) or not content:
            continue
        kinds = ["reasoning" if "reasoningContent" in b else "other" for b in content]
        if all(k == "reasoning" for k in kinds):
            raise HTTPError(
                400,
                {
                    "message": "This model does not support assistant message prefill. The "
                    "conversation must end with a user message."
                },
            )
        if "reasoning" in kinds and kinds[0] != "reasoning":
            found = "text" if "text" in content[0] else "tool_use"
            raise HTTPError(
                400,
                {
                    "message": "If an assistant message contains any thinking blocks, the first "
                    f"block must be thinking. Found {found}"
                },
            )


def check_compaction_blocks(messages: list[Any]) -> None:
    """Anthropic: a compaction block sent back with its encrypted_content is refused."""
    for i, message in enumerate(messages):
        content = message.get("content") if isinstance(message, Mapping) else None
        for j, block in enumerate(content if isinstance(content, list) else ()):
            compaction = isinstance(block, Mapping) and block.get("type") == "compaction"
            if compaction and "encrypted_content" in block:
                raise anthropic_error(
                    f"messages.{i}.content.{j}.compaction.encrypted_content: Extra inputs "
                    "are not permitted"
                )


def check_compaction_items(items: list[Any], sealed: Any) -> None:
    """OpenAI Responses: a compaction item another caller got is refused."""
    for item in items:
        if not (isinstance(item, Mapping) and item.get("type") == "compaction"):
            continue
        if item.get("encrypted_content") != sealed(item.get("id")):
            raise openai_error(
                "[invalid_request_error] reasoning `encrypted_content` was not issued to this "
                "caller",
                "invalid_encrypted_content",
            )
