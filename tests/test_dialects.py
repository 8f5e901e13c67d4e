"""The host decides the carrier: the same models behind vLLM, Cerebras, Fireworks, GitHub
Copilot, Mistral, OpenRouter and their vendors' own hosts, end to end against host emulators
that record what reasoning reached the model (``Emulator.reached``)."""

from __future__ import annotations

from typing import Any

import httpx2
import openai
import pytest

from agent import Pipeline, Request
from agent.middleware import ThinkingRoundTrip, ToolPairing
from agent.recovery import classify
from agent.testing.emulators import Emulator
from tests.loops import Factory, chat_loop

VLLM = "http://gpu-box.internal:8000/v1"
COPILOT = "https://api.githubcopilot.com"
FIREWORKS = "https://api.fireworks.ai/inference/v1"
CEREBRAS = "https://api.cerebras.ai/v1"
MISTRAL = "https://api.mistral.ai/v1"
OPENROUTER = "https://openrouter.ai/api/v1"


def chain(**options: Any) -> Pipeline:
    dialect = {"dialect": options.pop("dialect")} if "dialect" in options else {}
    return Pipeline([ToolPairing(), ThinkingRoundTrip(**options)], **dialect)


def as_received(message: dict[str, Any]) -> dict[str, Any]:
    """An agent that keeps each assistant message exactly as the host answered it."""
    return message


def drops_reasoning(message: dict[str, Any]) -> dict[str, Any]:
    """An agent that keeps only role, content and tool calls."""
    return {k: v for k, v in message.items() if k in ("role", "content", "tool_calls")}


def as_reasoning_content(message: dict[str, Any]) -> dict[str, Any]:
    """An SDK that normalises whatever field the host answered in to reasoning_content."""
    out = {k: v for k, v in message.items() if k not in ("reasoning", "reasoning_text")}
    text = message.get("reasoning") or message.get("reasoning_text")
    if text is not None:
        out["reasoning_content"] = text
    content = message.get("content")
    if isinstance(content, list):  # Mistral's chunks flattened, as LiteLLM does
        thought = "".join(
            p["text"] for c in content if c["type"] == "thinking" for p in c["thinking"]
        )
        out["reasoning_content"] = thought
        out["content"] = "".join(c["text"] for c in content if c["type"] == "text") or None
    return out


def every_turn_reached(emulator: Emulator) -> bool:
    """Whether, in every request after the first, each assistant message's reasoning reached
    the model."""
    later = emulator.reached[1:]
    return bool(later) and all(r is not None for turn in later for r in turn)


class TestVllm:
    def test_the_agents_reasoning_field_reaches_the_model(self, agent_emulator: Factory) -> None:
        """vLLM (dialect: vllm) answers in `reasoning` and reads only that: the agent's field
        is kept (never renamed to reasoning_content, which vLLM drops), every turn."""
        vllm = agent_emulator("kimi", rounds=3, host="vllm")

        results = chat_loop(
            vllm, "moonshotai/Kimi-K2.6", chain(dialect="vllm"), base_url=VLLM, store=as_received
        )

        assert [200] * 4 == [s for s, _ in results]
        assert every_turn_reached(vllm)
        assert not any("reasoning_content" in m for m in vllm.bodies[-1]["messages"])

    def test_an_unknown_host_keeps_the_agents_field(self, agent_emulator: Factory) -> None:
        """A host no dialect row knows: the field the agent chose is left as it is."""
        vllm = agent_emulator("deepseek", rounds=2, host="vllm")

        results = chat_loop(
            vllm, "deepseek-ai/DeepSeek-V4-Pro", chain(), base_url=VLLM, store=as_received
        )

        assert [200] * 3 == [s for s, _ in results]
        assert every_turn_reached(vllm)

    def test_lost_reasoning_is_restored_in_the_hosts_field(self, agent_emulator: Factory) -> None:
        """An agent that dropped the reasoning gets the observed text back, in `reasoning`."""
        vllm = agent_emulator("kimi", rounds=3, host="vllm")

        chat_loop(
            vllm,
            "moonshotai/Kimi-K2.6",
            chain(dialect="vllm"),
            base_url=VLLM,
            store=drops_reasoning,
        )

        assert every_turn_reached(vllm)

    def test_reasoning_content_is_renamed_for_vllm(self, agent_emulator: Factory) -> None:
        """An agent holding reasoning_content (what vLLM silently drops) has it moved to
        `reasoning` once the provider names its dialect."""
        vllm = agent_emulator("qwen", rounds=2, host="vllm")

        chat_loop(
            vllm,
            "Qwen/Qwen3.6-35B",
            chain(dialect="vllm"),
            base_url=VLLM,
            store=as_reasoning_content,
        )
        without = agent_emulator("qwen", rounds=2, host="vllm")
        chat_loop(without, "Qwen/Qwen3.6-35B", None, base_url=VLLM, store=as_reasoning_content)

        assert every_turn_reached(vllm)
        assert not any(r for turn in without.reached for r in turn), "the silent loss"


