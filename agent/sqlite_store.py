"""SqliteStore: the round-trip store in one SQLite file, so provenance survives restarts.

The file is made on the first write (never by loading a config or checking it), readable and
writable by its owner only (0600), in WAL mode with a busy timeout so several processes can
share it. A path that cannot hold a store (a folder, a missing folder, a file that is no SQLite
database, a read-only file) is refused when the store is built, with a StoreError.

A call's keys are read in one query (``lookup``), and the gateway runs it off its event loop,
waiting at most ``busy_timeout`` seconds.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from typing import Any

from agent.errors import InvalidOption, StoreError, shown
from agent.store import Found, Guard, Origin, StoredTurn, Wanted, keys_of
from agent.store.turns import digest

_HEADER = b"SQLite format 3\x00"
log = logging.getLogger(__name__)


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
_VERSION = 5


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
CREATE TABLE rejected (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT UNIQUE);
"""


class SqliteStore:
    """A ThinkingStore in one SQLite file (stdlib sqlite3), so provenance survives restarts.

    Every key (signature, redacted data, text, tool id) is indexed by its SHA-256, so a long
    one is not stored twice; strings go in as UTF-8 with lone surrogates kept (the same inputs
    the memory store takes). The oldest turns are forgotten past ``max_turns`` (and the oldest
    rejections past as many).
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
        self.guard = Guard(timeout=busy_timeout)

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

    def lookup(self, wanted: Wanted) -> Found:
        """Every key of ``wanted`` in one query; a file that cannot be read answers nothing
        (state ``unavailable``), never raising into the call."""
        remembered = self.guard.rejections
        try:
            rows = self._read(wanted)
        except (sqlite3.Error, OSError, ValueError, KeyError, TypeError) as exc:
            # a store that cannot be read must not fail the call: the turn counts as not seen
            log.warning(
                "thinking store %s cannot be read (%s); treated as not seen",
                self.path,
                type(exc).__name__,
            )
            self.guard.trip()
            return Found.failed(wanted, "unavailable", remembered)
        self.guard.reset()
        found = Found(wanted, remembered=remembered)
        rejected = set(remembered.among(wanted.signatures))
        keys = {
            0: {_digest(t): t for t in wanted.fetched()},
            1: {_digest(s): s for s in wanted.signatures},
            2: {_digest(t): t for t in wanted.texts},
        }
        for kind, key, *turn in rows:
            if kind == 3:
                rejected.add(keys[1][key])
            elif kind == 0:
                found.turns[keys[0][key]] = _turn(turn)
            else:
                origin = _origin(*turn[:4])
                (found.signatures if kind == 1 else found.texts)[keys[kind][key]] = origin
        found.merge(Found(Wanted(), rejected=rejected))
        return found

    def _read(self, wanted: Wanted) -> list[tuple[Any, ...]]:
        """The rows of one query (one per 30,000 keys): (kind, key digest, turn columns) per
        key found."""
        parts: list[tuple[str, list[str]]] = []
        signatures = [_digest(s) for s in wanted.signatures]
        lists = (
            (0, "by_tool", [_digest(t) for t in wanted.fetched()]),
            (1, "by_signature", signatures),
            (2, "by_text", [_digest(t) for t in wanted.texts]),
            (3, "rejected", signatures),
        )
        for kind, table, digests in lists:
            for at in range(0, len(digests), _PER_QUERY):
                chunk = digests[at : at + _PER_QUERY]
                marks = ",".join("?" * len(chunk))
                parts.append((_SELECT[kind].format(table=table, marks=marks), chunk))
        rows: list[tuple[Any, ...]] = []
        with self._lock:
            conn = self._connect(create=False)
            while parts and conn is not None:
                size, sql, values = 0, [], []
                while parts and size + len(parts[0][1]) <= _PER_QUERY:
                    text, chunk = parts.pop(0)
                    size += len(chunk)
                    sql.append(text)
                    values += chunk
                rows += conn.execute(" UNION ALL ".join(sql), values).fetchall()
        return rows

    def origin_of_signature(self, signature: str) -> Origin | None:
        """The origin of a signature or redacted ``data``, if observed."""
        wanted = Wanted()
        wanted.signature(signature)
        return self.lookup(wanted).signatures.get(signature)

    def origin_of_text(self, text: str) -> Origin | None:
        """The origin of a reasoning text, if observed."""
        wanted = Wanted()
        wanted.text(text)
        return self.lookup(wanted).texts.get(text)

    def turn_for_tool(self, tool_id: str) -> StoredTurn | None:
        """The observed turn that made the tool call ``tool_id``, if any."""
        wanted = Wanted()
        wanted.tool(tool_id)
        return self.lookup(wanted).turns.get(tool_id)

    def reject(self, key: str) -> None:
        """Remember a rejected signature in the file (bounded like the turns)."""
        self.reject_all([key])

    def reject_all(self, keys: list[str]) -> None:
        """Remember rejected signatures in the file, in one transaction."""
        for key in keys:
            self.guard.rejections.add(key)
        with _named(self.path, "cannot write"), self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "INSERT OR IGNORE INTO rejected (key) VALUES (?)", [(_digest(k),) for k in keys]
            )
            self._db.execute(
                "DELETE FROM rejected WHERE id <= (SELECT max(id) FROM rejected) - ?",
                (self.max_turns,),
            )

    def rejected(self) -> frozenset[str]:
        """The rejected signatures this process has seen (each call's own are read with its
        batch, from the file)."""
        return self.guard.rejections.view()


#: Keys per query (SQLite takes at most 32,766 parameters per statement).
_PER_QUERY = 30_000
#: Per kind of key: the select that finds it (a turn, an origin, a rejection).
_SELECT = {
    0: "SELECT 0, k.key, t.family, t.host, t.model, t.provider, t.blocks, t.reasoning, "
    "t.tool_ids, t.size, t.details, t.signatures FROM {table} k JOIN turns t ON t.id = k.turn "
    "WHERE k.key IN ({marks})",
    1: "SELECT 1, k.key, t.family, t.host, t.model, t.provider, NULL, NULL, NULL, NULL, NULL, "
    "NULL FROM {table} k JOIN turns t ON t.id = k.turn WHERE k.key IN ({marks})",
    2: "SELECT 2, k.key, t.family, t.host, t.model, t.provider, NULL, NULL, NULL, NULL, NULL, "
    "NULL FROM {table} k JOIN turns t ON t.id = k.turn WHERE k.key IN ({marks})",
    3: "SELECT 3, key, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM {table} "
    "WHERE key IN ({marks})",
}


def _origin(family: Any, host: Any, model: Any, provider: Any) -> Origin:
    return Origin(
        _text(family), _text(host), _text(model), None if provider is None else _text(provider)
    )


def _turn(row: list[Any]) -> StoredTurn:
    family, host, model, provider, blocks, reasoning, tool_ids, size, details, signatures = row
    return StoredTurn(
        _origin(family, host, model, provider),
        tuple((b, anchor) for b, anchor in json.loads(blocks)),
        None if reasoning is None else _text(reasoning),
        tuple(json.loads(tool_ids)),
        size,
        tuple(json.loads(details)),
        tuple(json.loads(signatures)),
    )


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


_digest = digest
