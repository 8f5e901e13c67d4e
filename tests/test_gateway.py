"""``python -m agent serve``: the real SDKs, pointed at the gateway on 127.0.0.1, against the
emulators. With the pipeline the originating loops complete; through a provider whose chain
is empty they reproduce the provider's 400."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx2
import openai
import pytest
import uvicorn

from agent import load_config
from agent.cli import main
from agent.gateway import build_app, uvicorn_options
from agent.testing.emulators import Emulator
from tests.builders import SECRET
from tests.upstreams import recorder

TOOL: Any = {"name": "run", "input_schema": {"type": "object"}}
OPENAI_TOOL: Any = [{"type": "function", "function": {"name": "run", "parameters": {}}}]


@contextlib.contextmanager
def gateway(config: Any) -> Iterator[str]:
    """The gateway app under Uvicorn on an ephemeral 127.0.0.1 port, for the test's length."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(build_app(config), **uvicorn_options(config)))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def _config(tmp_path: Path, text: str) -> Any:
    path = tmp_path / "gateway.yaml"
    path.write_text(text)
    return load_config(path)


def _providers(mimo: Emulator, deepseek: Emulator, extra: str = "") -> str:
    return (
        "providers:\n"
        f"  mimo:\n    base_url: {mimo.base_url}\n    api_mode: anthropic_messages\n"
        f"    api_key: {SECRET}\n"
        f"  mimo-raw:\n    base_url: {mimo.base_url}\n    api_mode: anthropic_messages\n"
        "    middleware: []\n    middleware_replace: true\n"
        f"  deepseek:\n    base_url: {deepseek.openai_base_url}\n    api_key: {SECRET}\n"
        f"  deepseek-raw:\n    base_url: {deepseek.openai_base_url}\n"
        "    middleware: []\n    middleware_replace: true\n" + extra
    )


def anthropic_loop(
    base_url: str, stream: bool = False, api_key: str = "client-key", model: str = "mimo-v2.5-pro"
) -> int:
    """A lossy anthropic-SDK agent (it keeps no thinking); the tool calls it completed."""
    client = anthropic.Anthropic(base_url=base_url, api_key=api_key, max_retries=0)
    messages: list[Any] = [{"role": "user", "content": "go"}]
    calls = 0
    for _ in range(6):
        params: Any = {
            "model": model,
            "max_tokens": 100,
            "messages": messages,
            "tools": [TOOL],
            "thinking": {"type": "enabled", "budget_tokens": 50},
        }
        if stream:
            with client.messages.stream(**params) as events:
                reply = events.get_final_message()
        else:
            reply = client.messages.create(**params)
        kept = [b.model_dump() for b in reply.content if b.type != "thinking"]
        messages.append({"role": "assistant", "content": kept})
        uses = [b for b in kept if b["type"] == "tool_use"]
        if not uses:
            return calls
        calls += len(uses)
        messages.append(
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": u["id"], "content": "ok"} for u in uses
                ],
            }
        )
    return calls


def openai_loop(base_url: str, stream: bool = False, model: str = "deepseek-v4-pro") -> int:
    """A lossy openai-SDK agent (it keeps no reasoning_content)."""
    client = openai.OpenAI(base_url=base_url, api_key="client-key", max_retries=0)
    messages: list[Any] = [{"role": "user", "content": "go"}]
    calls = 0
    for _ in range(6):
        if stream:
            ids: dict[int, str] = {}
            for chunk in client.chat.completions.create(
                model=model, messages=messages, tools=OPENAI_TOOL, stream=True
            ):
                for delta in chunk.choices[0].delta.tool_calls or ():
                    ids[delta.index] = delta.id or ids.get(delta.index, "")
            tool_calls = [
                {"id": i, "type": "function", "function": {"name": "run", "arguments": "{}"}}
                for i in ids.values()
            ]
        else:
            answer = client.chat.completions.create(
                model=model, messages=messages, tools=OPENAI_TOOL
            )
            tool_calls = [c.model_dump() for c in answer.choices[0].message.tool_calls or ()]
        message: dict[str, Any] = {"role": "assistant", "content": None}
        if tool_calls:
            message["tool_calls"] = tool_calls
        messages.append(message)
        if not tool_calls:
            return calls
        for call in tool_calls:
            calls += 1
            messages.append({"role": "tool", "tool_call_id": call["id"], "content": "ok"})
    return calls


