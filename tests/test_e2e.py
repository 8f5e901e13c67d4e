"""End to end: the real anthropic SDK (and a plain HTTP client for the chat wire) against the
provider emulators over a real socket on 127.0.0.1."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion

from agent import Pipeline, Request
from agent.demo import originating_policy
from agent.middleware import ThinkingRoundTrip
from agent.testing.loop import Mode, run_tool_loop
from tests.loops import (
    LOSE,
    MUST_PASS_BACK,
    RELAY,
    THINKING,
    TOOLS,
    Factory,
    chat_loop,
    completed,
    converse,
    fixed,
    post,
    thinking_of,
)


class TestOriginatingScenario:
    @pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
    @pytest.mark.parametrize(
        "mode", ["create", "stream", "stream_helper"], ids=["create", "stream", "stream-helper"]
    )
    def test_fails_without_passes_with(
        self, agent_emulator: Factory, use_async: bool, mode: Mode
    ) -> None:
        """mimo-v2.5-pro via a relay: the old strip rule gets MiMo's 400 on call 2; the
        pipeline completes four tool calls."""
        relay = agent_emulator("mimo", rounds=4)

        before = converse(
            relay,
            Pipeline([originating_policy]),
            "mimo-v2.5-pro",
            mode=mode,
            use_async=use_async,
            thinking=THINKING,
        )
        after = converse(
            relay, fixed(), "mimo-v2.5-pro", mode=mode, use_async=use_async, thinking=THINKING
        )

        assert [200, 400] == [s.status for s in before]
        assert f"Param Incorrect: {MUST_PASS_BACK}" == before[-1].error
        assert completed(after, 4)

    def test_received_bodies(
        self, agent_emulator: Factory, case_snapshot: SnapshotAssertion
    ) -> None:
        """The bodies the MiMo relay received in the fixed loop are pinned."""
        relay = agent_emulator("mimo", rounds=4)

        converse(relay, fixed(), "mimo-v2.5-pro", thinking=THINKING)

        assert all(b["signature"] == "" for m in thinking_of(relay.bodies[-1]) for b in m)
        assert relay.bodies == case_snapshot(name="e2e-mimo-relay-tool-loop")


class TestOtherUnsignedFamilies:
    @pytest.mark.parametrize(
        ("family", "model", "error"),
        [
            (
                "kimi",
                "kimi-k2.6",
                "thinking is enabled but reasoning_content is missing in "
                "assistant tool call message at index 1",
            ),
            (
                "deepseek",
                "deepseek-v4-pro",
                "The `content[].thinking` in the thinking mode must be passed back to the API.",
            ),
            ("glm", "glm-4.7", None),
        ],
        ids=["kimi", "deepseek", "glm"],
    )
    def test_anthropic_wire(
        self, agent_emulator: Factory, family: str, model: str, error: str | None
    ) -> None:
        """Behind a relay, stripping fails where the provider enforces it; the pipeline
        sends every tool turn's own thinking back and completes."""
        emulator = agent_emulator(family, rounds=3)

        before = converse(emulator, Pipeline([originating_policy]), model, thinking=THINKING)
        after = converse(emulator, fixed(), model, thinking=THINKING)

        if error is None:
            assert completed(before, 3)  # GLM does not enforce it; it only loses quality
        else:
            assert (2, 400, error) == (before[-1].call, before[-1].status, before[-1].error)
        assert completed(after, 3)
        last = emulator.bodies[-1]
        assert [1, 1, 1] == [len(t) for t in thinking_of(last)]
        signatures = {b.get("signature") for t in thinking_of(last) for b in t}
        expected = {"kimi": {""}, "glm": {None}}.get(family)
        if expected is not None:
            assert expected == signatures
        else:  # DeepSeek's own blocks carry its message id as the signature
            assert all(s for s in signatures)


