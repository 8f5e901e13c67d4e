"""What an operator looks at: one JSON access line for every request, the request id,
Prometheus metrics, the start-up banner; and the processes: workers that exit with their
supervisor, SIGTERM that drains open streams."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx2
import pytest

from agent.cli import main
from agent.gateway import banner
from tests.builders import SECRET
from tests.test_gateway import MESSAGE, _config, gateway
from tests.test_gateway_client import _one, _raw
from tests.test_gateway_hostile import _chunk, _end, _free_port, _head
from tests.upstreams import recorder, upstream

FIELDS = {
    "ts",
    "request_id",
    "method",
    "path",
    "provider",
    "model",
    "family",
    "status",
    "upstream_status",
    "bytes_in",
    "bytes_out",
    "ms",
    "decisions",
    "retried",
}


def _lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "agent.gateway"]


class TestAccessLog:
    def test_one_line_for_every_request_whatever_its_fate(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """200, 400, 401, 404, 413, 431 and 500: one JSON line each, with every field, and
        nothing else logged (main: no line for 401, 404, 413 or 500)."""
        from agent.gateway.app import Gateway

        caplog.set_level(logging.INFO)
        gw = "gateway:\n  tokens: [tok]\n  max_body_bytes: 1000\n"
        auth = {"x-api-key": "tok"}
        with recorder() as (up, _), gateway(_one(tmp_path, up, gw=gw)) as url:
            statuses = [
                httpx2.post(f"{url}/p/v1/messages?beta=1", json=MESSAGE, headers=auth),
                httpx2.post(f"{url}/p/v1/%00", json=MESSAGE, headers=auth),
                httpx2.post(f"{url}/p/v1/messages", json=MESSAGE),
                httpx2.post(f"{url}/nope/v1/messages", json=MESSAGE, headers=auth),
                httpx2.post(f"{url}/p/v1/messages", content=b"x" * 5000, headers=auth),
            ]
            head = "".join(f"x-{i}: v\r\n" for i in range(200))
            refused = _raw(url, f"GET /p HTTP/1.1\r\nhost: x\r\n{head}\r\n".encode())

            async def broken(*args: Any) -> Any:
                raise RuntimeError("a bug")

            monkeypatch.setattr(Gateway, "forward", broken)
            statuses.append(httpx2.post(f"{url}/p/v1/messages", json=MESSAGE, headers=auth))

        lines = _lines(caplog)
        by_status = [line["status"] for line in lines]
        assert [200, 400, 401, 404, 413, 431, 500] == sorted(by_status)
        assert [200, 400, 401, 404, 413, 500] == [a.status_code for a in statuses]
        assert refused.startswith(b"HTTP/1.1 431")
        assert all(FIELDS <= line.keys() for line in lines)
        first = next(line for line in lines if line["status"] == 200)
        assert ("POST", "/p/v1/messages?beta=*", "p", "m", 200) == (
            first["method"],
            first["path"],
            first["provider"],
            first["model"],
            first["upstream_status"],
        )
        assert first["ts"].endswith("+00:00")
        assert first["bytes_in"] > 0
        assert first["bytes_out"] > 0
        assert "internal gateway error" in statuses[-1].text
        others = [r for r in caplog.records if r.name != "agent.gateway"]
        assert ["a request failed inside the gateway (RuntimeError; a bug)"] == [
            r.getMessage() for r in others
        ]

    def test_the_request_id_is_echoed(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A client's well-formed x-request-id is kept and echoed; a malformed one is
        replaced; none gets a new one. The access line carries the same."""
        caplog.set_level(logging.INFO, logger="agent.gateway")
        with recorder() as (up, _), gateway(_one(tmp_path, up)) as url:
            own = httpx2.post(f"{url}/p/v1/messages", json=MESSAGE, headers={"x-request-id": "r-1"})
            odd = httpx2.post(f"{url}/p/v1/messages", json=MESSAGE, headers={"x-request-id": "a b"})
            none = httpx2.get(f"{url}/health")

        ids = [a.headers["x-request-id"] for a in (own, odd, none)]
        assert "r-1" == ids[0]
        assert "a b" != ids[1]
        assert 32 == len(ids[2])
        assert ids == [line["request_id"] for line in _lines(caplog)]