class TestLoops:
    @pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
    def test_mimo_through_the_gateway(self, tmp_path: Path, stream: bool) -> None:
        """The originating loop: completes through the gateway's pipeline; through the
        same gateway with the chain empty, MiMo's 400 on call 2."""
        with Emulator("mimo") as mimo, Emulator("deepseek") as deepseek:
            config = _config(tmp_path, _providers(mimo, deepseek))
            with gateway(config) as url:
                assert 4 == anthropic_loop(f"{url}/mimo", stream)
                mimo.clear()
                with pytest.raises(anthropic.BadRequestError, match="Param Incorrect"):
                    anthropic_loop(f"{url}/mimo-raw", stream)

    @pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
    def test_deepseek_chat_through_the_gateway(self, tmp_path: Path, stream: bool) -> None:
        """The openai SDK on DeepSeek's chat wire, the same way."""
        with Emulator("mimo") as mimo, Emulator("deepseek") as deepseek:
            config = _config(tmp_path, _providers(mimo, deepseek))
            with gateway(config) as url:
                assert 4 == openai_loop(f"{url}/deepseek/v1", stream)
                with pytest.raises(openai.BadRequestError, match="must be passed back"):
                    openai_loop(f"{url}/deepseek-raw/v1", stream)


FAMILY_MODELS = {"kimi": "kimi-k2.6", "anthropic": "claude-opus-4-6", "mimo": "mimo-v2.5-pro"}


def _one(emulator: Emulator, name: str, api_mode: str) -> str:
    base = emulator.base_url if api_mode == "anthropic_messages" else emulator.openai_base_url
    return (
        "providers:\n"
        f"  {name}:\n    base_url: {base}\n    api_mode: {api_mode}\n"
        f"  {name}-raw:\n    base_url: {base}\n    api_mode: {api_mode}\n"
        "    middleware: []\n    middleware_replace: true\n"
    )


class TestMoreFamilies:
    @pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
    @pytest.mark.parametrize("family", ["kimi", "anthropic"])
    def test_anthropic_sdk(self, tmp_path: Path, family: str, stream: bool) -> None:
        """Kimi and Claude loops through the gateway complete; with the chain empty, the
        provider's 400 on call 2."""
        model = FAMILY_MODELS[family]
        with Emulator(family) as emulator:
            config = _config(tmp_path, _one(emulator, "p", "anthropic_messages"))
            with gateway(config) as url:
                assert 4 == anthropic_loop(f"{url}/p", stream, model=model)
                with pytest.raises(anthropic.BadRequestError):
                    anthropic_loop(f"{url}/p-raw", stream, model=model)

    @pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
    @pytest.mark.parametrize("family", ["kimi", "mimo"])
    def test_openai_sdk(self, tmp_path: Path, family: str, stream: bool) -> None:
        """Kimi and MiMo chat loops through the gateway, the same way."""
        model = FAMILY_MODELS[family]
        with Emulator(family) as emulator:
            config = _config(tmp_path, _one(emulator, "p", "chat_completions"))
            with gateway(config) as url:
                assert 4 == openai_loop(f"{url}/p/v1", stream, model=model)
                with pytest.raises(openai.BadRequestError):
                    openai_loop(f"{url}/p-raw/v1", stream, model=model)


