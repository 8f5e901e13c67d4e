"""Unit tests: middleware called directly, no client, no network."""

from __future__ import annotations

import copy
import logging
from typing import Any

import pytest

from agent import (
    Action,
    InvalidRequest,
    MemoryStore,
    Origin,
    Pipeline,
    Request,
    ThinkingContractError,
)
from agent.middleware import ThinkingRoundTrip, ToolPairing
from agent.store import StoredTurn
from agent.testing import Recorder
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
    text,
    th_s,
    th_u,
    tu,
)

AM = "anthropic_messages"
CH = "chat_completions"


def claude(*messages: dict[str, Any], **extra: Any) -> Request:
    return Request(api=AM, body=anthropic_body("claude-opus-4-6", *messages, **extra))


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
            Request(api="responses", body={})
        with pytest.raises(InvalidRequest, match="body must be a JSON object"):
            Request(api=AM, body=[])  # type: ignore[arg-type]


class TestThinkingRoundTrip:
    def test_same_object_when_nothing_to_do(self) -> None:
        """A keep-all Claude history with own signed blocks comes back as the same object."""
        request = claude(U(), A(th_s("p", "s1"), tu("c1")), T("c1"))

        assert request is Pipeline([ThinkingRoundTrip()])(request)

    def test_missing_loop_thinking_raise(self) -> None:
        """With on_missing_loop_thinking=raise, a loop turn without sendable thinking raises."""
        request = claude(U(), A(th_u("unsigned"), tu("c1")), T("c1"))
        pipe = Pipeline([ThinkingRoundTrip(on_missing_loop_thinking="raise")])

        with pytest.raises(ThinkingContractError, match=r"messages\[1\]\.content\[0\]"):
            pipe(request)

    def test_missing_loop_thinking_drop_param(self) -> None:
        """With drop_param, thinking is disabled for this one request and explain says so."""
        request = claude(U(), A(tu("c1")), T("c1"))
        pipe = Pipeline([ThinkingRoundTrip(on_missing_loop_thinking="drop_param")])

        out = pipe(request)

        assert "thinking" not in out.body
        assert [("thinking", Action.DROPPED)] == [
            (c.path, c.action) for c in pipe.explain(request).changes
        ]

    def test_missing_loop_thinking_send_warns(self, caplog: pytest.LogCaptureFixture) -> None:
        """By default the request goes as is, with a loud explain entry and a log warning."""
        request = claude(U(), A(tu("c1")), T("c1"))
        pipe = Pipeline([ThinkingRoundTrip()])

        with caplog.at_level(logging.WARNING, logger="agent"):
            out = pipe(request)

        assert out is request
        assert "no thinking that can be sent" in caplog.text
        assert Action.WARNING == pipe.explain(request).changes[0].action

    def test_no_warning_without_thinking_param(self) -> None:
        """With thinking off, a loop turn without thinking is what Anthropic wants."""
        body = anthropic_body("claude-opus-4-6", U(), A(tu("c1")), T("c1"))
        del body["thinking"]

        assert () == Pipeline([ThinkingRoundTrip()]).explain(Request(api=AM, body=body)).changes

    def test_trusted_models_widen_own_origin(self) -> None:
        """A signature from another Claude model is sent only when trusted_models allows it."""
        store = MemoryStore()
        store.record(
            StoredTurn(
                Origin("anthropic", "api.anthropic.com", "claude-sonnet-4-6"),
                ((th_s("p", "s-son"), 0),),
                None,
                ("c1",),
            )
        )
        request = claude(U(), A(th_s("p", "s-son"), tu("c1")), T("c1"))

        strict = Pipeline([ThinkingRoundTrip(store=store)])(request)
        widened = Pipeline([ThinkingRoundTrip(store=store, trusted_models=("claude-*",))])(request)

        assert [tu("c1")] == strict.body["messages"][1]["content"]
        assert widened is request

    def test_foreign_keep_text_to_mimo(self) -> None:
        """foreign=keep_text sends another vendor's thinking text unsigned, with signature ''."""
        store = MemoryStore()
        store.record(
            StoredTurn(
                Origin("anthropic", "api.anthropic.com", "claude-opus-4-6"),
                ((th_s("claude plan", "s-c"), 0),),
                None,
                ("c1",),
            )
        )
        body = anthropic_body(
            "mimo-v2.5-pro", U(), A(th_s("claude plan", "s-c"), tu("c1")), T("c1")
        )
        request = Request(api=AM, base_url=RELAY, body=body)

        default = Pipeline([ThinkingRoundTrip(store=store)])(request)
        keep = Pipeline([ThinkingRoundTrip(store=store, foreign="keep_text")])(request)
        drop = Pipeline([ThinkingRoundTrip(store=store, foreign="drop")])(request)

        pad = {"type": "thinking", "thinking": " ", "signature": ""}
        assert [pad, tu("c1")] == default.body["messages"][1]["content"]
        assert [th_u("claude plan", ""), tu("c1")] == keep.body["messages"][1]["content"]
        assert [tu("c1")] == drop.body["messages"][1]["content"]

    def test_deepseek_strips_empty_signature(self) -> None:
        """signature '' goes only to families that accept it; DeepSeek gets none."""
        body = anthropic_body("deepseek-v4-pro", U(), A(th_u("plan", ""), tu("c1")), T("c1"))

        out = Pipeline([ThinkingRoundTrip()])(Request(api=AM, body=body))

        assert th_u("plan") == out.body["messages"][1]["content"][0]

    def test_deepseek_pads_active_loop_text_turn(self) -> None:
        """DeepSeek gets reasoning on every assistant message of the active tool loop."""
        body = chat_body(
            "deepseek-v4-flash", CU(), CA(None, content="looking"), CA("r", "c1"), CT("c1")
        )

        out = Pipeline([ThinkingRoundTrip()])(Request(api=CH, body=body))

        assert " " == out.body["messages"][1]["reasoning_content"]
        assert out.body["messages"][2] is body["messages"][2]

    def test_earlier_turn_text_message_not_padded(self) -> None:
        """Outside the active loop a text-only turn needs nothing (DeepSeek ignores it)."""
        body = chat_body("deepseek-v4-flash", CU(), CA(None, content="hi"), CU("next"))
        request = Request(api=CH, body=body)

        assert request is Pipeline([ThinkingRoundTrip()])(request)

    def test_observe_records_origin(self) -> None:
        """observe records the target of the request as the origin of the response's thinking."""
        mw = ThinkingRoundTrip()
        sent = Request(
            api=AM,
            base_url="https://api.minimax.io/anthropic",
            body={"model": "MiniMax-M3", "messages": []},
        )

        Pipeline([mw]).observe(sent, {"content": [th_s("x", "mm"), tu("c1")]})

        assert Origin("minimax", "api.minimax.io", "minimax-m3") == mw.store.origin_of_signature(
            "mm"
        )


