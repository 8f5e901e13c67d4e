"""Helpers for testing your own chains: provider emulators, a recorder, the tool loop.

- ``Emulator``: a provider emulator, a real HTTP server on 127.0.0.1 (``emulators``);
- ``Recorder``: a middleware that records every request it sees;
- ``run_tool_loop`` / ``run_tool_loop_async``: drive a scripted tool loop through the SDK.

The pytest plugin (``agent.testing.pytest_plugin``) offers them as fixtures.
"""

from agent.testing.emulators import FAMILIES, Emulator, Received
from agent.testing.loop import Step, run_tool_loop, run_tool_loop_async
from agent.testing.recorder import Recorder

__all__ = [
    "FAMILIES",
    "Emulator",
    "Received",
    "Recorder",
    "Step",
    "run_tool_loop",
    "run_tool_loop_async",
]
