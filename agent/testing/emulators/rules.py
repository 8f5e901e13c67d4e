"""What each emulated provider validates, as a table keyed by family.

``RULES[family]`` says whether the family thinks by default, how it checks an assistant tool
turn on the Anthropic wire, and how it checks an assistant message on the chat wire. Claude's
signature checks (``check_claude``) and the strict server's unknown-field check
(``check_strict``) are whole-request rules of their own.
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from typing import Any

from attrs import frozen

from agent.testing.emulators.errors import (
    ANTHROPIC_EXPECTED,
    ANTHROPIC_MODIFIED,
    HTTPError,
    anthropic_error,
    foreign_details,
    gemini_corrupted,
    gemini_invalid,
    gemini_missing,
    kimi_missing,
    mimo_error,
    openai_error,
)

THINKING = ("thinking", "redacted_thinking")
_STRICT_MESSAGE_KEYS = frozenset(
    {"role", "content", "name", "tool_calls", "tool_call_id", "refusal", "function_call"}
)

#: (message index, the tool turn's thinking blocks) -> the error, or None when accepted.
ToolTurnRule = Callable[[int, list[Mapping[str, Any]]], HTTPError | None]
#: (message index, the assistant message, whether it is in the active loop) -> error or None.
ChatRule = Callable[[int, Mapping[str, Any], bool], HTTPError | None]


@frozen
class FamilyRules:
    """One emulated provider's validation.

    Attributes:
        thinks_by_default: thinking is on unless the body turns it off.
        tool_turn: Anthropic wire: the check of each assistant turn with tool calls.
        chat: chat wire: the check of each assistant message.
    """

    thinks_by_default: bool = False
    tool_turn: ToolTurnRule | None = None
    chat: ChatRule | None = None


def _deepseek_turn(i: int, thinking: list[Mapping[str, Any]]) -> HTTPError | None:
    if thinking:
        return None
    return openai_error(
        "The `content[].thinking` in the thinking mode must be passed back to the API.",
        "invalid_argument",
    )


def _deepseek_chat(i: int, message: Mapping[str, Any], in_loop: bool) -> HTTPError | None:
    if (message.get("tool_calls") or in_loop) and not isinstance(
        message.get("reasoning_content"), str
    ):
        return openai_error(
            "The `reasoning_content` in the thinking mode must be passed back to the API."
        )
    return None


def _kimi_chat(i: int, message: Mapping[str, Any], in_loop: bool) -> HTTPError | None:
    if message.get("tool_calls") and not isinstance(message.get("reasoning_content"), str):
        return kimi_missing(i)
    return None


def _mimo_chat(i: int, message: Mapping[str, Any], in_loop: bool) -> HTTPError | None:
    rc = message.get("reasoning_content")
    if message.get("tool_calls") and not (isinstance(rc, str) and rc):
        return mimo_error()
    return None


RULES: Mapping[str, FamilyRules] = {
    "anthropic": FamilyRules(),
    "deepseek": FamilyRules(True, _deepseek_turn, _deepseek_chat),
    "kimi": FamilyRules(True, lambda i, t: None if t else kimi_missing(i), _kimi_chat),
    "mimo": FamilyRules(
        True, lambda i, t: None if any(b.get("thinking") for b in t) else mimo_error(), _mimo_chat
    ),
    "minimax": FamilyRules(),
    "glm": FamilyRules(),
    "qwen": FamilyRules(),
    "gemini": FamilyRules(True),
    "openai": FamilyRules(),
    "mistral": FamilyRules(),
    "xai": FamilyRules(),
    "strict": FamilyRules(),
}

#: Gemini models that answer 400 to a current-turn step without its signature: Gemini 3 and,
#: since 2026, 2.5 (Gitlawb/openclaude #583; Mirrowel/LLM-API-Key-Proxy #160); and the next
#: generation, which no family table lists yet (what the 400 teaches a pipeline is tested).
ENFORCING = ("gemini-3*", "gemini-2.5*", "gemini-4*")


def enforces_signatures(model: object) -> bool:
    """Whether this Gemini model checks the current turn's thought signatures."""
    name = model.rsplit("/", 1)[-1] if isinstance(model, str) else ""
    return any(fnmatch.fnmatchcase(name, p) for p in ENFORCING)


