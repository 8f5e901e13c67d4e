"""The gateway's reading of a resent history (``agent.integrations.resent``) and the splicing of a
changed body (``agent.integrations.spliced``) against the full path they stand in for: the
body decoded whole by the standard library, the chain run on it, the result encoded whole.

The property test runs both on the same generated agent loops (every wire the gateway serves,
the histories growing, edited, sent again, in the JSON styles clients write) and requires the
same value read, the same outgoing JSON value, the same explain record and the same facts of
the conversation (found by walking only the new messages) on every call.
``AGENT_EXAMPLES`` sets how many loops (10,000 for the issue's run; CI runs the default).
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import httpx2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent import Pipeline
from agent.gateway.reading import read_request
from agent.inputs import MAX_DEPTH
from agent.integrations.core import PARSED, Core
from agent.integrations.resent import Resent
from agent.integrations.spliced import SPANS, Spans, spliced
from agent.middleware import ThinkingRoundTrip, ToolPairing
from tests.test_history_grown import facts
from tests.test_properties import (
    TARGETS,
    anthropic_history,
    chat_history,
    gemini_contents,
    responses_input,
)

SETTINGS = settings(
    max_examples=int(os.environ.get("AGENT_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

#: (api, URL path, the body's history key) of each wire the gateway serves.
WIRES = {
    "anthropic_messages": ("/v1/messages", "messages"),
    "chat_completions": ("/v1/chat/completions", "messages"),
    "responses": ("/v1/responses", "input"),
    "gemini": ("/v1beta/models/{model}:generateContent", "contents"),
    "bedrock_converse": ("/model/{model}/converse", "messages"),
}
#: How clients write JSON: compact, Python's default, indented, ASCII-only.
STYLES: st.SearchStrategy[dict[str, Any]] = st.sampled_from(
    [
        {"separators": (",", ":")},
        {},
        {"indent": 2},
        {"indent": "\t", "ensure_ascii": False},
        {"ensure_ascii": False, "separators": (", ", " : ")},
    ]
)


def _bedrock(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An Anthropic-wire history as Converse writes it (text and tool blocks)."""
    out = []
    for message in history:
        content = message["content"]
        blocks: list[dict[str, Any]] = [{"text": content}] if isinstance(content, str) else []
        for block in content if isinstance(content, list) else ():
            if block["type"] == "text":
                blocks.append({"text": block["text"]})
            elif block["type"] == "tool_use":
                use = {"toolUseId": block["id"], "name": block["name"], "input": {}}
                blocks.append({"toolUse": use})
            elif block["type"] == "tool_result":
                result = {"toolUseId": block["tool_use_id"], "content": [{"text": "ok"}]}
                blocks.append({"toolResult": result})
            elif block["type"] == "thinking" and block.get("signature"):
                text = {"text": block["thinking"], "signature": block["signature"]}
                blocks.append({"reasoningContent": {"reasoningText": text}})
        out.append({"role": message["role"], "content": blocks or [{"text": "-"}]})
    return out


@st.composite
def loops(draw: st.DrawFn) -> tuple[str, str, str | None, list[bytes]]:
    """One agent loop on one wire: its api, model, host, and the bodies it sends in turn."""
    api = draw(st.sampled_from(sorted(WIRES)))
    model, host = draw(TARGETS) if api == "anthropic_messages" else ("m", None)
    if api in ("anthropic_messages", "bedrock_converse"):
        history = draw(anthropic_history(odd=draw(st.booleans())))
        history = _bedrock(history) if api == "bedrock_converse" else history
    elif api == "chat_completions":
        model = draw(st.sampled_from(["deepseek-v4-pro", "kimi-k2.6", "gpt-5", "m"]))
        history = draw(chat_history())
    elif api == "responses":
        model, history = "gpt-5", draw(responses_input())[0]
    else:
        model, history = "gemini-3-pro-preview", draw(gemini_contents())[0]
    key = WIRES[api][1]
    style = draw(STYLES)
    # (longer than what names a body's entry, so a loop's bodies share it)
    system = "you are an agent é \u2603 " + "." * draw(st.integers(250, 400))
    uptos = sorted(draw(st.lists(st.integers(1, len(history)), min_size=1, max_size=6)))
    if draw(st.integers(0, 3)) == 0:  # an agent that goes back (a rewind, a retry)
        uptos = draw(st.permutations(uptos))
    bodies = []
    for upto in uptos:
        sent = [*history[:upto]]
        if draw(st.integers(0, 7)) == 0:  # the agent edits an earlier message
            at = draw(st.integers(0, upto - 1))
            sent[at] = {**sent[at], "edited": draw(st.text(max_size=3))}
        body: dict[str, Any] = {} if api in ("gemini", "bedrock_converse") else {"model": model}
        body["system"] = system
        body[key] = sent
        if draw(st.booleans()):
            body["max_tokens"] = 1024
            body["metadata"] = {key: [{"role": "user"}], "n": draw(st.integers())}
        bodies.append(json.dumps(body, **style).encode())
    return api, model, host, bodies