class TestCopilot:
    def test_both_halves_go_back_verbatim(self, agent_emulator: Factory) -> None:
        """Claude on Copilot's chat wire: reasoning_text and reasoning_opaque come back as the
        host sent them (the anthropic family's chat rule does not remove the pair)."""
        copilot = agent_emulator("anthropic", rounds=3, host="copilot")

        results = chat_loop(
            copilot, "claude-sonnet-5", chain(), base_url=COPILOT, store=as_received
        )

        assert [200] * 4 == [s for s, _ in results]
        assert every_turn_reached(copilot)
        sent = [m for m in copilot.bodies[-1]["messages"] if m["role"] == "assistant"]
        answered = [r.response["choices"][0]["message"] for r in copilot.log[:-1]]
        assert [(a["reasoning_text"], a["reasoning_opaque"]) for a in answered] == [
            (m["reasoning_text"], m["reasoning_opaque"]) for m in sent
        ]

    def test_a_lost_pair_is_restored_whole(self, agent_emulator: Factory) -> None:
        """An agent that kept neither half gets both back together, by tool call id."""
        copilot = agent_emulator("anthropic", rounds=3, host="copilot")

        results = chat_loop(
            copilot, "claude-sonnet-5", chain(), base_url=COPILOT, store=drops_reasoning
        )

        assert [200] * 4 == [s for s, _ in results]
        assert every_turn_reached(copilot)

    def test_another_models_pair_is_left_out_whole(self) -> None:
        """A pair observed from another model never goes: neither half."""
        pipe = chain()
        other = Request(
            api="chat_completions", base_url=COPILOT, body={"model": "gemini-3-pro", "messages": []}
        )
        answer = {
            "reasoning_text": "gemini's",
            "reasoning_opaque": "opaque-g",
            "content": "x",
            "role": "assistant",
            "tool_calls": [_call("c1")],
        }
        pipe.observe(other, {"choices": [{"message": answer}]})
        body = {
            "model": "claude-sonnet-5",
            "messages": [{"role": "user", "content": "go"}, answer, _result("c1")],
        }

        out = pipe(Request(api="chat_completions", base_url=COPILOT, body=body))

        assert not {"reasoning_text", "reasoning_opaque"} & out.body["messages"][1].keys()


