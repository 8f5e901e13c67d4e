"""The models and errors of late 2026, end to end against emulators written from the
evidence: Responses servers that are not OpenAI, xAI, Kimi's preserved thinking, Gemini's
second signature error and an id the table does not know, compaction, Bedrock Claude 5.x, and
recovery that recovers whenever it can build a better request."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from agent import Pipeline, Request, load_config
from agent.middleware import ThinkingRoundTrip, ToolPairing
from agent.testing.emulators import Emulator
from tests.loops import Factory, chat_loop, converse_loop, gemini_loop, responses_loop


def chain() -> Pipeline:
    return Pipeline([ToolPairing(), ThinkingRoundTrip()])


def codex_shape(output: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Codex CLI keeps every output item, its reasoning items summary-only with
    ``encrypted_content: null``."""
    return [
        {**o, "encrypted_content": o.get("encrypted_content")} if o["type"] == "reasoning" else o
        for o in output
    ]


class TestResponsesBeyondOpenAI:
    def test_codex_through_the_gateway_keeps_every_item(self, tmp_path: Path) -> None:
        """Codex CLI's shape (store: false, summary-only reasoning) through the gateway to a
        Responses server in front of DeepSeek keeps every reasoning item: the bridge carries
        each to the model; the store: false 404 is OpenAI's, not this server's."""
        from tests.test_gateway import gateway

        with Emulator("deepseek", rounds=3) as deepseek:
            path = tmp_path / "gw.yaml"
            path.write_text(
                "providers:\n  ds:\n"
                f"    base_url: {deepseek.openai_base_url}\n    api_mode: responses\n"
            )
            with gateway(load_config(path)) as url:
                results = responses_loop(
                    deepseek, "deepseek-v4-pro", None, keep=codex_shape, base=f"{url}/ds/v1"
                )

        assert [200] * 4 == [s for s, _ in results]
        assert all(r for step in deepseek.reached for r in step)
        assert 3 == len(deepseek.reached[-1]), "each step's reasoning reached the model"

    def test_codex_to_openai_still_gets_no_404(self, tmp_path: Path) -> None:
        """The same client to OpenAI itself: a bare reasoning id with store: false is a 404
        there, so it never goes; encrypted reasoning is asked for instead."""
        from tests.test_gateway import gateway

        with Emulator("openai", rounds=3) as openai:
            path = tmp_path / "gw.yaml"
            path.write_text(
                f"providers:\n  oa:\n    base_url: {openai.openai_base_url}\n"
                "    api_mode: responses\n"
            )
            with gateway(load_config(path)) as url:
                results = responses_loop(
                    openai, "gpt-5", None, keep=codex_shape, base=f"{url}/oa/v1"
                )

        assert [200] * 4 == [s for s, _ in results]
        assert 404 not in [r.status for r in openai.log]


class TestXai:
    def test_encrypted_reasoning_is_asked_for_and_reaches_the_model(self) -> None:
        """Grok: without the pipeline the agent never asks for encrypted reasoning, so none
        reaches the model, silently (200s); with it, every step's reasoning does."""
        with Emulator("xai", rounds=3) as bare:
            raw = responses_loop(bare, "grok-4.3", None, store=None)
        with Emulator("xai", rounds=3) as xai:
            fixed = responses_loop(xai, "grok-4.3", chain(), store=None)

        assert [200] * 4 == [s for s, _ in raw] == [s for s, _ in fixed]
        assert not any(r for step in bare.reached for r in step), "the silent loss"
        assert all(r for step in xai.reached for r in step)
        assert 3 == len(xai.reached[-1])

    def test_a_continued_response_is_not_asked(self) -> None:
        """A request that continues a stored response (previous_response_id) asks for
        nothing more."""
        body = {"model": "grok-4.3", "input": [], "previous_response_id": "resp_1"}
        request = Request(api="responses", base_url="https://api.x.ai/v1", body=body)

        assert chain()(request) is request
        asked = chain()(Request(api="responses", body={"model": "grok-4.3", "input": []}))
        assert ["reasoning.encrypted_content"] == asked.body["include"]


def text_only(message: dict[str, Any]) -> dict[str, Any]:
    """An agent that keeps an answer's text and tool calls, no reasoning."""
    return {k: v for k, v in message.items() if k in ("role", "content", "tool_calls")}