def _url(api: str, model: str, host: str | None) -> str:
    path = WIRES[api][0].format(model=model)
    return (host or "https://api.anthropic.com").rstrip("/") + path


def _pipeline() -> Pipeline:
    return Pipeline([ToolPairing(), ThinkingRoundTrip()])


class TestTheSameAsTheFullPath:
    @SETTINGS
    @given(loop=loops())
    def test_every_call_reads_sends_and_explains_the_same(
        self, loop: tuple[str, str, str | None, list[bytes]]
    ) -> None:
        api, model, host, bodies = loop
        resent = Resent(32_000_000, min_body=0)  # (every body, however small)
        fast, full = Core(_pipeline(), "p"), Core(_pipeline(), "p")
        url = _url(api, model, host)
        for raw in bodies:
            ours = httpx2.Request("POST", url, content=raw)
            read = read_request(ours, raw, resent, "p")
            reference = httpx2.Request("POST", url, content=raw)
            reference.extensions[PARSED] = (json.loads(raw), False)
            assert read is not None
            assert read[0] == json.loads(raw), "the value read is the body's"
            ours_prepared = fast.prepare(ours, raw)
            full_prepared = full.prepare(reference, raw)
            assert (ours_prepared is None) == (full_prepared is None)
            if ours_prepared is None or full_prepared is None:
                continue
            assert json.loads(ours_prepared[0].content) == json.loads(full_prepared[0].content)
            assert (ours_prepared[0].content == raw) == (full_prepared[0].content == raw)
            before = _pipeline().explain(ours_prepared[1])
            assert before == _pipeline().explain(full_prepared[1]), "the same explain record"
            assert facts(ours_prepared[1].history) == facts(full_prepared[1].history)


def _body(n: int, **style: Any) -> bytes:
    messages: list[dict[str, Any]] = []
    for t in range(n):
        messages.append({"role": "user", "content": f"step {t} " + "x" * 30_000})
        messages.append({"role": "assistant", "content": [{"type": "text", "text": f"ok {t}"}]})
    return json.dumps({"model": "m", "messages": messages, "max_tokens": 9}, **style).encode()


def _history(n: int) -> list[Any]:
    return json.loads(_body(n))["messages"]  # type: ignore[no-any-return]


def _read(resent: Resent, raw: bytes, scope: str = "a") -> tuple[Any, Spans | None]:
    (value, exotic), spans = resent.read(raw, "anthropic_messages", scope)
    assert not exotic
    assert value == json.loads(raw)
    return value, spans