class TestFireworks:
    def test_known_host_gets_no_extra_field(self, agent_emulator: Factory) -> None:
        """Fireworks' strict schema: reasoning_details never go; reasoning_content (required
        for interleaved thinking) reaches the model every turn, with no 400 at all."""
        fireworks = agent_emulator("kimi", rounds=3, host="fireworks")
        model = "accounts/fireworks/models/kimi-k3"

        results = chat_loop(fireworks, model, chain(), base_url=FIREWORKS, store=with_details)
        bare = agent_emulator("kimi", rounds=3, host="fireworks")
        control = chat_loop(bare, model, None, base_url=FIREWORKS, store=with_details)

        assert [200] * 4 == [s for s, _ in results]
        assert every_turn_reached(fireworks)
        assert 400 == control[-1][0]
        assert "Extra inputs are not permitted, field: 'messages[1].reasoning_details'" in str(
            control[-1][1]
        )

    def test_unknown_host_one_400_then_the_field_alone_goes(self, agent_emulator: Factory) -> None:
        """Behind a host no row knows (a relay in front of Fireworks), through the transport:
        one 400 names reasoning_details, the retry leaves out that field alone
        (reasoning_content intact), and later calls leave it out without a 400."""
        fireworks = agent_emulator("deepseek", rounds=3, host="fireworks")
        pipe = chain()
        with openai.OpenAI(
            base_url=fireworks.openai_base_url,
            api_key="test",
            max_retries=0,
            http_client=httpx2.Client(transport=_transport(pipe)),
        ) as client:
            history: list[Any] = [{"role": "user", "content": "go"}]
            for _ in range(4):
                answer = client.chat.completions.create(
                    model="deepseek-v4-pro", messages=history, tools=[_TOOL]
                )
                message = with_details(answer.choices[0].message.model_dump(exclude_none=True))
                history.append(message)
                if not message.get("tool_calls"):
                    break
                history.extend(_result(c["id"]) for c in message["tool_calls"])

            assert [400] == [r.status for r in fireworks.log if r.status != 200]
            assert every_turn_reached(fireworks)
            assert fireworks.log[-1].status == 200


class TestCerebras:
    def test_reasoning_goes_back_as_reasoning(self, agent_emulator: Factory) -> None:
        """Cerebras takes prior reasoning as `reasoning` (reasoning_content is a 400): GLM's
        reasoning reaches the model, renamed, where the strict rule used to remove it."""
        cerebras = agent_emulator("glm", rounds=3, host="cerebras")

        results = chat_loop(
            cerebras, "zai-glm-4.7", chain(), base_url=CEREBRAS, store=as_reasoning_content
        )

        assert [200] * 4 == [s for s, _ in results]
        assert every_turn_reached(cerebras)


class TestMistral:
    def test_reasoning_travels_as_thinking_chunks(self, agent_emulator: Factory) -> None:
        """Mistral reads reasoning only as thinking chunks in content (a reasoning_content
        field is a 422): an agent holding reasoning_content has it sent as chunks."""
        mistral = agent_emulator("mistral", rounds=3, host="mistral")

        results = chat_loop(
            mistral, "mistral-medium-3-5", chain(), base_url=MISTRAL, store=as_reasoning_content
        )

        assert [200] * 4 == [s for s, _ in results]
        assert every_turn_reached(mistral)

    def test_lost_chunks_are_restored(self, agent_emulator: Factory) -> None:
        """An agent that kept only the answer's text gets the observed chunks back."""
        mistral = agent_emulator("mistral", rounds=3, host="mistral")

        chat_loop(mistral, "mistral-medium-3-5", chain(), base_url=MISTRAL, store=text_only)

        assert every_turn_reached(mistral)

    def test_the_agents_own_chunks_pass_as_sent(self, agent_emulator: Factory) -> None:
        """Chunks the agent kept go back unchanged."""
        mistral = agent_emulator("mistral", rounds=2, host="mistral")

        chat_loop(mistral, "mistral-medium-3-5", chain(), base_url=MISTRAL, store=as_received)

        sent = [m for m in mistral.bodies[-1]["messages"] if m["role"] == "assistant"]
        answered = [r.response["choices"][0]["message"] for r in mistral.log[:-1]]
        assert [a["content"] for a in answered] == [m["content"] for m in sent]


