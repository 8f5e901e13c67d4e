"""ThinkingRoundTrip called directly: options, turn rules, restore; no client, no network."""

from __future__ import annotations

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
        """foreign=keep_text sends another vendor's thinking text unsigned, with signature '';
        drop (deprecated, with a warning) removes it, and the tool turn still gets the pad MiMo
        needs: the body pad sends."""
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
        with pytest.warns(DeprecationWarning, match=r"foreign='drop'\) is deprecated.*use 'pad'"):
            deprecated = ThinkingRoundTrip(store=store, foreign="drop")
        drop = Pipeline([deprecated])(request)

        pad = {"type": "thinking", "thinking": " ", "signature": ""}
        assert [pad, tu("c1")] == default.body["messages"][1]["content"]
        assert [th_u("claude plan", ""), tu("c1")] == keep.body["messages"][1]["content"]
        assert [pad, tu("c1")] == drop.body["messages"][1]["content"], "needed: padded all the same"

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


class TestDirectCalls:
    def test_same_object_without_pipeline(self) -> None:
        """Called directly on an unresolved request with nothing to do, it returns that object."""
        request = claude(U(), A(th_s("p", "s1"), tu("c1")), T("c1"))

        assert request is ThinkingRoundTrip()(request)
        assert request is ToolPairing()(request)


class TestOnePath:
    @pytest.mark.parametrize("signature", [False, 0], ids=["false", "zero"])
    def test_a_malformed_signature_is_an_error_on_every_path(self, signature: object) -> None:
        """A thinking block whose signature is no string is InvalidRequest naming it, on a
        plain call as in explain (a DeepSeek turn's common case used to take it for unsigned
        thinking, and only explain refused it)."""
        block = {"type": "thinking", "thinking": "plan", "signature": signature}
        body = anthropic_body("deepseek-v4-pro", U(), A(block, tu("c1")), T("c1"))
        request = Request(api=AM, base_url="https://api.deepseek.com/anthropic", body=body)
        pipe = Pipeline([ThinkingRoundTrip()])
        where = r"messages\[1\]\.content\[0\]\.signature"

        with pytest.raises(InvalidRequest, match=where):
            pipe(request)
        with pytest.raises(InvalidRequest, match=where):
            pipe.explain(request)


class TestNewestClaude:
    def test_thinking_on_by_default_counts_for_the_loop_check(self) -> None:
        """Sonnet 5 thinks when the request does not mention thinking: a loop turn without
        thinking is flagged (and raised, with on_missing_loop_thinking=raise)."""
        body = anthropic_body("claude-sonnet-5", U(), A(th_u("unsigned"), tu("c1")), T("c1"))
        pipe = Pipeline([ThinkingRoundTrip(on_missing_loop_thinking="raise")])

        with pytest.raises(ThinkingContractError):
            pipe(Request(api=AM, body=body))

    def test_between_tools_is_thinking_on(self) -> None:
        """thinking.type between_tools turns thinking on like enabled and adaptive."""
        body = anthropic_body(
            "claude-sonnet-5-5",
            U(),
            A(th_u("unsigned"), tu("c1")),
            T("c1"),
            thinking={"type": "between_tools"},
        )
        pipe = Pipeline([ThinkingRoundTrip(on_missing_loop_thinking="raise")])

        with pytest.raises(ThinkingContractError):
            pipe(Request(api=AM, body=body))

    def test_drop_param_keeps_thinking_a_model_cannot_turn_off(self) -> None:
        """drop_param never removes thinking from a model where it cannot be turned off."""
        body = anthropic_body(
            "claude-opus-5-5",
            U(),
            A(th_u("unsigned"), tu("c1")),
            T("c1"),
            thinking={"type": "adaptive"},
        )
        pipe = Pipeline([ThinkingRoundTrip(on_missing_loop_thinking="drop_param")])

        out = pipe.explain(Request(api=AM, body=body))

        assert {"type": "adaptive"} == out.body["thinking"]
        assert [Action.DROPPED, Action.WARNING] == [c.action for c in out.changes]

    def test_omitted_display_block_is_signed_not_a_pad(self) -> None:
        """display: omitted returns empty text with a signature: a signed block, kept as is."""
        omitted = th_s("", "sig-omitted")
        request = claude(U(), A(omitted, tu("c1")), T("c1"))

        assert request is Pipeline([ThinkingRoundTrip()])(request)

    def test_prefix_binding_error_forgets_the_block_and_every_later_one(self) -> None:
        """A block bound to a different conversation invalidates every later thinking block:
        the retry sends none of them."""
        request = Request(
            api=AM,
            body=anthropic_body(
                "claude-fable-5-1",
                U(),
                A(th_s("a", "s-a"), tu("c1")),
                T("c1"),
                A(th_s("b", "s-b"), tu("c2")),
                T("c2"),
                A(th_s("c", "s-c"), tu("c3")),
                T("c3"),
                thinking={"type": "adaptive"},
            ),
        )
        pipe = Pipeline([ThinkingRoundTrip()])
        error = {
            "type": "error",
            "error": {
                "type": "invalid_request_error",
                "message": "messages.3.content.0: Invalid `signature` in `thinking` block. The "
                "block is bound to a different conversation. Remove the block, or set "
                '`thinking.block_binding.prefix_mismatch_behavior` to "drop_block".',
            },
        }

        retry = pipe.recover(request, pipe(request), 400, error)

        assert retry is not None
        kept = [
            b.get("signature")
            for m in retry.body["messages"]
            if m["role"] == "assistant"
            for b in m["content"]
            if b["type"] == "thinking"
        ]
        assert ["s-a"] == kept


