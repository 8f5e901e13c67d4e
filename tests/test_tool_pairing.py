"""ToolPairing called directly: orphans removed on both wires, signatures marked dead."""

from __future__ import annotations

import copy

from agent import (
    Request,
)
from agent.middleware import ToolPairing
from tests.builders import (
    CA,
    CT,
    CU,
    A,
    T,
    U,
    anthropic_body,
    chat_body,
    th_s,
    tu,
)

AM = "anthropic_messages"
CH = "chat_completions"


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


class TestThreads:
    def test_continued_thread_is_left_alone(self) -> None:
        """A request that continues a server-held thread starts with results whose calls the
        server holds: none is an orphan."""
        body = {
            "model": "claude-opus-4-6",
            "thread": {"type": "continue", "previous_message_id": "msg_1"},
            "messages": [T("c1")],
        }
        request = Request(api="anthropic_messages", body=body)

        assert request is ToolPairing()(request)
