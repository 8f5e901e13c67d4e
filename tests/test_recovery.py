"""Classifying providers' thinking errors (exact bodies from shared/providers.md) and the one
corrected retry."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agent import Pipeline, Request
from agent.middleware import ThinkingRoundTrip
from agent.recovery import classify
from tests.builders import CA, CT, CU, RELAY, A, T, U, anthropic_body, chat_body, th_s, th_u, tu


def anthropic_error(message: str) -> dict[str, Any]:
    return {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": message},
        "request_id": "req_011C",
    }


MIMO_ERROR = {
    "error": {
        "code": "400",
        "message": "Param Incorrect",
        "param": "The reasoning_content in the thinking mode must be passed back to the API.",
        "type": "",
    }
}
VERTEX = {
    "error": {
        "code": 400,
        "status": "INVALID_ARGUMENT",
        "message": json.dumps(
            anthropic_error("messages.1.content.0: Invalid `signature` in `thinking` block")
        ),
    }
}


MIMO_TEXT = json.dumps(MIMO_ERROR)
#: Gemini's missing-signature error, exactly (a JSON array; shared/wild.md §4).
GEMINI_MISSING = [
    {
        "error": {
            "code": 400,
            "message": "Function call is missing a thought_signature in functionCall parts. This "
            "is required for tools to work correctly, and missing thought_signature may lead to "
            "degraded model performance. Additional data, function call `default_api:run` , "
            "position 2. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures "
            "for more details.",
            "status": "INVALID_ARGUMENT",
        }
    }
]
#: Provider errors as relays and aggregators deliver them (shared/wild.md §1, §4).
WRAPPED = {
    "litellm-mimo": (
        400,
        {
            "type": "error",
            "error": {
                "message": f"litellm.BadRequestError: AnthropicException - {MIMO_TEXT}\n\n"
                "LiteLLM: model group mimo-v2.5-pro",
            },
        },
        ("must_pass_back", "mimo", None),
    ),
    "ccr-mimo": (
        500,
        {
            "error": {
                "message": "Error from provider(mimo,mimo-v2.5-pro: 400): "
                f"{MIMO_TEXT}Error: Error from provider\n    at qn (/usr/lib/cli.js:582:7451)"
            }
        },
        ("must_pass_back", "mimo", None),
    ),
    "openrouter-deepseek": (
        400,
        {
            "error": {
                "message": "Provider returned error",
                "code": 400,
                "metadata": {
                    "raw": '{"error":{"message":"The `reasoning_content` in the thinking mode '
                    'must be passed back to the API.","type":"invalid_request_error"}}'
                },
            }
        },
        ("must_pass_back", "deepseek", None),
    ),
    "mimo-raw-text": (400, f"data:{MIMO_TEXT}", ("must_pass_back", "mimo", None)),
    "gemini-array": (400, GEMINI_MISSING, ("must_pass_back", "gemini", None)),
    "openrouter-gemini": (
        400,
        {
            "error": {
                "message": "Provider returned error",
                "code": 400,
                "metadata": {
                    "raw": "Gemini models require OpenRouter reasoning details to be preserved "
                    "in each request. Please refer to our docs: https://openrouter.ai/docs",
                    "provider_name": "Google",
                },
            }
        },
        ("must_pass_back", "gemini", None),
    ),
    "openrouter-gemini-upstream": (
        400,
        {
            "error": {
                "message": "Provider returned error",
                "code": 400,
                "metadata": {"raw": json.dumps(GEMINI_MISSING), "provider_name": "Google"},
            }
        },
        ("must_pass_back", "gemini", None),
    ),
    "vertex-invalid-signature": (
        400,
        {
            "error": {
                "code": 400,
                "message": "Unable to submit request because Thought signature is not valid.. "
                "Learn more: https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference"
                "/gemini",
                "status": "INVALID_ARGUMENT",
            }
        },
        ("invalid_signature", None, None),
    ),
    "siliconflow-kimi": (
        400,
        {
            "code": 20015,
            "message": "thinking is enabled but reasoning_content is missing in assistant tool "
            "call message at index 32",
            "data": None,
        },
        ("must_pass_back", "kimi", None),
    ),
    "cerebras": (
        400,
        {
            "message": "messages.4.assistant.reasoning_content: property "
            "'reasoning_content' is unsupported",
            "type": "invalid_request_error",
        },
        ("unknown_field", None, "reasoning_content"),
    ),
    "groq": (
        400,
        {
            "error": {
                "message": "'messages.2' : for 'role:assistant' the following must be satisfied"
                "[('messages.2' : property 'reasoning' is unsupported, did you mean 'role'?)]",
                "type": "invalid_request_error",
            }
        },
        ("unknown_field", None, "reasoning"),
    ),
    "mistral-422": (
        422,
        {
            "detail": [
                {
                    "type": "extra_forbidden",
                    "loc": ["body", "messages", 3, "assistant", "reasoning_content"],
                    "msg": "Extra inputs are not permitted",
                    "input": "x",
                }
            ]
        },
        ("unknown_field", None, "reasoning_content"),
    ),
}


class TestClassify:
    @pytest.mark.parametrize(
        ("status", "body", "expected"), list(WRAPPED.values()), ids=list(WRAPPED)
    )
    def test_wrapped_errors(self, status: int, body: Any, expected: tuple[Any, ...]) -> None:
        """The provider's own error is found inside any relay's wrapper and attributed by its
        own wording (MiMo's Param Incorrect is not DeepSeek's)."""
        error = classify(status, body)

        assert error is not None
        assert expected == (error.kind, error.family, error.field)

    def test_self_referencing_body(self) -> None:
        """A body that refers to itself is read without recursion errors."""
        body: dict[str, Any] = {"error": {"message": "nothing here"}}
        body["error"]["self"] = body

        assert classify(400, body) is None

    @pytest.mark.parametrize(
        ("body", "expected"),
        [
            (
                anthropic_error("messages.1.content.0: Invalid `signature` in `thinking` block"),
                ("invalid_signature", 1, 0, None),
            ),
            (
                anthropic_error(
                    "messages.5.content.48: Invalid `data` in `redacted_thinking` block"
                ),
                ("invalid_signature", 5, 48, None),
            ),
            (
                anthropic_error(
                    "messages.11.content.11: `thinking` or `redacted_thinking` blocks "
                    "in the latest assistant message cannot be modified. These blocks "
                    "must remain as they were in the original response."
                ),
                ("modified", 11, 11, None),
            ),
            (
                anthropic_error(
                    "messages.17.content.0.type: Expected `thinking` or "
                    "`redacted_thinking`, but found `tool_use`. When `thinking` is "
                    "enabled, a final `assistant` message must start with a thinking "
                    "block"
                ),
                ("expected_thinking", 17, 0, None),
            ),
            (
                MIMO_ERROR,
                ("must_pass_back", None, None, "mimo"),
            ),
            (
                {
                    "error": {
                        "message": "The `reasoning_content` in the thinking mode must be passed "
                        "back to the API.",
                        "type": "invalid_request_error",
                        "param": None,
                        "code": "invalid_request_error",
                    }
                },
                ("must_pass_back", None, None, "deepseek"),
            ),
            (
                {
                    "error": {
                        "message": "thinking is enabled but reasoning_content is missing in "
                        "assistant tool call message at index 2",
                        "type": "invalid_request_error",
                    }
                },
                ("must_pass_back", 2, None, "kimi"),
            ),
            (
                {
                    "error": {
                        "message": "Missing `reasoning_content` field in the assistant message "
                        "at message index 2. For more information, please refer to https://"
                        "api-docs.deepseek.com/guides/thinking_mode#tool-calls"
                    }
                },
                ("must_pass_back", 2, None, "deepseek"),
            ),
            (VERTEX, ("invalid_signature", 1, 0, None)),
        ],
        ids=[
            "anthropic-signature",
            "anthropic-redacted-data",
            "anthropic-modified",
            "anthropic-expected-thinking",
            "mimo",
            "deepseek-v4",
            "kimi",
            "deepseek-v3",
            "vertex-wrapped",
        ],
    )
    def test_thinking_errors(self, body: Any, expected: tuple[Any, ...]) -> None:
        """Each provider's exact thinking error is recognised, with where and whose."""
        error = classify(400, body)

        assert error is not None
        assert expected == (error.kind, error.message, error.block, error.family)

    @pytest.mark.parametrize(
        ("status", "body"),
        [
            (400, anthropic_error("max_tokens: Field required")),
            (400, {"error": {"message": "invalid temperature: only 1 is allowed for this model"}}),
            (429, anthropic_error("messages.1.content.0: Invalid `signature` in `thinking` block")),
            (400, "not json at all"),
            (400, None),
        ],
        ids=["anthropic-other-400", "openai-other-400", "rate-limited", "not-json", "no-body"],
    )
    def test_other_errors(self, status: int, body: Any) -> None:
        """Other errors, and other statuses, are not ours to retry."""
        assert classify(status, body) is None


