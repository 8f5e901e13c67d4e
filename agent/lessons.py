"""What a host's classified errors taught a pipeline, kept so later calls get it right first.

A strict schema that names the field it rejects (Fireworks: ``Extra inputs are not permitted,
field: 'messages[1].reasoning_details'``; Kimi's own host: ``the reasoning_details at position
2 entry 0 has an invalid type``) teaches that this host rejects that one field: later calls
leave it out, and only it. A host no dialect row knows that answers "must be passed back"
after getting the agent's own field teaches that it reads the family's field. Lessons are
per host, bounded, and shared by every call of the pipeline (thread-safe).
"""

from __future__ import annotations

import threading
from typing import cast

from attrs import evolve

from agent.families import FamilyMatch
from agent.families.dialects import Carrier

#: Hosts remembered (a pipeline serves few; the bound keeps a hostile stream of hosts small).
MAX_HOSTS = 1024


class HostLessons:
    """Per host: the message fields it rejects, and the reasoning field it reads."""

    def __init__(self) -> None:
        self._rejects: dict[str, tuple[str, ...]] = {}
        self._field: dict[str, str] = {}
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        return bool(self._rejects or self._field)

    def reject(self, host: str, field: str) -> bool:
        """Remember that ``host`` rejects ``field``; whether that is news."""
        with self._lock:
            known = self._rejects.get(host, ())
            if field in known:
                return False
            self._room(host)
            self._rejects[host] = (*known, field)
            return True

    def reads(self, host: str, field: str) -> bool:
        """Remember that ``host`` reads reasoning from ``field``; whether that is news."""
        with self._lock:
            if self._field.get(host) == field:
                return False
            self._room(host)
            self._field[host] = field
            return True

    def _room(self, host: str) -> None:
        if host not in self._rejects and host not in self._field:
            while len(self._rejects.keys() | self._field.keys()) >= MAX_HOSTS:
                oldest = next(iter(self._rejects or self._field))
                self._rejects.pop(oldest, None)
                self._field.pop(oldest, None)

    def apply(self, match: FamilyMatch) -> FamilyMatch:
        """``match`` with what its host taught folded into its dialect (the same object when
        nothing was learned about the host)."""
        rejects = self._rejects.get(match.host, ())
        field = self._field.get(match.host)
        if not rejects and field is None:
            return match
        dialect = match.dialect
        if field is not None and dialect.carrier == "agent":
            dialect = evolve(dialect, carrier=cast(Carrier, field))
        new = tuple(f for f in rejects if f not in dialect.rejects)
        if new:
            dialect = evolve(dialect, rejects=(*dialect.rejects, *new))
        if dialect is match.dialect:
            return match
        return evolve(match, dialect=dialect, dialect_rule="learned")