class TestToolPairing:
    def test_orphans_removed_both_ways(self) -> None:
        """A tool_use without result and a result without tool_use are both removed."""
        body = anthropic_body("claude-opus-4-6", U(), A(tu("c1"), tu("c2")), T("c1", "c9"))
        request = Request(api=AM, body=body)
        before = copy.deepcopy(body)

        out = ToolPairing()(request)

        assert [tu("c1")] == out.body["messages"][1]["content"]
        assert ["c1"] == [b["tool_use_id"] for b in out.body["messages"][2]["content"]]
        assert before == body

    def test_marks_signatures_dead(self) -> None:
        """Removing a tool_use from a signed turn marks that turn's signatures dead."""
        body = anthropic_body(
            "claude-opus-4-6", U(), A(th_s("p", "sig"), tu("c1"), tu("c2")), T("c1")
        )

        out = ToolPairing()(Request(api=AM, body=body))

        assert frozenset({"sig"}) == out.dead_signatures

    def test_chat_orphans(self) -> None:
        """Chat tool_calls without tool messages, and stray tool messages, are removed."""
        body = chat_body("deepseek-v4-flash", CU(), CA("r", "c1", "c2"), CT("c1"), CT("c5"))

        out = ToolPairing()(Request(api=CH, body=body))

        assert ["c1"] == [c["id"] for c in out.body["messages"][1]["tool_calls"]]
        assert 3 == len(out.body["messages"])

    def test_untouched_when_paired(self) -> None:
        """A well-paired history comes back as the same object."""
        request = Request(api=AM, body=anthropic_body("m", U(), A(tu("c1")), T("c1")))

        assert request is ToolPairing()(request)


class TestPipeline:
    def test_explain_a_middleware_that_does_not_explain_itself(self) -> None:
        """For a plain callable, explain reports the messages it changed by comparing bodies."""

        def shout(request: Request) -> Request:
            messages = [*request.body["messages"][:-1], {"role": "user", "content": "GO"}]
            return Request(
                api=request.api,
                body={**request.body, "messages": messages},
                resolved=request.resolved,
            )

        request = claude(U("go"))

        explanation = Pipeline([shout]).explain(request)

        assert [("shout", "messages[0]", Action.CONVERTED)] == [
            (c.middleware, c.path, c.action) for c in explanation.changes
        ]
        assert "messages[0]" in str(explanation)

    def test_recorder_records(self) -> None:
        """Recorder sees each request as it is at its place in the chain."""
        recorder = Recorder()
        pipe = Pipeline([ThinkingRoundTrip(), recorder])
        request = Request(
            api=AM, base_url=RELAY, body=anthropic_body("mimo-v2.5-pro", U(), A(tu("c1")), T("c1"))
        )

        out = pipe(request)

        assert [out.body] == recorder.bodies
        assert recorder.last.resolved is not None

    def test_not_callable(self) -> None:
        """A chain entry that is not callable is rejected when the pipeline is built."""
        with pytest.raises(TypeError, match=r"middleware\[1\]"):
            Pipeline([ToolPairing(), "thinking_round_trip"])  # type: ignore[list-item]


