"""Compressed answers are observed as they pass. The Anthropic API gzips its answers, streams
included, when the client accepts gzip (behind Cloudflare; github/gh-aw-firewall#1550), and
the SDKs accept gzip: a stream read as raw bytes would never be observed, and an agent that
keeps no thinking would fail its next tool turn."""

from __future__ import annotations

import gzip
import itertools
import os
import zlib
from pathlib import Path
from typing import Any

import httpx2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent import load_config
from agent.gateway import accepted_codings
from agent.integrations._tee import decodable, decoder
from agent.integrations.openai import openai_client
from agent.testing.emulators import Emulator
from tests.loops import LOSE, completed, converse, fixed
from tests.test_gateway import anthropic_loop, gateway
from tests.test_integrations_openai import chat_tool_loop

EXAMPLES = int(os.environ.get("AGENT_EXAMPLES", "150"))
TEXT = b"event: message_start\ndata: {}\n\n" * 200


def _pieces(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def _deflated(data: bytes, wbits: int) -> bytes:
    packer = zlib.compressobj(wbits=wbits)
    return packer.compress(data) + packer.flush()


class TestDecoder:
    @pytest.mark.parametrize(
        ("encoding", "data"),
        [
            ("gzip", gzip.compress(TEXT)),
            ("x-gzip", gzip.compress(TEXT)),
            ("GZIP", gzip.compress(TEXT)),
            ("deflate", _deflated(TEXT, zlib.MAX_WBITS)),
            ("deflate", _deflated(TEXT, -zlib.MAX_WBITS)),
            ("deflate, gzip", gzip.compress(_deflated(TEXT, zlib.MAX_WBITS))),
            ("identity", TEXT),
            (None, TEXT),
        ],
        ids=[
            "gzip",
            "x-gzip",
            "upper-case",
            "zlib",
            "raw-deflate",
            "two-codings",
            "identity",
            "none",
        ],
    )
    @pytest.mark.parametrize("size", [1, 7, 4096], ids=["byte-by-byte", "small", "large"])
    def test_chunk_by_chunk(self, encoding: str | None, data: bytes, size: int) -> None:
        """Each coding is undone chunk by chunk, whatever the chunk boundaries."""
        decode = decoder(encoding)

        assert decode is not None
        assert TEXT == b"".join(decode(piece) for piece in _pieces(data, size))

    def test_unknown_coding_is_none(self) -> None:
        """A coding this process cannot undo: None (the stream passes unobserved)."""
        assert decoder("compress") is None
        assert decoder("gzip, snappy") is None


class TestAcceptEncoding:
    @pytest.mark.parametrize(
        ("client", "upstream"),
        [
            ("gzip, deflate", "gzip, deflate"),
            ("gzip;q=1.0, snappy;q=0.5", "gzip;q=1.0"),
            ("snappy", "identity"),
            ("", "identity"),
        ],
        ids=["both-known", "q-values", "none-known", "empty"],
    )
    def test_upstream_may_only_choose_what_the_gateway_decodes(
        self, client: str, upstream: str
    ) -> None:
        """The gateway lets upstream pick among the client's codings it can decode."""
        assert upstream == accepted_codings(client)

    def test_decodable_has_gzip_and_deflate(self) -> None:
        assert {"gzip", "deflate", "identity"} <= decodable()


class TestEmulator:
    def test_it_gzips_when_asked(self) -> None:
        """gzip=True: answers compressed when the client accepts gzip, plain otherwise."""
        body = {
            "model": "mimo-v2.5-pro",
            "max_tokens": 10,
            "messages": [{"role": "user", "content": "x"}],
        }
        with Emulator("mimo", gzip=True) as mimo:
            url = f"{mimo.base_url}/v1/messages"
            packed = httpx2.post(url, json=body, headers={"accept-encoding": "gzip"})
            streamed = httpx2.post(
                url, json={**body, "stream": True}, headers={"accept-encoding": "gzip"}
            )
            plain = httpx2.post(url, json=body, headers={"accept-encoding": "identity"})

        assert "gzip" == packed.headers["content-encoding"]
        assert "message" == packed.json()["type"]
        assert "gzip" == streamed.headers["content-encoding"]
        assert b"message_stop" in streamed.content
        assert "content-encoding" not in plain.headers


LOOP: Any = {"thinking": {"type": "enabled", "budget_tokens": 1024}}


class TestObservedThroughGzip:
    """Claude's signed thinking cannot be padded: an agent that drops it only gets through
    its tool loop when the pipeline observed the (gzipped) answer and puts it back."""

    @pytest.mark.parametrize("mode", ["create", "stream", "stream_helper"])
    @pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
    def test_anthropic_sdk_adapter(self, mode: Any, use_async: bool) -> None:
        with Emulator("anthropic", gzip=True) as claude:
            steps = converse(
                claude,
                fixed(),
                "claude-opus-4-6",
                mode=mode,
                use_async=use_async,
                base_url=None,
                store=LOSE,
                **LOOP,
            )

        assert completed(steps, 4), steps[-1]

    def test_without_the_pipeline_it_fails(self) -> None:
        """The control: the same loop unobserved is Claude's 400 on turn 2."""
        with Emulator("anthropic", gzip=True) as claude:
            steps = converse(
                claude, None, "claude-opus-4-6", mode="stream", base_url=None, store=LOSE, **LOOP
            )

        assert (2, 400) == (len(steps), steps[-1].status)

    @pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
    def test_transport(self, tmp_path: Path, stream: bool) -> None:
        """PipelineTransport (the openai SDK) reads gzipped answers too: MiMo gets its real
        reasoning back, not the pad that stands in for reasoning never observed."""
        with Emulator("mimo", gzip=True) as mimo:
            path = tmp_path / "agent.yaml"
            path.write_text(
                f"providers:\n  p:\n    base_url: {mimo.openai_base_url}\n"
                "    model: mimo-v2.5-pro\n    api_key: test-key\n"
            )
            with openai_client(load_config(path), provider="p", max_retries=0) as client:
                assert 4 == chat_tool_loop(client, "mimo-v2.5-pro", stream=stream)
                sent = mimo.bodies[-1]["messages"]

        reasoning = [m.get("reasoning_content") for m in sent if m.get("tool_calls")]
        assert 4 == len(reasoning)
        assert all(r and r.strip() for r in reasoning), reasoning

    @pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
    def test_gateway(self, tmp_path: Path, stream: bool) -> None:
        """Through the gateway: the client gets the gzipped bytes as upstream sent them, and
        the gateway observes them."""
        with Emulator("anthropic", gzip=True) as claude:
            path = tmp_path / "g.yaml"
            path.write_text(
                f"providers:\n  claude:\n    base_url: {claude.base_url}\n"
                "    api_mode: anthropic_messages\n"
            )
            with gateway(load_config(path)) as url:
                assert 4 == anthropic_loop(f"{url}/claude", stream=stream, model="claude-opus-4-6")
                raw = httpx2.post(
                    f"{url}/claude/v1/messages",
                    json={
                        "model": "claude-opus-4-6",
                        "max_tokens": 10,
                        "messages": [{"role": "user", "content": "x"}],
                    },
                    headers={"accept-encoding": "gzip, snappy"},
                )

        assert "gzip" == raw.headers["content-encoding"]
        assert "message" == raw.json()["type"]


MESSAGE: Any = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "model": "claude-opus-4-6",
    "content": [
        {"type": "thinking", "thinking": "think é ✓ " * 40, "signature": "Eq" + "s" * 300},
        {"type": "text", "text": "ok"},
        {"type": "tool_use", "id": "toolu_1", "name": "run", "input": {"cmd": "ls"}},
    ],
    "stop_reason": "tool_use",
    "stop_sequence": None,
    "usage": {"input_tokens": 1, "output_tokens": 1},
}


