"""What a host's classified errors taught a pipeline, kept so later calls get it right first.

A strict schema that names the field it rejects (Fireworks: ``Extra inputs are not permitted,
field: 'messages[1].reasoning_details'``; Kimi's own host: ``the reasoning_details at position
2 entry 0 has an invalid type``) teaches that this host rejects that one field: later calls
leave it out, and only it. A host no dialect row knows that answers "must be passed back"
after getting the agent's own field teaches that it reads the family's field. Some errors
teach a rule the tables did not know about the target: a Responses 404 for a bare item id
although the body kept ``store`` on (the host keeps nothing), Kimi's "missing in assistant
message" (reasoning wanted on every assistant message, not only tool-call ones), Gemini's
missing signature from a model the table does not mark as checking them. Lessons are per
host, bounded, and shared by every call of the pipeline (thread-safe).
"""

from __future__ import annotations

import glob
import threading
from typing import cast

from attrs import define, evolve

from agent.families import FamilyMatch, ModelFamily
from agent.families.dialects import Carrier
from agent.recovery import ThinkingError, every_message
from agent.request import Request

#: Hosts remembered (a pipeline serves few; the bound keeps a hostile stream of hosts small).
MAX_HOSTS = 1024
#: Flags a host can learn (besides rejected fields and the field it reads).
STATELESS = "stateless"
EVERY_MESSAGE = "every_message"
SIGNATURES = "signatures:"  # + the model that checks them


@define
class _Lesson:
    """What one host taught."""

    rejects: tuple[str, ...] = ()
    field: str | None = None
    flags: frozenset[str] = frozenset()


class HostLessons:
    """Per host: the message fields it rejects, the reasoning field it reads, and flags."""

    def __init__(self) -> None:
        self._hosts: dict[str, _Lesson] = {}
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        return bool(self._hosts)

    def _lesson(self, host: str) -> _Lesson:
        lesson = self._hosts.get(host)
        if lesson is None:
            while len(self._hosts) >= MAX_HOSTS:
                del self._hosts[next(iter(self._hosts))]  # the oldest host goes first
            lesson = self._hosts[host] = _Lesson()
        return lesson

    def reject(self, host: str, field: str) -> bool:
        """Remember that ``host`` rejects ``field``; whether that is news."""
        with self._lock:
            lesson = self._lesson(host)
            if field in lesson.rejects:
                return False
            lesson.rejects = (*lesson.rejects, field)
            return True

    def reads(self, host: str, field: str) -> bool:
        """Remember that ``host`` reads reasoning from ``field``; whether that is news."""
        with self._lock:
            lesson = self._lesson(host)
            if lesson.field == field:
                return False
            lesson.field = field
            return True

    def flag(self, host: str, flag: str) -> bool:
        """Remember one of the flags for ``host``; whether that is news."""
        with self._lock:
            lesson = self._lesson(host)
            if flag in lesson.flags:
                return False
            lesson.flags = lesson.flags | {flag}
            return True

    def apply(self, match: FamilyMatch) -> FamilyMatch:
        """``match`` with what its host taught folded into its dialect and family (the same
        object when nothing was learned about the host)."""
        lesson = self._hosts.get(match.host)
        if lesson is None:
            return match
        dialect = match.dialect
        if lesson.field is not None and dialect.carrier == "agent":
            dialect = evolve(dialect, carrier=cast(Carrier, lesson.field))
        new = tuple(f for f in lesson.rejects if f not in dialect.rejects)
        if new:
            dialect = evolve(dialect, rejects=(*dialect.rejects, *new))
        if STATELESS in lesson.flags and not dialect.stateless:
            dialect = evolve(dialect, stateless=True)
        family = _taught(match.family, match.model, lesson.flags)
        if dialect is match.dialect and family is match.family:
            return match
        rule = "learned" if dialect is not match.dialect else match.dialect_rule
        return evolve(match, dialect=dialect, dialect_rule=rule, family=family)


def _taught(family: ModelFamily, model: str, flags: frozenset[str]) -> ModelFamily:
    """``family`` with what the flags teach about ``model``."""
    exact = glob.escape(model)  # (an id is matched as itself, not as a pattern)
    if EVERY_MESSAGE in flags and exact not in family.chat.pad_every:
        family = evolve(
            family,
            chat=evolve(family.chat, pad_every=(*family.chat.pad_every, exact)),
            anthropic=evolve(family.anthropic, pad_every=(*family.anthropic.pad_every, exact)),
        )
    chat = family.chat
    if SIGNATURES + model in flags and not chat.requires_signatures(model):
        family = evolve(
            family, chat=evolve(chat, signatures_required=(*chat.signatures_required, exact))
        )
    return family


def learn_rule(lessons: HostLessons, sent: Request, error: ThinkingError) -> str | None:
    """Remember a rule the error shows its target has and the tables did not say; say what
    (None: nothing new). A host that keeps no Responses items although the body kept ``store``
    on (its 404); a model that wants reasoning on every assistant message (Kimi's "missing in
    assistant message", no "tool call"); a model that checks thought signatures (Gemini's
    missing-signature 400 from an id the table does not mark as checking them)."""
    host, match = sent.match.host, sent.match
    chat = match.family.chat
    if error.kind != "must_pass_back":
        return None
    if error.family == "openai" and sent.api == "responses":
        stored = sent.body.get("store") is not False
        if stored and lessons.flag(host, STATELESS):
            return f"the host {host} keeps no items (as with store: false)"
    elif error.family == "kimi" and every_message(error):
        if lessons.flag(host, EVERY_MESSAGE):
            return f"{match.model} wants reasoning on every assistant message"
    elif (
        error.family == "gemini"
        and chat.signature_dummy
        and not chat.requires_signatures(match.model)
    ):
        lessons.flag(host, SIGNATURES + match.model)
        return f"{match.model} checks thought signatures on the current step"
    return None
