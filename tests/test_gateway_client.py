"""The client side, before and after auth: limits on a request's head and a head-read
timeout, odd paths, deep JSON, credentials in every place a client may put them, and
secrets kept out of every log line."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

import httpx2
import pytest

from agent.config import ProviderConfig
from agent.gateway import upstream_url
from agent.gateway.routing import upstream_headers
from tests.builders import SECRET
from tests.test_gateway import MESSAGE, _config, gateway
from tests.upstreams import recorder


def _one(tmp_path: Path, upstream: str, extra: str = "", gw: str = "") -> Any:
    return _config(
        tmp_path,
        f"providers:\n  p:\n    base_url: {upstream}\n    api_mode: anthropic_messages\n"
        f"    api_key: {SECRET}\n" + extra + gw,
    )


def _raw(url: str, data: bytes, wait: float = 10) -> bytes:
    """What the gateway answers to raw bytes on one connection (until it closes)."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=wait) as conn:
        with contextlib.suppress(OSError):
            conn.sendall(data)
        out = b""
        with contextlib.suppress(OSError):
            while chunk := conn.recv(65_536):
                out += chunk
    return out


class TestHeadLimits:
    """Before auth: a request head over gateway.max_header_bytes or with more than
    gateway.max_headers headers is a 431, one not sent within gateway.header_timeout a 408
    (main: 100k headers accepted and forwarded, a 32 MB header held, slow heads kept open)."""

    def test_too_many_headers_is_431(self, tmp_path: Path) -> None:
        with recorder() as (upstream, seen), gateway(_one(tmp_path, upstream)) as url:
            lines = "".join(f"x-h{i}: v\r\n" for i in range(2_000))
            answer = _raw(url, f"GET /p/v1/models HTTP/1.1\r\nhost: x\r\n{lines}\r\n".encode())

        assert answer.startswith(b"HTTP/1.1 431 ")
        assert b"gateway.max_headers (100)" in answer
        assert [] == seen

    def test_a_huge_header_is_431(self, tmp_path: Path) -> None:
        """A 32 MB header: refused once the head passes 64 KiB."""
        with recorder() as (upstream, seen), gateway(_one(tmp_path, upstream)) as url:
            head = b"GET /p/v1/models HTTP/1.1\r\nhost: x\r\nx-big: " + b"a" * 32_000_000
            answer = _raw(url, head)

        assert answer.startswith(b"HTTP/1.1 431 ")
        assert b"gateway.max_header_bytes (65536)" in answer
        assert [] == seen

    def test_slow_heads_are_closed_with_408(self, tmp_path: Path) -> None:
        """Twenty connections sending their head a byte at a time: each gets a 408 and is
        closed once gateway.header_timeout passes (here 1 s), long before they finish."""
        head = b"GET /p/v1/models HTTP/1.1\r\nhost: x\r\n" + b"x-slow: " + b"a" * 200
        answers: list[bytes] = []

        def slow(url: str) -> None:
            host, port = url.removeprefix("http://").split(":")
            with socket.create_connection((host, int(port)), timeout=30) as conn:
                out = b""
                with contextlib.suppress(OSError):
                    for byte in head:
                        conn.sendall(bytes([byte]))
                        time.sleep(0.1)  # 24 s for the whole head
                with contextlib.suppress(OSError):
                    while chunk := conn.recv(4096):
                        out += chunk
                answers.append(out)

        config = _one(tmp_path, "http://127.0.0.1:9", gw="gateway:\n  header_timeout: 1\n")
        with gateway(config) as url:
            threads = [threading.Thread(target=slow, args=(url,)) for _ in range(20)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)

        assert 20 == len(answers)
        assert all(a.startswith(b"HTTP/1.1 408 ") for a in answers)


