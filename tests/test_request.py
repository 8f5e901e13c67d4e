"""Request and the one walk over its body: bad input raises InvalidRequest naming the path."""

from __future__ import annotations

from typing import Any

import pytest

from agent import (
    InvalidRequest,
    Pipeline,
    Request,
)
from agent.middleware import ThinkingRoundTrip, ToolPairing
from tests.builders import (
    CU,
    SECRET,
    A,
    U,
    chat_body,
)

AM = "anthropic_messages"
CH = "chat_completions"


class TestBadInput:
    @pytest.mark.parametrize(
        ("body", "path"),
        [
            ({"model": "claude-opus-4-6"}, "messages"),
            ({"model": "claude-opus-4-6", "messages": {}}, "messages"),
            ({"model": 7, "messages": []}, "model"),
            ({"model": "m", "messages": [U(), "hello"]}, "messages[1]"),
            ({"model": "m", "messages": [{"content": "x"}]}, "messages[0].role"),
            (
                {"model": "m", "messages": [U(), {"role": "assistant", "content": 5}]},
                "messages[1].content",
            ),
            ({"model": "m", "messages": [U(), A("block")]}, "messages[1].content[0]"),  # type: ignore[arg-type]
            ({"model": "m", "messages": [U(), A({"type": 3})]}, "messages[1].content[0].type"),
            (
                {"model": "claude-opus-4-6", "messages": [U(), A({"type": "thinking"})]},
                "messages[1].content[0].thinking",
            ),
            (
                {"model": "mimo-v2", "messages": [U(), A({"type": "thinking", "thinking": None})]},
                "messages[1].content[0].thinking",
            ),
            (
                {
                    "model": "claude-opus-4-6",
                    "messages": [U(), A({"type": "thinking", "thinking": "x", "signature": 5})],
                },
                "messages[1].content[0].signature",
            ),
            (
                {"model": "m", "messages": [{"role": "user", "content": [7]}]},
                "messages[0].content[0]",
            ),
        ],
        ids=[
            "no-messages",
            "messages-not-list",
            "model-not-string",
            "message-not-object",
            "no-role",
            "content-not-list-or-string",
            "block-not-object",
            "type-not-string",
            "thinking-missing",
            "thinking-null",
            "signature-not-string",
            "user-block-not-object",
        ],
    )
    def test_anthropic_paths(self, body: dict[str, Any], path: str) -> None:
        """A malformed Anthropic body raises InvalidRequest naming the JSON path."""
        with pytest.raises(InvalidRequest) as info:
            Pipeline([ToolPairing(), ThinkingRoundTrip()])(Request(api=AM, body=body))

        assert path == info.value.path
        assert str(info.value).startswith(f"{path}: ")

    @pytest.mark.parametrize(
        ("message", "path"),
        [
            ({"role": "assistant", "reasoning_content": 5}, "messages[1].reasoning_content"),
            (
                {"role": "assistant", "reasoning_content": "x", "tool_calls": {}},
                "messages[1].tool_calls",
            ),
        ],
        ids=["reasoning-not-string", "tool-calls-not-list"],
    )
    def test_chat_paths(self, message: dict[str, Any], path: str) -> None:
        """A malformed chat body raises InvalidRequest naming the JSON path."""
        body = chat_body("deepseek-v4-flash", CU(), message)
        with pytest.raises(InvalidRequest) as info:
            Pipeline([ThinkingRoundTrip()])(Request(api=CH, body=body))

        assert path == info.value.path

    def test_request_fields(self) -> None:
        """A bad wire name or body is the library's own error, not a bare TypeError."""
        with pytest.raises(InvalidRequest, match="api: expected one of"):
            Request(api="completions", body={})
        with pytest.raises(InvalidRequest, match="body must be a JSON object"):
            Request(api=AM, body=[])  # type: ignore[arg-type]


SECRET_OBJECT = {"api_key": SECRET}


def _assistant(*blocks: dict[str, Any], model: str = "claude-opus-4-6") -> dict[str, Any]:
    return {"model": model, "messages": [U(), A(*blocks)]}


def _chat(**fields: Any) -> dict[str, Any]:
    return chat_body("deepseek-v4-pro", CU(), {"role": "assistant", **fields})