class TestMetrics:
    def test_scraped_with_prometheus_clients_own_parser(self, tmp_path: Path) -> None:
        """The counts the test made: requests by provider and status, latency histograms
        (added and upstream apart), decisions by action, limit hits; behind the token."""
        from prometheus_client.parser import text_string_to_metric_families

        gw = "gateway:\n  tokens: [tok]\n  metrics: true\n  max_body_bytes: 1000\n"
        auth = {"x-api-key": "tok"}
        with recorder() as (up, _), gateway(_one(tmp_path, up, gw=gw)) as url:
            for _ in range(3):
                httpx2.post(f"{url}/p/v1/messages", json=MESSAGE, headers=auth)
            httpx2.post(f"{url}/p/v1/messages", json=MESSAGE)  # 401
            httpx2.post(f"{url}/p/v1/messages", content=b"x" * 2000, headers=auth)  # 413
            refused = httpx2.get(f"{url}/metrics")
            text = httpx2.get(f"{url}/metrics", headers=auth).text

        samples = {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
        }
        assert 401 == refused.status_code
        assert (
            3 == samples[("agent_gateway_requests_total", (("provider", "p"), ("status", "200")))]
        )
        assert (
            1 == samples[("agent_gateway_requests_total", (("provider", "p"), ("status", "401")))]
        )
        assert (
            1 == samples[("agent_gateway_requests_total", (("provider", "p"), ("status", "413")))]
        )
        assert 3 == samples[("agent_gateway_added_seconds_count", (("provider", "p"),))]
        assert 3 == samples[("agent_gateway_upstream_seconds_count", (("provider", "p"),))]
        assert 1 == samples[("agent_gateway_limit_hits_total", (("limit", "max_body_bytes"),))]
        assert SECRET not in text
        assert "tok" not in text

    def test_workers_count_together(self, tmp_path: Path) -> None:
        """With --workers 2, every scrape (whichever worker takes it) gives the counts of
        all: six calls on fresh connections, four scrapes."""
        from prometheus_client.parser import text_string_to_metric_families

        with recorder() as (up, _):
            config = tmp_path / "g.yaml"
            config.write_text(
                f"store: {{sqlite: {{path: '{tmp_path / 't.db'}'}}}}\n"
                "gateway:\n  metrics: true\n"
                f"providers:\n  p: {{base_url: '{up}', api_mode: anthropic_messages}}\n"
            )
            port = _free_port()
            with served(config, port, "--workers", "2"):
                url = f"http://127.0.0.1:{port}"
                for _ in range(6):
                    httpx2.post(f"{url}/p/v1/messages", json=MESSAGE)
                scrapes = [httpx2.get(f"{url}/metrics").text for _ in range(4)]

        counted = [
            s.value
            for text in scrapes
            for family in text_string_to_metric_families(text)
            for s in family.samples
            if s.name == "agent_gateway_requests_total"
            and s.labels == {"provider": "p", "status": "200"}
        ]
        assert [6.0] * 4 == counted

    def test_off_by_default(self, tmp_path: Path) -> None:
        """Without metrics: true, /metrics is just another provider name (404)."""
        with recorder() as (up, _), gateway(_one(tmp_path, up)) as url:
            assert 404 == httpx2.get(f"{url}/metrics").status_code


