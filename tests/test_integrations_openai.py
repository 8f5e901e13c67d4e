"""The openai SDK and any httpx2 client through PipelineTransport, against the emulators."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, cast

import anthropic
import httpx2
import openai
import pytest

from agent import Pipeline, load_config
from agent.integrations.openai import async_openai_client, openai_client
from agent.integrations.transport import AsyncPipelineTransport, PipelineTransport, api_of
from agent.middleware import ThinkingRoundTrip, ToolPairing
from agent.testing.emulators import Emulator

TOOLS: Any = [{"type": "function", "function": {"name": "run", "parameters": {"type": "object"}}}]


def _pipe() -> Pipeline:
    return Pipeline([ToolPairing(), ThinkingRoundTrip()])


def _config(tmp_path: Path, base_url: str, model: str, api_mode: str = "chat_completions") -> Any:
    path = tmp_path / "agent.yaml"
    path.write_text(
        f"providers:\n  p:\n    base_url: {base_url}\n    model: {model}\n"
        f"    api_mode: {api_mode}\n    api_key: test-key\n"
    )
    return load_config(path)


def _lossy(message: Any) -> dict[str, Any]:
    """What many agents keep of an SDK message: role, content, tool calls; no reasoning."""
    kept: dict[str, Any] = {"role": "assistant", "content": message.content}
    if message.tool_calls:
        kept["tool_calls"] = [c.model_dump(exclude_none=True) for c in message.tool_calls]
    return kept


def chat_tool_loop(client: openai.OpenAI, model: str, *, stream: bool = False) -> int:
    """A tool loop through the real SDK, keeping only role/content/tool calls; the number of
    tool calls it completed."""
    messages: list[Any] = [{"role": "user", "content": "go"}]
    calls = 0
    for _ in range(8):
        if stream:
            parts = client.chat.completions.create(
                model=model, messages=messages, tools=TOOLS, stream=True
            )
            acc: dict[int, dict[str, Any]] = {}
            for chunk in cast(Any, parts):
                for call in chunk.choices[0].delta.tool_calls or ():
                    entry = acc.setdefault(call.index, {"id": "", "args": "", "name": ""})
                    entry["id"] = call.id or entry["id"]
                    entry["name"] += (call.function.name or "") if call.function else ""
                    entry["args"] += (call.function.arguments or "") if call.function else ""
            tool_calls = [
                {
                    "id": c["id"],
                    "type": "function",
                    "function": {"name": c["name"], "arguments": c["args"]},
                }
                for c in acc.values()
            ]
            message: dict[str, Any] = {"role": "assistant", "content": None}
            if tool_calls:
                message["tool_calls"] = tool_calls
        else:
            answer = client.chat.completions.create(model=model, messages=messages, tools=TOOLS)
            message = _lossy(answer.choices[0].message)
        messages.append(message)
        if not message.get("tool_calls"):
            return calls
        for call in message["tool_calls"]:
            calls += 1
            messages.append({"role": "tool", "tool_call_id": call["id"], "content": "ok"})
    return calls


class TestOpenAIChat:
    def test_lost_reasoning_fails_without_the_pipeline(self) -> None:
        """The originating bug, through the openai SDK: MiMo answers turn 2 with its 400."""
        with Emulator("mimo") as mimo:
            client = openai.OpenAI(base_url=mimo.openai_base_url, api_key="k", max_retries=0)
            with client, pytest.raises(openai.BadRequestError, match="Param Incorrect"):
                chat_tool_loop(client, "mimo-v2.5-pro")

    def test_openai_client_fixes_it(self, tmp_path: Path) -> None:
        """openai_client(config, provider=) observes each answer and restores the reasoning."""
        with Emulator("mimo") as mimo:
            config = _config(tmp_path, mimo.openai_base_url, "mimo-v2.5-pro")
            with openai_client(config, provider="p", max_retries=0) as client:
                assert 4 == chat_tool_loop(client, "mimo-v2.5-pro")
                sent = mimo.bodies[-1]["messages"]

        assert all(
            m.get("reasoning_content")
            for m in sent
            if m["role"] == "assistant" and m.get("tool_calls")
        )

    def test_streamed_answers_are_observed(self, tmp_path: Path) -> None:
        """stream=True: the reasoning deltas are rebuilt as the caller reads, and restored."""
        with Emulator("mimo") as mimo:
            config = _config(tmp_path, mimo.openai_base_url, "mimo-v2.5-pro")
            with openai_client(config, provider="p", max_retries=0) as client:
                assert 4 == chat_tool_loop(client, "mimo-v2.5-pro", stream=True)

    def test_gemini_signatures_through_the_sdk(self) -> None:
        """Gemini's tool-call thought signatures, lost by the agent, come back."""
        with Emulator("gemini") as gemini:
            transport = PipelineTransport(_pipe())
            with openai.OpenAI(
                base_url=gemini.openai_base_url,
                api_key="k",
                max_retries=0,
                http_client=httpx2.Client(transport=transport),
            ) as client:
                assert 4 == chat_tool_loop(client, "gemini-3-pro-preview")

    def test_a_wrong_family_is_learned_with_one_retry(self) -> None:
        """An unknown alias in front of DeepSeek: its 400 teaches the family; the one retry
        carries the observed reasoning, and later calls go right the first time."""
        with (
            Emulator("deepseek") as deepseek,
            openai.OpenAI(
                base_url=deepseek.openai_base_url,
                api_key="k",
                max_retries=0,
                http_client=httpx2.Client(transport=PipelineTransport(_pipe())),
            ) as client,
        ):
            assert 4 == chat_tool_loop(client, "relay-pro")
            statuses = [r.status for r in deepseek.log]

        assert 1 == statuses.count(400)

    def test_async_client(self, tmp_path: Path) -> None:
        """The async twin completes the same loop."""

        async def go(base_url: str) -> int:
            config = _config(tmp_path, base_url, "mimo-v2.5-pro")
            client = async_openai_client(config, provider="p", max_retries=0)
            messages: list[Any] = [{"role": "user", "content": "go"}]
            calls = 0
            for _ in range(8):
                answer = await client.chat.completions.create(
                    model="mimo-v2.5-pro", messages=messages, tools=TOOLS
                )
                message = _lossy(answer.choices[0].message)
                messages.append(message)
                if not message.get("tool_calls"):
                    break
                for call in message["tool_calls"]:
                    calls += 1
                    messages.append({"role": "tool", "tool_call_id": call["id"], "content": "ok"})
            await client.close()
            return calls

        with Emulator("mimo") as mimo:
            assert 4 == asyncio.run(go(mimo.openai_base_url))


