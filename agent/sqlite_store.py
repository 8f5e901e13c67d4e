"""SqliteStore: the round-trip store in one SQLite file, so provenance survives restarts.

The file is made on the first write (never by loading a config or checking it), readable and
writable by its owner only (0600), in WAL mode with a busy timeout so several processes can
share it. A path that cannot hold a store (a folder, a missing folder, a file that is no SQLite
database, a read-only file) is refused when the store is built, with a StoreError.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator

from agent.errors import InvalidOption, StoreError, shown
from agent.store import Origin, StoredTurn, keys_of

_HEADER = b"SQLite format 3\x00"
log = logging.getLogger("agent")


def check_path(path: str) -> None:
    """Raise StoreError if ``path`` cannot hold a store; creates nothing."""
    if not isinstance(path, str) or not path.strip():
        raise StoreError(str(path), "expected a file path")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise StoreError(path, "its folder does not exist")
    if not os.path.exists(path):
        if not _writable(folder):
            raise StoreError(path, "its folder is not writable")
        return
    if not os.path.isfile(path):
        raise StoreError(path, "not a regular file")
    if not os.access(path, os.R_OK) or not _writable(path):
        raise StoreError(path, "not readable and writable (read-only?)")
    with open(path, "rb") as file:
        head = file.read(len(_HEADER))
    if head and head != _HEADER:
        raise StoreError(path, "not a SQLite database")


#: Bumped when the tables change; a file of an older version is emptied and remade (the
#: store is a cache of what providers answered: losing it costs only restores of old turns).
_VERSION = 4


def _writable(path: str) -> bool:
    """Writable by us, and not marked read-only (root may write to a 0444 file, but a file
    made read-only is not meant to be a store)."""
    return os.access(path, os.W_OK) and bool(os.stat(path).st_mode & 0o222)


_SCHEMA = """
DROP TABLE IF EXISTS turns; DROP TABLE IF EXISTS by_signature; DROP TABLE IF EXISTS by_text;
DROP TABLE IF EXISTS by_tool; DROP TABLE IF EXISTS rejected;
CREATE TABLE turns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    family BLOB NOT NULL, host BLOB NOT NULL, model BLOB NOT NULL, provider BLOB,
    blocks TEXT NOT NULL, reasoning BLOB, tool_ids TEXT NOT NULL, size INTEGER NOT NULL,
    details TEXT NOT NULL DEFAULT '[]', signatures TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE by_signature (key TEXT PRIMARY KEY, turn INTEGER NOT NULL);