def tool_reasoning_only(message: dict[str, Any]) -> dict[str, Any]:
    """An agent that keeps reasoning only with tool calls (what the other providers need)."""
    return message if message.get("tool_calls") else text_only(message)


def two_tasks(kimi: Emulator, model: str, pipe: Pipeline | None, **extra: Any) -> list[Any]:
    """A finished task (its final answer kept without reasoning) and then a second one."""
    chat_loop(kimi, model, pipe, store=tool_reasoning_only, **extra)
    first = copy.deepcopy(kimi.log[-1])
    history = [
        *first.body["messages"],
        text_only(first.response["choices"][0]["message"]),
        {"role": "user", "content": "and now the next task"},
    ]
    return chat_loop(kimi, model, pipe, store=tool_reasoning_only, history=history, **extra)


class TestKimiPreserved:
    def test_every_assistant_message_carries_reasoning(self, agent_emulator: Factory) -> None:
        """kimi-k3 (preserved thinking always on) wants reasoning on every earlier assistant
        message, the first task's plain answer included: padded where it was never
        observed."""
        kimi = agent_emulator("kimi", rounds=1)

        results = two_tasks(kimi, "kimi-k3", chain())
        bare = agent_emulator("kimi", rounds=1)
        raw = two_tasks(bare, "kimi-k3", None)

        assert all(200 == s for s, _ in results)
        assert 400 == raw[-1][0]
        assert "missing in assistant message at index" in str(raw[-1][1])
        assert all(
            isinstance(m.get("reasoning_content"), str)
            for m in kimi.bodies[-1]["messages"]
            if m["role"] == "assistant"
        )

    def test_keep_all_on_k2_6(self, agent_emulator: Factory) -> None:
        """kimi-k2.6 with thinking.keep all is preserved thinking too."""
        kimi = agent_emulator("kimi", rounds=1)

        results = two_tasks(kimi, "kimi-k2.6", chain(), thinking={"type": "enabled", "keep": "all"})

        assert all(200 == s for s, _ in results)

    def test_an_unknown_model_learns_it_from_the_error(self, agent_emulator: Factory) -> None:
        """A Kimi model the table does not mark as preserved: its 400 ("missing in assistant
        message", no "tool call") teaches it, and the one retry pads every message."""
        kimi = agent_emulator("kimi", rounds=1)
        pipe = chain()
        chat_loop(kimi, "kimi-k4", pipe, store=text_only)
        first = kimi.log[-1]
        history = [
            *first.body["messages"],
            text_only(first.response["choices"][0]["message"]),
            {"role": "user", "content": "next"},
        ]
        request = Request(api="chat_completions", body={"model": "kimi-k4", "messages": history})
        sent = pipe(request)
        status, error, _ = kimi.handle("/v1/chat/completions", dict(sent.body))

        retry = pipe.recover(request, sent, status, error)
        assert retry is not None
        retried, _, _ = kimi.handle("/v1/chat/completions", dict(retry.body))

        assert (400, 200) == (status, retried)

    def test_the_anthropic_wire_too(self, agent_emulator: Factory) -> None:
        """On Kimi's Anthropic endpoint every earlier assistant message gets its thinking
        (the pad "" with signature "" where none was observed)."""
        kimi = agent_emulator("kimi", rounds=1)
        body = {
            "model": "kimi-k3",
            "max_tokens": 100,
            "thinking": {"type": "enabled", "budget_tokens": 50},
            "messages": [
                {"role": "user", "content": "first"},
                {"role": "assistant", "content": [{"type": "text", "text": "done"}]},
                {"role": "user", "content": "second"},
            ],
        }
        request = Request(
            api="anthropic_messages", base_url="https://api.kimi.com/coding", body=body
        )

        status, _, _ = kimi.handle("/v1/messages", dict(chain()(request).body))
        raw, _, _ = kimi.handle("/v1/messages", body)

        assert (200, 400) == (status, raw)


