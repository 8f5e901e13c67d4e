"""SqliteStore: the round-trip store in one SQLite file, so provenance survives restarts.

The file is made on the first write (never by loading a config or checking it), readable and
writable by its owner only (0600), in WAL mode with a busy timeout so several processes can
share it. A path that cannot hold a store (a folder, a missing folder, a file that is no SQLite
database, a read-only file) is refused when the store is built, with a StoreError.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading

from agent.errors import InvalidOption, StoreError
from agent.store import Origin, StoredTurn, keys_of

_HEADER = b"SQLite format 3\x00"


def check_path(path: str) -> None:
    """Raise StoreError if ``path`` cannot hold a store; creates nothing."""
    if not isinstance(path, str) or not path.strip():
        raise StoreError(str(path), "expected a file path")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise StoreError(path, "its folder does not exist")
    if not os.path.exists(path):
        if not os.access(folder, os.W_OK):
            raise StoreError(path, "its folder is not writable")
        return
    if not os.path.isfile(path):
        raise StoreError(path, "not a regular file")
    if not os.access(path, os.R_OK | os.W_OK):
        raise StoreError(path, "not readable and writable")
    with open(path, "rb") as file:
        head = file.read(len(_HEADER))
    if head and head != _HEADER:
        raise StoreError(path, "not a SQLite database")


_SCHEMA = """
CREATE TABLE IF NOT EXISTS turns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    family TEXT NOT NULL, host TEXT NOT NULL, model TEXT NOT NULL,
    blocks TEXT NOT NULL, reasoning TEXT, tool_ids TEXT NOT NULL, size INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS by_signature (key TEXT PRIMARY KEY, turn INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS by_text (key TEXT PRIMARY KEY, turn INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS by_tool (key TEXT PRIMARY KEY, turn INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS rejected (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT UNIQUE);
"""


class SqliteStore:
    """A ThinkingStore in one SQLite file (stdlib sqlite3), so provenance survives restarts.

    Texts are indexed by their SHA-256, not stored twice. The oldest turns are forgotten past
    ``max_turns``.
    """

    def __init__(self, path: str, max_turns: int = 100_000, busy_timeout: float = 5.0) -> None:
        if type(max_turns) is not int or max_turns < 1:
            raise InvalidOption("max_turns", f"must be a whole number >= 1, got {max_turns!r}")
        check_path(path)
        self.path = path
        self.max_turns = max_turns
        self.busy_timeout = busy_timeout
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._writes = 0
        self._rejected: frozenset[str] | None = None

    def _connect(self, create: bool) -> sqlite3.Connection | None:
        """The connection; the file is made (0600, WAL) only when ``create``: reading a store
        that was never written finds nothing and creates nothing."""
        if self._conn is not None:
            return self._conn
        if not create and not os.path.exists(self.path):
            return None
        try:
            if not os.path.exists(self.path):
                os.close(os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600))
            conn = sqlite3.connect(
                self.path, timeout=self.busy_timeout, check_same_thread=False, isolation_level=None
            )
            conn.execute("PRAGMA journal_mode=WAL")  # readers never wait for a writer
            conn.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(self.path, f"cannot open: {type(exc).__name__}: {exc}") from None
        self._conn = conn
        return conn

    @property
    def _db(self) -> sqlite3.Connection:
        conn = self._connect(create=True)
        assert conn is not None
        return conn

    def __repr__(self) -> str:
        return f"SqliteStore(path={self.path!r}, max_turns={self.max_turns})"

    def __bool__(self) -> bool:
        """A store is a store, empty or not (``store or MemoryStore()`` must keep it)."""
        return True

    def __len__(self) -> int:
        with self._lock:
            conn = self._connect(create=False)
            return (
                0 if conn is None else int(conn.execute("SELECT count(*) FROM turns").fetchone()[0])
            )

    def close(self) -> None:
        """Close the database file."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def record(self, turn: StoredTurn) -> None:
        """Remember one observed turn."""
        blocks = json.dumps([[dict(b), anchor] for b, anchor in turn.blocks])
        with self._lock, self._db:
            self._db.execute("BEGIN")
            cursor = self._db.execute(
                "INSERT INTO turns (family, host, model, blocks, reasoning, tool_ids, size) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    turn.origin.family,
                    turn.origin.host,
                    turn.origin.model,
                    blocks,
                    turn.reasoning,
                    json.dumps(list(turn.tool_ids)),
                    turn.size,
                ),
            )
            key = cursor.lastrowid
            for sig, text in keys_of(turn):
                if sig:
                    self._db.execute(
                        "INSERT OR REPLACE INTO by_signature VALUES (?, ?)", (sig, key)
                    )
                if text:
                    self._db.execute(
                        "INSERT OR REPLACE INTO by_text VALUES (?, ?)", (_digest(text), key)
                    )
            for tool_id in turn.tool_ids:
                self._db.execute("INSERT OR REPLACE INTO by_tool VALUES (?, ?)", (tool_id, key))
            self._writes += 1
            if self._writes % 64 == 0 or self.max_turns < 64:
                self._evict()

    def _evict(self) -> None:
        newest = self._db.execute("SELECT max(id) FROM turns").fetchone()[0] or 0
        cutoff = newest - self.max_turns
        if cutoff <= 0:
            return
        self._db.execute("DELETE FROM turns WHERE id <= ?", (cutoff,))
        for table in ("by_signature", "by_text", "by_tool"):
            self._db.execute(f"DELETE FROM {table} WHERE turn <= ?", (cutoff,))

    def _turn(self, table: str, key: str) -> StoredTurn | None:
        with self._lock:
            conn = self._connect(create=False)
            if conn is None:
                return None
            row = conn.execute(
                f"SELECT t.family, t.host, t.model, t.blocks, t.reasoning, t.tool_ids, t.size "
                f"FROM {table} k JOIN turns t ON t.id = k.turn WHERE k.key = ?",
                (key,),
            ).fetchone()
        if row is None:
            return None
        family, host, model, blocks, reasoning, tool_ids, size = row
        return StoredTurn(
            Origin(family, host, model),
            tuple((b, anchor) for b, anchor in json.loads(blocks)),
            reasoning,
            tuple(json.loads(tool_ids)),
            size,
        )

    def origin_of_signature(self, signature: str) -> Origin | None:
        """The origin of a signature or redacted ``data``, if observed."""
        turn = self._turn("by_signature", signature)
        return None if turn is None else turn.origin

    def origin_of_text(self, text: str) -> Origin | None:
        """The origin of a reasoning text, if observed."""
        turn = self._turn("by_text", _digest(text))
        return None if turn is None else turn.origin

    def turn_for_tool(self, tool_id: str) -> StoredTurn | None:
        """The observed turn that made the tool call ``tool_id``, if any."""
        return self._turn("by_tool", tool_id)

    def reject(self, key: str) -> None:
        """Remember a rejected signature in the file (bounded like the turns)."""
        with self._lock, self._db:
            self._db.execute("BEGIN")
            self._db.execute("INSERT OR IGNORE INTO rejected (key) VALUES (?)", (key,))
            self._db.execute(
                "DELETE FROM rejected WHERE id <= (SELECT max(id) FROM rejected) - ?",
                (self.max_turns,),
            )
            self._rejected = frozenset(
                row[0] for row in self._db.execute("SELECT key FROM rejected").fetchall()
            )

    def rejected(self) -> frozenset[str]:
        """The rejected signatures, as a set read once per call."""
        if self._rejected is None:
            with self._lock:
                conn = self._connect(create=False)
                rows = [] if conn is None else conn.execute("SELECT key FROM rejected").fetchall()
                self._rejected = frozenset(row[0] for row in rows)
        return self._rejected


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