class TestOpenAIResponses:
    def test_responses_with_store_false(self, tmp_path: Path) -> None:
        """client.responses.create with store=False: the transport asks for encrypted
        reasoning and the kept items go back whole."""
        with Emulator("openai") as emulator:
            config = _config(tmp_path, emulator.openai_base_url, "gpt-5", "responses")
            with openai_client(config, provider="p", max_retries=0) as client:
                items: list[Any] = [{"role": "user", "content": "go"}]
                for _ in range(8):
                    answer = client.responses.create(model="gpt-5", input=items, store=False)
                    output = [o.model_dump(exclude_none=True) for o in answer.output]
                    items.extend(output)
                    calls = [o for o in output if o["type"] == "function_call"]
                    if not calls:
                        break
                    items.extend(
                        {"type": "function_call_output", "call_id": c["call_id"], "output": "ok"}
                        for c in calls
                    )
                statuses = [r.status for r in emulator.log]

        assert [200] * 5 == statuses


class TestAnyClient:
    def test_the_anthropic_sdk_through_the_transport(self) -> None:
        """Any client on httpx2: the anthropic SDK with the transport instead of middleware,
        no base_url argument needed (the transport reads it from the request)."""
        with (
            Emulator("mimo") as mimo,
            anthropic.Anthropic(
                base_url=mimo.base_url,
                api_key="k",
                max_retries=0,
                http_client=httpx2.Client(transport=PipelineTransport(_pipe())),
            ) as client,
        ):
            messages: list[Any] = [{"role": "user", "content": "go"}]
            for _ in range(8):
                reply = client.messages.create(
                    model="mimo-v2.5-pro",
                    max_tokens=100,
                    messages=messages,
                    tools=[{"name": "run", "input_schema": {"type": "object"}}],
                )
                kept = [b.model_dump() for b in reply.content if b.type != "thinking"]
                messages.append({"role": "assistant", "content": kept})
                uses = [b for b in kept if b["type"] == "tool_use"]
                if not uses:
                    break
                messages.append(
                    {
                        "role": "user",
                        "content": [
                            {"type": "tool_result", "tool_use_id": u["id"], "content": "ok"}
                            for u in uses
                        ],
                    }
                )
            statuses = [r.status for r in mimo.log]

        assert [200] * 5 == statuses

    @pytest.mark.parametrize(
        ("method", "url", "known"),
        [
            (
                "POST",
                "https://h.example/v1/chat/completions",
                ("chat_completions", "https://h.example/v1"),
            ),
            (
                "POST",
                "https://h.example/v1/messages",
                ("anthropic_messages", "https://h.example/v1"),
            ),
            ("POST", "https://h.example/v1/responses", ("responses", "https://h.example/v1")),
            ("GET", "https://h.example/v1/models", None),
            ("POST", "https://h.example/v1/messages/count_tokens", None),
            ("POST", "https://h.example/v1/embeddings", None),
        ],
        ids=["chat", "messages", "responses", "models", "count-tokens", "embeddings"],
    )
    def test_endpoints(self, method: str, url: str, known: Any) -> None:
        """Only the endpoints it knows are run through the pipeline."""
        assert known == api_of(httpx2.Request(method, url))

    def test_other_requests_pass_untouched(self) -> None:
        """A request the transport does not know reaches the inner transport as it is."""
        seen: list[httpx2.Request] = []

        def inner(request: httpx2.Request) -> httpx2.Response:
            seen.append(request)
            return httpx2.Response(200, json={"data": []})

        transport = PipelineTransport(_pipe(), httpx2.MockTransport(inner))
        request = httpx2.Request("POST", "https://h.example/v1/embeddings", json={"input": "x"})

        with httpx2.Client(transport=transport) as client:
            client.send(request)

        assert [request] == seen

    def test_an_unreadable_body_goes_as_written(self) -> None:
        """A body the pipeline cannot read is sent as the agent wrote it."""
        seen: list[bytes] = []

        def inner(request: httpx2.Request) -> httpx2.Response:
            seen.append(request.read())
            return httpx2.Response(400, json={"error": {"message": "bad"}})

        transport = PipelineTransport(_pipe(), httpx2.MockTransport(inner))
        body = json.dumps({"model": 5, "messages": "x"}).encode()
        with httpx2.Client(transport=transport) as client:
            response = client.post("https://h.example/v1/chat/completions", content=body)

        assert [body] == seen
        assert 400 == response.status_code

    def test_async_transport_passes_other_requests(self) -> None:
        """The async twin: unknown requests untouched."""

        async def inner(request: httpx2.Request) -> httpx2.Response:
            return httpx2.Response(200, json={"ok": True})

        async def go() -> int:
            transport = AsyncPipelineTransport(_pipe(), httpx2.MockTransport(inner))
            async with httpx2.AsyncClient(transport=transport) as client:
                response = await client.get("https://h.example/v1/models")
            return response.status_code

        assert 200 == asyncio.run(go())


