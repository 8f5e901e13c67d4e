"""Round-trip state: where each observed thinking block came from, found again later.

``observe`` records, per provider response, the thinking it returned with its origin (family,
host, model), keyed by signature (or ``redacted_thinking`` data), by reasoning text, and by the
ids of the turn's ``tool_use`` / ``tool_calls``. ThinkingRoundTrip uses it for provenance
(a foreign signature is recognised after a model switch) and restore (a turn whose thinking the
agent did not keep gets its own thinking back).

The parts: what is kept and the protocol (``turns``), the in-memory store (``memory``), one
call's keys read in one batch (``batch``), a shared store's time limit and circuit breaker
(``guard``), and one call's dealings with its stores (``lookups``).
"""

from agent.store.batch import (
    STATES,
    Batched,
    Found,
    Recent,
    State,
    StoreTimeout,
    Wanted,
    is_local,
    read,
)
from agent.store.guard import Guard, guard_of
from agent.store.memory import DEFAULT_MAX_BYTES, MemoryStore
from agent.store.turns import Origin, StoredTurn, ThinkingStore, block_keys, keys_of

__all__ = [
    "DEFAULT_MAX_BYTES",
    "STATES",
    "Batched",
    "Found",
    "Guard",
    "MemoryStore",
    "Origin",
    "Recent",
    "State",
    "StoreTimeout",
    "StoredTurn",
    "ThinkingStore",
    "Wanted",
    "block_keys",
    "guard_of",
    "is_local",
    "keys_of",
    "read",
]