class TestAnthropic:
    @pytest.mark.parametrize(
        ("model", "keep_all"),
        [("claude-opus-4-6", True), ("claude-sonnet-4-5", False)],
        ids=["keep-all-opus-4-6", "last-turn-only-sonnet-4-5"],
    )
    def test_keep_all_and_last_turn_only(
        self, agent_emulator: Factory, model: str, keep_all: bool
    ) -> None:
        """Two tasks with tool loops: keep-all models get the first task's thinking back,
        last-turn-only models do not; the strict emulator accepts both."""
        claude = agent_emulator("anthropic", rounds=2)
        history: list[dict[str, Any]] = [{"role": "user", "content": "first task"}]

        first = converse(claude, fixed(), model, history=history, base_url=None, thinking=THINKING)
        history.append({"role": "user", "content": "second task"})
        second = converse(claude, fixed(), model, history=history, base_url=None, thinking=THINKING)

        assert completed(first, 2)
        assert completed(second, 2)
        earlier = thinking_of(claude.bodies[-1])[:3]  # the first task's three assistant turns
        assert all(bool(t) == keep_all for t in earlier)

    @pytest.mark.parametrize("redacted", [False, True], ids=["signed", "with-redacted"])
    def test_interleaved(
        self, agent_emulator: Factory, redacted: bool, case_snapshot: SnapshotAssertion
    ) -> None:
        """Interleaved thinking (and redacted blocks) go back in their exact original order."""
        claude = agent_emulator(
            "anthropic", rounds=2, tools_per_round=2, interleaved=True, redacted=redacted
        )

        steps = converse(claude, fixed(), "claude-opus-4-6", base_url=None, thinking=THINKING)

        assert completed(steps, 2)
        for step in steps[:-1]:
            sent = next(
                m["content"]
                for m in claude.bodies[-1]["messages"]
                if m["role"] == "assistant" and m["content"][-1]["id"] == step.content[-1]["id"]
            )
            assert list(step.content) == sent
        if not redacted:
            assert claude.bodies == case_snapshot(name="e2e-claude-interleaved")

    def test_model_switch_from_minimax(
        self, agent_emulator: Factory, case_snapshot: SnapshotAssertion
    ) -> None:
        """After a MiniMax loop, Claude gets no MiniMax-signed thinking and accepts the call;
        sent as is, the foreign signature is rejected."""
        minimax = agent_emulator("minimax", rounds=2)
        claude = agent_emulator("anthropic", rounds=1)
        pipeline = fixed()  # one pipeline, one store: provenance across the switch
        history: list[dict[str, Any]] = [{"role": "user", "content": "first task"}]
        assert completed(
            converse(
                minimax,
                pipeline,
                "MiniMax-M3",
                history=history,
                base_url="https://api.minimax.io/anthropic",
                thinking={"type": "adaptive"},
            ),
            2,
        )
        history.append({"role": "user", "content": "now on Claude"})

        raw = converse(
            claude,
            None,
            "claude-opus-4-7",
            history=list(history),
            base_url=None,
            thinking={"type": "adaptive"},
        )
        switched = converse(
            claude,
            pipeline,
            "claude-opus-4-7",
            history=history,
            base_url=None,
            thinking={"type": "adaptive"},
        )

        assert (400, "messages.1.content.0: Invalid `signature` in `thinking` block") == (
            raw[0].status,
            raw[0].error,
        )
        assert completed(switched, 1)
        assert [[], [], []] == thinking_of(claude.bodies[-1])[:3]
        assert claude.bodies[1:] == case_snapshot(name="e2e-model-switch-minimax-to-claude")

    def test_tampered_signature_rejected(self, agent_emulator: Factory) -> None:
        """A signature changed by one character fails at the emulator, as at Anthropic; the
        pipeline retries once without it, restoring the genuine block it observed."""
        claude = agent_emulator("anthropic", rounds=2)
        pipeline = fixed()
        history: list[dict[str, Any]] = [{"role": "user", "content": "go"}]
        converse(
            claude,
            pipeline,
            "claude-opus-4-6",
            history=history,
            base_url=None,
            thinking=THINKING,
            max_calls=1,
        )
        genuine = history[1]["content"][0]["signature"]
        tampered = genuine[:-2] + ("A" if genuine[-2] != "A" else "B") + genuine[-1]
        history[1]["content"][0] = {**history[1]["content"][0], "signature": tampered}

        raw = converse(
            claude,
            None,
            "claude-opus-4-6",
            history=list(history),
            base_url=None,
            thinking=THINKING,
            max_calls=1,
        )
        claude.clear()
        recovered = converse(
            claude, pipeline, "claude-opus-4-6", history=history, base_url=None, thinking=THINKING
        )

        assert (400, "messages.1.content.0: Invalid `signature` in `thinking` block") == (
            raw[0].status,
            raw[0].error,
        )
        assert completed(recovered, 1)
        assert [400, 200, 200] == [r.status for r in claude.log]
        assert genuine == claude.bodies[1]["messages"][1]["content"][0]["signature"]
        assert tampered in pipeline.middleware[-1].store.rejected()  # type: ignore[attr-defined]

    def test_unknown_model_behind_relay_passes_through(self, agent_emulator: Factory) -> None:
        """A MiMo model under a name no family knows, with an agent that keeps its thinking:
        what the agent sent goes through unchanged and the loop completes, as it does
        without the pipeline (do no harm)."""
        without = converse(agent_emulator("mimo", rounds=3), None, "relay-pro", thinking=THINKING)
        relay = agent_emulator("mimo", rounds=3)

        steps = converse(relay, fixed(), "relay-pro", thinking=THINKING)

        assert completed(without, 3)
        assert completed(steps, 3)
        assert [200] * 4 == [r.status for r in relay.log]

    def test_unknown_model_behind_relay_recovers(self, agent_emulator: Factory) -> None:
        """The same with an agent that loses its thinking: MiMo answers 400 once, the adapter
        retries as MiMo with the real reasoning it observed (not a pad), and keeps MiMo for
        the rest of the loop."""
        relay = agent_emulator("mimo", rounds=4)

        steps = converse(relay, fixed(), "house-model-7", thinking=THINKING, store=LOSE)

        assert completed(steps, 4)
        assert [200, 400, 200, 200, 200, 200] == [r.status for r in relay.log]
        retried = thinking_of(relay.bodies[2])
        assert [["[mimo] round 1, call 1: decide the next step"]] == [
            [b["thinking"] for b in t] for t in retried
        ]
        assert all(len(t) == 1 for t in thinking_of(relay.bodies[-1]))

    def test_latest_message_cannot_be_modified(self, agent_emulator: Factory) -> None:
        """Dropping one of the latest message's interleaved blocks is the 'cannot be
        modified' error."""
        claude = agent_emulator("anthropic", rounds=2, tools_per_round=2, interleaved=True)
        history: list[dict[str, Any]] = [{"role": "user", "content": "go"}]
        converse(
            claude,
            fixed(),
            "claude-opus-4-6",
            history=history,
            base_url=None,
            thinking=THINKING,
            max_calls=1,
        )
        del history[1]["content"][2]  # the second thinking block

        steps = converse(
            claude, None, "claude-opus-4-6", history=history, base_url=None, thinking=THINKING
        )

        assert 400 == steps[0].status
        assert steps[0].error is not None
        assert steps[0].error.startswith(
            "messages.1.content.1: `thinking` or `redacted_thinking`"
            " blocks in the latest assistant message cannot be "
            "modified."
        )

    @pytest.mark.parametrize("strict", [True, False], ids=["strict", "degrade"])
    def test_missing_loop_thinking(self, agent_emulator: Factory, strict: bool) -> None:
        """A loop turn stripped of thinking: strict models answer 400, degrading ones accept;
        ThinkingRoundTrip restores the turn's own observed blocks, or, with restore off and
        on_missing_loop_thinking=drop_param, drops the thinking param instead."""
        claude = agent_emulator("anthropic", rounds=2, strict=strict)

        stripped = converse(
            claude,
            Pipeline([originating_policy]),
            "claude-opus-4-6",
            base_url=RELAY,
            thinking=THINKING,
        )
        restored = converse(
            claude,
            Pipeline([originating_policy, ThinkingRoundTrip()]),
            "claude-opus-4-6",
            base_url=RELAY,
            thinking=THINKING,
        )
        restored_body = claude.bodies[-1]
        dropped = converse(
            claude,
            Pipeline(
                [
                    originating_policy,
                    ThinkingRoundTrip(restore=False, on_missing_loop_thinking="drop_param"),
                ]
            ),
            "claude-opus-4-6",
            base_url=RELAY,
            thinking=THINKING,
        )

        if strict:
            assert 400 == stripped[-1].status
            assert stripped[-1].error is not None
            assert "Expected `thinking` or `redacted_thinking`, but found `tool_use`" in (
                stripped[-1].error
            )
        else:
            assert completed(stripped, 2)
        assert completed(restored, 2)
        assert [1, 1] == [len(t) for t in thinking_of(restored_body)]
        assert completed(dropped, 2)
        assert "thinking" not in claude.bodies[-1]