class TestBanner:
    def test_serve_prints_each_clients_base_url(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Per provider the base URL each kind of client uses, then the store, the address
        and the tokens; no key or password (main: nothing was printed)."""
        import uvicorn

        path = tmp_path / "g.yaml"
        path.write_text(
            "providers:\n"
            "  mimo:\n    base_url: https://u:pw-9@relay.example\n"
            f"    api_mode: anthropic_messages\n    api_key: {SECRET}\n"
            "  deepseek:\n    base_url: https://api.deepseek.com/v1\n"
        )
        monkeypatch.setattr(uvicorn, "run", lambda *a, **k: None)

        assert 0 == main(["serve", "--config", str(path), "--port", "9999"])

        out = capsys.readouterr().out
        assert "ANTHROPIC_BASE_URL=http://127.0.0.1:9999/mimo" in out
        assert "OPENAI_BASE_URL=http://127.0.0.1:9999/deepseek/v1" in out
        assert "hermes: base_url: http://127.0.0.1:9999/deepseek/v1" in out
        assert "store: memory" in out
        assert "listening on http://127.0.0.1:9999, 1 worker(s)" in out
        assert "tokens: off" in out
        assert "pw-9" not in out
        assert SECRET not in out

    def test_tokens_and_store(self, tmp_path: Path) -> None:
        config = _config(
            tmp_path,
            f"store: {{sqlite: {{path: '{tmp_path / 't.db'}'}}}}\n"
            "gateway:\n  tokens: [secret-token-9]\n"
            "providers:\n  p: {base_url: 'https://x.example', api_mode: anthropic_messages}\n",
        )

        text = banner(config, "0.0.0.0", 8787, 2)

        assert f"store: sqlite ({tmp_path / 't.db'})" in text
        assert "every interface), 2 worker(s)" in text
        assert "tokens: on (1)" in text
        assert "secret-token-9" not in text
        assert "warning" not in text  # (the test extra installs httptools)

    def test_the_banner_warns_without_httptools(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Without httptools, Uvicorn's h11 reads request heads with only the size limit:
        the banner says so, and which limits do not hold (it was silent)."""
        import agent.gateway.server as server

        config = _config(tmp_path, "providers:\n  p: {base_url: 'https://x.example'}\n")
        monkeypatch.setattr(server, "guarded", lambda: False)

        text = banner(config, "127.0.0.1", 8787, 1)

        assert "not header_timeout, not max_headers" in text
        assert "h11" == server.uvicorn_options(config)["http"]


def _children(pid: int) -> list[int]:
    found = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in found.read_text().split()] if found.exists() else []


def _environ(pid: int) -> dict[str, str]:
    pairs = Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace").split("\0")
    return dict(p.split("=", 1) for p in pairs if "=" in p)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_health(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx2.HTTPError):
            if httpx2.get(f"{url}/health").status_code == 200:
                return
        time.sleep(0.05)
    raise RuntimeError("the gateway did not start")


@contextlib.contextmanager
def served(config: Path, port: int, *options: str) -> Iterator[subprocess.Popen[bytes]]:
    command = [sys.executable, "-m", "agent", "serve", "--config", str(config), *options]
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_health(f"http://127.0.0.1:{port}")
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=20)


