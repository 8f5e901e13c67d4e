"""The round-trip stores: bounded, and the SQLite one survives a restart."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from agent import MemoryStore, Origin, Pipeline, Request
from agent.errors import InvalidOption, StoreError
from agent.middleware import ThinkingRoundTrip
from agent.sqlite_store import SqliteStore
from agent.store import StoredTurn, Wanted
from agent.store.turns import digest
from tests.builders import RELAY, ROOT, A, T, U, anthropic_body, th_s, th_u, tu

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


class TestMemoryBytes:
    def test_bounded_by_bytes_too(self) -> None:
        """200 turns of 5 MB thinking stay under the byte bound: the oldest turns go, with
        every index entry (signature, text, tool id) that pointed at them."""
        store = MemoryStore(max_bytes=64 * 1024 * 1024)
        big = "x" * (5 * 1024 * 1024)
        for n in range(200):
            origin = Origin("mimo", "h", f"m{n}")
            block = th_s(f"{n}{big}", f"s{n}")
            store.record(StoredTurn(origin, ((block, 0),), None, (f"c{n}",)))

        assert store.nbytes <= 64 * 1024 * 1024
        assert 12 == len(store)
        assert store.turn_for_tool("c0") is None
        assert store.origin_of_signature("s0") is None
        assert store.origin_of_text(f"0{big}") is None
        assert store.turn_for_tool("c199") is not None

    def test_tiny_blocks_and_ids_count_too(self) -> None:
        """Many tiny blocks, tool ids, OpenRouter details and thought signatures cannot slip
        under the bound: each is charged beyond its strings (an upstream answering a thousand
        empty blocks per turn still fills it)."""
        store = MemoryStore(max_bytes=100_000)
        for n in range(50):
            blocks = tuple((th_s("", f"s{n}.{j}"), j) for j in range(20))
            store.record(StoredTurn(Origin("mimo", "h", "m"), blocks, None, (f"c{n}",)))
        chat = StoredTurn(
            Origin("openrouter", "h", "m"),
            (),
            "r",
            tuple(f"d{j}" for j in range(100)),
            details=tuple({"type": "reasoning.text", "text": ""} for _ in range(100)),
            signatures=tuple("x" * 500 for _ in range(100)),
        )
        store.record(chat)

        # each of the 50 turns is counted at about 5.8 KB, the chat turn at about 83 KB
        assert store.nbytes <= 100_000
        assert store.turn_for_tool("d99") is not None
        assert len(store) <= 3  # the chat turn and at most two of the others

    def test_default_is_256_mb(self) -> None:
        """The default bound, documented in the docs."""
        assert 256 * 1024 * 1024 == MemoryStore().max_bytes

    def test_a_turn_larger_than_the_bound_is_not_kept(self) -> None:
        """Keeping it would evict everything else; it is passed over."""
        store = MemoryStore(max_bytes=10_000)
        origin = Origin("mimo", "h", "m")
        store.record(StoredTurn(origin, ((th_s("small", "s1"), 0),), None, ("c1",)))
        store.record(StoredTurn(origin, ((th_s("y" * 20_000, "s2"), 0),), None, ("c2",)))

        assert store.turn_for_tool("c1") is not None
        assert store.turn_for_tool("c2") is None

    @pytest.mark.parametrize("bad", [0, -1, 1.5, "256MB", None], ids=str)
    def test_bad_bound_is_named(self, bad: object) -> None:
        with pytest.raises(InvalidOption, match="max_bytes"):
            MemoryStore(max_bytes=bad)  # type: ignore[arg-type]


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
            (lambda d: _read_only(d / "t.db"), "read-only"),
            (lambda d: _read_only(d / "ro", folder=True) / "t.db", "folder is not writable"),
            (lambda d: "/dev/null", "not a regular file"),
        ],
        ids=[
            "a-folder",
            "missing-folder",
            "corrupt-file",
            "empty-path",
            "read-only-file",
            "read-only-folder",
            "dev-null",
        ],
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


#: A writer process: records turns w{n}.{k} into the store at argv[1], printing k after each.
_WRITER = """
import sys
from agent.sqlite_store import SqliteStore
from agent.store import Origin, StoredTurn
store = SqliteStore(sys.argv[1], busy_timeout=30.0)
n, count = sys.argv[2], int(sys.argv[3])
origin = Origin("mimo", "h", "m")
for k in range(count):
    block = {"type": "thinking", "thinking": f"t{n}.{k}" + "x" * 2000, "signature": ""}
    store.record(StoredTurn(origin, ((block, 0),), None, (f"w{n}.{k}",)))
    print(k, flush=True)