class TestResent:
    def test_a_grown_history_reuses_the_messages_read_before(self) -> None:
        resent = Resent(32_000_000)
        first, _ = _read(resent, _body(3))
        assert _read(resent, _body(3))[1] is not None  # (where each lies: found now)
        grown, spans = _read(resent, _body(5))
        assert spans is not None
        assert len(spans.bounds) == 10
        assert all(a is b for a, b in zip(first["messages"], grown["messages"][:6], strict=False))
        assert grown["messages"][6] is not first["messages"][0]

    def test_each_client_has_its_own(self) -> None:
        """How fast a call is never tells one client what another sent."""
        resent = Resent(32_000_000)
        _read(resent, _body(3), "a")
        _read(resent, _body(3), "a")
        assert _read(resent, _body(4), "b")[1] is None
        assert _read(resent, _body(4), "a")[1] is not None

    def test_an_edited_history_is_read_whole(self) -> None:
        resent = Resent(32_000_000)
        _read(resent, _body(3))
        _read(resent, _body(3))
        edited = _body(4).replace(b"step 1 ", b"step 9 ", 1)
        assert _read(resent, edited)[1] is None

    def test_a_long_history_edited_early_is_not_scanned(self) -> None:
        """An agent that trims old tool results on every call: its bodies never grow from
        the last one, and finding where their messages lie would only cost (a scan)."""
        resent = Resent(32_000_000)
        _read(resent, _body(40))
        edited = _body(41).replace(b"step 1 ", b"step 1 (trimmed) ", 1)
        assert _read(resent, edited)[1] is None
        entries = list(resent._entries.values())
        assert len(entries) == 2
        assert all(entry.bounds is None for entry in entries), "scanned for nothing"

    def test_what_it_holds_is_bounded(self) -> None:
        raw = _body(4)
        resent = Resent(3 * len(raw) + 30)  # (each a byte longer: "m0"...)
        for n in range(10):
            _read(resent, _body(4).replace(b'"m"', f'"m{n}"'.encode(), 1), str(n))
        assert resent._held <= 3 * len(raw) + 30
        assert len(resent._entries) == 3
        assert Resent(len(raw) - 1).read(raw, "anthropic_messages", "a")[1] is None
        assert Resent(0).read(raw, "anthropic_messages", "a")[1] is None

    @pytest.mark.parametrize(
        "raw",
        [
            _body(3, indent=3),
            _body(3, separators=(" ,\n", " :\r\n")),
            # a decoy: the same array under another key first, then the body's own
            _body(3).replace(b'{"model"', b'{"meta": {"messages": [{"role": "user"}]}, "model"'),
            # a decoy that holds the very same messages, first
            json.dumps({"meta": {"messages": _history(3)}, **json.loads(_body(3))}).encode(),
            # the key twice: the last is the history (as every JSON reader here reads it)
            _body(3)[:-1] + b', "messages": [{"role": "user", "content": "x"}]}',
            # the key escaped: not found, read whole
            _body(3).replace(b'"messages"', b'"\\u006dessages"'),
            _body(3).replace(b'"max_tokens": 9', b'"max_tokens": NaN'),
        ],
        ids=["indented", "odd-whitespace", "decoy", "same-decoy", "twice", "escaped-key", "nan"],
    )
    def test_odd_bodies_read_as_the_standard_library_reads_them(self, raw: bytes) -> None:
        resent = Resent(32_000_000)
        for _ in range(3):
            (value, _), _spans = resent.read(raw, "anthropic_messages", "a")
            assert json.dumps(value) == json.dumps(json.loads(raw))

    def test_a_decoy_with_the_same_messages_is_never_taken_for_the_history(self) -> None:
        """The very messages under another key first, then the body's own: kept as the
        history, its next body (the same decoy, its own history emptied) would read the
        decoy's messages as the history."""
        resent = Resent(32_000_000, min_body=0)
        decoy = {"meta": {"messages": _history(3)}}
        for history in (_history(3), _history(3), []):
            _read(resent, json.dumps({**decoy, "messages": history}).encode())

    def test_a_history_nested_too_deeply_is_refused_as_before(self) -> None:
        deep = "[" * (MAX_DEPTH - 2) + "]" * (MAX_DEPTH - 2)
        raw = _body(3)[:-1] + f', "messages2": 1, "x": {deep}}}'.encode()
        resent = Resent(32_000_000)
        _read(resent, raw)
        _read(resent, raw)
        too = _body(3).replace(b'"content": "step 2', f'"c": {deep}, "content": "step 2'.encode())
        with pytest.raises(ValueError, match="nested too deeply"):
            resent.read(too, "anthropic_messages", "a")


class TestSpliced:
    @pytest.mark.parametrize("edit", ["replace", "remove", "insert", "swap"])
    def test_the_unchanged_messages_go_out_as_the_clients_bytes(self, edit: str) -> None:
        """Found by position when the chain replaced messages in place, by identity when it
        removed or added some; a message moved is written anew (the same value)."""
        raw = _body(3, indent=1, ensure_ascii=True)
        resent = Resent(32_000_000)
        _read(resent, raw)
        value, spans = _read(resent, raw)
        assert spans is not None
        messages, new = [*value["messages"]], {"role": "assistant", "content": "new \u2603"}
        if edit == "replace":
            messages[1] = new
        elif edit in ("remove", "insert"):
            messages[1:2] = [] if edit == "remove" else [new, messages[1]]
        else:
            messages[1], messages[2] = messages[2], messages[1]
        out = spliced({**value, "messages": messages}, spans)
        assert out is not None
        assert json.loads(out) == {**json.loads(raw), "messages": messages}
        first = raw[spans.bounds[0][0] : spans.bounds[0][1]]
        assert b"\n" in first  # (the client's own bytes, its indent kept)
        assert first in out

    def test_a_body_the_chain_changes_goes_out_spliced_and_the_same(self) -> None:
        """Claude's target, a thinking block without a signature (the chain drops it): the
        gateway's request sends what the whole-body path sends, with the unchanged messages
        as the client's bytes."""
        history = _history(3)
        history[1] = {"role": "assistant", "content": [{"type": "thinking", "thinking": "t"}]}
        body = {"model": "claude-opus-4-6", "max_tokens": 9, "messages": history}
        raw = json.dumps(body, indent=2).encode()
        url = "https://api.anthropic.com/v1/messages"
        resent = Resent(32_000_000)
        for _ in range(2):
            upstream = httpx2.Request("POST", url, content=raw)
            read_request(upstream, raw, resent, "p")
            prepared = Core(_pipeline(), "p").prepare(upstream, raw)
        reference = httpx2.Request("POST", url, content=raw)
        reference.extensions[PARSED] = (json.loads(raw), False)
        whole = Core(_pipeline(), "p").prepare(reference, raw)
        assert isinstance(upstream.extensions[SPANS], Spans)
        assert prepared is not None
        assert whole is not None
        assert prepared[0].content != raw, "the chain changed it"
        assert SPANS not in prepared[0].extensions  # (they describe the bytes it came from)
        assert json.loads(prepared[0].content) == json.loads(whole[0].content)
        start, end = upstream.extensions[SPANS].bounds[2]
        assert raw[start:end] in prepared[0].content