#: a secret-bearing value of the wrong type in each body field, and the error it must get
WRONG_TYPED: dict[str, tuple[str, dict[str, Any], str]] = {
    "model": (
        AM,
        {"model": SECRET_OBJECT, "messages": []},
        "model: expected the model id as a string, got an object",
    ),
    "role": (
        AM,
        {"model": "m", "messages": [{"role": [SECRET], "content": "x"}]},
        "messages[0].role: expected a string, got a list",
    ),
    "content": (
        AM,
        {"model": "m", "messages": [U(), {"role": "assistant", "content": SECRET_OBJECT}]},
        "messages[1].content: expected a string or a list of blocks, got an object",
    ),
    "block-type": (
        AM,
        _assistant({"type": SECRET_OBJECT}),
        "messages[1].content[0].type: expected a string, got an object",
    ),
    "thinking": (
        AM,
        _assistant({"type": "thinking", "thinking": SECRET_OBJECT}),
        "messages[1].content[0].thinking: expected the thinking text, got an object",
    ),
    "signature": (
        AM,
        _assistant({"type": "thinking", "thinking": "t", "signature": [SECRET]}),
        "messages[1].content[0].signature: expected a string, got a list",
    ),
    "tool-calls": (
        CH,
        _chat(tool_calls=SECRET),
        "messages[1].tool_calls: expected a list, got a string",
    ),
    "reasoning-content": (
        CH,
        _chat(reasoning_content=SECRET_OBJECT),
        "messages[1].reasoning_content: expected a string, got an object",
    ),
}


class TestValuesAreNeverShown:
    @pytest.mark.parametrize(
        ("api", "body", "error"), list(WRONG_TYPED.values()), ids=list(WRONG_TYPED)
    )
    def test_path_and_type_only(self, api: str, body: dict[str, Any], error: str) -> None:
        """A wrong-typed body value (a body may hold keys) is named by its JSON path and the
        type found, never by the value or an excerpt of it."""
        with pytest.raises(InvalidRequest) as info:
            Pipeline([ToolPairing(), ThinkingRoundTrip()])(Request(api=api, body=body))

        assert error == str(info.value)
        assert SECRET not in repr(info.value)


class TestBaseUrl:
    def test_unparseable_base_url_is_named(self) -> None:
        """A base URL that cannot be parsed raises InvalidRequest naming base_url."""
        request = Request(
            api="anthropic_messages", base_url="http://[::1", body={"model": "m", "messages": []}
        )

        with pytest.raises(InvalidRequest) as info:
            Pipeline([ThinkingRoundTrip()])(request)

        assert "base_url" == info.value.path


class TestFields:
    @pytest.mark.parametrize(
        ("fields", "path"),
        [
            ({"family": 5}, "family"),
            ({"dead_signatures": 5}, "dead_signatures"),
            ({"dead_signatures": [["unhashable"]]}, "dead_signatures"),
            ({"base_url": 7}, "base_url"),
        ],
        ids=["family-not-a-name", "dead-not-a-set", "dead-unhashable", "base-url-not-text"],
    )
    def test_bad_fields_are_named(self, fields: dict[str, Any], path: str) -> None:
        """A bad Request field raises InvalidRequest naming it, never a raw TypeError."""
        with pytest.raises(InvalidRequest) as info:
            Request(api="anthropic_messages", body={"model": "m", "messages": []}, **fields)

        assert path == info.value.path

    def test_messages_are_bounded(self) -> None:
        """A huge or deeply nested bad value is shown as a short prefix, not in full."""
        deep: Any = "x" * 100_000
        for _ in range(10_000):
            deep = [deep]
        body = {"model": "m", "messages": [{"role": deep, "content": "x"}]}

        with pytest.raises(InvalidRequest) as info:
            Pipeline([ToolPairing()])(Request(api="anthropic_messages", body=body))

        assert len(str(info.value)) < 200

    @pytest.mark.parametrize(
        ("result_id", "kept"),
        [(["x"], 3), (["y"], 1)],
        ids=["same-unhashable-id", "different-unhashable-ids"],
    )
    def test_unhashable_tool_ids(self, result_id: Any, kept: int) -> None:
        """Tool ids that are not strings raise no TypeError: equal ones pass as sent (the
        provider judges them), different ones are orphans and removed."""
        use = {"type": "tool_use", "id": ["x"], "name": "run", "input": {}}
        result = {"type": "tool_result", "tool_use_id": result_id, "content": "ok"}
        messages = [
            U(),
            {"role": "assistant", "content": [use]},
            {"role": "user", "content": [result]},
        ]
        body = {"model": "claude-opus-4-6", "messages": messages}

        out = Pipeline([ToolPairing()])(Request(api="anthropic_messages", body=body))

        assert kept == len(out.body["messages"])