def forged_first(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An agent whose history carries a mangled thought signature on each step's call."""
    return [
        {**p, "thoughtSignature": "mangled-by-a-proxy"} if "functionCall" in p else p for p in parts
    ]


class TestGemini:
    def test_a_corrupted_signature_is_left_out_on_the_retry(self) -> None:
        """``Corrupted thought signature.`` is an invalid signature: the retry leaves that
        signature out and, on the current step, sends the documented bypass value."""
        pipe = chain()
        with Emulator("gemini", rounds=2) as gemini:
            first = gemini_loop(gemini, "gemini-2.5-pro", pipe, keep=forged_first, observe=False)
            request = Request(api="gemini", body={**gemini.log[-1].body, "model": "gemini-2.5-pro"})
            retry = pipe.recover(request, pipe(request), first[-1][0], first[-1][1])
            assert retry is not None
            status, answer, _ = gemini.handle(
                "/v1beta/models/gemini-2.5-pro:generateContent",
                {k: v for k, v in retry.body.items() if k != "model"},
            )

        assert (2, 400) == (len(first), first[-1][0])
        assert "Corrupted thought signature." in str(first[-1][1])
        assert 200 == status, answer

    def test_an_id_the_table_does_not_know_learns_it_enforces(self) -> None:
        """gemini-4-pro is not in the table; its missing-signature 400 teaches that it
        checks signatures: the retry sends the bypass value, and so does every later call."""
        pipe = chain()
        with Emulator("gemini", rounds=2) as gemini:
            first = gemini_loop(gemini, "gemini-4-pro", pipe, keep=unsigned, observe=False)
            request = Request(api="gemini", body={**gemini.log[-1].body, "model": "gemini-4-pro"})
            retry = pipe.recover(request, pipe(request), first[-1][0], first[-1][1])
            assert retry is not None
            status, answer, _ = gemini.handle(
                "/v1beta/models/gemini-4-pro:generateContent",
                {k: v for k, v in retry.body.items() if k != "model"},
            )
            later = gemini_loop(gemini, "gemini-4-pro", pipe, keep=unsigned, observe=False)

        assert 400 == first[-1][0]
        assert 200 == status, answer
        assert all(200 == s for s, _ in later)


def unsigned(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An agent that keeps parts without their thought signatures."""
    return [{k: v for k, v in p.items() if k != "thoughtSignature"} for p in parts]


class TestCompaction:
    def test_a_stale_compaction_item_is_left_out_on_the_retry(self) -> None:
        """A compaction item another caller got is refused (``... was not issued to this
        caller``); the retry leaves it out and keeps this caller's own."""
        with Emulator("openai", rounds=1) as openai:
            own = openai.compaction("cmp_own")
            stale = {"type": "compaction", "id": "cmp_old", "encrypted_content": "enc_other"}
            body = {"model": "gpt-5", "input": [own, stale, {"role": "user", "content": "go"}]}
            request = Request(api="responses", body=body)
            pipe = chain()  # (it saw this caller's own item come back from the server)
            pipe.observe(Request(api="responses", body={"model": "gpt-5"}), {"output": [own]})
            sent = pipe(request)
            status, error, _ = openai.handle("/v1/responses", dict(sent.body))
            retry = pipe.recover(request, sent, status, error)
            assert retry is not None
            retried, answer, _ = openai.handle("/v1/responses", dict(retry.body))

        assert 400 == status
        assert 200 == retried, answer
        assert [own, {"role": "user", "content": "go"}] == retry.body["input"]

    def test_an_anthropic_compaction_block_loses_only_the_refused_field(self) -> None:
        """An Anthropic compaction block goes as the agent sent it; when the API refuses its
        encrypted_content, the retry (and every later call) sends it without that field."""
        block = {"type": "compaction", "content": "summary", "encrypted_content": "enc"}
        body = {
            "model": "claude-opus-4-6",
            "max_tokens": 100,
            "messages": [
                {"role": "user", "content": "go"},
                {"role": "assistant", "content": [block, {"type": "text", "text": "ok"}]},
                {"role": "user", "content": "next"},
            ],
        }
        request = Request(api="anthropic_messages", body=body)
        pipe = chain()
        with Emulator("anthropic") as claude:
            sent = pipe(request)
            status, error, _ = claude.handle("/v1/messages", dict(sent.body))
            retry = pipe.recover(request, sent, status, error)
            assert retry is not None
            retried, answer, _ = claude.handle("/v1/messages", dict(retry.body))
            later = pipe(request)

        assert sent is request
        assert 400 == status
        assert 200 == retried, answer
        expected = {"type": "compaction", "content": "summary"}
        assert expected == retry.body["messages"][1]["content"][0]
        assert expected == later.body["messages"][1]["content"][0]

    def test_a_lost_compaction_item_is_restored_with_its_turn(self) -> None:
        """A compaction item observed with a turn's reasoning comes back with it, before what
        followed it, when the agent lost both."""
        item = {"type": "compaction", "id": "cmp_1", "encrypted_content": "enc_c"}
        reasoning = {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "e1"}
        call = {
            "type": "function_call",
            "id": "fc_1",
            "call_id": "call_1",
            "name": "run",
            "arguments": "{}",
        }
        pipe = chain()
        seen = Request(api="responses", body={"model": "gpt-5", "input": []})
        pipe.observe(seen, {"output": [item, reasoning, call]})
        body = {
            "model": "gpt-5",
            "input": [
                {"role": "user", "content": "go"},
                call,
                {"type": "function_call_output", "call_id": "call_1", "output": "ok"},
            ],
        }

        out = pipe(Request(api="responses", body=body))

        assert [item, reasoning, call] == out.body["input"][1:4]


class TestBedrockClaude5:
    def _history(self, claude: Emulator, shape: str) -> dict[str, Any]:
        """After one tool call, the agent's history: reasoning in a message of its own
        (``split``), or text written before the reasoning (``text_first``)."""
        pipe = chain()
        converse_loop(claude, "global.anthropic.claude-sonnet-5", pipe)
        answer = claude.log[0].response["output"]["message"]["content"]
        reasoning = [b for b in answer if "reasoningContent" in b]
        rest = [b for b in answer if "reasoningContent" not in b]
        use = next(b["toolUse"]["toolUseId"] for b in rest if "toolUse" in b)
        if shape == "split":
            assistant = [
                {"role": "assistant", "content": reasoning},
                {"role": "assistant", "content": rest},
            ]
        else:
            assistant = [
                {"role": "assistant", "content": [{"text": "let me look"}, *reasoning, *rest]}
            ]
        result = {"toolResult": {"toolUseId": use, "content": [{"text": "ok"}]}}
        return {
            "modelId": "global.anthropic.claude-sonnet-5",
            "messages": [
                {"role": "user", "content": [{"text": "go"}]},
                *assistant,
                {"role": "user", "content": [result]},
            ],
            "additionalModelRequestFields": {
                "thinking": {"type": "enabled", "budget_tokens": 1024}
            },
        }

    def _send(self, claude: Emulator, body: dict[str, Any], fixed: bool) -> tuple[int, Any]:
        request = Request(
            api="bedrock_converse",
            base_url="https://bedrock-runtime.us-east-1.amazonaws.com",
            body=body,
        )
        out = chain()(request).body if fixed else body
        wire = {k: v for k, v in out.items() if k != "modelId"}
        status, answer, _ = claude.handle("/model/global.anthropic.claude-sonnet-5/converse", wire)
        return status, answer

    def test_a_reasoning_only_message_is_merged(self) -> None:
        """A reasoning-only assistant message is refused as prefill; merged into the next
        assistant message of its turn, reasoning first, the call goes through."""
        with Emulator("anthropic", rounds=2) as claude:
            body = self._history(claude, "split")
            raw = self._send(claude, body, fixed=False)
            ok = self._send(claude, body, fixed=True)

        assert 400 == raw[0]
        assert "does not support assistant message prefill" in str(raw[1])
        assert 200 == ok[0], ok[1]

    def test_thinking_goes_first(self) -> None:
        """Text written before the reasoning is refused ('the first block must be
        thinking'); the reasoning moved first, the call goes through."""
        with Emulator("anthropic", rounds=2) as claude:
            body = self._history(claude, "text_first")
            raw = self._send(claude, body, fixed=False)
            ok = self._send(claude, body, fixed=True)

        assert 400 == raw[0]
        assert "the first block must be thinking. Found text" in str(raw[1])
        assert 200 == ok[0], ok[1]


class TestRecoveryThatRecovers:
    def test_an_answer_observed_late_is_restored_on_the_retry(
        self, agent_emulator: Factory
    ) -> None:
        """The answer was observed only after the next request went out (a stream read
        late): Claude's 400 teaches nothing, but the retry restores the signed thinking the
        store now holds, so recover returns it."""
        claude = agent_emulator("anthropic", rounds=2)
        pipe = chain()
        thinking = {"type": "enabled", "budget_tokens": 1024}
        first_body: dict[str, Any] = {
            "model": "claude-opus-4-6",
            "max_tokens": 100,
            "thinking": thinking,
            "messages": [{"role": "user", "content": "go"}],
            "tools": [_TOOL],
        }
        _, answer, _ = claude.handle("/v1/messages", first_body)
        kept = [b for b in answer["content"] if b["type"] != "thinking"]
        use = next(b["id"] for b in kept if b["type"] == "tool_use")
        body = {
            **first_body,
            "messages": [
                *first_body["messages"],
                {"role": "assistant", "content": kept},
                {
                    "role": "user",
                    "content": [{"type": "tool_result", "tool_use_id": use, "content": "ok"}],
                },
            ],
        }
        request = Request(api="anthropic_messages", body=body)
        sent = pipe(request)
        status, error, _ = claude.handle("/v1/messages", dict(sent.body))
        pipe.observe(Request(api="anthropic_messages", body=first_body), answer)  # late

        retry = pipe.recover(request, sent, status, error)
        assert retry is not None
        retried, _, _ = claude.handle("/v1/messages", dict(retry.body))

        assert (400, 200) == (status, retried)
        assert "thinking" == retry.body["messages"][1]["content"][0]["type"]

    def test_a_relay_that_forces_store_off(self) -> None:
        """A relay that keeps nothing although the body keeps store on: its 404 teaches
        it, the retry leaves the bare reference out, and later calls do so at once."""
        with Emulator("openai", rounds=3, keeps_items=False) as openai:
            pipe = chain()
            results = responses_loop(openai, "gpt-5", pipe, store=None)
            request = Request(api="responses", body=openai.log[-1].body)
            retry = pipe.recover(request, pipe(request), results[-1][0], results[-1][1])
            assert retry is not None
            retried, answer, _ = openai.handle("/v1/responses", dict(retry.body))
            later = responses_loop(openai, "gpt-5", pipe, store=None)

        assert (2, 404) == (len(results), results[-1][0])
        assert 200 == retried, answer
        assert all(200 == s for s, _ in later)


class TestRestoreByAnyToolId:
    def test_mimo_turn_that_dropped_a_text_block(self) -> None:
        """MiMo: the agent kept the tool call but dropped its thinking and a short text;
        the turn's own reasoning, found by its tool id, goes back (not the pad)."""
        pipe = chain()
        relay = "https://open.markhub.top"
        observed = {
            "type": "message",
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "check the file", "signature": ""},
                {"type": "text", "text": "Let me look."},
                {"type": "tool_use", "id": "toolu_1", "name": "run", "input": {}},
            ],
        }
        pipe.observe(
            Request(
                api="anthropic_messages",
                base_url=relay,
                body={"model": "mimo-v2.5-pro", "messages": []},
            ),
            observed,
        )
        body = {
            "model": "mimo-v2.5-pro",
            "max_tokens": 10,
            "messages": [
                {"role": "user", "content": "go"},
                {
                    "role": "assistant",
                    "content": [{"type": "tool_use", "id": "toolu_1", "name": "run", "input": {}}],
                },
                {
                    "role": "user",
                    "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "ok"}],
                },
            ],
        }

        out = pipe(Request(api="anthropic_messages", base_url=relay, body=body))

        first = out.body["messages"][1]["content"][0]
        assert {"type": "thinking", "thinking": "check the file", "signature": ""} == first

    def test_deepseek_turn_with_an_unanswered_call(self) -> None:
        """DeepSeek chat: one of a turn's two calls was never answered and ToolPairing
        removed it; the remaining id still finds the turn's observed reasoning."""
        pipe = chain()
        turn = {
            "role": "assistant",
            "content": None,
            "reasoning_content": "plan both",
            "tool_calls": [_call("c1"), _call("c2")],
        }
        pipe.observe(
            Request(
                api="chat_completions",
                base_url="https://api.deepseek.com",
                body={"model": "deepseek-v4-pro", "messages": []},
            ),
            {"choices": [{"message": turn}]},
        )
        body = {
            "model": "deepseek-v4-pro",
            "messages": [
                {"role": "user", "content": "go"},
                text_only(turn),
                {"role": "tool", "tool_call_id": "c1", "content": "ok"},
            ],
        }
        request = Request(api="chat_completions", base_url="https://api.deepseek.com", body=body)

        out = pipe(request)
        said = " ".join(c.reason for c in pipe.explain(request).changes)

        assert "plan both" == out.body["messages"][1]["reasoning_content"]
        assert "found again by tool call id c1" in said


_TOOL = {"name": "run", "input_schema": {"type": "object"}}


def _call(id_: str) -> dict[str, Any]:
    return {"id": id_, "type": "function", "function": {"name": "run", "arguments": "{}"}}
