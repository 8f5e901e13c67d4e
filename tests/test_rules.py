"""The rules the README promises that no other test would miss if they broke: each test here
fails when its rule is broken in one line (``bench/mutants.py`` breaks each and runs these)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agent import Pipeline, Request, load_config
from agent.middleware import ThinkingRoundTrip, ToolPairing
from tests.builders import (
    CA,
    CT,
    CU,
    RELAY,
    A,
    T,
    U,
    anthropic_body,
    chat_body,
    claude,
    text,
    th_s,
    th_u,
    tu,
)

AM = "anthropic_messages"
CH = "chat_completions"
OPENROUTER = "https://openrouter.ai/api/v1"
COPILOT = "https://api.githubcopilot.com"


def _claude_restored(observed: list[dict[str, Any]], *turn: dict[str, Any]) -> Any:
    """The assistant turn Claude gets after ``observed`` was its answer and the agent kept
    ``turn`` of it (with the results of its tool calls)."""
    pipe = Pipeline([ThinkingRoundTrip()])
    pipe.observe(claude(U()), {"type": "message", "content": observed})
    ids = [b["id"] for b in turn if b["type"] == "tool_use"]
    return pipe(claude(U(), A(*turn), T(*ids))).body["messages"][1]["content"]


def _mimo_restored(observed: Sequence[str], kept: Sequence[str]) -> Any:
    """MiMo on the Anthropic wire: the turn sent after a turn with tool calls ``observed``
    (and its reasoning) was kept by the agent as tool calls ``kept`` alone."""
    pipe = Pipeline([ThinkingRoundTrip()])
    first = Request(api=AM, base_url=RELAY, body=anthropic_body("mimo-v2.5-pro", U()))
    pipe.observe(first, {"type": "message", "content": [th_u("plan", ""), *map(tu, observed)]})
    body = anthropic_body("mimo-v2.5-pro", U(), A(*map(tu, kept)), T(*kept))
    return pipe(Request(api=AM, base_url=RELAY, body=body)).body["messages"][1]["content"]


def _chat_restored(
    model: str, base_url: str | None, answer: dict[str, Any], kept: Sequence[str]
) -> dict[str, Any]:
    """The chat message sent after ``answer`` was observed and the agent kept only its tool
    calls ``kept``, without any reasoning."""
    pipe = Pipeline([ThinkingRoundTrip()])
    first = Request(api=CH, base_url=base_url, body=chat_body(model, CU()))
    pipe.observe(first, {"choices": [{"message": answer}]})
    body = chat_body(model, CU(), CA(None, *kept), *map(CT, kept))
    out = pipe(Request(api=CH, base_url=base_url, body=body)).body["messages"][1]
    assert isinstance(out, dict)
    return out


class TestRestoreLinesUp:
    def test_a_signed_turn_is_restored_only_with_the_observed_tool_ids(self) -> None:
        """Claude's signed thinking goes back into the turn it was observed in (same tool
        calls, in order), never into a reshaped one, where its signature no longer verifies."""
        observed = [th_s("a", "s-a"), tu("c1"), tu("c2")]

        same = _claude_restored(observed, tu("c1"), tu("c2"))
        reshaped = _claude_restored(observed, tu("c1"), tu("c3"))

        assert observed == same
        assert [tu("c1"), tu("c3")] == reshaped

    def test_a_restored_claude_turn_starts_with_thinking(self) -> None:
        """A turn observed as [text, thinking, tool_use] is not put back: Claude wants a turn
        with thinking to start with it."""
        observed = [text("x"), th_s("a", "s-a"), tu("c1")]

        assert [text("x"), tu("c1")] == _claude_restored(observed, text("x"), tu("c1"))

    def test_unsigned_reasoning_is_restored_only_into_the_observed_tool_calls(self) -> None:
        """MiMo's reasoning comes back to a turn whose tool calls are all the observed turn's
        (some may be left out); a turn with another call gets the pad instead."""
        restored = _mimo_restored(["c1", "c2"], ["c1"])
        other = _mimo_restored(["c1"], ["c1", "c9"])

        assert [th_u("plan", ""), tu("c1")] == restored
        assert [th_u(" ", ""), tu("c1"), tu("c9")] == other

    def test_chat_reasoning_is_restored_only_into_the_observed_tool_calls(self) -> None:
        """DeepSeek's reasoning_content comes back by tool call id to a message whose calls
        are the observed turn's; a message with another call gets the pad instead."""
        answer = CA("plan", "c1")

        restored = _chat_restored("deepseek-v4-pro", None, answer, ["c1"])
        other = _chat_restored("deepseek-v4-pro", None, answer, ["c1", "c9"])

        assert "plan" == restored["reasoning_content"]
        assert " " == other["reasoning_content"]

    def test_openrouter_details_are_restored_only_into_the_same_tool_calls(self) -> None:
        """OpenRouter's reasoning_details are bound to the whole sequence of the model's
        output: restored to a message with exactly the observed tool calls, never to one
        that lost some of them."""
        details = [{"type": "reasoning.encrypted", "data": "d1", "id": "c1"}]
        answer = {**CA(None, "c1", "c2"), "reasoning_details": details}
        model = "google/gemini-3-pro"

        same = _chat_restored(model, OPENROUTER, answer, ["c1", "c2"])
        fewer = _chat_restored(model, OPENROUTER, answer, ["c1"])

        assert details == same["reasoning_details"]
        assert "reasoning_details" not in fewer

    def test_a_copilot_pair_is_restored_only_into_the_same_tool_calls(self) -> None:
        """Copilot's reasoning_text + reasoning_opaque go back whole, to a message with
        exactly the observed tool calls."""
        answer = {**CA(None, "c1", "c2"), "reasoning_text": "plan", "reasoning_opaque": "op"}

        same = _chat_restored("claude-sonnet-5", COPILOT, answer, ["c1", "c2"])
        fewer = _chat_restored("claude-sonnet-5", COPILOT, answer, ["c1"])

        assert ("plan", "op") == (same["reasoning_text"], same["reasoning_opaque"])
        assert {"reasoning_text", "reasoning_opaque"}.isdisjoint(fewer)


