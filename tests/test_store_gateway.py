"""Gateways on a shared Redis: never waiting for it on the event loop, saying per call how the
store fared, and a fleet of two on a real three-node Redis Cluster."""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx2
import pytest

from agent import load_config
from agent.testing.emulators import Emulator
from agent.testing.relay import Relay
from tests.fleet import Agent, every_turn_restored, sdk_loop
from tests.redis_servers import redis_cluster, redis_server
from tests.test_gateway import gateway, gateway_process


def _config(folder: Path, mimo: Emulator, store: str) -> Any:
    path = folder / "gateway.yaml"
    path.write_text(
        f"store: {store}\nproviders:\n  mimo:\n    base_url: {mimo.base_url}\n"
        "    api_mode: anthropic_messages\n"
    )
    return path


def _lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    """The access lines of the calls (not of /health, which has its own)."""
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "agent.gateway"]
    return [line for line in lines if line["provider"]]


def _store_warnings(caplog: pytest.LogCaptureFixture) -> int:
    return sum(
        1
        for r in caplog.records
        if r.levelno == logging.WARNING and "thinking store" in r.getMessage()
    )


def _call(url: str, agent: Agent, timeout: float = 60) -> int:
    client = anthropic.Anthropic(
        base_url=f"{url}/mimo", api_key="k", max_retries=0, timeout=timeout
    )
    reply = client.messages.create(**agent.body())
    agent.take([b.model_dump() for b in reply.content])
    return 200