class TestGuards:
    def test_health(self, tmp_path: Path) -> None:
        with (
            Emulator("mimo") as mimo,
            Emulator("deepseek") as deepseek,
            gateway(_config(tmp_path, _providers(mimo, deepseek))) as url,
        ):
            answer = httpx2.get(f"{url}/health")

        assert 200 == answer.status_code
        assert "ok" == answer.json()["status"]

    def test_tokens(self, tmp_path: Path) -> None:
        """With gateway.tokens, a missing or wrong token is 401 (upstream never called); the
        SDK's own api_key presents the right one."""
        with Emulator("mimo") as mimo, Emulator("deepseek") as deepseek:
            text = _providers(mimo, deepseek) + "gateway:\n  tokens: [gw-token-1]\n"
            with gateway(_config(tmp_path, text)) as url:
                with pytest.raises(anthropic.AuthenticationError):
                    anthropic_loop(f"{url}/mimo", api_key="wrong")
                assert [] == mimo.log
                assert 4 == anthropic_loop(f"{url}/mimo", api_key="gw-token-1")

    def test_oversized_body_is_413(self, tmp_path: Path) -> None:
        """Above gateway.max_body_bytes: 413, and the upstream is never called."""
        with Emulator("mimo") as mimo, Emulator("deepseek") as deepseek:
            text = _providers(mimo, deepseek) + "gateway:\n  max_body_bytes: 2000\n"
            with gateway(_config(tmp_path, text)) as url:
                answer = httpx2.post(f"{url}/mimo/v1/messages", content=b"x" * 5000)

            assert 413 == answer.status_code
            assert [] == mimo.log

    def test_unreachable_upstream_is_502(self, tmp_path: Path) -> None:
        """An upstream nobody answers on: 502 with a clear body, no key in it."""
        closed = socket.socket()
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        closed.close()
        text = (
            f"providers:\n  gone:\n    base_url: http://127.0.0.1:{port}\n"
            f"    api_mode: anthropic_messages\n    api_key: {SECRET}\n"
        )
        with gateway(_config(tmp_path, text)) as url:
            answer = httpx2.post(
                f"{url}/gone/v1/messages",
                json={
                    "model": "m",
                    "max_tokens": 1,
                    "messages": [{"role": "user", "content": "x"}],
                },
            )

        assert 502 == answer.status_code
        assert "upstream unreachable" in answer.json()["error"]["message"]
        assert SECRET not in answer.text

    def test_unknown_provider_is_404(self, tmp_path: Path) -> None:
        with (
            Emulator("mimo") as mimo,
            Emulator("deepseek") as deepseek,
            gateway(_config(tmp_path, _providers(mimo, deepseek))) as url,
        ):
            answer = httpx2.post(f"{url}/nope/v1/messages", json={})

        assert 404 == answer.status_code

    def test_refuses_to_bind_elsewhere_without_tokens(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Binding beyond 127.0.0.1 without gateway.tokens: refused, exit 2, one line."""
        path = tmp_path / "g.yaml"
        path.write_text("providers:\n  p: {base_url: 'https://x.example', model: m}\n")

        code = main(["serve", "--config", str(path), "--host", "0.0.0.0"])

        assert 2 == code
        assert "gateway.tokens" in capsys.readouterr().err


class TestAccessLog:
    def test_one_line_per_call_without_bodies_or_keys(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        """provider, model, family, whether the pipeline changed the body (calls 2-5: the
        lost thinking put back) or retried, status and latency; never the body or a key."""
        import json
        import logging

        caplog.set_level(logging.INFO, logger="agent.gateway")
        with (
            Emulator("mimo") as mimo,
            Emulator("deepseek") as deepseek,
            gateway(_config(tmp_path, _providers(mimo, deepseek))) as url,
        ):
            anthropic_loop(f"{url}/mimo")

        lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "agent.gateway"]
        assert 5 == len(lines)
        assert {("mimo", "mimo-v2.5-pro", "mimo", 200, False)} == {
            (x["provider"], x["model"], x["family"], x["status"], x["retried"]) for x in lines
        }
        assert [False, True, True, True, True] == [x["changed"] for x in lines]
        # each call puts back the thinking of every earlier turn of the loop (MiMo keeps all)
        assert [{}, {"restored": 1}, {"restored": 2}, {"restored": 3}, {"restored": 4}] == [
            x["decisions"] for x in lines
        ]
        assert all(isinstance(x["ms"], float) for x in lines)
        assert SECRET not in caplog.text
        assert "tool_result" not in caplog.text

    def test_a_thinking_error_is_retried_once(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        """An alias nobody can classify in front of DeepSeek: its 400 reaches the gateway,
        which retries once as the family the error names (the client sees only the 200), and
        later calls go right the first time."""
        import json
        import logging

        caplog.set_level(logging.INFO, logger="agent.gateway")
        with Emulator("mimo") as mimo, Emulator("deepseek") as deepseek:
            with gateway(_config(tmp_path, _providers(mimo, deepseek))) as url:
                assert 4 == openai_loop(f"{url}/deepseek/v1", model="relay-pro")
            statuses = [r.status for r in deepseek.log]

        lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "agent.gateway"]
        assert 1 == statuses.count(400)
        assert [200] * 5 == [x["status"] for x in lines]
        assert 1 == sum(x["retried"] for x in lines)
        assert "deepseek" == lines[-1]["family"]

    def test_decisions_off(self, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
        """gateway.decisions: false logs no counts (the chain takes its plain path); the
        loop completes the same."""
        import json
        import logging

        caplog.set_level(logging.INFO, logger="agent.gateway")
        with Emulator("mimo") as mimo, Emulator("deepseek") as deepseek:
            text = _providers(mimo, deepseek) + "gateway:\n  decisions: false\n"
            with gateway(_config(tmp_path, text)) as url:
                assert 4 == anthropic_loop(f"{url}/mimo")

        lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "agent.gateway"]
        assert [None] * 5 == [x["decisions"] for x in lines]
        assert [False, True, True, True, True] == [x["changed"] for x in lines]


@contextlib.contextmanager
def gateway_process(config_path: Path, *options: str) -> Iterator[str]:
    """``python -m agent serve`` in its own process, on a free 127.0.0.1 port."""
    import subprocess
    import sys

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "agent", "serve", "--config", str(config_path)),
            *("--port", str(port), *options),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx2.get(f"{url}/health").status_code == 200:
                break
        except httpx2.HTTPError:
            time.sleep(0.05)
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def claude_loop(urls: list[str]) -> list[int]:
    """A lossy Claude agent (it keeps no thinking), each call through the next gateway."""
    messages: list[Any] = [{"role": "user", "content": "go"}]
    statuses = []
    for n in range(6):
        client = anthropic.Anthropic(base_url=urls[n % len(urls)], api_key="k", max_retries=0)
        try:
            reply = client.messages.create(
                model="claude-opus-4-6",
                max_tokens=100,
                messages=messages,
                tools=[TOOL],
                thinking={"type": "enabled", "budget_tokens": 50},
            )
        except anthropic.APIStatusError as exc:
            statuses.append(exc.status_code)
            return statuses
        statuses.append(200)
        kept = [b.model_dump() for b in reply.content if b.type != "thinking"]
        messages.append({"role": "assistant", "content": kept})
        uses = [b for b in kept if b["type"] == "tool_use"]
        if not uses:
            return statuses
        messages.append(
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": u["id"], "content": "ok"} for u in uses
                ],
            }
        )
    return statuses


class TestTwoGateways:
    @pytest.mark.parametrize("store", ["redis", "sqlite", "memory"])
    def test_a_conversation_moves_between_processes(
        self, tmp_path: Path, request: pytest.FixtureRequest, store: str
    ) -> None:
        """Two gateway processes sharing a Redis or SQLite store continue one Claude
        conversation (each restores the signed thinking the other observed); with each its
        own memory store, the second call meets Claude's 'Expected thinking' 400."""
        with Emulator("anthropic") as claude:
            if store == "redis":
                url = request.getfixturevalue("redis_url")
                spec = f"{{redis: {{url: '{url}', prefix: 'two:'}}}}"
            elif store == "sqlite":
                spec = f"{{sqlite: {{path: '{tmp_path / 'thinking.db'}'}}}}"
            else:
                spec = "memory"
            path = tmp_path / "g.yaml"
            path.write_text(
                f"store: {spec}\nproviders:\n  claude:\n    base_url: {claude.base_url}\n"
                "    api_mode: anthropic_messages\n"
            )
            with gateway_process(path) as one, gateway_process(path) as two:
                statuses = claude_loop([f"{one}/claude", f"{two}/claude"])

        if store == "memory":
            assert [200, 400] == statuses
        else:
            assert [200] * 5 == statuses

    def test_workers_share_the_store(self, tmp_path: Path) -> None:
        """serve --workers 2 with a SQLite store: one port, two processes, the lossy Claude
        loop completes on fresh connections (whichever worker takes each)."""
        with Emulator("anthropic") as claude:
            path = tmp_path / "g.yaml"
            path.write_text(
                f"store: {{sqlite: {{path: '{tmp_path / 'thinking.db'}'}}}}\n"
                f"providers:\n  claude:\n    base_url: {claude.base_url}\n"
                "    api_mode: anthropic_messages\n"
            )
            with gateway_process(path, "--workers", "2") as url:
                statuses = claude_loop([f"{url}/claude"])

        assert [200] * 5 == statuses

    def test_workers_refuse_the_memory_store(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Workers with a memory store each would keep their own thinking: refused, exit 2."""
        path = tmp_path / "g.yaml"
        path.write_text("providers:\n  p: {base_url: 'https://x.example', model: m}\n")

        code = main(["serve", "--config", str(path), "--workers", "2"])

        assert 2 == code
        assert "memory store" in capsys.readouterr().err


class TestUpstreamUrls:
    @pytest.mark.parametrize(
        ("api_mode", "base_url", "path", "expected"),
        [
            (
                "anthropic_messages",
                "https://relay.example",
                "v1/messages",
                "https://relay.example/v1/messages",
            ),
            ("anthropic_messages", None, "v1/messages", "https://api.anthropic.com/v1/messages"),
            (
                "chat_completions",
                "https://api.deepseek.com/v1",
                "v1/chat/completions",
                "https://api.deepseek.com/v1/chat/completions",
            ),
            (
                "chat_completions",
                None,
                "v1/chat/completions",
                "https://api.openai.com/v1/chat/completions",
            ),
            ("responses", None, "v1/responses", "https://api.openai.com/v1/responses"),
            (
                "gemini",
                None,
                "v1beta/models/gemini-3-pro:generateContent",
                "https://generativelanguage.googleapis.com/v1beta/models/gemini-3-pro:generateContent",
            ),
        ],
        ids=[
            "messages-relay",
            "messages-official",
            "chat-relay",
            "chat-official",
            "responses",
            "gemini",
        ],
    )
    def test_each_sdk_convention(
        self, api_mode: str, base_url: str | None, path: str, expected: str
    ) -> None:
        """Messages under {base_url}/v1/..., the OpenAI wires under a base URL with /v1,
        Gemini's paths as the client wrote them."""
        from agent.config import ProviderConfig
        from agent.gateway import upstream_url

        provider = ProviderConfig("p", base_url=base_url, api_mode=api_mode)

        assert expected == upstream_url(provider, path, "")


MESSAGE: Any = {"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": "x"}]}