class TestPadOnToolCalls:
    def test_deepseek_pads_an_earlier_tool_call_turn_anthropic_wire(self) -> None:
        """DeepSeek wants reasoning on every tool-call turn, not only in the active loop: a
        finished turn's tool call without thinking gets the pad " "."""
        body = anthropic_body(
            "deepseek-v4-pro", U(), A(tu("c1")), T("c1"), A(text("done")), U("next"), A(text("ok"))
        )
        request = Request(api=AM, base_url="https://api.deepseek.com/anthropic", body=body)

        out = Pipeline([ThinkingRoundTrip()])(request)

        assert [th_u(" "), tu("c1")] == out.body["messages"][1]["content"]

    def test_deepseek_pads_an_earlier_tool_call_message_chat_wire(self) -> None:
        """The same on the chat wire: reasoning_content " " on a finished turn's tool call."""
        body = chat_body(
            "deepseek-v4-pro", CU(), CA(None, "c1"), CT("c1"), CA(content="done"), CU("next")
        )

        out = Pipeline([ThinkingRoundTrip()])(Request(api=CH, body=body))

        assert " " == out.body["messages"][1]["reasoning_content"]


class TestNoReasoningWhereNoneIsTaken:
    def test_empty_thinking_becomes_the_pad_where_the_family_rejects_it(self) -> None:
        """MiMo rejects an empty reasoning text: an empty unsigned thinking block goes as the
        pad " " (with the signature "" MiMo takes)."""
        body = anthropic_body("mimo-v2.5-pro", U(), A(th_u(""), tu("c1")), T("c1"))

        out = Pipeline([ThinkingRoundTrip()])(Request(api=AM, base_url=RELAY, body=body))

        assert [th_u(" ", ""), tu("c1")] == out.body["messages"][1]["content"]

    def test_a_family_that_takes_no_reasoning_field_gets_none(self) -> None:
        """Claude's OpenAI-compatible layer (the anthropic family on the chat wire) takes no
        reasoning_content, whatever the host: it is removed, also on a host no dialect
        knows."""
        body = chat_body("claude-opus-4-6", CU(), CA("r", "c1"), CT("c1"))
        request = Request(api=CH, base_url="https://llm.example.com/v1", body=body)

        out = Pipeline([ThinkingRoundTrip()])(request)

        assert "reasoning_content" not in out.body["messages"][1]


class TestUnknownTarget:
    def test_no_signature_its_turn_restructuring_killed(self) -> None:
        """An unknown target gets what the agent sent, but not a signed block whose turn lost a
        tool call (its signature no longer verifies anywhere)."""
        body = anthropic_body(
            "llama-4-maverick", U(), A(th_s("p", "s1"), tu("c1"), tu("c2")), T("c1")
        )
        request = Request(api=AM, base_url="https://relay.example.com", body=body)

        out = Pipeline([ToolPairing(), ThinkingRoundTrip()])(request)

        assert [tu("c1")] == out.body["messages"][1]["content"]


class TestToolPairingEmptied:
    def test_an_anthropic_message_left_empty_is_left_out(self) -> None:
        """An assistant message whose only block was an orphaned tool_use is left out whole
        (an empty content list is a 400)."""
        body = anthropic_body("claude-opus-4-6", U(), A(tu("c1")), U("next"))

        out = ToolPairing()(Request(api=AM, body=body))

        assert [U(), U("next")] == out.body["messages"]

    def test_a_chat_message_left_with_nothing_is_left_out(self) -> None:
        """An assistant message whose only tool call was an orphan, with no content, is left
        out whole (reasoning alone is no message a server takes)."""
        body = chat_body("deepseek-v4-pro", CU(), CA("r", "c1"), CU("next"))

        out = ToolPairing()(Request(api=CH, body=body))

        assert [CU(), CU("next")] == out.body["messages"]


