"""The Redis store at scale: a constant number of round trips per call, sliding expiry, and
rejections one key each (never a whole-set read), remembered through an outage."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent import Pipeline, Request
from agent.middleware import ThinkingRoundTrip
from agent.store import Recent, Wanted
from agent.store.turns import digest
from agent.testing.emulators import Emulator
from agent.testing.relay import Relay, commands
from tests.builders import A, T, U, anthropic_body, th_s, tu
from tests.fleet import (
    Agent,
    async_client,
    call_async,
    call_sync,
    every_turn_restored,
    pipeline,
    thinking_of,
)
from tests.redis_servers import redis_server

AM = "anthropic_messages"
CLAUDE = "claude-opus-4-6"
#: The store's time limit where a test is not about time: a loaded CI machine took over the
#: default 200 ms for a write, and the calls after it read nothing for a second.
SLOW_MACHINE = 10_000


@contextlib.contextmanager
def relayed(folder: Path) -> Iterator[tuple[Relay, str]]:
    """A redis-server with a relay in front that keeps what clients send: (relay, its URL)."""
    with (
        redis_server(folder) as (port, _),
        Relay("127.0.0.1", port, delay=0.001, keep=True) as relay,  # (a pipeline in two writes)
    ):
        yield relay, f"redis://127.0.0.1:{relay.listening}/0"


def _reads(relay: Relay) -> list[bytes]:
    """The keys the calls since the last reset read (GETEX or GET)."""
    sent = [c for chunk in relay.sent for c in commands(bytes(chunk))]
    return [c[1] for c in sent if c[0].upper() in (b"GETEX", b"GET")]


class TestRoundTrips:
    @pytest.mark.parametrize("path", ["sync", "async"])
    def test_at_most_three_per_call_whatever_the_length(self, tmp_path: Path, path: str) -> None:
        """A lossy agent's MiMo loop of 50 tool rounds restores every earlier turn on every
        call in at most three round trips (one read, one write), each turn read once."""
        from agent.redis_store import RedisStore

        emulator = Emulator("mimo", rounds=50)
        trips: list[int] = []
        with relayed(tmp_path) as (relay, url):
            store = RedisStore(url, prefix=f"{path}:", timeout_ms=SLOW_MACHINE)
            store.lookup(Wanted())  # nothing asked: nothing sent
            warm = Wanted()
            warm.text("connect")
            store.lookup(warm)  # the connection made (and the cluster question asked) once
            pipe, agent = pipeline(store), Agent()
            reads: list[list[bytes]] = []

            async def loop() -> None:
                async with async_client(pipe, emulator) as client:
                    while not agent.done:
                        relay.reset()
                        await call_async(client, agent)
                        trips.append(relay.round_trips)
                        reads.append(_reads(relay))

            if path == "async":
                asyncio.run(loop())
            else:
                while not agent.done:
                    relay.reset()
                    call_sync(pipe, emulator, agent)
                    trips.append(relay.round_trips)
                    reads.append(_reads(relay))
            store.close()

        assert 51 == len(trips)
        assert [] == [(k, n) for k, n in enumerate(trips) if n > 3]
        assert all(len(r) == len(set(r)) for r in reads)  # no key read twice in one call
        assert list(range(51)) == [sum(b":t:" in key for key in r) for r in reads]
        assert every_turn_restored(emulator)


def _keys(client: Any, prefix: str) -> list[bytes]:
    return sorted(client.scan_iter(f"{prefix}*"))


class TestSlidingExpiry:
    def test_a_read_refreshes_what_it_finds(self, redis_url: str) -> None:
        """A turn read back lives ``ttl`` seconds from that read, not from its write (the
        lossy agent's call reads the turn by its tool id)."""
        import redis

        from agent.redis_store import RedisStore

        store, client = (
            RedisStore(redis_url, ttl=600, prefix="slide:"),
            redis.Redis.from_url(redis_url),
        )
        emulator, agent = Emulator("mimo"), Agent()
        pipe = pipeline(store)
        call_sync(pipe, emulator, agent)
        turn = [k for k in _keys(client, "slide:") if b":t:" in k]
        for key in turn:
            client.expire(key, 5)  # as if written 595 seconds ago

        call_sync(pipe, emulator, agent)  # restores turn 1

        assert every_turn_restored(emulator)
        assert 1 == len(turn)
        assert [] == [k for k in turn if client.ttl(k) <= 5]

    def test_a_conversation_that_keeps_its_thinking_keeps_its_turns(self, redis_url: str) -> None:
        """A call that needs no turn back still keeps the conversation's turns alive (its
        tool ids are in the body), so losing the thinking later still restores it."""
        import redis

        from agent.redis_store import RedisStore

        store, client = (
            RedisStore(redis_url, ttl=600, prefix="alive:"),
            redis.Redis.from_url(redis_url),
        )
        pipe, emulator = pipeline(store), Emulator("mimo")
        first = pipe(Request(api=AM, base_url="http://mimo.test", body=Agent().body()))
        _, answer, _ = emulator.handle("/v1/messages", first.body)
        pipe.observe(first, answer)
        for key in _keys(client, "alive:"):
            client.expire(key, 5)
        keeping = Agent()
        keeping.messages.append({"role": "assistant", "content": answer["content"]})
        keeping.messages.append(T(answer["content"][-1]["id"]))

        pipe(Request(api=AM, base_url="http://mimo.test", body=keeping.body()))

        assert [] == [k for k in _keys(client, "alive:") if client.ttl(k) <= 5]

    def test_a_conversation_idle_for_ttl_restores_nothing(self, redis_url: str) -> None:
        """What the docs promise: after ``ttl`` seconds without a call, a lost turn is
        padded (MiMo's pad), not restored."""
        import redis

        from agent.redis_store import RedisStore

        store, client = (
            RedisStore(redis_url, ttl=1, prefix="idle:"),
            redis.Redis.from_url(redis_url),
        )
        emulator, agent = Emulator("mimo"), Agent()
        pipe = pipeline(store)
        call_sync(pipe, emulator, agent)
        deadline = time.monotonic() + 10
        while _keys(client, "idle:") and time.monotonic() < deadline:
            time.sleep(0.1)

        call_sync(pipe, emulator, agent)

        assert not every_turn_restored(emulator)
        assert [" "] == thinking_of(emulator.log[-1].body["messages"][1]["content"])


def _claude(signature: str) -> Request:
    body = anthropic_body(CLAUDE, U(), A(th_s("plan", signature), tu("c1")), T("c1"))
    return Request(api=AM, base_url="https://api.anthropic.com", body=body)


def _signatures(request: Request) -> list[str]:
    return [
        b["signature"]
        for m in request.body["messages"]
        if isinstance(m["content"], list)
        for b in m["content"]
        if b.get("type") == "thinking"
    ]


INVALID = {
    "type": "error",
    "error": {
        "type": "invalid_request_error",
        "message": "messages.1.content.0: Invalid `signature` in `thinking` block",
    },
}


class TestRejections:
    def test_one_key_each_read_with_the_call_never_the_whole_set(self, tmp_path: Path) -> None:
        """A rejection is a key of its own with the TTL; another process finds it in its call's
        batch (no SMEMBERS of a set of every rejection), and does not send it."""
        import redis

        from agent.redis_store import RedisStore

        with relayed(tmp_path) as (relay, url):
            writer = RedisStore(url, ttl=600, timeout_ms=SLOW_MACHINE)
            writer.reject_all([f"other-{n}" for n in range(100)])
            RedisStore(url, ttl=600, timeout_ms=SLOW_MACHINE).reject("sig-dead")
            relay.reset()

            store = RedisStore(url, ttl=600, timeout_ms=SLOW_MACHINE)
            out = Pipeline([ThinkingRoundTrip(store=store)])(_claude("sig-dead"))

            sent = [c for chunk in relay.sent for c in commands(bytes(chunk))]
            client = redis.Redis.from_url(url)
            ttl = client.ttl(f"agent:r:{digest('sig-dead')}")
            kinds = {client.type(k) for k in client.scan_iter("agent:*")}
        assert [] == _signatures(out)
        assert 0 < ttl <= 600
        assert {b"string"} == kinds
        assert [] == [c[0] for c in sent if c[0].upper() in (b"SMEMBERS", b"SSCAN", b"KEYS")]
        assert 2 >= sum(1 for c in sent if any(b":r:" in part for part in c))

    def test_an_outage_does_not_send_a_rejected_signature_again(self, tmp_path: Path) -> None:
        """A signature the provider rejects while Redis is down is remembered by the process
        (the retry goes without it, the learning fails no call), and not sent again."""
        from agent.redis_store import RedisStore

        with redis_server(tmp_path) as (port, process):
            store = RedisStore(f"redis://127.0.0.1:{port}/0", timeout_ms=200)
            pipe = Pipeline([ThinkingRoundTrip(store=store)])
            sent = pipe(_claude("sig-x"))
            process.terminate()
            process.wait(timeout=10)

            retry = pipe.recover(_claude("sig-x"), sent, 400, INVALID)
            later = pipe(_claude("sig-x"))

        assert ["sig-x"] == _signatures(sent)
        assert retry is not None
        assert [] == _signatures(retry)
        assert [] == _signatures(later)

    def test_the_process_remembers_a_bounded_number(self) -> None:
        """The rejections a process keeps are bounded, the oldest forgotten first."""
        seen = Recent(size=3)
        for n in range(5):
            seen.add(f"s{n}")

        assert 3 == len(seen)
        assert frozenset({"s2", "s3", "s4"}) == seen.view()


class TestRetry:
    def test_a_retry_reads_nothing_again_and_writes_what_it_learned(self, tmp_path: Path) -> None:
        """Through the gateway's transport: a signature the provider rejects is written as
        its own key after the retry (off the event loop), and the retry reuses the call's
        batch: the store is read once."""
        import httpx2
        import redis

        from agent.integrations.transport import AsyncPipelineTransport
        from agent.redis_store import RedisStore

        answers = [
            httpx2.Response(400, json=INVALID),
            httpx2.Response(200, json={"type": "message", "content": [tu("c2")]}),
        ]
        sent: list[Any] = []

        def provider(request: httpx2.Request) -> httpx2.Response:
            sent.append(request.content)
            answer = answers.pop(0)
            return httpx2.Response(
                answer.status_code, headers=answer.headers, stream=httpx2.ByteStream(answer.content)
            )

        async def call(url: str) -> httpx2.Response:
            pipe = Pipeline([ThinkingRoundTrip(store=RedisStore(url, timeout_ms=SLOW_MACHINE))])
            transport = AsyncPipelineTransport(pipe, httpx2.MockTransport(provider))
            async with httpx2.AsyncClient(transport=transport) as client:
                body = _claude("sig-bad").body
                return await client.post("https://api.anthropic.com/v1/messages", json=body)

        with relayed(tmp_path) as (relay, url):
            response = asyncio.run(call(url))
            reads = _reads(relay)
            rejected = redis.Redis.from_url(url).exists(f"agent:r:{digest('sig-bad')}")

        assert 200 == response.status_code
        assert response.extensions["agent"]["retried"]
        assert {"state": "ok", "unrestored": 0} == response.extensions["agent"]["store"]
        assert 2 == len(sent)
        assert 1 == reads.count(f"agent:s:{digest('sig-bad')}".encode())
        assert 1 == rejected


class TestOlderRedis:
    def test_without_getex_a_read_still_refreshes(self, tmp_path: Path) -> None:
        """A Redis without GETEX (before 6.2; here renamed away) is read with GET and EXPIRE
        in the same pipeline: every turn restored, and what was read lives ``ttl`` again."""
        import redis

        from agent.redis_store import RedisStore

        with redis_server(tmp_path, "--rename-command", "GETEX", "") as (port, _):
            url = f"redis://127.0.0.1:{port}/0"
            store = RedisStore(url, ttl=600, timeout_ms=SLOW_MACHINE)
            client = redis.Redis.from_url(url)
            emulator, agent = Emulator("mimo"), Agent()
            pipe = pipeline(store)
            call_sync(pipe, emulator, agent)
            for key in _keys(client, "agent:t:"):
                client.expire(key, 5)
            call_sync(pipe, emulator, agent)
            call_sync(pipe, emulator, agent)
            ttls = [client.ttl(k) for k in _keys(client, "agent:t:")]

        assert every_turn_restored(emulator)
        assert 3 == len(ttls)
        assert all(t > 5 for t in ttls)