class TestKeys:
    """Whose key goes upstream: the provider's, unless the provider forwards the client's."""

    def _config(self, tmp_path: Path, upstream: str, extra: str = "", gw: str = "") -> Any:
        text = (
            f"providers:\n  p:\n    base_url: {upstream}\n    api_mode: anthropic_messages\n"
            f"    api_key: {SECRET}\n" + extra + gw
        )
        return _config(tmp_path, text)

    def test_the_client_key_never_goes_upstream_by_default(self, tmp_path: Path) -> None:
        """The client's x-api-key and Authorization stay at the gateway; the provider's key
        goes; a gateway token header is never forwarded."""
        with (
            recorder() as (upstream, records),
            gateway(self._config(tmp_path, upstream)) as url,
        ):
            answer = httpx2.post(
                f"{url}/p/v1/messages",
                json=MESSAGE,
                headers={
                    "x-api-key": "client-key",
                    "authorization": "Bearer client-bearer",
                    "x-gateway-token": "tok",
                    "anthropic-version": "2023-06-01",
                },
            )

        seen = [r["headers"] for r in records]
        assert 200 == answer.status_code
        assert SECRET == seen[0]["x-api-key"]
        assert "authorization" not in seen[0]
        assert "x-gateway-token" not in seen[0]
        assert "2023-06-01" == seen[0]["anthropic-version"]  # end-to-end headers go on
        assert "x-hop" not in seen[0]  # named by Connection: hop-by-hop (RFC 9110 7.6.1)
        assert "te" not in seen[0]

    def test_forward_client_key(self, tmp_path: Path) -> None:
        """forward_client_key: the client's own key goes upstream instead of the config's;
        with none from the client, the provider's key fills in."""
        extra = "    forward_client_key: true\n"
        with (
            recorder() as (upstream, records),
            gateway(self._config(tmp_path, upstream, extra)) as url,
        ):
            httpx2.post(f"{url}/p/v1/messages", json=MESSAGE, headers={"x-api-key": "own"})
            httpx2.post(f"{url}/p/v1/messages", json=MESSAGE, headers={"authorization": "Bearer b"})
            httpx2.post(f"{url}/p/v1/messages", json=MESSAGE)

        seen = [r["headers"] for r in records]
        assert ("own", None) == (seen[0]["x-api-key"], seen[0].get("authorization"))
        assert (None, "Bearer b") == (seen[1].get("x-api-key"), seen[1]["authorization"])
        assert SECRET == seen[2]["x-api-key"]

    def test_forwarding_with_tokens_takes_the_token_header_only(self, tmp_path: Path) -> None:
        """With tokens and a forwarded key, the token comes in x-gateway-token: a token sent
        as the api key (which would go upstream) does not open the gateway."""
        extra = "    forward_client_key: true\n"
        gw = "gateway:\n  tokens: [gw-token]\n"
        with (
            recorder() as (upstream, records),
            gateway(self._config(tmp_path, upstream, extra, gw)) as url,
        ):
            refused = httpx2.post(
                f"{url}/p/v1/messages", json=MESSAGE, headers={"x-api-key": "gw-token"}
            )
            taken = httpx2.post(
                f"{url}/p/v1/messages",
                json=MESSAGE,
                headers={"x-api-key": "own", "x-gateway-token": "gw-token"},
            )

        seen = [r["headers"] for r in records]
        assert (401, 200) == (refused.status_code, taken.status_code)
        assert 1 == len(seen)
        assert "own" == seen[0]["x-api-key"]
        assert "gw-token" not in str(seen[0])


