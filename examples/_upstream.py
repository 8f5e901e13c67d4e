"""What the examples share: where their calls go, the gateway as a child process, one tool.

Every example runs as it is against a bundled emulator of the provider it names: a real HTTP
server on 127.0.0.1 that enforces that provider's contract (its HTTP 400 included), started
and stopped by the example. To send the same calls to a real provider instead, set all three:

    EXAMPLE_BASE_URL   the provider's base URL, the way the example's SDK takes it
                       (Anthropic wire: without /v1; OpenAI wire: with it)
    EXAMPLE_API_KEY    its key (read from the environment, never written to a file)
    EXAMPLE_MODEL      a reasoning model it serves, on the wire the example speaks
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from attrs import field, frozen

from agent.testing import Emulator

VARIABLES = ("EXAMPLE_BASE_URL", "EXAMPLE_API_KEY", "EXAMPLE_MODEL")

#: The task; the emulators play a scripted tool loop whatever it says, a real model reads it.
PROMPT = "Run steps 1, 2 and 3 with the run_step tool, one call at a time, then say done."

#: The one tool, as the Anthropic wire describes it ...
TOOL = {
    "name": "run_step",
    "description": "Run one step of the task and return its output.",
    "input_schema": {"type": "object", "properties": {"step": {"type": "integer"}}},
}
#: ... and as the OpenAI wire does.
CHAT_TOOL = {
    "type": "function",
    "function": {
        "name": TOOL["name"],
        "description": TOOL["description"],
        "parameters": TOOL["input_schema"],
    },
}


def run_step(step: int = 0, **_: Any) -> str:
    """The tool itself: harmless, so a real model may call it as often as it likes."""
    return f"step {step}: ok"


@frozen
class Upstream:
    """Where an example's calls go: an emulator started for it, or a real provider.

    Attributes:
        base_url: the base URL for the example's SDK (its wire's convention).
        api_key: the key to send.
        model: the model to ask for.
        emulator: the running emulator, or None for a real provider.
    """

    base_url: str
    api_key: str = field(repr=False)
    model: str
    emulator: Emulator | None

    def report(self) -> str:
        """What the provider made of the calls (the emulator's log; a real one keeps its own)."""
        if self.emulator is None:
            return f"sent to {self.base_url}"
        statuses = [r.status for r in self.emulator.log]
        refused = [s for s in statuses if s != 200]
        return f"the {self.emulator.family} emulator answered {statuses} ({len(refused)} refused)"


@contextmanager
def upstream(
    family: str, model: str, *, openai_wire: bool = False, rounds: int = 3
) -> Iterator[Upstream]:
    """A real provider when EXAMPLE_* are all set, else a ``family`` emulator serving ``model``
    that plays ``rounds`` tool calls before its answer."""
    given = {name: os.environ.get(name, "") for name in VARIABLES}
    if any(given.values()):
        missing = [name for name, value in given.items() if not value]
        if missing:
            sys.exit(f"set all of {', '.join(VARIABLES)} for a real provider; missing: {missing}")
        yield Upstream(
            given["EXAMPLE_BASE_URL"], given["EXAMPLE_API_KEY"], given["EXAMPLE_MODEL"], None
        )
        return
    with Emulator(family, rounds=rounds) as emulator:
        url = emulator.openai_base_url if openai_wire else emulator.base_url
        yield Upstream(url, "emulated-key", model, emulator)


def free_port() -> int:
    """A TCP port nobody listens on at the moment, on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _command() -> list[str]:
    """The installed command, from the environment this example runs in."""
    found = shutil.which("thinking-round-trip", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "agent"]


@contextmanager
def gateway(
    config: Path, *options: str, port: int | None = None, env: dict[str, str] | None = None
) -> Iterator[str]:
    """``thinking-round-trip serve --config CONFIG`` as a child process on 127.0.0.1, with
    ``env`` added to its environment (the keys the config names); yields its URL once
    ``/health`` answers, and stops it on the way out."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        command = [*_command(), "serve", "--config", str(config), "--port", str(port), *options]
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
        )
        try:
            _wait_for(f"{url}/health", process, log)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_for(health: str, process: subprocess.Popen[bytes], log: Any) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            sys.exit(f"the gateway stopped at start-up:\n{log.read().decode(errors='replace')}")
        try:
            with urllib.request.urlopen(health, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    sys.exit("the gateway did not answer /health within 60 s")


def anthropic_agent(client: Any, model: str, *, max_calls: int = 8) -> str:
    """A minimal agent on the Anthropic wire, as many are written: it keeps only the text and
    the tool calls of each answer in its history (the thinking is dropped), runs every tool
    the model calls, and stops at the model's final answer, which it returns."""
    history: list[dict[str, Any]] = [{"role": "user", "content": PROMPT}]
    for call in range(1, max_calls + 1):
        reply = client.messages.create(
            model=model,
            max_tokens=2048,
            thinking={"type": "enabled", "budget_tokens": 1024},
            tools=[TOOL],
            messages=history,
        )
        kept = [b.model_dump() for b in reply.content if b.type in ("text", "tool_use")]
        history.append({"role": "assistant", "content": kept})
        calls = [b for b in reply.content if b.type == "tool_use"]
        print(f"  call {call}: {reply.stop_reason}", *(f"{b.name}({b.input})" for b in calls))
        if reply.stop_reason != "tool_use":
            return "".join(b.text for b in reply.content if b.type == "text")
        results = [
            {"type": "tool_result", "tool_use_id": b.id, "content": run_step(**b.input)}
            for b in calls
        ]
        history.append({"role": "user", "content": results})
    sys.exit(f"no final answer after {max_calls} calls")


def chat_agent(client: Any, model: str, *, max_calls: int = 8) -> str:
    """The same agent on the OpenAI Chat Completions wire: it keeps each answer's content and
    tool calls (not the ``reasoning_content`` some providers add), runs the tools, and returns
    the model's final answer."""
    history: list[dict[str, Any]] = [{"role": "user", "content": PROMPT}]
    for call in range(1, max_calls + 1):
        reply = client.chat.completions.create(model=model, messages=history, tools=[CHAT_TOOL])
        choice = reply.choices[0]
        message = choice.message.model_dump(include={"role", "content", "tool_calls"})
        history.append({k: v for k, v in message.items() if v is not None})
        calls = choice.message.tool_calls or []
        print(
            f"  call {call}: {choice.finish_reason}",
            *(f"{c.function.name}({c.function.arguments})" for c in calls),
        )
        if not calls:
            return str(choice.message.content)
        history.extend(
            {
                "role": "tool",
                "tool_call_id": c.id,
                "content": run_step(**json.loads(c.function.arguments or "{}")),
            }
            for c in calls
        )
    sys.exit(f"no final answer after {max_calls} calls")