class TestChatWire:
    @pytest.mark.parametrize(
        ("family", "model", "error"),
        [
            (
                "deepseek",
                "deepseek-v4-flash",
                "The `reasoning_content` in the thinking mode must be passed back to the API.",
            ),
            (
                "kimi",
                "kimi-k2-thinking",
                "thinking is enabled but reasoning_content is missing "
                "in assistant tool call message at index 1",
            ),
            ("mimo", "mimo-v2-flash", "Param Incorrect"),
        ],
        ids=["deepseek", "kimi", "mimo"],
    )
    def test_reasoning_content_loop(
        self, agent_emulator: Factory, family: str, model: str, error: str
    ) -> None:
        """An agent that drops reasoning_content gets the provider's 400; with the pipeline
        each turn's own reasoning is restored from what it observed, and the loop completes."""
        emulator = agent_emulator(family, rounds=3)

        before = chat_loop(emulator, model, None, keep_reasoning=False)
        after = chat_loop(emulator, model, fixed(), keep_reasoning=False)

        assert 400 == before[-1][0]
        assert error == before[-1][1]["error"]["message"]
        assert [200, 200, 200, 200] == [status for status, _ in after]
        sent = emulator.bodies[-1]["messages"]
        assert [f"[{family}] round {k}: decide the next step" for k in (1, 2, 3)] == [
            m["reasoning_content"] for m in sent if m["role"] == "assistant"
        ]

    def test_strict_server_422_learned(
        self, agent_emulator: Factory, case_snapshot: SnapshotAssertion
    ) -> None:
        """History carrying reasoning_content makes a strict server nobody named answer 422;
        the pipeline learns from that error and the one retry, without the field, succeeds."""
        deepseek = agent_emulator("deepseek", rounds=1)
        strict = agent_emulator("strict", rounds=1)
        chat_loop(deepseek, "deepseek-v4-flash", fixed(), keep_reasoning=True)
        history = [*deepseek.bodies[-1]["messages"], {"role": "user", "content": "and now?"}]
        body = {"model": "acme-large", "messages": history}
        pipe = fixed()
        request = Request(api="chat_completions", base_url="https://api.acme.example/v1", body=body)

        sent = pipe(request)
        status, error = post(f"{strict.openai_base_url}/chat/completions", dict(sent.body))
        retry = pipe.recover(request, sent, status, error)
        assert retry is not None
        retried, _ = post(f"{strict.openai_base_url}/chat/completions", dict(retry.body))

        assert sent is request, "an unknown target first gets what the agent sent"
        assert 422 == status
        assert 200 == retried
        assert strict.bodies[-1] == case_snapshot(name="e2e-strict-server-no-reasoning-content")

    def test_known_strict_host_stripped_up_front(self, agent_emulator: Factory) -> None:
        """A host the family table knows to be strict (Groq) gets no reasoning field at all."""
        deepseek = agent_emulator("deepseek", rounds=1)
        strict = agent_emulator("strict", rounds=1)
        chat_loop(deepseek, "deepseek-v4-flash", fixed(), keep_reasoning=True)
        history = [*deepseek.bodies[-1]["messages"], {"role": "user", "content": "and now?"}]
        body = {"model": "openai/gpt-oss-120b", "messages": history}

        sent = fixed()(
            Request(api="chat_completions", base_url="https://api.groq.com/openai/v1", body=body)
        )
        status, _ = post(f"{strict.openai_base_url}/chat/completions", dict(sent.body))

        assert 200 == status

    def test_chat_stream(self, agent_emulator: Factory) -> None:
        """With stream: true the chat emulator sends SSE chunks ending in [DONE]."""
        deepseek = agent_emulator("deepseek", rounds=1)
        request = urllib.request.Request(
            f"{deepseek.openai_base_url}/chat/completions",
            data=json.dumps(
                {
                    "model": "deepseek-v4-flash",
                    "stream": True,
                    "messages": [{"role": "user", "content": "go"}],
                }
            ).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )

        with urllib.request.urlopen(request, timeout=10) as response:
            lines = [line for line in response.read().decode().splitlines() if line]

        assert "data: [DONE]" == lines[-1]
        chunks = [json.loads(line[6:]) for line in lines[:-1]]
        reasoning = "".join(c["choices"][0]["delta"].get("reasoning_content", "") for c in chunks)
        assert "[deepseek] round 1: decide the next step" == reasoning


class TestFactories:
    def test_anthropic_client_from_config(self, agent_emulator: Factory, tmp_path: Any) -> None:
        """agent.anthropic_client builds a client for a configured provider, pipeline
        installed: the originating scenario completes."""
        import agent

        relay = agent_emulator("mimo", rounds=2)
        path = tmp_path / "agent.yaml"
        path.write_text(
            "custom_providers:\n"
            f"  - {{name: relay, base_url: '{relay.base_url}', api_key: test-key,\n"
            "      model: house-model, api_mode: anthropic_messages, family: mimo}\n"
        )

        with agent.anthropic_client(path, "relay", max_retries=0) as client:
            steps = run_tool_loop(
                client,
                [{"role": "user", "content": "go"}],
                model="house-model",
                max_tokens=1024,
                tools=TOOLS,
                store=lambda content: [b for b in content if b["type"] != "thinking"],
            )

        assert completed(steps, 2)  # the agent kept no thinking; the pipeline restored it
        assert [1, 1] == [len(t) for t in thinking_of(relay.bodies[-1])]