class TestTimeouts:
    def test_a_slow_upstream_is_504_within_the_provider_timeout(self, tmp_path: Path) -> None:
        """upstream_timeout per provider wins over gateway.timeout: the short one answers 504
        with the time in the body; the long one waits for the answer."""
        with Emulator("mimo", latency=0.6) as mimo:
            text = (
                "gateway:\n  timeout: 0.2\n"
                f"providers:\n  short:\n    base_url: {mimo.base_url}\n"
                f"    api_mode: anthropic_messages\n    api_key: {SECRET}\n"
                f"  long:\n    base_url: {mimo.base_url}\n    api_mode: anthropic_messages\n"
                "    upstream_timeout: 10\n"
            )
            body = {**MESSAGE, "model": "mimo-v2.5-pro"}
            with gateway(_config(tmp_path, text)) as url:
                short = httpx2.post(f"{url}/short/v1/messages", json=body, timeout=10)
                long = httpx2.post(f"{url}/long/v1/messages", json=body, timeout=10)

        assert 504 == short.status_code
        assert "within 0.2 s" in short.json()["error"]["message"]
        assert SECRET not in short.text
        assert 200 == long.status_code


class TestConcurrency:
    def test_more_than_a_hundred_upstream_calls_at_once(self, tmp_path: Path) -> None:
        """The gateway puts no cap of its own on concurrent upstream calls (httpx2's default
        pool of 100 would hold the 101st of a fleet's long streams until one ended)."""
        import asyncio
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        lock = threading.Lock()
        state = {"now": 0, "most": 0}
        answer = b'{"type":"message","content":[]}'

        class Slow(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with lock:
                    state["now"] += 1
                    state["most"] = max(state["most"], state["now"])
                time.sleep(1.0)  # a long answer: the others arrive meanwhile
                with lock:
                    state["now"] -= 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        class Server(ThreadingHTTPServer):
            request_queue_size = 256
            daemon_threads = True

        upstream = Server(("127.0.0.1", 0), Slow)
        threading.Thread(target=upstream.serve_forever, daemon=True).start()
        text = (
            f"providers:\n  p:\n    base_url: http://127.0.0.1:{upstream.server_address[1]}\n"
            "    api_mode: anthropic_messages\n"
        )

        async def many(url: str) -> list[int]:
            limits = httpx2.Limits(max_connections=None)
            async with httpx2.AsyncClient(limits=limits, timeout=60) as client:
                answers = await asyncio.gather(
                    *(client.post(f"{url}/p/v1/messages", json=MESSAGE) for _ in range(120))
                )
            return [a.status_code for a in answers]

        try:
            with gateway(_config(tmp_path, text)) as url:
                statuses = asyncio.run(many(url))
        finally:
            upstream.shutdown()
            upstream.server_close()

        assert [200] * 120 == statuses
        assert state["most"] > 100


class TestStreaming:
    @pytest.mark.parametrize("packed", [False, True], ids=["plain", "gzip"])
    def test_events_pass_as_they_come(self, tmp_path: Path, packed: bool) -> None:
        """The client reads the first event while upstream still holds the rest: the gateway
        (and the pipeline observing the stream) buffers nothing."""
        import zlib
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        first_read = threading.Event()
        held: dict[str, bool] = {}
        start = (
            'event: message_start\ndata: {"type":"message_start","message":{"id":"m",'
            '"type":"message","role":"assistant","model":"claude-opus-4-6","content":[],'
            '"usage":{"input_tokens":1,"output_tokens":1}}}\n\n'
        )
        rest = [
            'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
            '"content_block":{"type":"text","text":""}}\n\n',
            'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
            '"delta":{"type":"text_delta","text":"done"}}\n\n',
            'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n',
            'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":'
            '"end_turn"},"usage":{"output_tokens":1}}\n\n',
            'event: message_stop\ndata: {"type":"message_stop"}\n\n',
        ]

        class Holding(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                packer = zlib.compressobj(wbits=zlib.MAX_WBITS | 16) if packed else None
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                if packer is not None:
                    self.send_header("Content-Encoding", "gzip")
                self.end_headers()

                def send(text: str) -> None:
                    data = text.encode()
                    if packer is not None:
                        data = packer.compress(data) + packer.flush(zlib.Z_SYNC_FLUSH)
                    self.wfile.write(data)
                    self.wfile.flush()

                send(start)
                held["released_by_client"] = first_read.wait(timeout=20)
                for event in rest:
                    send(event)
                if packer is not None:
                    self.wfile.write(packer.flush())
                self.close_connection = True

        upstream = ThreadingHTTPServer(("127.0.0.1", 0), Holding)
        threading.Thread(target=upstream.serve_forever, daemon=True).start()
        text = (
            f"providers:\n  p:\n    base_url: http://127.0.0.1:{upstream.server_address[1]}\n"
            "    api_mode: anthropic_messages\n"
        )
        body = {**MESSAGE, "model": "claude-opus-4-6", "stream": True}
        lines: list[str] = []
        try:
            with (
                gateway(_config(tmp_path, text)) as url,
                httpx2.stream(
                    "POST", f"{url}/p/v1/messages", json=body, headers={"accept-encoding": "gzip"}
                ) as answer,
            ):
                for line in answer.iter_lines():
                    lines.append(line)
                    if line.startswith("data:") and "message_start" in line:
                        first_read.set()
        finally:
            upstream.shutdown()
            upstream.server_close()

        assert held["released_by_client"], "the first event only arrived with the rest"
        assert any("message_stop" in line for line in lines)


class TestCarriers:
    """The other wires through the gateway: Responses, Gemini's native generateContent and
    Bedrock Converse. A client that loses what its provider needs back completes its loop
    through the gateway; through the same gateway with the chain empty it gets the provider's
    error."""

    def _gateway_of(self, tmp_path: Path, base_url: str, api_mode: str) -> Any:
        text = (
            f"providers:\n  p:\n    base_url: {base_url}\n    api_mode: {api_mode}\n"
            f"  p-raw:\n    base_url: {base_url}\n    api_mode: {api_mode}\n"
            "    middleware: []\n    middleware_replace: true\n"
        )
        return gateway(_config(tmp_path, text))

    def test_responses(self, tmp_path: Path) -> None:
        """o3 with store on: function calls whose reasoning items the client dropped."""
        from tests.loops import responses_loop
        from tests.test_carriers import no_reasoning

        with (
            Emulator("openai") as openai_emulator,
            self._gateway_of(tmp_path, openai_emulator.openai_base_url, "responses") as url,
        ):
            fixed = responses_loop(
                openai_emulator, "o3", None, store=None, keep=no_reasoning, base=f"{url}/p/v1"
            )
            raw = responses_loop(
                openai_emulator, "o3", None, store=None, keep=no_reasoning, base=f"{url}/p-raw/v1"
            )

        assert [200] * 5 == [s for s, _ in fixed]
        assert (2, 400) == (len(raw), raw[-1][0])

    def test_gemini_native(self, tmp_path: Path) -> None:
        """Gemini 3 natively: parts rebuilt without their thoughtSignature."""
        from tests.loops import gemini_loop
        from tests.test_carriers import GEMINI_3, unsigned_parts

        with (
            Emulator("gemini") as gemini,
            self._gateway_of(tmp_path, gemini.base_url, "gemini") as url,
        ):
            fixed = gemini_loop(gemini, GEMINI_3, None, keep=unsigned_parts, base=f"{url}/p")
            raw = gemini_loop(gemini, GEMINI_3, None, keep=unsigned_parts, base=f"{url}/p-raw")
            signatures = [
                p.get("thoughtSignature")
                for c in gemini.log[len(fixed) - 1].body["contents"]
                if c["role"] == "model"
                for p in c["parts"]
                if "functionCall" in p
            ]

        assert [200] * 5 == [s for s, _ in fixed]
        assert 4 == len(signatures)
        assert "skip_thought_signature_validator" not in signatures  # the real ones came back
        assert (2, 400) == (len(raw), raw[-1][0])

    def test_bedrock_converse(self, tmp_path: Path) -> None:
        """Claude on Bedrock: reasoningContent the client dropped."""
        from tests.loops import converse_loop
        from tests.test_carriers import CLAUDE_ON_BEDROCK, no_reasoning_content

        with (
            Emulator("anthropic") as bedrock,
            self._gateway_of(tmp_path, bedrock.base_url, "bedrock_converse") as url,
        ):
            keep = no_reasoning_content
            fixed = converse_loop(bedrock, CLAUDE_ON_BEDROCK, None, keep=keep, base=f"{url}/p")
            raw = converse_loop(bedrock, CLAUDE_ON_BEDROCK, None, keep=keep, base=f"{url}/p-raw")

        assert [200] * 5 == [s for s, _ in fixed]
        assert (2, 400) == (len(raw), raw[-1][0])