class TestVendorHosts:
    @pytest.mark.parametrize(
        ("family", "model", "base_url", "error"),
        [
            ("kimi", "kimi-k2.6", "https://api.moonshot.ai/v1", "at position 1 entry 0"),
            ("minimax", "MiniMax-M3", "https://api.minimax.io/v1", "ReasoningDetail"),
        ],
        ids=["kimi", "minimax"],
    )
    def test_openrouter_details_never_reach_a_vendor(
        self, family: str, model: str, base_url: str, error: str
    ) -> None:
        """Details observed at OpenRouter are in OpenRouter's shape: Kimi's and MiniMax's own
        hosts answer 400 to them, so they are left out there."""
        pipe = chain()
        routed = Request(
            api="chat_completions",
            base_url=OPENROUTER,
            body={"model": f"x/{model}", "messages": []},
        )
        details = [{"type": "reasoning.text", "text": "planned", "signature": "sig-or"}]
        turn = {
            "role": "assistant",
            "content": None,
            "reasoning_content": "planned",
            "reasoning_details": details,
            "tool_calls": [_call("c1")],
        }
        pipe.observe(routed, {"choices": [{"message": turn}]})
        body = {
            "model": model,
            "messages": [{"role": "user", "content": "go"}, turn, _result("c1")],
        }

        sent = pipe(Request(api="chat_completions", base_url=base_url, body=body))
        with Emulator(family) as vendor:
            status, answer, _ = vendor.handle("/v1/chat/completions", sent.body)
            raw_status, raw, _ = vendor.handle("/v1/chat/completions", body)

        assert 200 == status, answer
        assert (400, True) == (raw_status, error in str(raw))
        found = classify(raw_status, raw)
        assert found is not None
        assert ("unknown_field", "reasoning_details") == (found.kind, found.field)


class TestOpenRouterProviders:
    def test_a_pinned_request_gets_no_other_providers_details(self) -> None:
        """Details Vertex made are left out of a request pinned to AI Studio (Gemini decodes
        no other provider's; turn 1 is past, so its signature is not required)."""
        with Emulator("gemini", relay="openrouter", rounds=1) as router:
            pipe, sent_bodies = chain(), list[Any]()
            first = chat_loop(
                router,
                "google/gemini-3-pro",
                pipe,
                base_url=OPENROUTER,
                store=as_received,
                sent_bodies=sent_bodies,
            )
            history = [
                *sent_bodies[-1]["messages"],
                first[-1][1]["choices"][0]["message"],
                {"role": "user", "content": "again"},
            ]
            pin = {"only": ["google-ai-studio"]}
            body = {"model": "google/gemini-3-pro", "messages": history, "provider": pin}
            sent = pipe(Request(api="chat_completions", base_url=OPENROUTER, body=body))
            status, answer, _ = router.handle("/api/v1/chat/completions", dict(sent.body))
            raw_status, raw, _ = router.handle("/api/v1/chat/completions", body)

        assert 200 == status, answer
        assert 400 == raw_status
        assert "Corrupted thought signature." in str(raw)

    def test_a_switch_mid_loop_is_pinned_on_the_retry(self) -> None:
        """Unpinned, the next step lands on another provider, which cannot decode the
        details: its 400 is classified and the retry is pinned to the provider that made
        them (the next unpinned request would land on the other one again)."""
        upstreams = ("google-vertex", "google-ai-studio", "google-ai-studio")
        with Emulator("gemini", relay="openrouter", rounds=3, upstreams=upstreams) as router:
            pipe, sent_bodies = chain(), list[Any]()
            first = chat_loop(
                router,
                "google/gemini-3-pro",
                pipe,
                base_url=OPENROUTER,
                store=as_received,
                sent_bodies=sent_bodies,
            )
            request = Request(api="chat_completions", base_url=OPENROUTER, body=sent_bodies[-1])
            retry = pipe.recover(request, pipe(request), first[-1][0], first[-1][1])
            assert retry is not None
            retried, answer, _ = router.handle("/api/v1/chat/completions", dict(retry.body))

        assert (2, 400) == (len(first), first[-1][0])
        assert "Corrupted thought signature." in str(first[-1][1])
        assert 200 == retried, answer
        assert {"only": ["google-vertex"], "allow_fallbacks": False} == retry.body["provider"]


