"""Hostile input at every place the library reads from outside, through the public entry
points: JSON text nested far deeper than any real body (error bodies, answers, request bodies
through the gateway, values in a shared store, body files, configs) and paths that name no
regular file (a FIFO, a folder, a device). Each gets the answer any unreadable input gets:
None, "not seen", a pass-through, or one line naming the problem; never a raw exception, a
hang or a read that never ends."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent import ConfigError, Pipeline, Request, load_config
from agent.cli import main
from agent.integrations import _sse
from agent.middleware import ThinkingRoundTrip
from agent.recovery import classify
from agent.testing import Emulator


def nested(depth: int, kind: str = "list") -> str:
    """JSON text nesting ``depth`` arrays or objects."""
    if kind == "list":
        return "[" * depth + "]" * depth
    return '{"a":' * (depth - 1) + "{}" + "}" * (depth - 1)


DEEP = nested(10_000)
#: a deep JSON text in every shape an error body reaches recovery
DEEP_ERRORS = {
    "bare-text": DEEP,
    "object-text": nested(10_000, "object"),
    "relay-wrapper": f"litellm.BadRequestError: AnthropicException - {DEEP}",
    "mimo-data-line": f"data:{DEEP}",
    "json-in-a-string": {"error": {"message": DEEP}},
    "after-a-real-error": '{"error": {"message": "boom"}} ' + DEEP,
    "many-deep-texts": " ".join([nested(5_000)] * 20),
}


class TestDeepJsonText:
    @pytest.mark.parametrize("body", list(DEEP_ERRORS.values()), ids=list(DEEP_ERRORS))
    def test_recovery(self, body: Any) -> None:
        """A deep JSON text in an error body is no thinking error: recover answers None."""
        request = Request(
            api="anthropic_messages", body={"model": "claude-opus-4-6", "messages": []}
        )

        assert classify(400, body) is None
        assert Pipeline([ThinkingRoundTrip()]).recover(request, request, 400, body) is None

    def test_deep_text_next_to_a_real_error(self) -> None:
        """A deep text in front of the provider's own error does not hide it."""
        error = '{"error": {"message": "Invalid `signature` in `thinking` block"}}'

        found = classify(400, f"{DEEP} {error}")

        assert found is not None
        assert "invalid_signature" == found.kind

    def test_the_integrations_decoder(self) -> None:
        """The integrations' decoder (answers, stream events, error bodies) reads deep text as
        no JSON."""
        assert _sse.loads(DEEP.encode()) is None
        assert [] == _sse.loads(b"[]")

    def test_gateway_and_emulator(self, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
        """A deep body goes through the gateway untouched (the chain cannot read it), its access
        line is written, and the emulator upstream answers it 400 like any body that is no JSON."""
        import httpx2

        from tests.test_gateway import _config, gateway

        caplog.set_level(logging.INFO, logger="agent.gateway")
        with Emulator("mimo") as mimo:
            provider = f"{{base_url: {mimo.base_url}, api_mode: anthropic_messages}}"
            text = f"providers:\n  mimo: {provider}\n"
            with gateway(_config(tmp_path, text)) as url:
                answer = httpx2.post(f"{url}/mimo/v1/messages", content=DEEP.encode(), timeout=30)

        assert 400 == answer.status_code
        assert "invalid JSON body" in answer.text
        lines = [r.getMessage() for r in caplog.records if r.name == "agent.gateway"]
        assert 1 == len(lines)
        assert 400 == json.loads(lines[0])["status"]

    def test_redis_store(self, redis_url: str) -> None:
        """A deep value under the store's prefix (a turn, an origin) counts as not seen; a
        read never raises into the call."""
        import redis

        from agent.redis_store import RedisStore
        from agent.store.turns import digest

        store = RedisStore(redis_url, prefix="deep:")
        client = redis.Redis.from_url(redis_url)
        client.set(f"deep:t:{digest('c1')}", DEEP)
        client.set(f"deep:s:{digest('s1')}", DEEP)

        assert store.turn_for_tool("c1") is None
        assert store.origin_of_signature("s1") is None

    @pytest.mark.parametrize("suffix", [".yaml", ".toml"])
    def test_config(self, tmp_path: Path, suffix: str) -> None:
        """A config nested far deeper than any real one fails at load in one line."""
        path = tmp_path / f"agent{suffix}"
        path.write_text(("a: " if suffix == ".yaml" else "a = ") + nested(20_000) + "\n")

        with pytest.raises(ConfigError, match="nested too deeply"):
            load_config(path)

    def test_preview(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """preview refuses a deep body in one line (exit 1)."""
        body = tmp_path / "b.json"
        body.write_text(DEEP)

        assert 1 == main(["preview", str(body)])
        assert "nested too deeply" in capsys.readouterr().err


@contextlib.contextmanager
def special(tmp_path: Path, kind: str, name: str = "agent.yaml") -> Iterator[Path]:
    """A path that is not a regular file. A FIFO gets a writer that sends a valid config (and
    JSON body), so code that waits on it reads a good file instead of hanging (and the test
    fails)."""
    path = tmp_path / name
    writer = None
    if kind == "fifo":
        os.mkfifo(path)
        writer = threading.Thread(target=_write_fifo, args=(path,), daemon=True)
        writer.start()
    elif kind == "directory":
        path.mkdir()
    else:
        path.symlink_to(kind)
    try:
        yield path
    finally:
        if writer is not None:  # a writer still waiting for a reader: let it through
            reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
            writer.join()
            os.close(reader)


def _write_fifo(path: Path) -> None:
    with contextlib.suppress(OSError), path.open("wb") as fifo:
        fifo.write(b'{"providers": {"p": {"model": "m"}}, "model": "m", "messages": []}\n')


#: what a path may name instead of a regular file (a link named like a config to a device)
SPECIAL = ["fifo", "directory", "/dev/zero", "/dev/null", "/dev/urandom"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX special files")
class TestSpecialFiles:
    @pytest.mark.parametrize("kind", SPECIAL)
    def test_config(self, tmp_path: Path, kind: str) -> None:
        """A config path naming a FIFO, a folder or a device fails at load in one line."""
        with special(tmp_path, kind) as path, pytest.raises(ConfigError) as info:
            load_config(path)

        assert "" == info.value.entry
        assert "not a regular file" in str(info.value)

    @pytest.mark.parametrize("kind", SPECIAL)
    @pytest.mark.parametrize(
        "command",
        [["check", "{}"], ["families", "--config", "{}"], ["preview", "{}"]],
        ids=["check", "families", "preview"],
    )
    def test_cli(
        self, tmp_path: Path, kind: str, command: list[str], capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Every command that reads a path refuses a special file in one line, exit 1."""
        name = "b.json" if command[0] == "preview" else "agent.yaml"
        with special(tmp_path, kind, name) as path:
            code = main([c.format(path) for c in command])

        err = capsys.readouterr().err
        assert (1, 1) == (code, len(err.strip().splitlines())), err
        assert "not a regular file" in err

    def test_check_dev_zero(self, capsys: pytest.CaptureFixture[str]) -> None:
        """The issue's own line: check /dev/zero is refused, not a MemoryError (exit 70)."""
        assert 1 == main(["check", "/dev/zero"])
        assert "/dev/zero: not a regular file (a character device)" in capsys.readouterr().err
