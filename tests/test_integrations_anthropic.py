"""The anthropic SDK adapter's promises, checked without a socket."""

from __future__ import annotations

from typing import Any

import anthropic
import httpx2
import pytest
from anthropic._models import FinalRequestOptions
from anthropic._request import APIRequest
from anthropic._response import APIResponse

from agent import Pipeline
from agent.integrations.anthropic import PipelineMiddleware
from agent.middleware import ThinkingRoundTrip, ToolPairing
from tests.builders import RELAY, A, T, U, anthropic_body, tu


def api_request(url: str, body: Any, method: str = "post") -> APIRequest:
    options = FinalRequestOptions.construct(method=method, url=url, json_data=body)
    return APIRequest(options=options, cast_to=anthropic.types.Message)


def answer(request: APIRequest, status: int, body: Any) -> APIResponse[Any]:
    """The SDK's response to ``request``: ``status`` with the JSON ``body``."""
    raw = httpx2.Response(status, json=body, request=httpx2.Request("POST", "http://x"))
    return APIResponse(
        raw=raw,
        cast_to=anthropic.types.Message,
        client=None,  # type: ignore[arg-type]
        stream=False,
        stream_cls=None,
        options=request.options,
        retries_taken=0,
    )


def capture(seen: list[APIRequest]) -> Any:
    """A call_next that records each request and answers 500."""

    def call_next(request: APIRequest) -> APIResponse[Any]:
        seen.append(request)
        return answer(request, 500, {})

    return call_next


class TestPipelineMiddleware:
    def test_body_not_deep_copied(self) -> None:
        """The rewritten request shares every message the pipeline did not change."""
        body = anthropic_body("mimo-v2.5-pro", U(), A(tu("c1")), T("c1"))
        seen: list[APIRequest] = []
        middleware = PipelineMiddleware(
            Pipeline([ToolPairing(), ThinkingRoundTrip()]), base_url=RELAY
        )

        middleware.handle(api_request("/v1/messages", body), capture(seen))

        sent = seen[0].json
        assert isinstance(sent, dict)
        assert sent is not body
        assert sent["messages"][0] is body["messages"][0]
        assert sent["messages"][2] is body["messages"][2]
        assert sent["messages"][1]["content"][1] is body["messages"][1]["content"][0]
        assert sent["tools"] is body["tools"]
        assert [tu("c1")] == body["messages"][1]["content"]  # the input is untouched

    def test_unchanged_request_passes_as_is(self) -> None:
        """When the pipeline has nothing to do, the SDK's own request object goes on."""
        body = anthropic_body("claude-opus-4-6", U())
        request = api_request("/v1/messages", body)
        seen: list[APIRequest] = []

        PipelineMiddleware(Pipeline([ThinkingRoundTrip()])).handle(request, capture(seen))

        assert [request] == seen

    @pytest.mark.parametrize(
        ("url", "method"),
        [
            ("/v1/models", "get"),
            ("/v1/messages/count_tokens", "post"),
            ("/v1/messages/batches", "post"),
        ],
        ids=["models-list", "count-tokens", "batches"],
    )
    def test_other_requests_untouched(self, url: str, method: str) -> None:
        """Requests other than POST /v1/messages are passed through, not parsed."""
        request = api_request(url, {"model": 5, "messages": "not even valid"}, method)
        seen: list[APIRequest] = []

        PipelineMiddleware(Pipeline([ThinkingRoundTrip()])).handle(request, capture(seen))

        assert [request] == seen

    @pytest.mark.parametrize(
        "body",
        [
            {"model": 5, "messages": []},
            {"model": "claude-opus-4-6", "messages": "text"},
            {"model": "claude-opus-4-6", "messages": [{"role": "user", "content": [{"x": 1}]}]},
        ],
        ids=["model-a-number", "messages-text", "block-without-type"],
    )
    def test_unreadable_body_goes_as_written(
        self, body: Any, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A Messages body the pipeline cannot read is sent as the agent wrote it (the
        provider answers it, not a library exception), with a warning naming the path."""
        request = api_request("/v1/messages", body)
        seen: list[APIRequest] = []

        PipelineMiddleware(Pipeline([ThinkingRoundTrip()])).handle(request, capture(seen))

        assert [request] == seen
        assert "sent as is" in caplog.text


def answering(reply: Any) -> Any:
    """A call_next that answers ``reply`` with 200."""
    return lambda request: answer(request, 200, reply)


class TestObservingAnswers:
    @pytest.mark.parametrize(
        ("content", "parsed", "kept"),
        [
            ([{"type": "text", "text": "done"}], 0, 0),
            ([{"type": "thinking", "thinking": "t", "signature": "s"}, tu("toolu_1")], 1, 1),
        ],
        ids=["no-thinking-not-parsed", "thinking-observed"],
    )
    def test_only_answers_with_thinking_are_parsed(
        self, monkeypatch: pytest.MonkeyPatch, content: Any, parsed: int, kept: int
    ) -> None:
        """An answer without a thinking block costs a substring search, not a parse: there
        is nothing in it for the store."""
        from agent.inputs import read_bytes
        from agent.store import MemoryStore

        calls: list[bytes] = []

        def counting(raw: bytes) -> Any:
            calls.append(raw)
            return read_bytes(raw)

        monkeypatch.setattr("agent.integrations.anthropic.read_bytes", counting)
        store = MemoryStore()
        pipeline = Pipeline([ToolPairing(), ThinkingRoundTrip(store=store)])
        middleware = PipelineMiddleware(pipeline, base_url=RELAY)
        reply = {"type": "message", "role": "assistant", "content": content}

        middleware.handle(
            api_request("/v1/messages", anthropic_body("claude-opus-4-6", U("go"))),
            answering(reply),
        )

        assert (parsed, kept) == (len(calls), len(store))