class TestRecover:
    def test_rejected_signature_is_remembered(self) -> None:
        """After an invalid-signature 400 the block is not sent again, on this or later calls."""
        pipe = Pipeline([ThinkingRoundTrip()])
        request = Request(
            api="anthropic_messages",
            body=anthropic_body("claude-opus-4-6", U(), A(th_s("p", "forged"), tu("c1")), T("c1")),
        )
        sent = pipe(request)

        retry = pipe.recover(
            request,
            sent,
            400,
            anthropic_error("messages.1.content.0: Invalid `signature` in `thinking` block"),
        )

        assert retry is not None
        assert [tu("c1")] == retry.body["messages"][1]["content"]
        assert [tu("c1")] == pipe(request).body["messages"][1]["content"]

    def test_must_pass_back_retries_as_that_family(self) -> None:
        """An unknown model gets what the agent sent; when its provider answers in MiMo's
        words, the retry is MiMo's (here: the pad, as nothing was ever observed)."""
        pipe = Pipeline([ThinkingRoundTrip()])
        request = Request(
            api="anthropic_messages",
            base_url=RELAY,
            body=anthropic_body("house-model", U(), A(tu("c1")), T("c1")),
        )
        sent = pipe(request)
        retry = pipe.recover(request, sent, 400, MIMO_ERROR)

        assert sent is request
        assert retry is not None
        assert "mimo" == retry.family
        assert [th_u(" ", ""), tu("c1")] == retry.body["messages"][1]["content"]

    def test_learning_keeps_the_real_reasoning(self) -> None:
        """Turns observed before the family was learned are the same target's own: the retry
        sends their real reasoning, not a pad."""
        pipe = Pipeline([ThinkingRoundTrip()])
        first = Request(
            api="anthropic_messages", base_url=RELAY, body=anthropic_body("house-model", U())
        )
        pipe.observe(first, {"type": "message", "content": [th_u("plan", ""), tu("c1")]})
        request = Request(
            api="anthropic_messages",
            base_url=RELAY,
            body=anthropic_body("house-model", U(), A(tu("c1")), T("c1")),
        )

        retry = pipe.recover(request, pipe(request), 400, MIMO_ERROR)

        assert retry is not None
        assert [th_u("plan", ""), tu("c1")] == retry.body["messages"][1]["content"]

    def test_chat_wire(self) -> None:
        """The same for an agent that builds chat payloads itself: the reasoning observed from
        the unknown target comes back on the retry as DeepSeek's."""
        pipe = Pipeline([ThinkingRoundTrip()])
        base_url = "https://llm.example.com/v1"
        first = Request(api="chat_completions", base_url=base_url, body=chat_body("house-model"))
        pipe.observe(first, {"choices": [{"message": CA("plan", "c1")}]})
        lost = {k: v for k, v in CA("plan", "c1").items() if k != "reasoning_content"}
        request = Request(
            api="chat_completions",
            base_url=base_url,
            body=chat_body("house-model", CU(), lost, CT("c1")),
        )
        sent = pipe(request)
        deepseek = {
            "error": {
                "message": "The `reasoning_content` in the thinking mode must be "
                "passed back to the API.",
                "type": "invalid_request_error",
            }
        }

        retry = pipe.recover(request, sent, 400, deepseek)

        assert sent is request
        assert retry is not None
        assert "plan" == retry.body["messages"][1]["reasoning_content"]

    def test_unknown_field_leaves_out_that_field(self) -> None:
        """A strict server's error naming a field teaches: leave out that field alone (the
        host is not reclassified as strict); one retry."""
        pipe = Pipeline([ThinkingRoundTrip()])
        message = {**CA("plan", "c1"), "reasoning_details": [{"type": "reasoning.text"}]}
        request = Request(
            api="chat_completions",
            base_url="https://llm.example.com/v1",
            body=chat_body("house-model", CU(), message, CT("c1")),
        )
        fireworks = {
            "error": {
                "object": "error",
                "type": "invalid_request_error",
                "message": "Extra inputs are not permitted, field: 'messages[1].reasoning_details'",
            }
        }

        retry = pipe.recover(request, pipe(request), 400, fireworks)

        assert retry is not None
        assert None is retry.family
        assert "plan" == retry.body["messages"][1]["reasoning_content"]
        assert "reasoning_details" not in retry.body["messages"][1]

    def test_the_host_keeps_the_lesson(self) -> None:
        """After one such error, later calls to the same host leave the field out up front;
        another host still gets it."""
        pipe = Pipeline([ThinkingRoundTrip()])
        message = {**CA("plan", "c1"), "reasoning_details": [{"type": "reasoning.text"}]}
        body = chat_body("house-model", CU(), message, CT("c1"))
        request = Request(api="chat_completions", base_url="https://llm.example.com/v1", body=body)
        error = {
            "message": "messages.1.assistant.reasoning_details: property "
            "'reasoning_details' is unsupported"
        }
        pipe.recover(request, pipe(request), 400, error)

        later = pipe(request)
        elsewhere = pipe(Request(api="chat_completions", base_url="https://b.example", body=body))

        assert "reasoning_details" not in later.body["messages"][1]
        assert "plan" == later.body["messages"][1]["reasoning_content"]
        assert elsewhere.body is body

    @pytest.mark.parametrize(
        "body",
        [
            anthropic_error("max_tokens: Field required"),
            MIMO_ERROR,
        ],
        ids=["other-400", "mimo-already-mimo"],
    )
    def test_nothing_to_learn(self, body: Any) -> None:
        """No retry for other errors, nor when the family was already the one that spoke."""
        pipe = Pipeline([ThinkingRoundTrip()])
        request = Request(
            api="anthropic_messages",
            base_url=RELAY,
            body=anthropic_body("mimo-v2.5-pro", U(), A(th_u("plan", ""), tu("c1")), T("c1")),
        )

        assert pipe.recover(request, pipe(request), 400, body) is None
