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