class TestDowngrades:
    def _observed(self) -> tuple[Pipeline, Request]:
        pipe = Pipeline([ThinkingRoundTrip()])
        first = Request(api=AM, base_url=RELAY, body=anthropic_body("mimo-v2.5-pro", U()))
        pipe.observe(first, {"type": "message", "content": [th_u("plan", ""), tu("c1")]})
        return pipe, first

    def test_separate_user_message_copy(self) -> None:
        """pydantic-ai's <assistant_thinking> user message: the reasoning goes back as the
        turn's thinking and the extra message is left out."""
        pipe, _ = self._observed()
        body = anthropic_body(
            "mimo-v2.5-pro",
            U(),
            U("<assistant_thinking>plan</assistant_thinking>"),
            A(tu("c1")),
            T("c1"),
        )

        out = pipe.explain(Request(api=AM, base_url=RELAY, body=body))

        assert [U(), A(th_u("plan", ""), tu("c1")), T("c1")] == out.body["messages"]
        assert {"messages[1]": Action.DROPPED, "messages[2].content": Action.RESTORED}.items() <= {
            c.path: c.action for c in out.changes
        }.items()

    def test_text_that_is_not_the_reasoning_stays(self) -> None:
        """A text block that is not the turn's observed reasoning is the agent's own text."""
        pipe, _ = self._observed()
        body = anthropic_body("mimo-v2.5-pro", U(), A(text("hello"), tu("c1")), T("c1"))

        out = pipe(Request(api=AM, base_url=RELAY, body=body))

        assert text("hello") in out.body["messages"][1]["content"]

    def test_pad_says_the_real_reasoning_was_seen(self) -> None:
        """When the observed reasoning cannot be put back, explain says it had it."""
        pipe, _ = self._observed()
        body = anthropic_body("mimo-v2.5-pro", U(), A(tu("c1"), tu("c9")), T("c1", "c9"))

        out = pipe.explain(Request(api=AM, base_url=RELAY, body=body))

        padded = [c.reason for c in out.changes if c.action == Action.PADDED]
        assert ["real reasoning was observed" in r for r in padded] == [True]


class TestObserveOddResponses:
    @pytest.mark.parametrize(
        "response", [None, [], "text", 5], ids=["none", "list", "text", "number"]
    )
    def test_not_a_response_is_passed_over(self, response: Any) -> None:
        """The middleware passes over something that is no response object (the adapters hand
        it whatever an answer parsed to); Pipeline.observe, the caller's entry, refuses it by
        name (tests/test_pipeline.py)."""
        store = MemoryStore()

        ThinkingRoundTrip(store=store).observe(Pipeline([]).resolve(claude(U())), response)

        assert 0 == len(store)


