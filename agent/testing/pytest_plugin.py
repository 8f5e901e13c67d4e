"""A pytest plugin (entry point ``pytest11``): provider emulators and a payload snapshot.

Fixtures:

- ``agent_emulator``: a factory, ``agent_emulator("mimo", rounds=4, strict=True)``, whose
  emulators are stopped after the test;
- ``<family>_emulator`` for every family the emulators serve (``FAMILIES``: anthropic,
  deepseek, kimi, mimo, minimax, glm, qwen, gemini, openai, mistral, strict): one running
  emulator of that family with the default script (a relay or host in front:
  ``agent_emulator("gemini", relay="openrouter")``, ``agent_emulator("kimi", host="vllm")``);
- ``payload_snapshot``: a syrupy snapshot that stores plain JSON (needs ``syrupy``), for pinning
  the bodies your own chain sends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from agent.testing.emulators import FAMILIES, Emulator

EmulatorFactory = Callable[..., Emulator]


@pytest.fixture
def agent_emulator() -> Iterator[EmulatorFactory]:
    """Start provider emulators by family; each is stopped when the test ends."""
    started: list[Emulator] = []

    def start(family: str, **options: Any) -> Emulator:
        emulator = Emulator(family, **options).start()
        started.append(emulator)
        return emulator

    yield start
    for emulator in started:
        emulator.stop()


def _family(name: str) -> Any:
    def fixture(agent_emulator: EmulatorFactory) -> Emulator:
        return agent_emulator(name)

    fixture.__doc__ = f"A running {name} emulator (127.0.0.1, ephemeral port)."
    fixture.__name__ = f"{name}_emulator"
    return pytest.fixture(name=f"{name}_emulator")(fixture)


# one fixture per family, so none the emulators serve is left without one
for _name in FAMILIES:
    globals()[f"{_name}_emulator"] = _family(_name)


@pytest.fixture
def payload_snapshot(snapshot: Any) -> Any:
    """A syrupy snapshot of plain JSON payloads (one .json file per test)."""
    from syrupy.extensions.json import JSONSnapshotExtension

    return snapshot.use_extension(JSONSnapshotExtension)