class TestPaths:
    @pytest.mark.parametrize(
        "path",
        ["/p/v1/%00messages", "/p/v1/mess%7Fages", "/p/v1/%09messages", "/p/v1/%0d%0a"],
        ids=["nul", "del", "tab", "crlf"],
    )
    def test_control_characters_are_400(self, tmp_path: Path, path: str) -> None:
        """Control characters in the path: 400 with a clear body (main: 500 with a
        traceback)."""
        with recorder() as (upstream, seen), gateway(_one(tmp_path, upstream)) as url:
            answer = httpx2.post(f"{url}{path}", json=MESSAGE)

        assert 400 == answer.status_code
        assert "control characters" in answer.json()["error"]["message"]
        assert [] == seen

    @pytest.mark.parametrize(
        "path",
        ["/p/..%2F..%2Fadmin", "/p/v1/%2e%2e/%2e%2e/admin", "/p/a%5C..%5Cadmin", "/p/a%2fb"],
        ids=["encoded-slash", "encoded-dots", "backslash", "one-encoded-slash"],
    )
    def test_the_path_never_leaves_the_base_url(self, tmp_path: Path, path: str) -> None:
        """A path that would climb out of base_url (http://host/base): 400, the upstream
        never called (main: POST /mimo/..%2F..%2Fadmin reached the upstream as /admin, with
        the provider's key)."""
        with recorder() as (upstream, seen), gateway(_one(tmp_path, f"{upstream}/base")) as url:
            answer = httpx2.post(f"{url}{path}", json=MESSAGE)

        assert 400 == answer.status_code
        assert [] == seen

    def test_an_ordinary_path_goes_under_the_base_url(self, tmp_path: Path) -> None:
        with recorder() as (upstream, seen), gateway(_one(tmp_path, f"{upstream}/base")) as url:
            answer = httpx2.post(f"{url}/p//v1/messages", json=MESSAGE)

        assert 200 == answer.status_code
        assert "/base/v1/messages" == seen[0]["path"]

    def test_upstream_url_refuses_to_leave_the_base_path(self) -> None:
        """The last check, on the URL itself."""
        from agent.gateway.routing import BadPath

        provider = ProviderConfig("p", base_url="http://host/base", api_mode="anthropic_messages")

        with pytest.raises(BadPath):
            upstream_url(provider, "../admin", "")

    @pytest.mark.parametrize("method", ["HEAD", "GET"])
    def test_a_provider_root_goes_upstream(self, tmp_path: Path, method: str) -> None:
        """HEAD /p (Claude Code's probe of its base URL) and GET /p go upstream like any
        path (main: a 307 with an absolute Location, around any proxy in front)."""
        with recorder() as (upstream, seen), gateway(_one(tmp_path, upstream)) as url:
            answer = httpx2.request(method, f"{url}/p", follow_redirects=False)

        assert 200 == answer.status_code
        assert [(method, "/")] == [(s["method"], s["path"]) for s in seen]


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


class TestDeepJson:
    @pytest.mark.parametrize("path", ["/p/v1/messages", "/p/v1/messages/count_tokens"])
    def test_deep_json_is_never_a_500_and_leaks_nothing(
        self, tmp_path: Path, path: str, caplog: pytest.LogCaptureFixture
    ) -> None:
        """JSON nested 1,500 deep, on a path the chain reads and on one it does not, with the
        access log on as ``serve`` has it: never a 500 (the upstream's 400 reaches the
        client), and no file descriptor kept (main: 500, and one leaked per request on the
        path the chain does not read)."""
        caplog.set_level(logging.INFO, logger="agent.gateway")
        deep = b'{"model":"m","x":' + b"[" * 1_500 + b"]" * 1_500 + b"}"
        with (
            recorder(status=400) as (upstream, _),
            gateway(_one(tmp_path, upstream)) as url,
            httpx2.Client() as client,
        ):
            client.post(f"{url}{path}", content=deep)  # warm: connections made
            before = _fds()
            answers = [client.post(f"{url}{path}", content=deep) for _ in range(30)]
            statuses = {a.status_code for a in answers}
            after = _fds()

        assert {400} == statuses
        assert after - before < 5