class TestSdkObjects:
    def test_sdk_message_objects_in_the_history(self, tmp_path: Path) -> None:
        """The SDK's own ChatCompletionMessage objects in the history just work (the
        transport sees the JSON the SDK builds from them), and provider keys go in
        extra_body."""
        with Emulator("deepseek", rounds=3) as deepseek:
            config = _config(tmp_path, deepseek.openai_base_url, "deepseek-v4-pro")
            with openai_client(config, provider="p", max_retries=0) as client:
                messages: list[Any] = [{"role": "user", "content": "go"}]
                for _ in range(6):
                    answer = client.chat.completions.create(
                        model="deepseek-v4-pro",
                        messages=messages,
                        tools=TOOLS,
                        extra_body={"thinking": {"type": "enabled"}},
                    )
                    message = answer.choices[0].message
                    messages.append(message)  # the SDK object itself
                    if not message.tool_calls:
                        break
                    messages.extend(
                        {"role": "tool", "tool_call_id": c.id, "content": "ok"}
                        for c in message.tool_calls
                    )
                statuses = [r.status for r in deepseek.log]

        assert [200] * 4 == statuses


class TestModelInThePath:
    def test_gemini_native_through_the_transport(self) -> None:
        """A plain httpx2 client on Gemini's generateContent: the transport reads the model
        from the path, the pipeline restores the lost signatures, and the body that goes
        out carries no model (Gemini refuses one)."""
        transport = PipelineTransport(_pipe())
        with Emulator("gemini") as gemini, httpx2.Client(transport=transport) as client:
            url = f"{gemini.base_url}/v1beta/models/gemini-3-pro-preview:generateContent"
            contents: list[Any] = [{"role": "user", "parts": [{"text": "go"}]}]
            for _ in range(8):
                answer = client.post(url, json={"contents": contents}).json()
                parts = answer["candidates"][0]["content"]["parts"]
                kept = [{k: v for k, v in p.items() if k != "thoughtSignature"} for p in parts]
                contents.append({"role": "model", "parts": kept})
                calls = [p["functionCall"] for p in parts if "functionCall" in p]
                if not calls:
                    break
                contents.append(
                    {
                        "role": "user",
                        "parts": [
                            {"functionResponse": {"name": c["name"], "response": {}}} for c in calls
                        ],
                    }
                )
            statuses = [r.status for r in gemini.log]
            sent = gemini.log[-1].body

        assert [200] * 5 == statuses
        assert "model" not in sent

    def test_gemini_stream_is_rebuilt(self) -> None:
        """streamGenerateContent?alt=sse: the chunks' parts are observed as one answer."""
        from agent.integrations._sse import GeminiAccumulator

        acc = GeminiAccumulator()
        call = {"functionCall": {"name": "run", "args": {}}, "thoughtSignature": "s1"}
        chunks = [
            {"candidates": [{"content": {"role": "model", "parts": [{"text": "a"}]}}]},
            {"candidates": [{"content": {"parts": [call]}, "finishReason": "STOP"}]},
        ]
        for chunk in chunks:
            acc.feed(b"data: " + json.dumps(chunk).encode() + b"\r\n\r\n")

        assert acc.done
        assert [{"text": "a"}, call] == acc.response["candidates"][0]["content"]["parts"]

    def test_converse_path(self) -> None:
        """Bedrock's /model/{modelId}/converse is recognised, its model read from the path."""
        from agent.integrations.transport import target_of

        request = httpx2.Request(
            "POST",
            "https://bedrock-runtime.us-east-1.amazonaws.com/model/us.anthropic.claude-opus-4-6-v1%3A0/converse",
        )

        assert (
            "bedrock_converse",
            "https://bedrock-runtime.us-east-1.amazonaws.com",
            "us.anthropic.claude-opus-4-6-v1:0",
        ) == target_of(request)