#: What Google accepts in place of a signature for calls the model did not make.
GEMINI_BYPASS = ("skip_thought_signature_validator", "context_engineering_is_the_way_to_go")


def gemini_signature(call: object) -> str | None:
    """A chat tool call's ``extra_content.google.thought_signature``."""
    if not isinstance(call, Mapping):
        return None
    extra = call.get("extra_content")
    google = extra.get("google") if isinstance(extra, Mapping) else None
    value = google.get("thought_signature") if isinstance(google, Mapping) else None
    return value if isinstance(value, str) else None


def check_gemini(messages: list[Any], signer: Signer, model: object) -> None:
    """Gemini 3 on the chat wire: the first function call of each step in the current turn
    carries its thought signature, one the model made (or a documented bypass value)."""
    if not enforces_signatures(model):
        return  # older Gemini models return signatures without enforcing them
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    for i, message in enumerate(messages[last_user + 1 :], start=last_user + 1):
        calls = message.get("tool_calls") if message.get("role") == "assistant" else None
        if not isinstance(calls, list) or not calls or not isinstance(calls[0], Mapping):
            continue
        signature = gemini_signature(calls[0])
        if signature is None:
            name = calls[0].get("function", {}).get("name", "run")
            raise gemini_missing(i, str(name))
        if signature not in GEMINI_BYPASS and not signature.startswith("sig_"):
            raise gemini_corrupted()  # not a signature at all (AI Studio's words)
        if signature not in GEMINI_BYPASS and not signer.verifies(
            str(calls[0].get("id")), signature
        ):
            raise gemini_invalid()