class TestCredentials:
    def test_every_client_credential_stays_at_the_gateway(self, tmp_path: Path) -> None:
        """forward_client_key off: authorization, x-api-key, x-goog-api-key, api-key,
        x-amz-security-token, cookies and ?key= never reach the upstream (main: the last
        ones did); the provider's key goes."""
        client_headers = {
            "authorization": "Bearer c-1",
            "x-api-key": "c-2",
            "x-goog-api-key": "c-3",
            "api-key": "c-4",
            "x-amz-security-token": "c-5",
            "cookie": "session=c-6",
        }
        with recorder() as (upstream, seen), gateway(_one(tmp_path, upstream)) as url:
            httpx2.post(
                f"{url}/p/v1/messages?key=c-7&api_key=c-8&beta=true",
                json=MESSAGE,
                headers=client_headers,
            )

        sent = str(seen[0])
        assert [] == [f"c-{n}" for n in range(1, 9) if f"c-{n}" in sent]
        assert SECRET == seen[0]["headers"]["x-api-key"]
        assert "/v1/messages?beta=true" == seen[0]["path"]

    def test_forwarding_keeps_them(self, tmp_path: Path) -> None:
        """forward_client_key on: the client's own credentials go, ?key= included."""
        extra = "    forward_client_key: true\n"
        with recorder() as (upstream, seen), gateway(_one(tmp_path, upstream, extra)) as url:
            httpx2.post(f"{url}/p/v1/messages?key=own", json=MESSAGE, headers={"api-key": "a"})

        assert "a" == seen[0]["headers"]["api-key"]
        assert "/v1/messages?key=own" == seen[0]["path"]


class TestSecretsInLogs:
    def test_no_secret_in_any_log_line_or_answer(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A base_url password, the provider's key, a client key, a gateway token and a
        ?key= value appear in no log line of any logger and no answer, and httpx2's own
        'HTTP Request:' lines are off (main: they printed the password and the key)."""
        caplog.set_level(logging.DEBUG)
        with recorder() as (upstream, _):
            base = upstream.replace("http://", "http://user:pw-base-9@")
            gw = "gateway:\n  tokens: [tok-gw-9]\n  metrics: true\n"
            with gateway(_one(tmp_path, base, gw=gw)) as url:
                answers = [
                    httpx2.post(
                        f"{url}/p/v1/messages?key=q-key-9",
                        json=MESSAGE,
                        headers={"x-api-key": "tok-gw-9", "x-goog-api-key": "c-key-9"},
                    ),
                    httpx2.post(f"{url}/p/v1/messages?key=q-key-9", json=MESSAGE),
                    httpx2.get(f"{url}/metrics", headers={"x-gateway-token": "tok-gw-9"}),
                ]

        shown = caplog.text + "".join(a.text + str(a.headers) for a in answers)
        planted = ["pw-base-9", SECRET, "c-key-9", "tok-gw-9", "q-key-9"]
        assert [200, 401, 200] == [a.status_code for a in answers]
        assert [] == [p for p in planted if p in shown]
        assert "HTTP Request:" not in caplog.text

    @pytest.mark.parametrize(
        ("api_mode", "base_url", "key", "header", "value"),
        [
            ("anthropic_messages", "https://relay.example", "k-1", "x-api-key", "k-1"),
            ("chat_completions", "https://relay.example/v1", "k-1", "authorization", "Bearer k-1"),
            ("responses", "https://api.openai.com/v1", "k-1", "authorization", "Bearer k-1"),
            (
                "gemini",
                "https://generativelanguage.googleapis.com/v1beta",
                "AIza-k",
                "x-goog-api-key",
                "AIza-k",
            ),
            (
                "gemini",
                "https://aiplatform.googleapis.com/v1/projects/p/locations/l/publishers/google",
                "ya29.token",
                "authorization",
                "Bearer ya29.token",
            ),
            ("chat_completions", "https://r.openai.azure.com/openai/v1", "k-1", "api-key", "k-1"),
            (
                "chat_completions",
                "https://r.openai.azure.com/openai/v1",
                "eyJ.entra",
                "authorization",
                "Bearer eyJ.entra",
            ),
        ],
        ids=["messages", "chat", "responses", "gemini-key", "vertex-oauth", "azure", "entra"],
    )
    def test_the_providers_key_where_its_host_reads_it(
        self, api_mode: str, base_url: str, key: str, header: str, value: str
    ) -> None:
        """A Google API key on Gemini's own wire goes in x-goog-api-key (a Bearer token there
        is an OAuth token: a 401 for a key), an Azure OpenAI key in api-key; OAuth and Entra
        ID tokens stay Bearer; the client's own key goes nowhere."""
        provider = ProviderConfig(name="p", base_url=base_url, api_mode=api_mode, api_key=key)

        sent = upstream_headers([("x-goog-api-key", "c-1"), ("accept", "*/*")], provider)

        assert {header: value, "accept": "*/*"} == sent
