"""The built-in family table (design §4), as data in the schema config files use.

Every entry names its provider rule (``why``) and where it is documented (``source``); the
evidence behind each is in shared/providers.md and shared/wild.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_UNSIGNED_CARRY = {"thinking": "carry", "turns": "all", "empty_signature": "forbidden"}

#: The built-in table (design §4; sources in shared/providers.md), in the config schema.
BUILTIN_FAMILY_DATA: tuple[Mapping[str, Any], ...] = (
    {
        "name": "anthropic",
        "models": ["claude-*"],
        "hosts": ["anthropic.com"],
        "authoritative": True,
        "anthropic": {
            "thinking": "verify",
            "turns": "by_model",
            "keep_all_from": {"opus": "4.5", "sonnet": "4.6", "haiku": "4.6"},
            "empty_signature": "forbidden",
            "adaptive_from": {"sonnet": "5"},
            "cannot_disable": ["claude-opus-5-5*", "claude-fable-*", "claude-mythos-*"],
            "reads": {"claude-fable-5-1*": ["claude-opus-5*"]},
            "prefix_bound": ["claude-fable-5-1*", "claude-mythos-5-1*"],
        },
        "chat": {"reasoning_content": "drop"},
        "why": (
            "Anthropic checks signatures: thinking blocks come back unmodified, in order, from "
            "the model that wrote them; unsigned, empty-signed or foreign blocks get HTTP 400 "
            "'Invalid `signature` in `thinking` block'"
        ),
        "source": "https://platform.claude.com/docs/en/build-with-claude/extended-thinking",
        "sources": {
            "anthropic.adaptive_from": "omitting thinking means adaptive thinking on Sonnet 5 "
            "and newer (platform docs: extended thinking; shared/wild.md §5)",
            "anthropic.cannot_disable": '\'"thinking.type.disabled" is not supported for this '
            "model' on Opus 5.5, Fable, Mythos (shared/wild.md §5)",
            "anthropic.reads": "Fable 5.1 reads Opus 5 / 5.5 blocks (platform docs: preserved "
            "thinking; shared/wild.md §5)",
            "anthropic.prefix_bound": "Fable 5.1 and later, Mythos 5.1: a block is bound to the "
            "prefix before it; recovery removes it and every later thinking block "
            "(shared/wild.md §5)",
        },
    },
    {
        "name": "deepseek",
        "models": ["deepseek-r*", "deepseek-v4*", "deepseek-pro*", "deepseek-flash*"],
        "not_models": ["deepseek-coder*"],
        "when_thinking": ["deepseek-chat", "deepseek-v3*"],
        "hosts": ["api.deepseek.com"],
        "authoritative": True,
        "sources": {
            "when_thinking": "deepseek-chat with thinking: {type: enabled} runs in thinking mode "
            "and needs reasoning_content on tool-call turns (langchain-ai/langgraph #6521; "
            "shared/wild.md §3)",
            "authoritative": "DeepSeek's /anthropic maps claude-opus* to deepseek-v4-pro and other "
            "claude* to flash (DeepSeek Anthropic API guide; shared/wild.md §3)",
        },
        "anthropic": {
            **_UNSIGNED_CARRY,
            "pad": " ",
            "pad_on": ["tool_calls", "active_loop"],
            "empty_to_pad": True,
        },
        "chat": {
            "reasoning_content": "keep",
            "pad": " ",
            "pad_on": ["tool_calls", "active_loop"],
            "empty_to_pad": True,
        },
        "why": (
            "DeepSeek: the reasoning of every tool-call turn must be passed back in all later "
            "requests, or HTTP 400 'The `reasoning_content` in the thinking mode must be passed "
            "back to the API.'"
        ),
        "source": "https://api-docs.deepseek.com/guides/thinking_mode",
    },
    {
        "name": "kimi",
        "models": ["kimi-*", "kimi_*", "k2", "k2.*", "k2-*", "k3", "k3.*", "k3-*"],
        "not_models": ["moonshot-v1-*"],
        "hosts": ["moonshot.ai", "moonshot.cn", "api.kimi.com"],
        "authoritative": True,
        "sources": {
            "models": "Kimi ids kimi-*, kimi_*, k2, k2.5, k2-*, k3, k3.*, k3-*; not k30, "
            "k3000-chat, keras-3 (hermes-agent's detection tests; shared/wild.md §3)",
            "not_models": "moonshot-v1-* are non-thinking (shared/wild.md §3)",
            "authoritative": "Kimi /coding accepts Claude model names (shared/wild.md §3)",
        },
        "anthropic": {
            **_UNSIGNED_CARRY,
            "empty_signature": "accepted",
            "pad": "",
            "pad_on": ["tool_calls"],
        },
        "chat": {"reasoning_content": "keep", "pad": "", "pad_on": ["tool_calls"]},
        "why": (
            "Kimi: every assistant tool-call message must carry its reasoning, or HTTP 400 "
            "'thinking is enabled but reasoning_content is missing in assistant tool call "
            "message at index N'; an empty string is accepted"
        ),
        "source": "https://platform.moonshot.ai/docs/guide/use-kimi-k2-thinking-model",
    },
    {
        "name": "mimo",
        "models": ["mimo-*", "mimo_*", "xiaomi-mimo-*"],
        "hosts": ["xiaomimimo.com"],
        "authoritative": True,
        "sources": {"models": "xiaomi-mimo-v2.5-pro on some relays (shared/wild.md §3)"},
        "anthropic": {
            **_UNSIGNED_CARRY,
            "empty_signature": "required",
            "pad": " ",
            "pad_on": ["tool_calls"],
            "empty_to_pad": True,
        },
        "chat": {
            "reasoning_content": "keep",
            "pad": " ",
            "pad_on": ["tool_calls"],
            "empty_to_pad": True,
        },
        "why": (
            "Xiaomi MiMo: every assistant message with tool calls must carry its full reasoning "
            '(unsigned, signature ""), or HTTP 400 \'Param Incorrect: The reasoning_content in '
            "the thinking mode must be passed back to the API.'"
        ),
        "source": "https://platform.xiaomimimo.com/docs/en-US/usage-guide/passing-back-reasoning_content",
    },
    {
        "name": "minimax",
        "models": ["minimax-*"],
        "hosts": ["minimax.io", "minimaxi.com"],
        "authoritative": True,
        "anthropic": dict(_UNSIGNED_CARRY),
        "chat": {"reasoning_content": "pass"},
        "why": (
            "MiniMax: the complete assistant message, thinking included, must be appended in "
            "multi-turn tool use; leaving it out costs quality, no error"
        ),
        "source": "https://platform.minimax.io/docs/api-reference/text-anthropic-api",
        "sources": {
            "chat": "on the chat wire MiniMax carries reasoning as <think> in content or as "
            "reasoning_details (reasoning_split: true), not reasoning_content: its own fields "
            "pass as sent, nothing is padded (platform.minimax.io OpenAI API reference; "
            "shared/wild.md §6)"
        },
    },
    {
        "name": "glm",
        "models": ["glm-*"],
        "hosts": ["z.ai", "bigmodel.cn"],
        "authoritative": True,
        "sources": {
            "authoritative": "z.ai's Anthropic endpoint accepts Claude model names "
            "(shared/wild.md §3)"
        },
        "anthropic": dict(_UNSIGNED_CARRY),
        "chat": {"reasoning_content": "keep"},
        "why": (
            "GLM: thinking blocks should be returned together with tool results (interleaved "
            "and preserved thinking); leaving them out costs quality and cache hits"
        ),
        "source": "https://docs.z.ai/guides/capabilities/thinking-mode",
    },
    {
        "name": "qwen",
        "models": ["qwen*", "qwq*"],
        "hosts": ["aliyuncs.com"],
        "anthropic": dict(_UNSIGNED_CARRY),
        "chat": {"reasoning_content": "keep"},
        "why": (
            "Qwen: prior reasoning_content is used with preserve_thinking; without it tool "
            "loops leak reasoning into content"
        ),
        "source": "https://help.aliyun.com/en/model-studio/deep-thinking",
    },
    {
        "name": "strict",
        "hosts": ["api.mistral.ai", "api.groq.com", "api.cerebras.ai"],
        "authoritative": True,
        "anthropic": {"thinking": "drop"},
        "chat": {"reasoning_content": "drop"},
        "why": (
            "strict OpenAI-compatible servers reject reasoning fields in assistant messages: "
            "Mistral 422 'Extra inputs are not permitted' (loc ... assistant.reasoning_content), "
            "Groq 400 \"property 'reasoning_content' is unsupported\", Cerebras 400 "
            "'messages.N.assistant.reasoning_content: property ... is unsupported'"
        ),
        "source": "shared/wild.md §4",
        "sources": {
            "api.mistral.ai": "charmbracelet/crush #1590; BerriAI/litellm #30835",
            "api.groq.com": "janhq/jan #8136; NousResearch/hermes-agent #11089; "
            "karthink/gptel #774 (reasoning)",
            "api.cerebras.ai": "Kilo-Org/kilocode #10375; NousResearch/hermes-agent #34716",
        },
    },
)