class TestProcesses:
    @pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
    def test_workers_exit_when_the_supervisor_is_killed(self, tmp_path: Path) -> None:
        """kill -9 of the supervising process of --workers 2: its workers exit, and a new
        gateway starts on the same port (main: the workers went on serving, and the restart
        failed with 'address already in use'); the metrics folder the supervisor made goes
        with the last of them (it was left in the temporary folder, one per kill)."""
        config = tmp_path / "g.yaml"
        config.write_text(
            f"store: {{sqlite: {{path: '{tmp_path / 't.db'}'}}}}\ngateway: {{metrics: true}}\n"
            "providers:\n  p: {base_url: 'http://127.0.0.1:9', api_mode: anthropic_messages}\n"
        )
        port = _free_port()
        with served(config, port, "--workers", "2") as supervisor:
            deadline = time.monotonic() + 20
            while len(_children(supervisor.pid)) < 2 and time.monotonic() < deadline:
                time.sleep(0.1)
            workers = [w for w in _children(supervisor.pid) if _alive(w)]
            folders = {_environ(w).get("PROMETHEUS_MULTIPROC_DIR") for w in workers}
            os.kill(supervisor.pid, signal.SIGKILL)
            supervisor.wait(timeout=10)
            deadline = time.monotonic() + 30
            while any(_alive(w) for w in workers) and time.monotonic() < deadline:
                time.sleep(0.1)
            left = [w for w in workers if _alive(w)]
            for worker in left:  # (do not leave them behind if the test fails)
                os.kill(worker, signal.SIGKILL)
        with served(config, port) as again:
            restarted = again.poll() is None

        assert len(workers) >= 2
        assert [] == left
        assert restarted
        assert len(folders) == 1
        folder = folders.pop()
        assert folder is not None
        assert "agent-gateway-metrics-" in folder
        assert not Path(folder).exists()

    def test_sigterm_drains_an_open_stream(self, tmp_path: Path) -> None:
        """SIGTERM while a stream is open: the stream is read to its end within
        gateway.drain_timeout, then the process exits."""
        started = threading.Event()

        def behave(handler: BaseHTTPRequestHandler) -> None:
            _head(handler, "text/event-stream")
            for n in range(10):
                _chunk(handler, f"data: {n}\n\n".encode())
                handler.wfile.flush()
                started.set()
                time.sleep(0.2)
            _end(handler)

        with upstream(behave) as up:
            config = tmp_path / "g.yaml"
            config.write_text(
                f"providers:\n  p: {{base_url: '{up}', api_mode: anthropic_messages}}\n"
                "gateway:\n  drain_timeout: 20\n"
            )
            port = _free_port()
            with served(config, port) as process:
                got: list[str] = []
                body = {**MESSAGE, "stream": True}

                def read() -> None:
                    with httpx2.stream(
                        "POST", f"http://127.0.0.1:{port}/p/v1/messages", json=body, timeout=30
                    ) as answer:
                        got.extend(line for line in answer.iter_lines() if line)

                reader = threading.Thread(target=read)
                reader.start()
                assert started.wait(timeout=20)
                process.send_signal(signal.SIGTERM)
                reader.join(timeout=30)
                code = process.wait(timeout=30)

        assert [f"data: {n}" for n in range(10)] == got
        assert code in (0, -signal.SIGTERM)  # (Uvicorn re-raises the signal it drained for)

    def test_sigterm_ends_a_stream_past_the_drain_timeout(self, tmp_path: Path) -> None:
        """A stream still open when gateway.drain_timeout has passed is cut; the process
        exits."""
        released = threading.Event()
        started = threading.Event()

        def behave(handler: BaseHTTPRequestHandler) -> None:
            _head(handler, "text/event-stream")
            _chunk(handler, b"data: 0\n\n")
            handler.wfile.flush()
            started.set()
            released.wait(timeout=60)

        with upstream(behave) as up:
            config = tmp_path / "g.yaml"
            config.write_text(
                f"providers:\n  p: {{base_url: '{up}', api_mode: anthropic_messages}}\n"
                "gateway:\n  drain_timeout: 1\n"
            )
            port = _free_port()
            try:
                with served(config, port) as process:

                    def read() -> None:
                        with (
                            contextlib.suppress(httpx2.HTTPError),
                            httpx2.stream(
                                "POST",
                                f"http://127.0.0.1:{port}/p/v1/messages",
                                json={**MESSAGE, "stream": True},
                                timeout=60,
                            ) as answer,
                        ):
                            for _ in answer.iter_raw():
                                pass

                    reader = threading.Thread(target=read, daemon=True)
                    reader.start()
                    assert started.wait(timeout=20)
                    process.send_signal(signal.SIGTERM)
                    code = process.wait(timeout=30)
            finally:
                released.set()

        assert code in (0, -signal.SIGTERM)
