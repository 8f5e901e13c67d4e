"""The fast JSON path (msgspec, where the gateway extra installed it) reads and writes the same
values as the standard library; what only the standard library reads (``NaN``, a lone
surrogate escape, an integer past 64 bits, UTF-16) goes through it both ways, unchanged."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import httpx2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent import Pipeline
from agent.gateway.reading import asks_stream, parsed
from agent.inputs import _FAST, dumps, loads, read_bytes
from agent.integrations.core import PARSED, rebuilt
from agent.integrations.transport import PipelineTransport
from agent.middleware import ThinkingRoundTrip, ToolPairing

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30,
)


def _standard(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def test_msgspec_is_what_the_test_extra_installs() -> None:
    """The suite runs the fast path (the gateway extra's), not only the fallback."""
    assert _FAST is not None


@settings(max_examples=300, deadline=None)
@given(JSON)
def test_the_same_value_both_ways(value: Any) -> None:
    """Read: what the standard library reads, read by msgspec (no fallback). Written: text the
    standard library reads back as the same value."""
    for raw in (_standard(value), json.dumps(value).encode()):
        assert (json.loads(raw), False) == read_bytes(raw)
    assert json.loads(dumps(value)) == value


def test_an_inner_transport_that_read_its_answer() -> None:
    """httpx's MockTransport hands on a response already read (one built with ``json=``):
    the transport reads it again as it was, no ``StreamConsumed``."""

    def inner(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json={"choices": [], "x": "\u00e9"})

    transport = PipelineTransport(Pipeline([ThinkingRoundTrip()]), httpx2.MockTransport(inner))
    body = {"model": "mimo-v2.5-pro", "messages": [{"role": "user", "content": "hi"}]}
    with httpx2.Client(transport=transport) as client:
        response = client.post("https://relay.example/v1/chat/completions", json=body)

    assert {"choices": [], "x": "\u00e9"} == response.json()


@pytest.mark.parametrize(
    "raw",
    [
        b'{"t": NaN, "u": Infinity, "v": -Infinity}',
        b'{"text": "\\ud800 lone"}',
        b'{"big": 1e999}',
        '{"t": "\u00e9"}'.encode("utf-16"),
    ],
    ids=["nan", "surrogate", "overflow", "utf16"],
)
def test_what_only_the_standard_library_reads(raw: bytes) -> None:
    """Read by the standard library (marked exotic) and written back by it unchanged."""
    value, exotic = read_bytes(raw)

    assert exotic
    assert json.dumps(json.loads(raw)) == json.dumps(value)
    assert json.dumps(value) == json.dumps(json.loads(dumps(value, exotic=True)))


def test_an_integer_past_64_bits() -> None:
    """Read and written as the standard library does, digit for digit."""
    raw = b'{"big":123456789012345678901234567890,"neg":-98765432109876543210987}'

    assert (json.loads(raw), False) == read_bytes(raw)
    assert raw == dumps(loads(raw))


def test_a_duplicate_key_the_last_wins() -> None:
    """As in the standard library: the last of a repeated key is the value."""
    assert {"a": 2} == loads(b'{"a": 1, "a": 2}')


#: A tool call without its result: the chain removes it (so the body is rewritten).
ORPHAN = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}


def _recording() -> tuple[list[bytes], Callable[[httpx2.Request], httpx2.Response]]:
    """An upstream that answers every call and keeps the bodies it was sent."""
    seen: list[bytes] = []

    def inner(request: httpx2.Request) -> httpx2.Response:
        seen.append(request.read())
        return httpx2.Response(200, json={"choices": []})

    return seen, inner


def test_a_rewritten_body_keeps_nan_and_a_lone_surrogate() -> None:
    """A body the chain changes (an orphan tool call removed) goes out with the agent's
    ``NaN`` and lone surrogate as they were, not as null or an encoding error."""
    seen, inner = _recording()
    body = {
        "model": "mimo-v2.5-pro",
        "temperature": math.nan,
        "messages": [
            {"role": "user", "content": "x \ud800 y"},
            {"role": "assistant", "content": "a", "tool_calls": [ORPHAN]},
            {"role": "user", "content": "go on"},
        ],
    }
    transport = PipelineTransport(
        Pipeline([ToolPairing(), ThinkingRoundTrip()]), httpx2.MockTransport(inner)
    )
    with httpx2.Client(transport=transport) as client:
        client.post("https://relay.example/v1/chat/completions", content=json.dumps(body))

    sent = json.loads(seen[0])
    assert b"NaN" in seen[0]
    assert b"\\ud800" in seen[0]
    assert math.isnan(sent["temperature"])
    assert "x \ud800 y" == sent["messages"][0]["content"]
    assert "tool_calls" not in sent["messages"][1]


class TestReadOnce:
    """The gateway reads a body's JSON once; the transport takes the value it read."""

    def test_stream_is_the_top_level_field(self) -> None:
        """``stream: true`` at the top asks for a stream; the same words inside the history
        (a tool's input) do not; a body that is no JSON is searched as bytes."""
        top = b'{"model":"m","messages":[],"stream":true}'
        nested = b'{"model":"m","messages":[{"input":{"stream": true}}]}'
        broken = b'{"model":"m","stream": true, oops'

        answers = [asks_stream(raw, parsed(raw)) for raw in (top, nested, broken)]

        assert [True, False, True] == answers

    def test_the_transport_takes_the_value_read(self) -> None:
        """A request carrying its body's value (``PARSED``) is not read again: the chain
        runs on the value given."""
        seen, inner = _recording()
        given = {
            "model": "mimo-v2.5-pro",
            "messages": [
                {"role": "user", "content": "from the extension"},
                {"role": "assistant", "content": "a", "tool_calls": [ORPHAN]},
            ],
        }
        transport = PipelineTransport(Pipeline([ToolPairing()]), httpx2.MockTransport(inner))
        request = httpx2.Request(
            "POST",
            "https://relay.example/v1/chat/completions",
            content=b'{"model":"mimo-v2.5-pro","messages":[]}',
            extensions={PARSED: (given, False)},
        )
        with httpx2.Client(transport=transport) as client:
            client.send(request)

        assert "from the extension" == json.loads(seen[0])["messages"][0]["content"]

    def test_a_rewritten_request_carries_no_old_value(self) -> None:
        """The request the chain rewrote goes on without the old body's value: a transport
        after this one reads the body it is given."""
        request = httpx2.Request(
            "POST",
            "https://relay.example/v1/chat/completions",
            content=b"{}",
            extensions={PARSED: ({"old": True}, False), "timeout": {"read": 5.0}},
        )

        again = rebuilt(request, {"new": True})

        assert {"timeout": {"read": 5.0}} == again.extensions
        assert b'{"new":true}' == again.content