class TestTransports:
    @pytest.mark.parametrize("make", ["sync", "async"])
    def test_a_transport_sends_a_resent_history_as_it_would_read_whole(self, make: str) -> None:
        """The SDKs' transports keep what they read too (``resent_bytes``): a loop's growing
        history, changed by the chain, reaches the upstream as it does with nothing kept."""
        from agent.integrations.transport import AsyncPipelineTransport, PipelineTransport

        reply = {"type": "message", "role": "assistant", "content": [{"type": "text", "text": "k"}]}
        history = _history(6)
        history[1] = {"role": "assistant", "content": [{"type": "thinking", "thinking": "t"}]}
        bodies = [
            json.dumps({"model": "claude-opus-4-6", "max_tokens": 9, "messages": history[:n]})
            for n in (3, 4, 6, 6)
        ]
        seen: dict[int, list[Any]] = {0: [], 32_000_000: []}
        url = "https://api.anthropic.com/v1/messages"
        for kept, sent in seen.items():

            def upstream(request: httpx2.Request, sent: list[Any] = sent) -> httpx2.Response:
                sent.append(json.loads(request.content))
                return httpx2.Response(200, json=reply)

            if make == "sync":
                transport = PipelineTransport(
                    _pipeline(), httpx2.MockTransport(upstream), resent_bytes=kept
                )
                with httpx2.Client(transport=transport) as client:
                    for body in bodies:
                        client.post(url, content=body).raise_for_status()
                core = transport._core
            else:
                atransport = AsyncPipelineTransport(
                    _pipeline(), httpx2.MockTransport(upstream), resent_bytes=kept
                )

                async def calls(transport: AsyncPipelineTransport = atransport) -> None:
                    async with httpx2.AsyncClient(transport=transport) as client:
                        for body in bodies:
                            (await client.post(url, content=body)).raise_for_status()

                asyncio.run(calls())
                core = atransport._core
            if kept:
                assert core.resent is not None
                assert any(e.bounds for e in core.resent._entries.values()), "read as resent"
        assert seen[0] == seen[32_000_000]
        assert seen[0][0]["messages"][1]["content"] != history[1]["content"], "the chain changed it"

    def test_a_transport_keeps_each_credentials_bodies_apart(self) -> None:
        from agent.integrations.transport import PipelineTransport

        def upstream(request: httpx2.Request) -> httpx2.Response:
            return httpx2.Response(200, json={"type": "message", "content": []})

        transport = PipelineTransport(_pipeline(), httpx2.MockTransport(upstream))
        url = "https://api.anthropic.com/v1/messages"
        with httpx2.Client(transport=transport) as client:
            for key in ("key-a", "key-a", "key-b"):
                client.post(url, content=_body(3), headers={"x-api-key": key})
        core = transport._core
        assert core.resent is not None
        scopes = [entry.scope for entry in core.resent._entries.values()]
        assert len(scopes) == 2
        assert len(set(scopes)) == 2, "the second key's body was read as the first key's"

    @pytest.mark.parametrize("kept", [-1, 1.5, "32MB"])
    def test_a_wrong_resent_bytes_is_a_clear_error(self, kept: Any) -> None:
        from agent.integrations.transport import PipelineTransport

        with pytest.raises(ValueError, match="resent_bytes must be a whole number >= 0"):
            PipelineTransport(_pipeline(), resent_bytes=kept)