class TestRecoverOnce:
    def test_no_retry_with_the_body_that_was_refused(self) -> None:
        """A classified error that teaches nothing this pipeline would send differently is
        no retry: the same body would be refused the same way."""
        pipe = Pipeline([ThinkingRoundTrip()])
        request = claude(U(), A(th_s("p", "s1"), tu("c1")), T("c1"))
        error = {
            "type": "error",
            "error": {
                "type": "invalid_request_error",
                "message": "messages.7.content.0: Invalid `signature` in `thinking` block",
            },
        }

        assert pipe.recover(request, pipe(request), 400, error) is None


def _asgi(
    app: Any, path: str, headers: dict[str, str], chunks: list[bytes], method: str = "POST"
) -> tuple[int, int, bytes]:
    """Send a request of ``chunks`` to ``app`` in this process, the way an ASGI server hands
    them over; the status, how many chunks the app read, and the body it answered."""
    read = 0
    started: list[int] = []
    body: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal read
        if read == len(chunks):
            return {"type": "http.disconnect"}
        read += 1
        return {"type": "http.request", "body": chunks[read - 1], "more_body": read < len(chunks)}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            started.append(message["status"])
        elif message["type"] == "http.response.body":
            body.append(message.get("body", b""))

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8787),
    }
    asyncio.run(app(scope, receive, send))
    return started[0], read, b"".join(body)


def _gateway_app(tmp_path: Path, gateway: str) -> Any:
    """The gateway with one provider on a port nobody listens on (a call that went upstream
    would be a 502) and the ``gateway:`` section ``gateway``."""
    from agent.gateway import build_app

    path = tmp_path / "gateway.yaml"
    path.write_text(
        "providers:\n  mimo:\n    base_url: http://127.0.0.1:9\n"
        f"    api_mode: anthropic_messages\ngateway:\n  {gateway}\n"
    )
    return build_app(load_config(path))


MESSAGES = "/mimo/v1/messages"


class TestGatewayBodyLimit:
    def test_a_declared_length_over_the_limit_is_413_unread(self, tmp_path: Path) -> None:
        """A Content-Length over max_body_bytes is answered 413 before a byte of the body is
        read."""
        app = _gateway_app(tmp_path, "max_body_bytes: 2000")

        status, read, _ = _asgi(app, MESSAGES, {"content-length": "5000"}, [b"x" * 1000] * 5)

        assert (413, 0) == (status, read)

    def test_a_chunked_body_over_the_limit_is_413_as_it_is_read(self, tmp_path: Path) -> None:
        """A body without Content-Length (chunked) is counted as it arrives: 413 as soon as
        it passes max_body_bytes, the rest never read, the upstream never called."""
        app = _gateway_app(tmp_path, "max_body_bytes: 2000")

        status, read, _ = _asgi(app, MESSAGES, {"transfer-encoding": "chunked"}, [b"x" * 1000] * 5)

        assert (413, 3) == (status, read)


class TestGatewayTokens:
    def test_a_missing_or_wrong_token_is_401_unread(self, tmp_path: Path) -> None:
        """With gateway.tokens set, a call without a valid token is 401 before its body is
        read (the upstream is never called)."""
        app = _gateway_app(tmp_path, "tokens: [gw-token-1]")

        answers = [
            _asgi(app, MESSAGES, headers, [b"{}"])[:2]
            for headers in ({}, {"x-api-key": "wrong"}, {"authorization": "Bearer wrong"})
        ]

        assert [(401, 0)] * 3 == answers


class TestGatewayHealth:
    def test_without_a_token_only_ok(self, tmp_path: Path) -> None:
        """With gateway.tokens set, /health says only ok to a caller without a token (the
        providers' names say which vendors hold the gateway's keys)."""
        app = _gateway_app(tmp_path, "tokens: [gw-token-1]")

        answers = [
            _asgi(app, "/health", headers, [], method="GET")
            for headers in ({}, {"x-api-key": "wrong"})
        ]

        assert [(200, 0, b'{"status":"ok"}')] * 2 == answers

    def test_with_a_token_the_providers(self, tmp_path: Path) -> None:
        """A caller with a token (in any header a token goes in) gets the provider names."""
        app = _gateway_app(tmp_path, "tokens: [gw-token-1]")
        headers = [
            {"x-gateway-token": "gw-token-1"},
            {"x-api-key": "gw-token-1"},
            {"authorization": "Bearer gw-token-1"},
        ]

        answers = {_asgi(app, "/health", h, [], method="GET")[2] for h in headers}

        assert {b'{"status":"ok","providers":["mimo"]}'} == answers

    def test_without_tokens_the_providers(self, tmp_path: Path) -> None:
        """Without tokens (a gateway on 127.0.0.1 only) everyone gets the provider names."""
        app = _gateway_app(tmp_path, "timeout: 60")

        _, _, body = _asgi(app, "/health", {}, [], method="GET")

        assert b'{"status":"ok","providers":["mimo"]}' == body