def _packed(data: bytes, coding: str) -> bytes:
    if coding == "gzip":
        return gzip.compress(data)
    if coding == "deflate":
        return _deflated(data, zlib.MAX_WBITS)
    return data


class TestTeeProperty:
    @settings(max_examples=EXAMPLES, deadline=None)
    @given(
        coding=st.sampled_from(["gzip", "deflate", "identity"]),
        cuts=st.lists(st.integers(min_value=0, max_value=1 << 16), max_size=40),
    )
    def test_any_chunking_observes_the_same_message(self, coding: str, cuts: list[int]) -> None:
        """However the compressed stream is cut into chunks, the client reads the exact
        bytes that came, and the message rebuilt on the side is the one the events carry."""
        from agent.integrations._sse import MessageAccumulator
        from agent.integrations._tee import TeeStream
        from agent.testing.emulators.sse import anthropic_events

        raw = _packed(b"".join(anthropic_events(MESSAGE)), coding)
        points = sorted({c % (len(raw) + 1) for c in cuts} | {0, len(raw)})
        chunks = [raw[a:b] for a, b in itertools.pairwise(points)]
        seen: list[Any] = []
        decode = decoder(coding)
        assert decode is not None

        tee = TeeStream(
            iter(chunks), MessageAccumulator(), lambda a: seen.append(a.message), decode
        )

        assert raw == b"".join(tee)
        assert [MESSAGE] == seen
