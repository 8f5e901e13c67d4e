"""The providers' error answers, with their exact status and body, each as the provider's
documentation or the public issue where users reported it quotes it."""

from __future__ import annotations

from typing import Any

DOCS = "https://docs.claude.com/en/docs/build-with-claude/extended-thinking"
ANTHROPIC_EXPECTED = (
    "messages.{i}.content.0.type: Expected `thinking` or `redacted_thinking`, but found "
    "`{found}`. When `thinking` is enabled, a final `assistant` message must start with a "
    "thinking block (preceeding the lastmost set of `tool_use` and `tool_result` blocks). We "
    "recommend you include thinking blocks from previous turns. To avoid this requirement, "
    f"disable `thinking`. Please consult our documentation at {DOCS}"
)
ANTHROPIC_MODIFIED = (
    "messages.{i}.content.{j}: `thinking` or `redacted_thinking` blocks in the latest "
    "assistant message cannot be modified. These blocks must remain as they were in the "
    "original response."
)
MUST_PASS_BACK = "The reasoning_content in the thinking mode must be passed back to the API."


class HTTPError(Exception):
    """A contract violation, answered with ``status`` and the provider's exact ``body``."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body


def anthropic_error(message: str) -> HTTPError:
    """Anthropic's 400 ``invalid_request_error``."""
    return HTTPError(
        400,
        {
            "type": "error",
            "error": {"type": "invalid_request_error", "message": message},
            "request_id": "req_emulator",
        },
    )


def openai_error(message: str, code: str = "invalid_request_error") -> HTTPError:
    """An OpenAI-style 400 (DeepSeek, Kimi)."""
    return HTTPError(
        400,
        {
            "error": {
                "message": message,
                "type": "invalid_request_error",
                "param": None,
                "code": code,
            }
        },
    )


def mimo_error() -> HTTPError:
    """MiMo's 400: the text is in ``param``, ``message`` is fixed."""
    return HTTPError(
        400,
        {
            "error": {
                "code": "400",
                "message": "Param Incorrect",
                "param": MUST_PASS_BACK,
                "type": "",
            }
        },
    )


def kimi_missing(i: int) -> HTTPError:
    """Kimi's 400 for a tool-call message without reasoning."""
    return openai_error(
        "thinking is enabled but reasoning_content is missing in "
        f"assistant tool call message at index {i}"
    )


def foreign_details(family: str, i: int) -> HTTPError:
    """A vendor's own host answering reasoning_details in OpenRouter's shape: Kimi's and
    MiniMax's exact texts (NousResearch/hermes-agent #108071; iOfficeAI/gemini-cli-pro PR #33)."""
    if family == "kimi":
        return openai_error(f"the reasoning_details at position {i} entry 0 has an invalid type")
    return HTTPError(
        400,
        {
            "type": "error",
            "error": {
                "type": "bad_request_error",
                "message": "invalid params, Mismatch type []*open_platform_oai.ReasoningDetail "
                "with value [{...}] (2013)",
                "http_code": "400",
            },
        },
    )


def gemini_missing(position: int, name: str) -> HTTPError:
    """Gemini's missing-signature error, exactly: a JSON *array*
    (https://ai.google.dev/gemini-api/docs/thought-signatures)."""
    message = (
        "Function call is missing a thought_signature in functionCall parts. This is required "
        "for tools to work correctly, and missing thought_signature may lead to degraded model "
        f"performance. Additional data, function call `default_api:{name}` , position "
        f"{position}. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures "
        "for more details."
    )
    return HTTPError(
        400, [{"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}}]
    )


def gemini_corrupted() -> HTTPError:
    """Gemini's 400 for a signature it cannot decode (google-gemini/gemini-cli #13467)."""
    return HTTPError(
        400,
        {
            "error": {
                "code": 400,
                "message": "Corrupted thought signature.",
                "status": "INVALID_ARGUMENT",
            }
        },
    )


def gemini_invalid() -> HTTPError:
    """A thought signature the model did not make (Vertex's words,
    https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/gemini)."""
    return HTTPError(
        400,
        {
            "error": {
                "code": 400,
                "message": "Unable to submit request because Thought signature is not valid.. "
                "Learn more: https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference"
                "/gemini",
                "status": "INVALID_ARGUMENT",
                "details": [{"reason": "badRequest"}],
            }
        },
    )


def responses_error(message: str, status: int = 400, code: str | None = None) -> HTTPError:
    """An OpenAI Responses API error body."""
    param = None if code else "input"
    return HTTPError(
        status,
        {
            "error": {
                "message": message,
                "type": "invalid_request_error",
                "param": param,
                "code": code,
            }
        },
    )


def item_not_found(item_id: str) -> HTTPError:
    """The 404 for an item referenced by id that was never persisted
    (https://github.com/openai/openai-agents-js/issues/546)."""
    return responses_error(
        f"Item with id '{item_id}' not found. Items are not persisted when `store` is set to "
        "false. Try again with `store` set to true, or remove this item from your input.",
        404,
    )