"""


def _writer(path: Path, n: int, count: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path), str(n), str(count)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


class TestProcesses:
    def test_four_processes_share_one_file(self, tmp_path: Path) -> None:
        """Four processes writing 150 turns each at once into one file: every turn is there."""
        path = tmp_path / "t.db"
        writers = [_writer(path, n, 150) for n in range(4)]
        for writer in writers:
            out, _ = writer.communicate(timeout=120)
            assert 0 == writer.returncode
            assert "149" == out.split()[-1]

        store = SqliteStore(str(path))
        assert 600 == len(store)
        for n in range(4):
            for k in (0, 75, 149):
                turn = store.turn_for_tool(f"w{n}.{k}")
                assert turn is not None
                assert turn.blocks[0][0]["thinking"].startswith(f"t{n}.{k}x")

    def test_kill_9_loses_no_committed_turn(self, tmp_path: Path) -> None:
        """A writer killed with SIGKILL mid-burst (five times) loses nothing it reported
        written; the file stays sound and takes new writes."""
        path = tmp_path / "t.db"
        reported: dict[int, int] = {}
        for n in range(5):
            with _writer(path, n, 100_000) as writer:  # (its pipe closed when it is done)
                assert writer.stdout is not None
                for _ in range(20 + 15 * n):  # let it commit a while, then kill it mid-burst
                    line = writer.stdout.readline()
                os.kill(writer.pid, signal.SIGKILL)
                writer.wait(timeout=30)
            reported[n] = int(line)

        with sqlite3.connect(path) as db:
            assert "ok" == db.execute("PRAGMA integrity_check").fetchone()[0]
        store = SqliteStore(str(path))
        for n, last in reported.items():
            for k in range(last + 1):
                assert store.turn_for_tool(f"w{n}.{k}") is not None, (n, k)
        store.record(StoredTurn(Origin("mimo", "h", "m"), ((th_u("after", ""), 0),), None, ("z",)))
        assert store.turn_for_tool("z") is not None

    def test_an_older_file_is_remade(self, tmp_path: Path) -> None:
        """A file made by an older version (other tables) is emptied and remade, not an error."""
        path = tmp_path / "t.db"
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE turns (id INTEGER PRIMARY KEY, family TEXT)")
            db.execute("INSERT INTO turns VALUES (1, 'old')")
        store = SqliteStore(str(path))
        store.record(StoredTurn(Origin("mimo", "h", "m"), ((th_u("new", ""), 0),), None, ("c",)))

        assert 1 == len(store)
        assert store.turn_for_tool("c") is not None


def _read_only(path: Path, folder: bool = False) -> Path:
    """A store file (or folder) made read-only with chmod."""
    if folder:
        path.mkdir()
    else:
        SqliteStore(str(path)).record(
            StoredTurn(Origin("mimo", "h", "m"), ((th_u("x", ""), 0),), None, ("c",))
        )
    path.chmod(0o555 if folder else 0o444)
    return path


def _corrupt(path: Path) -> Path:
    path.write_bytes(b"this is no database")
    return path


def _deep(n: int) -> Any:
    value: Any = []
    for _ in range(n):
        value = [value]
    return value


ODD = {
    "surrogate-text": {"type": "thinking", "thinking": "half \udc80 a thought", "signature": "s1"},
    "surrogate-signature": {"type": "thinking", "thinking": "plan", "signature": "s\ud800"},
    "surrogate-data": {"type": "redacted_thinking", "data": "d\udfff"},
    "bytes-text": {"type": "thinking", "thinking": b"raw", "signature": "s1"},
    "deep": {"type": "thinking", "thinking": "plan", "signature": "s1", "x": [[[[[[]]]]]] * 1},
    "very-deep": {"type": "thinking", "thinking": "plan", "signature": "s1", "x": _deep(100)},
    "object-key": {"type": "thinking", "thinking": "plan", "signature": "s1", 5: "five"},
}


class TestSameInputs:
    @pytest.mark.parametrize("tool_id", ["c1", "c\udc80"], ids=["plain-id", "surrogate-id"])
    @pytest.mark.parametrize("block", list(ODD.values()), ids=list(ODD))
    def test_both_stores_keep_and_give_back_the_same(
        self, tmp_path: Path, block: dict[Any, Any], tool_id: str
    ) -> None:
        """Whatever an observed response holds, the SQLite store accepts what the memory store
        accepts and the pipeline sends the same from either (what is no JSON is not kept)."""
        model = "claude-opus-4-6\ud800"
        request = Request(api=AM, body=anthropic_body(model, U(), A(tu(tool_id)), T(tool_id)))
        outs = []
        for store in (MemoryStore(), SqliteStore(str(tmp_path / "t.db"))):
            pipe = Pipeline([ThinkingRoundTrip(store=store)])
            pipe.observe(request, {"type": "message", "content": [block, tu(tool_id)]})
            outs.append(pipe(request).body)

        assert outs[0] == outs[1]


class TestFaults:
    def test_a_write_that_fails_is_a_store_error_and_observe_goes_on(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A full disk is sqlite3's OperationalError: the store names it (StoreError), and
        Pipeline.observe logs it instead of failing the agent's call."""
        store = SqliteStore(str(tmp_path / "t.db"))

        def full(*_: object) -> None:
            raise sqlite3.OperationalError("database or disk is full")

        monkeypatch.setattr(store, "_record", full)
        turn = StoredTurn(Origin("mimo", "h", "m"), ((th_u("x", ""), 0),), None, ("c",))
        with pytest.raises(StoreError, match="disk is full"):
            store.record(turn)

        pipe = Pipeline([ThinkingRoundTrip(store=store)])
        request = Request(api=AM, base_url=RELAY, body=anthropic_body("mimo-v2.5-pro", U()))
        pipe.observe(request, {"type": "message", "content": [th_u("x", ""), tu("c")]})
        assert "disk is full" in caplog.text

    def test_a_read_that_fails_counts_as_not_seen(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A store that cannot be read does not fail the call: nothing is restored from it."""
        store = SqliteStore(str(tmp_path / "t.db"))
        store.record(StoredTurn(Origin("mimo", "h", "m"), ((th_u("x", ""), 0),), None, ("c",)))

        def broken(*_: object) -> None:
            raise sqlite3.DatabaseError("database disk image is malformed")

        monkeypatch.setattr(store, "_read", broken)
        assert store.turn_for_tool("c") is None


class TestRedis:
    def test_same_semantics_as_the_others(self, redis_url: str, tmp_path: Path) -> None:
        """Whatever an observed response holds, Redis gives back what memory gives back."""
        from agent.redis_store import RedisStore

        model = "claude-opus-4-6\ud800"
        for n, block in enumerate(ODD.values()):
            tool_id = f"c{n}\udc80"
            request = Request(api=AM, body=anthropic_body(model, U(), A(tu(tool_id)), T(tool_id)))
            outs = []
            for store in (MemoryStore(), RedisStore(redis_url, prefix=f"same{n}:")):
                pipe = Pipeline([ThinkingRoundTrip(store=store)])
                pipe.observe(request, {"type": "message", "content": [block, tu(tool_id)]})
                outs.append(pipe(request).body)
            assert outs[0] == outs[1]

    def test_shared_and_expiring(self, redis_url: str) -> None:
        """Two stores on one Redis see each other's turns; every entry has the TTL."""
        import redis

        from agent.redis_store import RedisStore

        one, two = (
            RedisStore(redis_url, ttl=600, prefix="shared:"),
            RedisStore(redis_url, ttl=600, prefix="shared:"),
        )
        one.record(StoredTurn(Origin("mimo", "h", "m"), ((th_s("plan", "s1"), 0),), None, ("c1",)))
        one.reject("dead-sig")

        turn = two.turn_for_tool("c1")
        assert turn is not None
        assert "plan" == turn.blocks[0][0]["thinking"]
        assert Origin("mimo", "h", "m") == two.origin_of_signature("s1")
        wanted = Wanted()
        wanted.signature("dead-sig")
        assert frozenset({"dead-sig"}) == two.lookup(wanted).rejected()
        client = redis.Redis.from_url(redis_url)
        ttls = [client.ttl(k) for k in client.scan_iter("shared:*")]
        assert ttls
        assert all(0 < t <= 600 for t in ttls)

    def test_unreachable_redis(self, tmp_path: Path) -> None:
        """A Redis nobody answers on: writes are a StoreError, reads count as not seen."""
        from agent.redis_store import RedisStore

        store = RedisStore(f"unix://{tmp_path}/none.sock")
        turn = StoredTurn(Origin("mimo", "h", "m"), ((th_u("x", ""), 0),), None, ("c",))

        with pytest.raises(StoreError, match="redis"):
            store.record(turn)
        assert store.turn_for_tool("c") is None
        assert frozenset() == store.rejected()

    def test_config(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """store: {redis: {url: ${VAR}}} loads without connecting; the URL never shows."""
        from agent import load_config

        monkeypatch.setenv("AGENT_REDIS_URL", "redis://:hunter2-secret@127.0.0.1:1/0")
        path = tmp_path / "a.yaml"
        path.write_text(
            "providers: {p: {base_url: 'https://x.example', api_mode: chat_completions}}\n"
            "store: {redis: {url: '${AGENT_REDIS_URL}', ttl: 60}}\n"
        )

        config = load_config(path)

        assert "redis" == config.store_spec.kind
        assert "hunter2" not in repr(config)
        assert "hunter2" not in repr(config.store)


class TestRedisGarbage:
    def test_a_value_that_is_no_turn_counts_as_not_seen(self, redis_url: str) -> None:
        """Whatever else wrote under the prefix, a read never raises into the call."""
        import redis

        from agent.redis_store import RedisStore

        store = RedisStore(redis_url, prefix="garbage:")
        client = redis.Redis.from_url(redis_url)
        client.set(f"garbage:t:{digest('c1')}", "{not json")
        client.set(f"garbage:s:{digest('s1')}", '["two", "fields"]')

        assert store.turn_for_tool("c1") is None
        assert store.origin_of_signature("s1") is None
