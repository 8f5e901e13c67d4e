"""The built-in host-dialect table, as data (the schema ``HostDialect.from_mapping`` reads).

Every row names the host's rule (``why``) and where it is documented or reported
(``source``, and ``sources`` per further rule): public docs and issue threads, cited as URLs or
``owner/repo #N``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: The hosts whose vendor's own models read reasoning only from reasoning_content.
_VENDOR_RC = (
    "the vendor's own API reads prior reasoning from reasoning_content only; reasoning_details "
    "in OpenRouter's shape are another host's and are not sent there"
)

BUILTIN_DIALECT_DATA: tuple[Mapping[str, Any], ...] = (
    {
        "name": "deepseek",
        "hosts": ["api.deepseek.com"],
        "carrier": "reasoning_content",
        "vendor": True,
        "why": "DeepSeek: " + _VENDOR_RC + " (it takes no alias: can1357/oh-my-pi #972, #810)",
        "source": "https://api-docs.deepseek.com/guides/thinking_mode",
    },
    {
        "name": "moonshot",
        "hosts": ["moonshot.ai", "moonshot.cn", "api.kimi.com"],
        "carrier": "reasoning_content",
        "vendor": True,
        "preserve": {"thinking": {"keep": "all"}},
        "preserve_models": ["kimi-k2.6*", "kimi-k2-6*"],
        "preserve_refused": ["kimi-k3*", "kimi-k2.7-code*", "kimi-k2-7-code*"],
        "why": "Kimi: "
        + _VENDOR_RC
        + "; with thinking.keep null (kimi-k2.6's default) the server ignores earlier "
        "reasoning, and 'the reasoning_details at position N entry M has an invalid type' "
        "answers OpenRouter-shaped details",
        "source": "https://platform.kimi.ai/docs/guide/use-kimi-k2-thinking-model",
        "sources": {
            "preserve": "thinking.keep: 'all' makes kimi-k2.6 keep earlier reasoning (justrach/"
            "codegraff #323; MoonshotAI/kimi-code PR #1417); kimi-k3 may reject keep and "
            "kimi-k2.7-code forces it (justrach/codegraff #323)",
            "vendor": "NousResearch/hermes-agent #108071, PR #108078",
        },
    },
    {
        "name": "xiaomi",
        "hosts": ["xiaomimimo.com"],
        "carrier": "reasoning_content",
        "vendor": True,
        "why": "Xiaomi MiMo: " + _VENDOR_RC,
        "source": "https://platform.xiaomimimo.com/docs/en-US/usage-guide/passing-back-reasoning_content",
    },
    {
        "name": "zai",
        "hosts": ["z.ai", "bigmodel.cn"],
        "carrier": "reasoning_content",
        "vendor": True,
        "preserve": {"thinking": {"clear_thinking": False}},
        "why": "Z.ai GLM: "
        + _VENDOR_RC
        + "; the standard API clears earlier reasoning unless clear_thinking is false",
        "source": "https://docs.z.ai/guides/capabilities/thinking-mode",
    },
    {
        "name": "dashscope",
        "hosts": ["aliyuncs.com"],
        "carrier": "reasoning_content",
        "vendor": True,
        "preserve": {"preserve_thinking": True},
        "why": "Alibaba DashScope: "
        + _VENDOR_RC
        + "; earlier reasoning is used only with preserve_thinking",
        "source": "https://help.aliyun.com/en/model-studio/deep-thinking",
        "sources": {"preserve": "QwenLM/qwen-code PR #5637"},
    },
    {
        "name": "minimax",
        "hosts": ["minimax.io", "minimaxi.com"],
        "carrier": "agent",
        "vendor": True,
        "why": "MiniMax carries reasoning as <think> in content or as its own reasoning_details "
        "(reasoning_split: true); OpenRouter-shaped details answer 400 'Mismatch type "
        "[]*open_platform_oai.ReasoningDetail'",
        "source": "https://platform.minimax.io/docs/api-reference/text-openai-api",
        "sources": {"vendor": "iOfficeAI/gemini-cli-pro PR #33"},
    },
    {
        "name": "vllm",
        "carrier": "reasoning",
        "why": "vLLM reads prior reasoning only from the reasoning field; reasoning_content on an "
        "assistant message is dropped without an error (removed in vLLM 0.19)",
        "source": "https://github.com/vllm-project/vllm/issues/38488",
        "sources": {
            "carrier": "vllm-project/vllm PR #27752, PR #33402; anomalyco/opencode PR #30477 "
            "(interleaved.field: reasoning); cloudflare/ai #451 (Workers AI)",
        },
    },
    {
        "name": "lmstudio",
        "carrier": "reasoning",
        "why": "LM Studio reads and answers reasoning in the reasoning field (0.3.23 and later)",
        "source": "https://github.com/lmstudio-ai/lmstudio-bug-tracker/issues/894",
    },
    {
        "name": "llamacpp",
        "carrier": "reasoning_content",
        "why": "llama.cpp's server takes prior reasoning as reasoning_content",
        "source": "https://github.com/NousResearch/hermes-agent/pull/96504",
    },
    {
        "name": "cerebras",
        "hosts": ["api.cerebras.ai"],
        "carrier": "reasoning",
        "rejects": ["reasoning_content"],
        "strict": True,
        "preserve": {"clear_thinking": False},
        "preserve_models": ["zai-glm-*"],
        "why": "Cerebras takes prior reasoning back as reasoning; reasoning_content and unknown "
        "message fields are a 400 ('messages.N.assistant.reasoning_content: property ... is "
        "unsupported')",
        "source": "https://inference-docs.cerebras.ai/capabilities/reasoning",
        "sources": {
            "carrier": "vercel/ai PR #15425, #15416 (@ai-sdk/cerebras sends reasoning)",
            "rejects": "Kilo-Org/kilocode #10375; NousResearch/hermes-agent #34716",
            "preserve": "clear_thinking: false keeps earlier turns' thinking for zai-glm-4.7 "
            "(https://inference-docs.cerebras.ai/api-reference/chat-completions)",
        },
    },
    {
        "name": "fireworks",
        "hosts": ["api.fireworks.ai"],
        "carrier": "reasoning_content",
        "strict": True,
        "preserve": {"reasoning_history": "preserved"},
        "why": "Fireworks: reasoning_content from previous assistant turns must be included for "
        "interleaved thinking; its message schema forbids extra fields ('Extra inputs are not "
        "permitted, field: messages[1].reasoning_details')",
        "source": "https://docs.fireworks.ai/guides/reasoning",
        "sources": {
            "strict": "BerriAI/litellm #41277, PR #39962",
            "preserve": "reasoning_history: disabled | interleaved | preserved (BerriAI/litellm "
            "PR #30844; tegnike/aituber-kit PR #520)",
        },
    },
    {
        "name": "copilot",
        "hosts": ["githubcopilot.com"],
        "carrier": "pair",
        "why": "GitHub Copilot carries reasoning as reasoning_text plus its signature in "
        "reasoning_opaque; both go back together, unmodified, or 'Invalid signature in "
        "thinking block'",
        "source": "https://github.com/earendil-works/pi/pull/1502",
        "sources": {"carrier": "anomalyco/opencode PR #8900, #4468; github/copilot-sdk #2352"},
    },
    {
        "name": "mistral",
        "hosts": ["api.mistral.ai"],
        "carrier": "chunks",
        "strict": True,
        "why": "Mistral carries reasoning as thinking chunks inside content ({type: thinking, "
        "thinking: [{type: text, text}], closed: true}); its schema answers 422 'Extra inputs "
        "are not permitted' to reasoning_content and other unknown fields",
        "source": "https://github.com/mistralai/client-python/pull/511",
        "sources": {
            "carrier": "vercel/ai #17930 (@ai-sdk/mistral preserves them in multi-turn)",
            "strict": "charmbracelet/crush #1590; BerriAI/litellm #30835",
        },
    },
    {
        "name": "openrouter",
        "hosts": ["openrouter.ai"],
        "carrier": "details",
        "bound_to": "provider",
        "preserve": {"reasoning": {"context": "all_turns"}},
        "preserve_models": ["gpt-5.6*", "gpt-5.7*", "gpt-5.8*", "gpt-5.9*", "gpt-6*"],
        "why": "OpenRouter carries reasoning as reasoning_details, unmodified and in order; "
        "Gemini's reasoning.encrypted is bound to the upstream provider that made it (Vertex "
        "and AI Studio do not read each other's)",
        "source": "https://openrouter.ai/docs/guides/best-practices/reasoning-tokens",
        "sources": {
            "bound_to": "OpenRouterTeam/ai-sdk-provider #491, #542",
            "preserve": "reasoning.context: all_turns, GPT-5.6 and newer "
            "(https://openrouter.ai/docs/client-sdks/typescript/models/reasoningconfig)",
        },
    },
)
