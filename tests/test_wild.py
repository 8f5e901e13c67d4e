"""The wild, end to end: real relays' and clients' behaviour in front of the emulators.

One class per failure of the "do no harm in the wild" issue; each test fails on the code
before it and passes now. Evidence: shared/wild.md.
"""

from __future__ import annotations

from typing import Any

import anthropic
from anthropic import beta_tool

from agent import Request
from agent.integrations.anthropic import PipelineMiddleware
from agent.testing.emulators import Emulator
from tests.loops import (
    LOSE,
    THINKING,
    Factory,
    chat_loop,
    completed,
    converse,
    fixed,
    post,
    thinking_of,
)


def blank(content: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An agent that keeps its thinking blocks but not their text."""
    return [{**b, "thinking": ""} if b["type"] == "thinking" else b for b in content]


def statuses(emulator: Emulator) -> list[int]:
    return [r.status for r in emulator.log]


class TestVendorEndpoints:
    """1. A Claude model name on a vendor's own Anthropic endpoint is that vendor's model."""

    def test_kimi_coding_with_a_claude_name(self, agent_emulator: Factory) -> None:
        """claude-opus-4-6 on Kimi /coding gets Kimi's contract: the unsigned thinking goes
        back (as Anthropic's, it was dropped and Kimi answered 400)."""
        kimi = agent_emulator("kimi", rounds=3, prefix="/coding")

        steps = converse(
            kimi,
            fixed(),
            "claude-opus-4-6",
            base_url="https://api.kimi.com/coding",
            thinking=THINKING,
        )

        assert completed(steps, 3)
        assert [200] * 4 == statuses(kimi), "no 400 to learn from first"
        assert [[""], [""], [""]] == [
            [b["signature"] for b in t] for t in thinking_of(kimi.bodies[-1])
        ]

    def test_deepseek_anthropic_with_a_claude_name(self, agent_emulator: Factory) -> None:
        """claude-sonnet-4-6 on DeepSeek's /anthropic, resuming a saved history whose thinking
        is unsigned: DeepSeek's contract sends it back (as Anthropic's it was dropped and
        DeepSeek answered 400 before anything could be learned)."""
        deepseek = agent_emulator("deepseek", rounds=3, prefix="/anthropic")
        saved: list[dict[str, Any]] = [
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": [_thinking("earlier plan"), _use("t0")]},
            {"role": "user", "content": [_result("t0")]},
        ]

        steps = converse(
            deepseek,
            fixed(),
            "claude-sonnet-4-6",
            base_url="https://api.deepseek.com/anthropic",
            history=saved,
            thinking=THINKING,
        )

        assert completed(steps, 2)
        assert [200] * 3 == statuses(deepseek)
        assert "earlier plan" == thinking_of(deepseek.bodies[0])[0][0]["thinking"]


class TestRelaySpellings:
    """2. Model ids as relays spell them, and no false friends."""

    def test_provider_comma_model(self, agent_emulator: Factory) -> None:
        """claude-code-router's mimo,mimo-v2.5-pro is MiMo: nothing is lost, no 400."""
        mimo = agent_emulator("mimo", rounds=3, relay="ccr")

        steps = converse(mimo, fixed(), "mimo,mimo-v2.5-pro", thinking=THINKING, store=LOSE)

        assert completed(steps, 3)
        assert [200] * 4 == statuses(mimo)

    def test_false_friend_is_not_kimi(self, agent_emulator: Factory) -> None:
        """k3000-chat is no Kimi model: no reasoning_content pad reaches a strict server."""
        strict = agent_emulator("strict", rounds=1)
        body = {
            "model": "k3000-chat",
            "messages": [
                {"role": "user", "content": "go"},
                {"role": "assistant", "content": None, "tool_calls": [_call("c1")]},
                {"role": "tool", "tool_call_id": "c1", "content": "ok"},
            ],
        }
        request = Request(api="chat_completions", base_url="https://llm.example.com/v1", body=body)

        sent = fixed()(request)
        status, _ = post(f"{strict.openai_base_url}/chat/completions", dict(sent.body))

        assert sent is request
        assert 200 == status

    def test_deepseek_chat_thinks_when_asked(self, agent_emulator: Factory) -> None:
        """deepseek-chat with thinking turned on is a thinking model: a lost reasoning_content
        comes back (it used to be dropped as a non-thinking look-alike)."""
        deepseek = agent_emulator("deepseek", rounds=3)

        results = chat_loop(
            deepseek,
            "deepseek-chat",
            fixed(),
            keep_reasoning=False,
            base_url="https://api.deepseek.com",
            thinking={"type": "enabled"},
        )

        assert [200] * 4 == [status for status, _ in results]


class TestUnknownDoNoHarm:
    """3. An unknown alias gets what the agent sent."""

    def test_chat_alias_keeps_the_agents_reasoning(self, agent_emulator: Factory) -> None:
        """relay-pro on the chat wire: the loop completes without the pipeline, and with it."""
        without = chat_loop(
            agent_emulator("deepseek", rounds=3),
            "relay-pro",
            None,
            keep_reasoning=True,
            base_url="https://relay.example.com/v1",
        )
        deepseek = agent_emulator("deepseek", rounds=3)

        results = chat_loop(
            deepseek,
            "relay-pro",
            fixed(),
            keep_reasoning=True,
            base_url="https://relay.example.com/v1",
        )

        assert [200] * 4 == [status for status, _ in without]
        assert [200] * 4 == [status for status, _ in results]


class TestRelayErrors:
    """4. A provider's error rewrapped by a relay is still read, and attributed right."""

    def test_litellm_wrapped_mimo_error_is_learned_as_mimo(self, agent_emulator: Factory) -> None:
        """Behind LiteLLM, MiMo's Param Incorrect arrives inside LiteLLM's message; it teaches
        MiMo (not DeepSeek), and the one retry carries the real reasoning."""
        mimo = agent_emulator("mimo", rounds=3, relay="litellm")

        steps = converse(mimo, fixed(), "relay-pro", thinking=THINKING, store=LOSE)

        assert completed(steps, 3)
        assert [200, 400, 200, 200, 200] == statuses(mimo)
        assert "litellm.BadRequestError" in mimo.log[1].response["error"]["message"]
        assert all(
            b["signature"] == "" and b["thinking"].strip()
            for t in thinking_of(mimo.bodies[2])
            for b in t
        )


class TestPadsThroughRelays:
    """6. LiteLLM deletes blank thinking: the real reasoning goes instead of a pad."""

    def test_blank_thinking_is_replaced_by_the_real_one(self, agent_emulator: Factory) -> None:
        """An agent that keeps blank thinking blocks, behind LiteLLM: a pad would be deleted
        and MiMo would answer 400; the observed reasoning goes instead and survives."""
        mimo = agent_emulator("mimo", rounds=3, relay="litellm")

        steps = converse(mimo, fixed(), "mimo-v2.5-pro", thinking=THINKING, store=blank)

        assert completed(steps, 3)
        assert [200] * 4 == statuses(mimo)

    def test_chat_blank_reasoning_is_replaced(self, agent_emulator: Factory) -> None:
        """The same on the chat wire: '' would become the pad ' ', which LiteLLM deletes."""
        mimo = agent_emulator("mimo", rounds=3, relay="litellm")

        results = chat_loop(
            mimo, "mimo-v2-flash", fixed(), store=lambda m: {**m, "reasoning_content": ""}
        )

        assert [200] * 4 == [status for status, _ in results]


def _thinking(text: str) -> dict[str, Any]:
    return {"type": "thinking", "thinking": text}


def _use(id_: str) -> dict[str, Any]:
    return {"type": "tool_use", "id": id_, "name": "run", "input": {}}


def _result(id_: str) -> dict[str, Any]:
    return {"type": "tool_result", "tool_use_id": id_, "content": "ok"}


def as_aggregator(message: dict[str, Any]) -> dict[str, Any]:
    """The message as an aggregator names its reasoning: `reasoning`."""
    return {
        **{k: v for k, v in message.items() if k != "reasoning_content"},
        "reasoning": message["reasoning_content"],
    }


def _call(id_: str) -> dict[str, Any]:
    return {"id": id_, "type": "function", "function": {"name": "run", "arguments": "{}"}}


def _tool() -> dict[str, Any]:
    return {"type": "function", "function": {"name": "run", "parameters": {}}}


class TestServerThreads:
    """7. The anthropic tool runner's server-side threads: a partial history is no orphan."""

    def test_tool_runner_with_threads(self, agent_emulator: Factory) -> None:
        """Each threaded turn sends only the new tool result; it reaches the provider (it
        used to be removed as an orphan, leaving messages: [])."""
        claude = agent_emulator("anthropic", rounds=3)
        client = anthropic.Anthropic(
            base_url=claude.base_url,
            api_key="test",
            max_retries=0,
            middleware=[PipelineMiddleware(fixed(), base_url=None)],
        )

        runner = client.beta.messages.tool_runner(
            model="claude-opus-4-6",
            max_tokens=2048,
            tools=[run],
            messages=[{"role": "user", "content": "go"}],
            thinking={"type": "adaptive"},
        )
        stops = [message.stop_reason for message in runner]

        assert ["tool_use", "tool_use", "tool_use", "end_turn"] == stops
        assert [200] * 4 == statuses(claude)
        continued = [b for b in claude.bodies if b["thread"]["type"] == "continue"]
        assert 3 == len(continued)
        assert all(b["messages"][0]["content"][0]["type"] == "tool_result" for b in continued)


@beta_tool
def run(step: int = 0, call: int = 0) -> str:
    """Run one step of the task."""
    return f"step {step} done"


class TestNewestClaude:
    """9. The newest Claude models: what they read, bind, and cannot turn off."""

    def test_fable_reads_opus_5_blocks(self, agent_emulator: Factory) -> None:
        """A conversation that moves from Opus 5 to Fable 5.1 keeps Opus 5's signed blocks
        (Fable 5.1 reads them) instead of dropping them as foreign; Fable's own blocks are
        bound to that prefix and verify on every later call."""
        claude = agent_emulator("anthropic", rounds=2)
        pipe = fixed()
        history: list[dict[str, Any]] = [{"role": "user", "content": "task 1"}]
        first = converse(
            claude,
            pipe,
            "claude-opus-5",
            history=history,
            base_url=None,
            thinking={"type": "adaptive"},
        )
        history.append({"role": "user", "content": "task 2"})

        second = converse(claude, pipe, "claude-fable-5-1", history=history, base_url=None)

        assert completed(first, 2)
        assert completed(second, 2)
        assert 400 not in statuses(claude)
        last = thinking_of(claude.bodies[-1])
        assert [1] * 5 == [len(t) for t in last], "Opus 5's three turns and Fable's two"
        assert all(t[0]["signature"].startswith("sigb_") for t in last[3:]), "bound blocks"


class TestChatCarriers:
    """10. Each family's own reasoning field on the chat wire."""

    def test_deepseek_gets_the_alias_renamed(self, agent_emulator: Factory) -> None:
        """History from an aggregator carries `reasoning`; DeepSeek's own host reads only
        reasoning_content: the real text arrives there (not a pad)."""
        deepseek = agent_emulator("deepseek", rounds=2)

        results = chat_loop(
            deepseek,
            "deepseek-v4-flash",
            fixed(),
            store=as_aggregator,
            observe=False,
            base_url="https://api.deepseek.com",
        )

        assert [200] * 3 == [status for status, _ in results]
        last = deepseek.bodies[-1]["messages"]
        assert [
            "[deepseek] round 1: decide the next step",
            "[deepseek] round 2: decide the next step",
        ] == [m["reasoning_content"] for m in last if m["role"] == "assistant"]
        assert not any("reasoning" in m for m in last)

    def test_minimax_keeps_its_own_fields(self) -> None:
        """MiniMax's reasoning_details and <think> content pass as sent; nothing is padded."""
        message = {
            "role": "assistant",
            "content": "<think>plan</think>",
            "reasoning_details": [{"type": "reasoning.text", "text": "plan"}],
            "tool_calls": [_call("c1")],
        }
        body = {
            "model": "MiniMax-M3",
            "messages": [
                {"role": "user", "content": "go"},
                message,
                {"role": "tool", "tool_call_id": "c1", "content": "ok"},
            ],
        }
        request = Request(api="chat_completions", base_url="https://api.minimax.io/v1", body=body)

        assert request is fixed()(request)


def as_thinking_text(content: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """pydantic-ai's fallback for reasoning it will not send: a <thinking> text block."""
    return [
        {"type": "text", "text": f"<thinking>{b['thinking']}</thinking>"}
        if b["type"] == "thinking"
        else b
        for b in content
    ]


class TestDowngradedThinking:
    """8. Reasoning a framework turned into text goes back as thinking, and only once."""

    def test_thinking_text_block_restored(self, agent_emulator: Factory) -> None:
        """A <thinking> text copy of the turn's reasoning becomes the thinking block again;
        the copy is not sent (it went twice: as text, and the pad beside it)."""
        mimo = agent_emulator("mimo", rounds=3)

        steps = converse(mimo, fixed(), "mimo-v2.5-pro", thinking=THINKING, store=as_thinking_text)

        assert completed(steps, 3)
        last = mimo.bodies[-1]["messages"]
        turns = [m["content"] for m in last if m["role"] == "assistant"]
        assert all(t[0]["type"] == "thinking" and t[0]["thinking"].strip() for t in turns)
        assert not any(b["type"] == "text" for t in turns for b in t)


def tamper_first(history: list[dict[str, Any]]) -> None:
    """An agent that edited the first turn's thinking (its signature no longer verifies)."""
    first = next(m for m in history if m["role"] == "assistant")
    block = first["content"][0]
    first["content"][0] = {**block, "thinking": block["thinking"] + " (edited)"}


class TestPrefixBinding:
    """9. Prefix-bound models: removing one block invalidates every later one."""

    def test_rejected_block_takes_the_later_ones_with_it(self, agent_emulator: Factory) -> None:
        """Fable 5.1 rejects an edited block; forgetting only that block would leave every
        later block bound to a prefix that no longer exists (a second 400); the one retry
        sends none of them, and the conversation goes on."""
        claude = agent_emulator("anthropic", rounds=2)
        pipe = fixed()
        history: list[dict[str, Any]] = [{"role": "user", "content": "task 1"}]
        first = converse(claude, pipe, "claude-fable-5-1", history=history, base_url=None)
        tamper_first(history)
        history.append({"role": "user", "content": "task 2"})

        second = converse(claude, pipe, "claude-fable-5-1", history=history, base_url=None)

        assert completed(first, 2)
        assert completed(second, 2)
        assert [200, 200, 200, 400, 200, 200, 200] == statuses(claude)
        assert "Invalid `signature`" in claude.log[3].response["error"]["message"]
