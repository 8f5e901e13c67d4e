"""The round-trip stores: bounded, and the SQLite one survives a restart."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from agent import MemoryStore, Origin, Pipeline, Request
from agent.errors import StoreError
from agent.middleware import ThinkingRoundTrip
from agent.sqlite_store import SqliteStore
from agent.store import StoredTurn
from tests.builders import RELAY, A, T, U, anthropic_body, th_s, th_u, tu

AM = "anthropic_messages"


class TestStores:
    def test_memory_store_is_bounded(self) -> None:
        """Past max_turns the oldest turns, and every key that found them, are forgotten."""
        store = MemoryStore(max_turns=2)
        origin = Origin("mimo", "h", "m")
        for n in range(3):
            store.record(StoredTurn(origin, ((th_s(f"t{n}", f"s{n}"), 0),), None, (f"c{n}",)))

        assert 2 == len(store)
        assert store.origin_of_signature("s0") is None
        assert store.turn_for_tool("c0") is None
        assert origin == store.origin_of_signature("s2")
        assert origin == store.origin_of_text("t1")

    def test_sqlite_store_survives_restart(self, tmp_path: Any) -> None:
        """A SqliteStore reopened on the same file still knows origins and turns."""

        path = str(tmp_path / "thinking.db")
        origin = Origin("anthropic", "api.anthropic.com", "claude-opus-4-6")
        first = SqliteStore(path)
        first.record(StoredTurn(origin, ((th_s("plan", "sig-1"), 0),), None, ("c1",)))
        first.close()

        again = SqliteStore(path)

        assert origin == again.origin_of_signature("sig-1")
        assert origin == again.origin_of_text("plan")
        turn = again.turn_for_tool("c1")
        assert turn is not None
        assert ((th_s("plan", "sig-1"), 0),) == turn.blocks
        assert again.origin_of_signature("nope") is None

    def test_sqlite_store_is_bounded(self, tmp_path: Any) -> None:
        """The SqliteStore forgets its oldest turns past max_turns."""

        store = SqliteStore(str(tmp_path / "t.db"), max_turns=3)
        origin = Origin("mimo", "h", "m")
        for n in range(10):
            store.record(StoredTurn(origin, ((th_u(f"t{n}", ""), 0),), None, (f"c{n}",)))

        assert 3 == len(store)
        assert store.turn_for_tool("c0") is None
        assert store.turn_for_tool("c9") is not None


class TestTruth:
    def test_an_empty_store_is_still_a_store(self, tmp_path: Any) -> None:
        """`store or MemoryStore()` keeps an empty store: stores are never falsy."""
        memory = MemoryStore()
        sqlite = SqliteStore(str(tmp_path / "t.db"))

        assert (memory or None) is memory
        assert (sqlite or None) is sqlite
        sqlite.close()


class TestAliasing:
    def test_kept_blocks_are_copies(self) -> None:
        """The store keeps copies: editing the response afterwards, or the restored output,
        changes neither what is kept nor what the next call sends."""
        pipe = Pipeline([ThinkingRoundTrip()])
        base = Request(api=AM, base_url=RELAY, body=anthropic_body("mimo-v2.5-pro", U()))
        block = th_u("plan", "")
        pipe.observe(base, {"type": "message", "content": [block, tu("c1")]})
        block["thinking"] = "edited by the agent"
        request = Request(
            api=AM, base_url=RELAY, body=anthropic_body("mimo-v2.5-pro", U(), A(tu("c1")), T("c1"))
        )

        first = pipe(request)
        first.body["messages"][1]["content"][0]["thinking"] = "edited output"
        second = pipe(request)

        assert "plan" == second.body["messages"][1]["content"][0]["thinking"]


class TestSqliteFiles:
    @pytest.mark.parametrize(
        ("make", "problem"),
        [
            (lambda d: d, "not a regular file"),
            (lambda d: d / "missing" / "t.db", "folder does not exist"),
            (lambda d: _corrupt(d / "t.db"), "not a SQLite database"),
            (lambda d: "", "expected a file path"),
        ],
        ids=["a-folder", "missing-folder", "corrupt-file", "empty-path"],
    )
    def test_bad_paths_are_refused(self, tmp_path: Path, make: Any, problem: str) -> None:
        """A path that cannot hold a store is refused when the store is built, by name."""
        with pytest.raises(StoreError, match=problem):
            SqliteStore(str(make(tmp_path)))

    def test_wal_and_two_writers(self, tmp_path: Path) -> None:
        """The file is in WAL mode, and two stores on it write at once without a lock error."""
        path = str(tmp_path / "t.db")
        stores = [SqliteStore(path), SqliteStore(path)]
        origin = Origin("mimo", "h", "m")

        def write(n: int) -> None:
            for k in range(40):
                turn = StoredTurn(origin, ((th_u(f"t{n}.{k}", ""), 0),), None, (f"c{n}.{k}",))
                stores[n].record(turn)

        threads = [threading.Thread(target=write, args=(n,)) for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert 80 == len(stores[0])
        with sqlite3.connect(path) as db:
            assert "wal" == db.execute("PRAGMA journal_mode").fetchone()[0]
        for store in stores:
            store.close()


def _corrupt(path: Path) -> Path:
    path.write_bytes(b"this is no database")
    return path