CREATE TABLE by_text (key TEXT PRIMARY KEY, turn INTEGER NOT NULL);
CREATE TABLE by_tool (key TEXT PRIMARY KEY, turn INTEGER NOT NULL);
CREATE TABLE rejected (id INTEGER PRIMARY KEY AUTOINCREMENT, key BLOB UNIQUE);
"""


class SqliteStore:
    """A ThinkingStore in one SQLite file (stdlib sqlite3), so provenance survives restarts.

    Every key (signature, redacted data, text, tool id) is indexed by its SHA-256, so a long
    one is not stored twice; strings go in as UTF-8 with lone surrogates kept (the same inputs
    the memory store takes). The oldest turns are forgotten past ``max_turns``.
    """

    def __init__(self, path: str, max_turns: int = 100_000, busy_timeout: float = 5.0) -> None:
        if type(max_turns) is not int or max_turns < 1:
            raise InvalidOption("max_turns", f"must be a whole number >= 1, got {shown(max_turns)}")
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
            _ensure_schema(conn)
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
        """Remember one observed turn (StoreError if the file cannot take it)."""
        with _named(self.path, "cannot write"):
            self._record(turn)

    def _record(self, turn: StoredTurn) -> None:
        blocks = json.dumps([[dict(b), anchor] for b, anchor in turn.blocks])
        origin = turn.origin
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            cursor = self._db.execute(
                "INSERT INTO turns (family, host, model, provider, blocks, reasoning, tool_ids, "
                "size, details, signatures) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    _bytes(origin.family),
                    _bytes(origin.host),
                    _bytes(origin.model),
                    None if origin.provider is None else _bytes(origin.provider),
                    blocks,
                    None if turn.reasoning is None else _bytes(turn.reasoning),
                    json.dumps(list(turn.tool_ids)),
                    turn.size,
                    json.dumps([dict(d) for d in turn.details]),
                    json.dumps(list(turn.signatures)),
                ),
            )
            key = cursor.lastrowid
            rows: dict[str, list[tuple[str, int | None]]] = {
                "by_signature": [],
                "by_text": [],
                "by_tool": [(_digest(t), key) for t in turn.tool_ids],
            }
            for sig, text in keys_of(turn):
                if sig:
                    rows["by_signature"].append((_digest(sig), key))
                if text:
                    rows["by_text"].append((_digest(text), key))
            for table, values in rows.items():
                self._db.executemany(f"INSERT OR REPLACE INTO {table} VALUES (?, ?)", values)
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
        try:
            return self._read(table, key)
        except (sqlite3.Error, OSError, ValueError) as exc:
            # a store that cannot be read must not fail the call: the turn counts as not seen
            log.warning(
                "thinking store %s cannot be read (%s); treated as not seen",
                self.path,
                type(exc).__name__,
            )
            return None

    def _read(self, table: str, key: str) -> StoredTurn | None:
        with self._lock:
            conn = self._connect(create=False)
            if conn is None:
                return None
            row = conn.execute(
                "SELECT t.family, t.host, t.model, t.provider, t.blocks, t.reasoning, t.tool_ids, "
                "t.size, "
                f"t.details, t.signatures "
                f"FROM {table} k JOIN turns t ON t.id = k.turn WHERE k.key = ?",
                (key,),
            ).fetchone()
        if row is None:
            return None
        family, host, model, via, blocks, reasoning, tool_ids, size, details, signatures = row
        return StoredTurn(
            Origin(_text(family), _text(host), _text(model), None if via is None else _text(via)),
            tuple((b, anchor) for b, anchor in json.loads(blocks)),
            None if reasoning is None else _text(reasoning),
            tuple(json.loads(tool_ids)),
            size,
            tuple(json.loads(details)),
            tuple(json.loads(signatures)),
        )

    def origin_of_signature(self, signature: str) -> Origin | None:
        """The origin of a signature or redacted ``data``, if observed."""
        turn = self._turn("by_signature", _digest(signature))
        return None if turn is None else turn.origin

    def origin_of_text(self, text: str) -> Origin | None:
        """The origin of a reasoning text, if observed."""
        turn = self._turn("by_text", _digest(text))
        return None if turn is None else turn.origin

    def turn_for_tool(self, tool_id: str) -> StoredTurn | None:
        """The observed turn that made the tool call ``tool_id``, if any."""
        return self._turn("by_tool", _digest(tool_id))

    def reject(self, key: str) -> None:
        """Remember a rejected signature in the file (bounded like the turns)."""
        with _named(self.path, "cannot write"), self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("INSERT OR IGNORE INTO rejected (key) VALUES (?)", (_bytes(key),))
            self._db.execute(
                "DELETE FROM rejected WHERE id <= (SELECT max(id) FROM rejected) - ?",
                (self.max_turns,),
            )
            self._rejected = frozenset(
                _text(row[0]) for row in self._db.execute("SELECT key FROM rejected").fetchall()
            )

    def rejected(self) -> frozenset[str]:
        """The rejected signatures, as a set read once per call."""
        if self._rejected is None:
            with self._lock:
                conn = self._connect(create=False)
                rows = [] if conn is None else conn.execute("SELECT key FROM rejected").fetchall()
                self._rejected = frozenset(_text(row[0]) for row in rows)
        return self._rejected


@contextlib.contextmanager
def _named(path: str, what: str) -> Iterator[None]:
    """sqlite3's errors as the library's StoreError, naming the file (never a value)."""
    try:
        yield
    except sqlite3.Error as exc:
        raise StoreError(path, f"{what}: {type(exc).__name__}: {exc}") from None


def _ensure_schema(conn: sqlite3.Connection) -> None:
    """Make the tables, once per file (and remake those of an older version)."""
    if conn.execute("PRAGMA user_version").fetchone()[0] == _VERSION:
        return
    conn.execute("BEGIN IMMEDIATE")  # one process makes them; the others wait, then see them
    try:
        if conn.execute("PRAGMA user_version").fetchone()[0] != _VERSION:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _bytes(text: str) -> bytes:
    """UTF-8, lone surrogates kept (a Python string of any content round-trips)."""
    return text.encode("utf-8", "surrogatepass")


def _text(value: bytes | str) -> str:
    return value if isinstance(value, str) else value.decode("utf-8", "surrogatepass")


def _digest(text: str) -> str:
    return hashlib.sha256(_bytes(text)).hexdigest()