class TestOptions:
    def test_reasoning_field_names_the_field(self) -> None:
        """reasoning_field renames any alias to the field named, on any host."""
        body = {
            "model": "house",
            "messages": [
                {"role": "user", "content": "go"},
                {"role": "assistant", "content": "x", "reasoning_content": "r"},
            ],
        }
        request = Request(api="chat_completions", base_url="https://h.example", body=body)

        out = chain(reasoning_field="reasoning")(request)
        none = chain(reasoning_field="none")(request)

        assert {"role": "assistant", "content": "x", "reasoning": "r"} == out.body["messages"][1]
        assert {"role": "assistant", "content": "x"} == none.body["messages"][1]

    @pytest.mark.parametrize(
        ("model", "base_url", "expected"),
        [
            (
                "kimi-k2.6",
                "https://api.moonshot.ai/v1",
                {"thinking": {"type": "enabled", "keep": "all"}},
            ),
            ("kimi-k3", "https://api.moonshot.ai/v1", {"thinking": {"type": "enabled"}}),
            (
                "accounts/fireworks/models/glm-5",
                FIREWORKS,
                {"thinking": {"type": "enabled"}, "reasoning_history": "preserved"},
            ),
            ("house", "https://h.example", {"thinking": {"type": "enabled"}}),
        ],
        ids=["kimi-k2.6", "kimi-k3-refuses", "fireworks", "unknown-host"],
    )
    def test_preserve_reasoning_sets_the_hosts_switch(
        self, model: str, base_url: str, expected: dict[str, Any]
    ) -> None:
        """preserve_reasoning merges the host's switch in, never for a model that refuses it
        (kimi-k3) and never where the dialect has none."""
        body = {
            "model": model,
            "messages": [{"role": "user", "content": "go"}],
            "thinking": {"type": "enabled"},
        }
        request = Request(api="chat_completions", base_url=base_url, body=body)
        pipe = chain(preserve_reasoning=True)

        out = pipe(request)

        assert expected == {k: v for k, v in out.body.items() if k not in ("model", "messages")}
        if out.body is not body:
            assert any(
                c.path in ("thinking", "reasoning_history") for c in pipe.explain(request).changes
            )

    @pytest.mark.parametrize("preserve", [True, False], ids=["preserved", "discarded"])
    def test_the_switch_makes_the_host_keep_earlier_turns(
        self, agent_emulator: Factory, preserve: bool
    ) -> None:
        """Fireworks discards earlier turns' reasoning unless reasoning_history is preserved:
        with preserve_reasoning on, the first task's reasoning reaches the model during the
        second task."""
        fireworks = agent_emulator("glm", rounds=1, host="fireworks")
        pipe = chain(preserve_reasoning=preserve)
        model = "accounts/fireworks/models/glm-5"
        chat_loop(fireworks, model, pipe, base_url=FIREWORKS, store=as_received)
        history = [
            *fireworks.bodies[-1]["messages"],
            fireworks.log[-1].response["choices"][0]["message"],
            {"role": "user", "content": "and the next task"},
        ]

        sent = pipe(
            Request(
                api="chat_completions",
                base_url=FIREWORKS,
                body={"model": model, "messages": history},
            )
        )
        status, _, _ = fireworks.handle("/inference/v1/chat/completions", dict(sent.body))

        assert 200 == status
        earlier = fireworks.reached[-1]
        assert [preserve] * len(earlier) == [r is not None for r in earlier]

    def test_the_agents_own_switch_wins(self) -> None:
        """A value the agent set is left as it is."""
        body = {
            "model": "kimi-k2.6",
            "messages": [{"role": "user", "content": "go"}],
            "thinking": {"type": "enabled", "keep": None},
        }
        request = Request(api="chat_completions", base_url="https://api.moonshot.ai/v1", body=body)

        assert chain(preserve_reasoning=True)(request) is request


_TOOL: Any = {"type": "function", "function": {"name": "run", "parameters": {}}}


def _call(id_: str) -> dict[str, Any]:
    return {"id": id_, "type": "function", "function": {"name": "run", "arguments": "{}"}}


def _result(id_: str) -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": id_, "content": "ok"}


def _transport(pipe: Pipeline) -> Any:
    from agent.integrations.transport import PipelineTransport

    return PipelineTransport(pipe)