class TestOutage:
    def test_one_warning_and_the_store_field_per_call(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        """With Redis gone, a call still succeeds (MiMo takes the pad), logs one store
        warning (its read and its write together), and its access line says the store was
        unavailable and how many turns it could not give back."""
        caplog.set_level(logging.INFO)
        with Emulator("mimo") as mimo, redis_server(tmp_path / "redis") as (port, process):
            store = f"{{redis: {{url: 'redis://127.0.0.1:{port}/0', timeout_ms: 200}}}}"
            with gateway(load_config(_config(tmp_path, mimo, store))) as url:
                agent = Agent()
                _call(url, agent)
                _call(url, agent)
                process.terminate()
                process.wait(timeout=10)
                caplog.clear()
                _call(url, agent)
                third = _store_warnings(caplog)

        lines = _lines(caplog)
        assert {"state": "unavailable", "unrestored": 2} == lines[-1]["store"]
        assert {"padded": 2} == lines[-1]["decisions"]
        assert 1 == third

    def test_every_call_says_how_the_store_fared(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture, redis_url: str
    ) -> None:
        """A store that answers: ``{"state": "ok", "unrestored": 0}`` on every line."""
        caplog.set_level(logging.INFO, logger="agent.gateway")
        with Emulator("mimo") as mimo:
            store = f"{{redis: {{url: '{redis_url}', prefix: 'fared:', timeout_ms: 10000}}}}"
            with gateway(load_config(_config(tmp_path, mimo, store))) as url:
                assert [200] * 5 == sdk_loop([f"{url}/mimo"], 5)

        assert [{"state": "ok", "unrestored": 0}] * 5 == [x["store"] for x in _lines(caplog)]
        assert every_turn_restored(mimo)


class TestFrozenRedis:
    def test_health_never_waits_for_it(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Redis frozen (SIGSTOP) while a call waits for it (its time limit: 30 s): /health
        answers (the client gives it 5 s), and the call completes once Redis is back."""
        caplog.set_level(logging.INFO, logger="agent.gateway")
        with (
            Emulator("mimo") as mimo,
            redis_server(tmp_path / "redis") as (port, process),
            Relay("127.0.0.1", port) as relay,
        ):
            url = f"redis://127.0.0.1:{relay.listening}/0"
            store = f"{{redis: {{url: '{url}', timeout_ms: 30000}}}}"
            with gateway(load_config(_config(tmp_path, mimo, store))) as base:
                agent, probe = Agent(), httpx2.Client(timeout=5)
                _call(base, agent)
                probe.get(f"{base}/health")  # the probe's connection made before
                os.kill(process.pid, signal.SIGSTOP)
                try:
                    before = relay.round_trips
                    second = threading.Thread(target=_call, args=(base, agent))
                    second.start()
                    while relay.round_trips == before and second.is_alive():
                        time.sleep(0.005)  # until the call's read has gone to the frozen Redis
                    started = time.perf_counter()
                    health = probe.get(f"{base}/health")
                    health_ms = (time.perf_counter() - started) * 1000
                    waiting = second.is_alive()
                finally:
                    os.kill(process.pid, signal.SIGCONT)
                second.join(timeout=60)
                probe.close()

        print(f"/health while Redis was frozen: {health_ms:.1f} ms")
        assert 200 == health.status_code
        assert waiting  # /health answered while the call still waited for the frozen Redis
        assert [{"state": "ok", "unrestored": 0}] * 2 == [x["store"] for x in _lines(caplog)]
        assert every_turn_restored(mimo)

    def test_a_call_waits_at_most_its_time_limit(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Redis frozen: a call goes on without the store after ``timeout_ms`` (Redis still
        frozen; MiMo takes the pad), and the next one does not try it (it failed a moment
        ago); each access line says so."""
        caplog.set_level(logging.INFO, logger="agent.gateway")
        with Emulator("mimo") as mimo, redis_server(tmp_path / "redis") as (port, process):
            store = f"{{redis: {{url: 'redis://127.0.0.1:{port}/0', timeout_ms: 200}}}}"
            with gateway(load_config(_config(tmp_path, mimo, store))) as base:
                agent = Agent()
                _call(base, agent)
                os.kill(process.pid, signal.SIGSTOP)
                try:
                    times = []
                    for _ in range(2):
                        started = time.perf_counter()
                        _call(base, agent, timeout=20)
                        times.append((time.perf_counter() - started) * 1000)
                    frozen = process.poll() is None
                finally:
                    os.kill(process.pid, signal.SIGCONT)

        lines = _lines(caplog)
        print(
            "calls while Redis was frozen (timeout_ms 200): "
            + ", ".join(f"{t:.0f} ms" for t in times)
        )
        assert frozen  # both answered while Redis was still frozen
        assert [200, 200, 200] == [x["status"] for x in lines]
        assert {"state": "timeout", "unrestored": 1} == lines[1]["store"]
        assert {"state": "unavailable", "unrestored": 2} == lines[2]["store"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[int]]:
    """A three-node Redis Cluster for the module's tests (each its own key prefix)."""
    with redis_cluster(tmp_path_factory.mktemp("cluster")) as ports:
        yield ports


class TestCluster:
    @pytest.mark.parametrize("how", ["cluster: true", "detected"])
    def test_two_gateways_restore_every_turn(
        self, tmp_path: Path, cluster: list[int], how: str
    ) -> None:
        """Two gateway processes on a real three-node Redis Cluster run the lossy MiMo loop
        (calls alternating between them, every other one streamed) to its end with every
        earlier turn restored, on every call; the turns land on more than one node."""
        import redis

        prefix = "true:" if how == "cluster: true" else "detected:"
        with Emulator("mimo", rounds=6) as mimo:
            option = ", cluster: true" if how == "cluster: true" else ""
            url = f"redis://127.0.0.1:{cluster[0]}"
            store = f"{{redis: {{url: '{url}', prefix: '{prefix}', timeout_ms: 10000{option}}}}}"
            path = _config(tmp_path, mimo, store)
            with gateway_process(path) as one, gateway_process(path) as two:
                statuses = sdk_loop([f"{one}/mimo", f"{two}/mimo"], 10, stream_every=2)
            nodes = [list(redis.Redis(port=p).scan_iter(f"{prefix}*")) for p in cluster]

        assert [200] * 7 == statuses
        assert every_turn_restored(mimo)
        assert 2 <= sum(1 for keys in nodes if keys)

    def test_the_control_a_plain_client_on_the_cluster_restores_nothing_reliably(
        self, tmp_path: Path, cluster: list[int]
    ) -> None:
        """The same loop with the store told it is no cluster (a plain client, as before):
        the keys in other nodes' slots answer MOVED, and turns are padded, not restored."""
        with Emulator("mimo", rounds=6) as mimo:
            url = f"redis://127.0.0.1:{cluster[0]}"
            store = f"{{redis: {{url: '{url}', prefix: 'plain:', cluster: false}}}}"
            path = _config(tmp_path, mimo, store)
            with gateway_process(path) as one, gateway_process(path) as two:
                statuses = sdk_loop([f"{one}/mimo", f"{two}/mimo"], 10, stream_every=2)

        assert [200] * 7 == statuses  # MiMo takes the pad: silent, but for the check below
        assert not every_turn_restored(mimo)