class TestWrongHttpClient:
    def test_an_httpx_client_is_a_type_error_naming_httpx2(self) -> None:
        """PipelineTransport inside an httpx.Client fails with a TypeError naming httpx2 on
        the first request (it was a bare AssertionError deep inside httpx2)."""
        import httpx

        with openai.OpenAI(
            base_url="http://127.0.0.1:9/v1",
            api_key="k",
            max_retries=0,
            http_client=cast(Any, httpx.Client(transport=cast(Any, PipelineTransport(_pipe())))),
        ) as client:
            with pytest.raises(TypeError, match=r"httpx2\.Client\(transport=\.\.\.\)") as info:
                client.chat.completions.create(
                    model="m", messages=[{"role": "user", "content": "x"}]
                )

            assert "got httpx.Request" in str(info.value)

    def test_an_async_httpx_client_too(self) -> None:
        """The async transport inside an httpx.AsyncClient fails the same way."""
        import httpx

        async def call() -> None:
            transport = cast(Any, AsyncPipelineTransport(_pipe()))
            async with httpx.AsyncClient(transport=transport) as client:
                await client.post("http://127.0.0.1:9/v1/chat/completions", json={})

        with pytest.raises(TypeError, match=r"httpx2\.AsyncClient"):
            asyncio.run(call())

    def test_an_httpx_inner_transport(self) -> None:
        """An httpx transport as inner is refused at construction, naming httpx2."""
        import httpx

        with pytest.raises(TypeError, match=r"httpx2\.HTTPTransport\(\)"):
            PipelineTransport(_pipe(), inner=cast(Any, httpx.HTTPTransport()))
        with pytest.raises(TypeError, match=r"httpx2\.AsyncHTTPTransport\(\)"):
            AsyncPipelineTransport(_pipe(), inner=cast(Any, httpx.AsyncHTTPTransport()))