def blocks(message: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """A message's content blocks (none for string content)."""
    content = message.get("content")
    return [b for b in content if isinstance(b, Mapping)] if isinstance(content, list) else []


def is_real_user(message: Mapping[str, Any]) -> bool:
    """A user message that carries anything other than tool results."""
    if message.get("role") != "user":
        return False
    content = message.get("content")
    if not isinstance(content, list):
        return True
    return not content or any(b.get("type") != "tool_result" for b in blocks(message))


def check_tool_turns(rule: ToolTurnRule, messages: list[Any]) -> None:
    """Apply a family's tool-turn rule to every assistant turn with tool calls."""
    for i, message in enumerate(messages):
        if message.get("role") != "assistant":
            continue
        content = blocks(message)
        if any(b.get("type") == "tool_use" for b in content):
            error = rule(i, [b for b in content if b.get("type") == "thinking"])
            if error is not None:
                raise error


def check_tool_results(messages: list[Any]) -> None:
    """Every provider of the Anthropic wire: each tool_use has its tool_result right after."""
    for i, message in enumerate(messages):
        if message.get("role") != "assistant":
            continue
        ids = [b.get("id") for b in blocks(message) if b.get("type") == "tool_use"]
        following = messages[i + 1] if i + 1 < len(messages) else {}
        answered = {
            b.get("tool_use_id")
            for b in blocks(following)
            if following.get("role") == "user" and b.get("type") == "tool_result"
        }
        missing = [x for x in ids if x not in answered]
        if missing:
            raise anthropic_error(
                f"messages.{i}: `tool_use` ids were found without `tool_result` blocks "
                f"immediately after: {', '.join(map(str, missing))}. Each `tool_use` block must "
                "have a corresponding `tool_result` block in the next message."
            )


def check_chat(rule: ChatRule, messages: list[Any]) -> None:
    """Apply a family's chat rule to every assistant message."""
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    for i, message in enumerate(messages):
        if message.get("role") == "assistant":
            error = rule(i, message, i > last_user)
            if error is not None:
                raise error


#: MiniMax's own reasoning_details format (reasoning_split: true); any other is OpenRouter's.
MINIMAX_FORMAT = "MiniMax-response-v1"


def check_vendor_details(family: str, messages: list[Any]) -> None:
    """Kimi's and MiniMax's own hosts: reasoning_details in another host's shape is a 400
    (Kimi reads none; MiniMax only its own format)."""
    if family not in ("kimi", "minimax"):
        return
    for i, message in enumerate(messages):
        details = message.get("reasoning_details") if isinstance(message, Mapping) else None
        if details is None:
            continue
        own = family == "minimax" and all(
            isinstance(d, Mapping) and d.get("format") == MINIMAX_FORMAT
            for d in (details if isinstance(details, list) else [details])
        )
        if not own:
            raise foreign_details(family, i)


def check_strict(messages: list[Any]) -> None:
    """A strict OpenAI-compatible server: 422 on any unknown message field."""
    for i, message in enumerate(messages):
        for key in message:
            if key not in _STRICT_MESSAGE_KEYS:
                detail = {
                    "type": "extra_forbidden",
                    "loc": ["body", "messages", i, key],
                    "msg": "Extra inputs are not permitted",
                    "input": message[key],
                }
                raise HTTPError(422, {"detail": [detail]})


class Signer:
    """Signs and verifies thinking like Anthropic: an HMAC with a secret of its own."""

    def __init__(self, secret: bytes) -> None:
        self.secret = secret

    def sign(self, text: str) -> str:
        """The signature of a thinking text (HMAC-SHA256, base64)."""
        import base64

        digest = hmac.new(self.secret, text.encode("utf-8"), hashlib.sha256).digest()
        return "sig_" + base64.b64encode(digest).decode()

    def verifies(self, text: str, signature: str) -> bool:
        """Whether ``signature`` is this signer's for ``text``."""
        if signature.startswith(_BOUND):  # prefix-bound: the text part must verify
            signature = signature.rsplit(".", 1)[-1]
        return hmac.compare_digest(self.sign(text), signature)

    def sign_bound(self, text: str, prefix: list[Any]) -> str:
        """A prefix-bound signature: over the conversation before the block, and the text."""
        return f"{_BOUND}{self.sign(_digest(prefix) + text)}.{self.sign(text)}"

    def bound_to(self, text: str, signature: str, prefix: list[Any]) -> bool:
        """Whether a prefix-bound signature was made for this prefix (True if not bound)."""
        if not signature.startswith(_BOUND):
            return True
        bound = signature.removeprefix(_BOUND).rsplit(".", 1)[0]
        return hmac.compare_digest(self.sign(_digest(prefix) + text), bound)


_BOUND = "sigb_"
#: Models whose thinking is bound to the conversation prefix
#: (https://platform.claude.com/docs/en/build-with-claude/preserved-thinking).
PREFIX_BOUND = ("claude-fable-5-1*", "claude-mythos-5-1*")
_BOUND_MISMATCH = (
    "messages.{i}.content.{j}: Invalid `signature` in `thinking` block. The block is bound to a "
    "different conversation. Remove the block, or set "
    '`thinking.block_binding.prefix_mismatch_behavior` to "drop_block". That setting '
    "requires the `thinking-binding-controls-2026-08-01` value in the `anthropic-beta` header."
)


#: Models that think when the request does not mention thinking
#: (https://platform.claude.com/docs/en/build-with-claude/extended-thinking).
THINKS_UNASKED = ("claude-sonnet-5*", "claude-opus-5-5*", "claude-fable-*", "claude-mythos-*")


def thinks_unasked(model: object) -> bool:
    """Whether the emulated Claude model thinks without being asked."""
    return isinstance(model, str) and any(fnmatch.fnmatchcase(model, p) for p in THINKS_UNASKED)


def prefix_bound(model: object) -> bool:
    """Whether the emulated model binds its thinking to the conversation prefix."""
    return isinstance(model, str) and any(fnmatch.fnmatchcase(model, p) for p in PREFIX_BOUND)


def _digest(messages: list[Any]) -> str:
    return hashlib.sha256(json.dumps(messages, sort_keys=True).encode()).hexdigest()


def check_claude(
    messages: list[Any], signer: Signer, sent: Mapping[str, list[dict[str, Any]]], strict: bool
) -> None:
    """Claude: every thinking block verifies and leads its turn; the loop turn starts with its
    thinking (``strict``) and is unmodified."""
    for i, message in enumerate(messages):
        if message.get("role") == "assistant":
            _check_claude_turn(i, blocks(message), signer)
            _check_bound(i, messages, signer)
    last_assistant = max(
        (i for i, m in enumerate(messages) if m.get("role") == "assistant"), default=-1
    )
    tail = messages[-1] if messages else None
    if last_assistant < 0 or tail is None or tail.get("role") != "user" or is_real_user(tail):
        return
    latest = blocks(messages[last_assistant])
    if latest and latest[0].get("type") not in THINKING:
        if strict:
            raise anthropic_error(
                ANTHROPIC_EXPECTED.format(i=last_assistant, found=latest[0].get("type"))
            )
        return  # degrade: accepted, thinking silently off for this request
    _check_unmodified(last_assistant, latest, sent)


def _check_claude_turn(i: int, content: list[Mapping[str, Any]], signer: Signer) -> None:
    kinds = [b.get("type") for b in content]
    if any(k in THINKING for k in kinds) and kinds[0] not in THINKING:
        raise anthropic_error(
            f"messages.{i}.content.0: If an assistant message contains any thinking blocks, "
            f"the first block must be `thinking` or `redacted_thinking`. Found `{kinds[0]}`."
        )
    for j, block in enumerate(content):
        if block.get("type") == "thinking":
            for key in ("thinking", "signature"):
                if key not in block:
                    raise anthropic_error(
                        f"messages.{i}.content.{j}.thinking.{key}: Field required"
                    )
            if not signer.verifies(str(block["thinking"]), str(block["signature"])):
                raise anthropic_error(
                    f"messages.{i}.content.{j}: Invalid `signature` in `thinking` block"
                )
        elif block.get("type") == "redacted_thinking":
            data = str(block.get("data", ""))
            if not data.startswith("redacted_") or not signer.verifies(
                data.removeprefix("redacted_").split(".")[0], data.split(".")[-1]
            ):
                raise anthropic_error(
                    f"messages.{i}.content.{j}: Invalid `data` in `redacted_thinking` block"
                )


def _check_bound(i: int, messages: list[Any], signer: Signer) -> None:
    for j, block in enumerate(blocks(messages[i])):
        if block.get("type") == "thinking" and not signer.bound_to(
            str(block.get("thinking")), str(block.get("signature")), messages[:i]
        ):
            raise anthropic_error(_BOUND_MISMATCH.format(i=i, j=j))


def _check_unmodified(
    i: int, latest: list[Mapping[str, Any]], sent: Mapping[str, list[dict[str, Any]]]
) -> None:
    ids = [b.get("id") for b in latest if b.get("type") == "tool_use"]
    original = sent.get(str(ids[0])) if ids else None
    if original is None:
        return
    fields = ("type", "thinking", "signature", "data")
    now = [{k: b.get(k) for k in fields} for b in latest if b.get("type") in THINKING]
    then = [{k: b.get(k) for k in fields} for b in original if b.get("type") in THINKING]
    for j, (a, b) in enumerate(zip(now, then, strict=False)):
        if a != b:
            raise anthropic_error(ANTHROPIC_MODIFIED.format(i=i, j=j))
    if len(now) != len(then):
        raise anthropic_error(ANTHROPIC_MODIFIED.format(i=i, j=min(len(now), len(then))))
