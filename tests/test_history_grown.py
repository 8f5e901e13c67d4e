"""The facts of a resent history found by walking only its new messages (``history.grown``,
what the gateway and the transports do for a body read as one read before plus what is new)
against the one whole scan they stand in for: the same facts, the same errors at the same
paths, on generated histories cut anywhere (tool loops left open, results dropped, a
continued thread), and the whole scan wherever the messages are not the very objects."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.errors import InvalidRequest
from agent.history import History, grown, scan
from agent.request import Request, with_history
from tests.test_properties import anthropic_history, chat_history

APIS = ("anthropic_messages", "chat_completions")


def facts(h: History) -> dict[str, Any]:
    """Every fact of ``h`` (not the cache of tool ids it fills on use)."""
    return {name: getattr(h, name) for name in History.__slots__ if name != "_ids"}


@st.composite
def grown_loops(draw: st.DrawFn) -> tuple[str, list[dict[str, Any]], list[int], bool]:
    """A history on one wire, some of its messages left out (results without their call,
    calls without their results), where it is cut for each call, and whether it continues a
    server-held thread."""
    api = draw(st.sampled_from(APIS))
    messages = draw(anthropic_history(odd=True) if api == APIS[0] else chat_history())
    dropped = draw(st.sets(st.integers(0, len(messages) - 1), max_size=2))
    messages = [m for i, m in enumerate(messages) if i not in dropped] or messages
    cuts = sorted(draw(st.lists(st.integers(0, len(messages)), min_size=1, max_size=5)))
    return api, messages, cuts, draw(st.booleans())


def _body(messages: list[Any], partial: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"model": "m", "messages": messages}
    if partial:
        body["thread"] = {"type": "continue"}
    return body


class TestGrown:
    @settings(max_examples=300, deadline=None)
    @given(loop=grown_loops())
    def test_the_same_facts_as_one_whole_scan(
        self, loop: tuple[str, list[dict[str, Any]], list[int], bool]
    ) -> None:
        api, messages, cuts, partial = loop
        before: History | None = None
        for cut in cuts:
            body = _body(messages[:cut], partial)
            found = grown(api, body, before)
            assert facts(found) == facts(scan(api, body))
            before = found

    @pytest.mark.parametrize(
        ("api", "bad", "where"),
        [
            ("anthropic_messages", {"role": "assistant", "content": [{"type": 3}]}, "content[0]"),
            ("anthropic_messages", {"role": "user", "content": 7}, "messages[2].content"),
            ("chat_completions", {"role": "assistant", "reasoning_content": 1}, "reasoning"),
            ("chat_completions", {"role": 5}, "messages[2].role"),
        ],
    )
    def test_a_malformed_new_message_fails_where_a_whole_scan_fails(
        self, api: str, bad: dict[str, Any], where: str
    ) -> None:
        messages = [{"role": "user", "content": "go"}, {"role": "assistant", "content": "ok"}]
        before = grown(api, _body(messages, False), None)
        body = _body([*messages, bad], False)
        with pytest.raises(InvalidRequest) as whole:
            scan(api, body)
        with pytest.raises(InvalidRequest) as ours:
            grown(api, body, before)
        assert ours.value.where == whole.value.where
        assert where in ours.value.where

    def test_messages_that_are_not_the_very_objects_are_walked_whole(self) -> None:
        """Equal is not enough: a message changed in place since (an SDK caller's own dicts)
        would keep the facts of what it was."""
        api = "anthropic_messages"
        call = {"type": "tool_use", "id": "c1", "name": "run", "input": {}}
        messages: list[Any] = [
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": [call]},
        ]
        before = grown(api, _body(messages, False), None)
        assert before.calls == {1: ["c1"]}
        copied = [dict(m) for m in messages]
        copied[1]["content"] = [{**call, "id": "c2"}]
        assert grown(api, _body(copied, False), before).calls == {1: ["c2"]}
        assert grown(api, _body(messages[:1], False), before).calls == {}  # (shorter)
        assert facts(grown("chat_completions", _body(messages, False), before)) == facts(
            scan("chat_completions", _body(messages, False))
        )

    def test_a_request_takes_only_the_facts_of_its_own_body(self) -> None:
        messages = [{"role": "user", "content": "go"}]
        request = Request(api="anthropic_messages", body=_body(messages, False))
        other = scan("anthropic_messages", _body(list(messages), False))
        with pytest.raises(ValueError, match="not of this request's body"):
            with_history(request, other)
        mine = scan("anthropic_messages", request.body)
        assert with_history(request, mine).history is mine
