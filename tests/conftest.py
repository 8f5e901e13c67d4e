"""Shared fixtures: the case snapshot, one readable JSON file per case id in tests/snapshots/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

SNAPSHOTS = Path(__file__).parent / "snapshots"


class CaseSnapshot(JSONSnapshotExtension):
    """Writes ``tests/snapshots/<case id>.json`` (the parametrize id), readable and sorted."""

    @classmethod
    def dirname(cls, *, test_location: Any) -> str:
        return str(SNAPSHOTS)

    @classmethod
    def get_snapshot_name(cls, *, test_location: Any, index: Any = 0) -> str:
        if isinstance(index, str):  # snapshot(name=...) picks the file name itself
            return index
        node = test_location.item
        callspec = getattr(node, "callspec", None)
        return str(callspec.id) if callspec is not None else str(node.name)


@pytest.fixture
def case_snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """A snapshot that pins one case's payloads in its own file."""
    return snapshot.use_extension(CaseSnapshot)


def snapshot_ids() -> set[str]:
    """The names of every snapshot file the suite writes (for the stale-file check)."""
    from tests.cases import CASE_IDS

    return {
        *CASE_IDS,
        "config-errors",
        "e2e-mimo-relay-tool-loop",
        "e2e-claude-interleaved",
        "e2e-model-switch-minimax-to-claude",
        "e2e-strict-server-no-reasoning-content",
    }


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A real redis-server on a unix socket (no port to race for), for the session; skipped,
    saying why, only where redis-server or the redis package is not installed (.ci/run
    installs both)."""
    import shutil
    import subprocess
    import time

    pytest.importorskip("redis", reason="the redis package is not installed (agent[redis])")
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed here (.ci/run installs it)")
    folder = tmp_path_factory.mktemp("redis")
    sock = folder / "redis.sock"
    process = subprocess.Popen(
        [server, "--port", "0", "--unixsocket", str(sock), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=folder,
    )
    deadline = time.monotonic() + 10
    while not sock.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"unix://{sock}"
    finally:
        process.terminate()
        process.wait(timeout=10)