class TestDirectCalls:
    def test_same_object_without_pipeline(self) -> None:
        """Called directly on an unresolved request with nothing to do, it returns that object."""
        request = claude(U(), A(th_s("p", "s1"), tu("c1")), T("c1"))

        assert request is ThinkingRoundTrip()(request)
        assert request is ToolPairing()(request)


class TestStores:
    def test_memory_store_is_bounded(self) -> None:
        """Past max_turns the oldest turns, and every key that found them, are forgotten."""
        store = MemoryStore(max_turns=2)
        origin = Origin("mimo", "h", "m")
        for n in range(3):
            store.record(StoredTurn(origin, ((th_s(f"t{n}", f"s{n}"), 0),), None, (f"c{n}",)))

        assert 2 == len(store)
        assert store.origin_of_signature("s0") is None
        assert store.turn_for_tool("c0") is None
        assert origin == store.origin_of_signature("s2")
        assert origin == store.origin_of_text("t1")

    def test_sqlite_store_survives_restart(self, tmp_path: Any) -> None:
        """A SqliteStore reopened on the same file still knows origins and turns."""
        from agent.store import SqliteStore

        path = str(tmp_path / "thinking.db")
        origin = Origin("anthropic", "api.anthropic.com", "claude-opus-4-6")
        first = SqliteStore(path)
        first.record(StoredTurn(origin, ((th_s("plan", "sig-1"), 0),), None, ("c1",)))
        first.close()

        again = SqliteStore(path)

        assert origin == again.origin_of_signature("sig-1")
        assert origin == again.origin_of_text("plan")
        turn = again.turn_for_tool("c1")
        assert turn is not None
        assert ((th_s("plan", "sig-1"), 0),) == turn.blocks
        assert again.origin_of_signature("nope") is None

    def test_sqlite_store_is_bounded(self, tmp_path: Any) -> None:
        """The SqliteStore forgets its oldest turns past max_turns."""
        from agent.store import SqliteStore

        store = SqliteStore(str(tmp_path / "t.db"), max_turns=3)
        origin = Origin("mimo", "h", "m")
        for n in range(10):
            store.record(StoredTurn(origin, ((th_u(f"t{n}", ""), 0),), None, (f"c{n}",)))

        assert 3 == len(store)
        assert store.turn_for_tool("c0") is None
        assert store.turn_for_tool("c9") is not None


class TestReorderedAndRestored:
    def test_reordered_signed_turn_is_not_sent(self) -> None:
        """A signed turn whose thinking no longer comes first would be a 400: it is dropped."""
        request = claude(U(), A(text("on it"), th_s("p", "s1"), tu("c1")), T("c1"))
        pipe = Pipeline([ThinkingRoundTrip()])

        out = pipe(request)

        assert [text("on it"), tu("c1")] == out.body["messages"][1]["content"]
        assert (Action.DROPPED, "messages[1].content[1]") == (
            pipe.explain(request).changes[0].action,
            pipe.explain(request).changes[0].path,
        )

    def test_restore_puts_blocks_where_the_model_put_them(self) -> None:
        """Thinking observed as [th, text, th, tool_use] comes back at the same positions."""
        pipe = Pipeline([ThinkingRoundTrip()])
        observed = [th_s("a", "s-a"), text("looking"), th_s("b", "s-b"), tu("c1")]
        pipe.observe(claude(U()), {"type": "message", "content": observed})
        request = claude(U(), A(text("looking"), tu("c1")), T("c1"))

        out = pipe(request)

        assert observed == out.body["messages"][1]["content"]

    def test_no_restore_when_blocks_do_not_line_up(self) -> None:
        """If the agent's turn has fewer blocks than the observed one, nothing is guessed."""
        pipe = Pipeline([ThinkingRoundTrip()])
        pipe.observe(
            claude(U()),
            {"type": "message", "content": [th_s("a", "s-a"), text("x"), text("y"), tu("c1")]},
        )
        request = claude(U(), A(tu("c1")), T("c1"))

        assert [tu("c1")] == pipe(request).body["messages"][1]["content"]
