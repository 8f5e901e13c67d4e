"""What each family wants back, written from the evidence (the providers' docs and the
public reports cited per row), not read from ``agent/families``.

The property tests take their expectations from this table, and ``tests/test_families.py``
checks the built-in table against it row by row, field by field: a wrong row in either table
fails one of them. Its fields carry the built-in contracts' names, so a row reads like the
built-in row it must agree with.
"""

from __future__ import annotations

from attrs import field, frozen

NONE: frozenset[str] = frozenset()


@frozen
class OnMessages:
    """What a family wants back as prior thinking on the Anthropic Messages wire.

    Attributes:
        thinking: ``verify`` (signatures checked: only its own signed blocks), ``carry``
            (its thinking, unsigned, on every turn), ``pass`` (nothing known: what the agent
            sent), ``drop`` (none).
        empty_signature: how unsigned thinking is written: ``required`` (``signature: ""``),
            ``accepted`` (either way), ``forbidden`` (no empty signature).
        pad: the filler the family takes on a turn that must carry thinking and has none.
        pad_on: where it must: ``tool_calls`` turns, every turn of the ``active_loop``.
        empty_to_pad: an empty reasoning text is refused (it becomes the pad).
        turns: ``all`` turns keep their thinking, or ``by_model``.
        keep_all_from: model tier -> the first version that keeps earlier turns' thinking.
    """

    thinking: str
    empty_signature: str = "forbidden"
    pad: str | None = None
    pad_on: frozenset[str] = NONE
    empty_to_pad: bool = False
    turns: str = "all"
    keep_all_from: dict[str, tuple[int, ...]] = field(factory=dict)


@frozen
class OnChat:
    """What a family wants back on the Chat Completions wire.

    Attributes:
        reasoning_content: ``keep`` (its own back, restored or padded), ``pass`` (what the
            agent sent), ``drop`` (no reasoning field at all).
        pad, pad_on, empty_to_pad: as on the Anthropic wire.
        details: OpenRouter's ``reasoning_details`` (and Responses reasoning items):
            ``keep``, ``pass`` or ``drop``.
        tool_signatures: Gemini's tool-call thought signatures: ``keep``, ``pass``, ``drop``.
    """

    reasoning_content: str
    pad: str | None = None
    pad_on: frozenset[str] = NONE
    empty_to_pad: bool = False
    details: str = "pass"
    tool_signatures: str = "pass"


@frozen
class Wants:
    """One family's contract, as the evidence states it, and where it says so."""

    anthropic: OnMessages
    chat: OnChat
    source: str
    #: model ids that must carry reasoning on every assistant message (preserved thinking)
    every_message: tuple[str, ...] = ()
    #: model ids that refuse a current-turn tool call without its thought signature
    signatures_checked: tuple[str, ...] = ()


TOOL_CALLS = frozenset({"tool_calls"})

