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
        "anthropic": {
            "thinking": "verify",
            "turns": "by_model",
            "keep_all_from": {"opus": "4.5", "sonnet": "4.6", "haiku": "4.6"},
            "empty_signature": "forbidden",
        },
        "chat": {"reasoning_content": "drop"},
        "why": (
            "Anthropic checks signatures: thinking blocks come back unmodified, in order, from "
            "the model that wrote them; unsigned, empty-signed or foreign blocks get HTTP 400 "
            "'Invalid `signature` in `thinking` block'"
        ),
        "source": "https://platform.claude.com/docs/en/build-with-claude/extended-thinking",
    },
    {
        "name": "deepseek",
        "models": ["deepseek-r*", "deepseek-v4*", "deepseek-pro*", "deepseek-flash*"],
        "not_models": ["deepseek-chat", "deepseek-v3*", "deepseek-coder*"],
        "hosts": ["api.deepseek.com"],
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
        "models": ["kimi-*", "moonshot-*", "k2*", "k3*"],
        "hosts": ["moonshot.ai", "moonshot.cn", "api.kimi.com"],
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
        "models": ["mimo-*", "mimo_*"],
        "hosts": ["xiaomimimo.com"],
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
        "anthropic": dict(_UNSIGNED_CARRY),
        "chat": {"reasoning_content": "keep"},
        "why": (
            "MiniMax: the complete assistant message, thinking included, must be appended in "
            "multi-turn tool use; leaving it out costs quality, no error"
        ),
        "source": "https://platform.minimax.io/docs/api-reference/text-anthropic-api",
    },
    {
        "name": "glm",
        "models": ["glm-*"],
        "hosts": ["z.ai", "bigmodel.cn"],
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
)