def with_details(message: dict[str, Any]) -> dict[str, Any]:
    """An agent (LiteLLM-style) that adds its reasoning as reasoning_details too."""
    text = message.get("reasoning_content")
    if not isinstance(text, str):
        return message
    return {**message, "reasoning_details": [{"type": "reasoning.text", "text": text}]}


def text_only(message: dict[str, Any]) -> dict[str, Any]:
    """An agent that keeps the answer's text and tool calls, no reasoning anywhere."""
    content = message.get("content")
    if isinstance(content, list):
        content = "".join(c["text"] for c in content if c["type"] == "text") or None
    return {**drops_reasoning(message), "content": content}


class TestConfig:
    def test_provider_keys_reach_the_pipeline(self, tmp_path: Any) -> None:
        """A provider's dialect, reasoning_field and preserve_reasoning are what its pipeline
        runs with."""
        from agent import load_config

        path = tmp_path / "agent.yaml"
        path.write_text(
            "providers:\n"
            "  gpu:\n"
            "    base_url: http://gpu-box.internal:8000/v1\n"
            "    dialect: vllm\n"
            "    reasoning_field: reasoning\n"
            "    preserve_reasoning: true\n",
            encoding="utf-8",
        )

        pipe = load_config(path).pipeline("gpu")
        body = {"model": "Qwen/Qwen3.6", "messages": [{"role": "user", "content": "go"}]}
        match = pipe.resolve(Request(api="chat_completions", base_url=VLLM, body=body)).match
        round_trip = pipe.middleware[-1]

        assert ("vllm", "explicit") == (match.dialect.name, match.dialect_rule)
        assert isinstance(round_trip, ThinkingRoundTrip)
        assert ("reasoning", True) == (
            round_trip.reasoning_field,
            round_trip.preserve_reasoning,
        )

    @pytest.mark.parametrize(
        ("line", "problem"),
        [
            ("dialect: vlm", "providers.gpu.dialect: unknown dialect 'vlm'"),
            ("reasoning_field: thoughts", "providers.gpu.reasoning_field: 'thoughts' is not"),
            ("preserve_reasoning: maybe", "providers.gpu.preserve_reasoning: expected true"),
        ],
        ids=["dialect", "reasoning_field", "preserve_reasoning"],
    )
    def test_bad_values_fail_at_load_naming_the_entry(
        self, tmp_path: Any, line: str, problem: str
    ) -> None:
        """A misspelt dialect, field or flag fails at load, naming the entry."""
        from agent import ConfigError, load_config

        path = tmp_path / "agent.yaml"
        path.write_text(f"providers:\n  gpu:\n    base_url: {VLLM}\n    {line}\n")

        with pytest.raises(ConfigError) as caught:
            load_config(path)

        assert problem in str(caught.value)


class TestLessons:
    def test_an_unknown_host_teaches_its_field(self, agent_emulator: Factory) -> None:
        """A host no row knows gets the agent's `reasoning` as it is; when it answers "must
        be passed back", the retry writes the family's own field, and later calls to that
        host get it without another 400."""
        kimi = agent_emulator("kimi", rounds=3)
        pipe = chain()
        statuses = []
        history: list[dict[str, Any]] = [{"role": "user", "content": "go"}]
        for _ in range(4):
            body = {"model": "kimi-k2.6", "messages": history, "tools": [_TOOL]}
            request = Request(api="chat_completions", base_url="https://llm.internal/v1", body=body)
            sent = pipe(request)
            status, answer, _ = kimi.handle("/v1/chat/completions", dict(sent.body))
            statuses.append(status)
            if status != 200:
                retry = pipe.recover(request, sent, status, answer)
                assert retry is not None
                status, answer, _ = kimi.handle("/v1/chat/completions", dict(retry.body))
                statuses.append(status)
            message = answer["choices"][0]["message"]
            history.append({**drops_reasoning(message), "reasoning": message["reasoning_content"]})
            if not message.get("tool_calls"):
                break
            history.extend(_result(c["id"]) for c in message["tool_calls"])

        assert [200, 400, 200, 200, 200] == statuses