EXPECTED: dict[str, Wants] = {
    # signed blocks verbatim from their own model; Opus >= 4.5, Sonnet >= 4.6 keep earlier
    # turns, Haiku up to 4.5 only the last; the OpenAI-compatible layer returns no thinking
    "anthropic": Wants(
        OnMessages(
            "verify",
            turns="by_model",
            keep_all_from={"opus": (4, 5), "sonnet": (4, 6), "haiku": (4, 6)},
        ),
        OnChat("drop", details="keep"),
        "https://platform.claude.com/docs/en/build-with-claude/extended-thinking",
    ),
    # every tool-call turn's reasoning in all later requests, and every assistant message
    # after the last user message when tools are sent; "" is refused in one report (" " pad)
    "deepseek": Wants(
        OnMessages(
            "carry", pad=" ", pad_on=frozenset({"tool_calls", "active_loop"}), empty_to_pad=True
        ),
        OnChat("keep", pad=" ", pad_on=frozenset({"tool_calls", "active_loop"}), empty_to_pad=True),
        "https://api-docs.deepseek.com/guides/thinking_mode; "
        "https://github.com/experientiallabs/experiential/pull/890",
    ),
    # every earlier tool-call message carries reasoning_content ("" accepted); signature ""
    # accepted on /coding; preserved thinking: every assistant message on k3 and k2.7-code
    "kimi": Wants(
        OnMessages("carry", empty_signature="accepted", pad="", pad_on=TOOL_CALLS),
        OnChat("keep", pad="", pad_on=TOOL_CALLS),
        "https://platform.moonshot.ai/docs/guide/use-kimi-k2-thinking-model; "
        "https://github.com/MoonshotAI/kimi-code/pull/1684",
        every_message=("kimi-k3", "kimi-k2.7-code", "k3"),
    ),
    # every later tool-call message carries its full reasoning; thinking blocks with an empty
    # signature; a non-empty value needed on tool-call messages
    "mimo": Wants(
        OnMessages(
            "carry", empty_signature="required", pad=" ", pad_on=TOOL_CALLS, empty_to_pad=True
        ),
        OnChat("keep", pad=" ", pad_on=TOOL_CALLS, empty_to_pad=True),
        "https://platform.xiaomimimo.com/docs/en-US/usage-guide/passing-back-reasoning_content",
    ),
    # recommended, no error; on the chat wire its own carriers (<think>, reasoning_details)
    "minimax": Wants(
        OnMessages("carry"),
        OnChat("pass"),
        "https://platform.minimax.io/docs/api-reference/text-anthropic-api",
    ),
    "glm": Wants(
        OnMessages("carry"),
        OnChat("keep"),
        "https://docs.z.ai/guides/capabilities/thinking-mode",
    ),
    "qwen": Wants(
        OnMessages("carry"),
        OnChat("keep"),
        "https://help.aliyun.com/en/model-studio/deep-thinking",
    ),
    # tool-call thought signatures back (Gemini 3, and now 2.5, check them)
    "gemini": Wants(
        OnMessages("pass"),
        OnChat("pass", details="keep", tool_signatures="keep"),
        "https://ai.google.dev/gemini-api/docs/thought-signatures; "
        "https://github.com/Gitlawb/openclaude/issues/583",
        signatures_checked=("gemini-3-pro-preview", "gemini-2.5-flash"),
    ),
    # encrypted reasoning items back to the model that made them (Responses, OpenRouter)
    "openai": Wants(
        OnMessages("pass"),
        OnChat("pass", details="keep"),
        "https://platform.openai.com/docs/guides/reasoning",
    ),
    "xai": Wants(
        OnMessages("pass"),
        OnChat("pass", details="keep"),
        "https://docs.x.ai/developers/model-capabilities/text/best-practices",
    ),
    # replay the turn with its thinking intact (thinking chunks on Mistral's own host)
    "mistral": Wants(
        OnMessages("pass"),
        OnChat("keep"),
        "https://github.com/mistralai/client-python/pull/511",
    ),
    # Groq: "property 'reasoning_content' is unsupported" (reasoning, details too)
    "strict": Wants(
        OnMessages("drop"),
        OnChat("drop", details="drop", tool_signatures="drop"),
        "https://console.groq.com/docs/reasoning",
    ),
    # nothing known: do no harm (what the agent sent, minus what is another target's)
    "unknown": Wants(OnMessages("pass"), OnChat("pass"), "the README's Model families"),
}

#: The family of each target the property tests use, as its provider says (the model id's
#: vendor, or the vendor whose host serves any id), not as detection answers.
FAMILY_OF: dict[tuple[str, str | None], str] = {
    ("claude-opus-4-6", None): "anthropic",
    ("claude-sonnet-4-5", None): "anthropic",
    ("claude-haiku-4-5", "https://relay.example.com"): "anthropic",
    ("mimo-v2.5-pro", "https://open.markhub.top"): "mimo",
    ("house-model", "https://api.xiaomimimo.com/anthropic"): "mimo",
    ("kimi-k2.6", "https://api.kimi.com/coding"): "kimi",
    ("deepseek-v4-pro", "https://api.deepseek.com/anthropic"): "deepseek",
    # deepseek-chat without thinking turned on is the non-thinking mode: nothing to send back
    ("deepseek-chat", "https://api.deepseek.com"): "unknown",
    ("MiniMax-M3", "https://api.minimax.io/anthropic"): "minimax",
    ("glm-4.7", "https://api.z.ai/api/anthropic"): "glm",
    ("qwen3.6-plus", None): "qwen",
    ("llama-4-maverick", "https://relay.example.com"): "unknown",
    ("kimi-k3", "https://api.moonshot.ai/anthropic"): "kimi",
    ("grok-4.3", "https://api.x.ai/v1"): "xai",
    ("claude-sonnet-5", "https://api.anthropic.com"): "anthropic",
}