class TestIdempotent:
    """A second run changes nothing: the cases the idempotence property found."""

    def test_left_out_tail_reveals_the_loop_turn(self) -> None:
        """A trailing message that held only unsendable thinking is left out; the loop check
        then looks at the turn before it on the first run, not only on the second."""
        body = anthropic_body("claude-opus-4-6", U(), A(tu("c1")), T("c1"), A(th_u("half")))
        pipe = Pipeline([ThinkingRoundTrip(on_missing_loop_thinking="raise")])

        with pytest.raises(ThinkingContractError, match=r"messages\[1\]\.content\[0\]"):
            pipe(Request(api=AM, body=body))

    def test_restored_thinking_carries_no_cache_control(self) -> None:
        """Restored blocks are sent as any kept block is: cache_control left out."""
        pipe = Pipeline([ThinkingRoundTrip()])
        cached = {**th_s("plan", "s1"), "cache_control": {"type": "ephemeral"}}
        request = claude(U(), A(tu("c1")), T("c1"))
        pipe.observe(request, {"type": "message", "content": [cached, tu("c1")]})

        out = pipe(request)

        assert [th_s("plan", "s1"), tu("c1")] == out.body["messages"][1]["content"]
        assert out.body == pipe(out).body

    def test_a_left_out_last_message_makes_the_turn_before_the_latest(self) -> None:
        """On a latest-turn model, a last message left out (only unsigned thinking) makes the
        turn before it the latest on the first run already: its own signed thinking is sent
        (restored from the store here), as the second run, which no longer sees the left-out
        message, sends it."""
        pipe = Pipeline([ToolPairing(), ThinkingRoundTrip()])
        request = Request(
            api=AM,
            body=anthropic_body(
                "claude-sonnet-4-5",
                U("task 0"),
                A(th_s("plan", "s1"), tu("c1")),
                T("c1"),
                U("task 1"),
                A(th_u("half a thought")),
            ),
        )
        pipe.observe(request, {"type": "message", "content": [th_s("plan", "s1"), tu("c1")]})

        out = pipe(request)

        assert [th_s("plan", "s1"), tu("c1")] == out.body["messages"][1]["content"]
        assert 4 == len(out.body["messages"])
        assert out.body == pipe(Request(api=AM, body=out.body)).body

    def test_the_issues_deepseek_history_with_reasoning_seen_at_two_targets(self) -> None:
        """The history of issue 22 (a thinking-only turn, an orphan result ToolPairing removes,
        an empty assistant turn) at DeepSeek, where the tool turn's reasoning was observed at
        DeepSeek and the same text again from Claude (the store's text index now names
        Claude): the first run puts the turn's own reasoning back, found by its tool call id,
        and the second run keeps it as that turn's own instead of dropping it as Claude's."""
        thinking = [
            {"type": "thinking", "thinking": f"#{n}", "signature": f"sig{n}"} for n in range(5)
        ]
        use = {"type": "tool_use", "id": "toolu_7", "name": "f", "input": {"q": 7}}
        history = [
            U("task 0"),
            A(*thinking),
            U("task 1"),
            A(use),
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_7", "content": "rtoolu_7"},
                    {"type": "tool_result", "tool_use_id": "ghost8", "content": "x"},
                    text("more"),
                ],
            },
            A(),
            U("task 3"),
            A(th_u("ok"), th_s("#10", "sig10")),
        ]
        deepseek = "https://api.deepseek.com/anthropic"
        request = Request(
            api=AM, base_url=deepseek, body={"model": "deepseek-reasoner", "messages": history}
        )
        pipe = Pipeline([ToolPairing(), ThinkingRoundTrip()])
        pipe.observe(request, {"type": "message", "content": [th_u("#6"), th_u("#7"), use]})
        pipe.observe(claude(U()), {"type": "message", "content": [th_u("#7")]})

        out = pipe(request)

        assert [th_u("#6"), th_u("#7"), use] == out.body["messages"][3]["content"]
        assert out.body == pipe(Request(api=AM, base_url=deepseek, body=out.body)).body
