"""ThinkingRoundTrip: each provider gets back exactly the reasoning its contract demands.

Keyed on the request's one family answer (resolved once, carried on the request), it keeps,
restores, converts, pads or drops prior thinking. There is one pass per wire:
``anthropic_wire``, ``chat_wire`` (its carriers in ``chat_carriers``), ``responses_wire``,
``gemini_wire`` and ``bedrock_wire`` (which runs the Anthropic pass on a view); the per-block
policies live in ``policies``, restoring from the store in ``restore``. On the chat wire the
host's dialect decides the carrier (``chat_fields``), its preservation switch (``preserve``)
and, behind OpenRouter, the upstream provider reasoning is bound to (``routed``). By the
family's contract on the Anthropic wire:

- Anthropic (``verify``): signed blocks verbatim, in order, only from their own origin (same
  model on the same host, widened by ``trusted_models``); unsigned or foreign thinking dropped
  (``unsigned_to_anthropic="text"`` opts into visible text); ``redacted_thinking`` with ``data``
  kept, without dropped; earlier turns only on keep-all models.
- DeepSeek, Kimi, MiMo, MiniMax, GLM, Qwen (``carry``): every turn keeps its own thinking;
  unsigned thinking is written the way the family takes it (``signature: ""`` only for those
  that accept it); a turn that must carry thinking and has none gets it restored from the
  store, or the family's documented pad.
- Unknown families (``pass``, do no harm): thinking and ``reasoning_content`` go as the agent
  sent them, minus blocks observed from another target; no pad, no restore. A classified
  error from the provider teaches the family, for one retry.
- Strict servers (``drop``): every reasoning field is removed (they reject it).
"""

from __future__ import annotations

import fnmatch
import functools
import logging
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

from attrs import Attribute, field, frozen

from agent.errors import InvalidOption, StoreError, shown
from agent.explain import SILENT, Notes
from agent.families import FamilyMatch
from agent.families.contracts import BlockMode
from agent.families.dialects import FIELD_CHOICES
from agent.middleware.anthropic_wire import run as run_anthropic
from agent.middleware.bedrock_wire import observed_converse
from agent.middleware.bedrock_wire import run as run_bedrock
from agent.middleware.chat_carriers import providers_of
from agent.middleware.chat_wire import run as run_chat
from agent.middleware.context import Call, Held, View
from agent.middleware.gemini_wire import observed_gemini
from agent.middleware.gemini_wire import run as run_gemini
from agent.middleware.learn import own_key, rejected_keys
from agent.middleware.needs import wanted
from agent.middleware.observed import observed_anthropic, observed_chat
from agent.middleware.preserve import preserved
from agent.middleware.responses_wire import observed_responses
from agent.middleware.responses_wire import run as run_responses
from agent.middleware.routed import pin_to, upstream
from agent.recovery import ThinkingError
from agent.request import Request, resolve
from agent.store import (
    Found,
    MemoryStore,
    Origin,
    State,
    StoreTimeout,
    ThinkingStore,
    Wanted,
    guard_of,
    is_local,
)
from agent.store.guard import read_now, reject_all
from agent.store.lookups import CURRENT, Lookups

log = logging.getLogger(__name__)


def _one_of(*allowed: str) -> Any:
    def check(_: object, attribute: Attribute[Any], value: object) -> None:
        if value not in allowed:
            raise InvalidOption(
                attribute.name, f"{shown(value)} is not one of {', '.join(allowed)}"
            )

    return check


def _boolean(_: object, attribute: Attribute[Any], value: object) -> None:
    if not isinstance(value, bool):
        raise InvalidOption(attribute.name, f"expected true or false, got {shown(value)}")


def _store(_: object, attribute: Attribute[Any], value: object) -> None:
    if not isinstance(value, ThinkingStore):
        raise InvalidOption(attribute.name, f"expected a ThinkingStore, got {type(value).__name__}")


def _patterns(items: Iterable[str]) -> tuple[str, ...]:
    if isinstance(items, str):
        return (items,)
    if not isinstance(items, Iterable) or not all(isinstance(i, str) for i in items):
        raise InvalidOption(
            "trusted_models", f"expected a list of model patterns, got {shown(items)}"
        )
    return tuple(items)


@frozen
class ThinkingRoundTrip:
    """The central middleware: per model family, the prior reasoning its provider wants back.

    Attributes:
        unsigned_to_anthropic: what unsigned or foreign thinking becomes for an Anthropic
            target: ``drop`` (default; visible reasoning text has made Claude refuse) or
            ``text`` (a text block, opt-in).
        foreign: what thinking observed from another family becomes for an unsigned-carrying
            family: ``pad`` (default: the family's pad where it needs reasoning, else removed,
            so another vendor's chain of thought is not replayed), ``keep_text`` (its text
            travels unsigned), or ``drop``, deprecated (a DeprecationWarning): it sends the
            same body as ``pad``, since a turn the family needs reasoning on gets its pad all
            the same (sending it without is a 400, and a second run could not tell it apart).
        trusted_models: glob patterns of origin models (same family) whose signatures an
            Anthropic target also accepts, e.g. ``("claude-*",)``; by default only the same
            model on the same host is trusted.
        on_missing_loop_thinking: with thinking enabled, when the active tool loop's assistant
            message has no thinking that can be sent: ``send`` as is (and say so loudly),
            ``raise`` ThinkingContractError, or ``drop_param`` (remove ``thinking`` for this
            one request).
        restore: put back a turn's own observed thinking when the history lost it.
        reasoning_field: chat wire: the field reasoning travels in: ``auto`` (the host's
            dialect decides; on a host no dialect knows, the agent's own field is kept),
            ``reasoning_content``, ``reasoning``, ``reasoning_text``, or ``none`` (no string
            reasoning field at all).
        preserve_reasoning: set the host's own switch that makes it keep earlier reasoning
            (Kimi ``thinking.keep``, DashScope ``preserve_thinking``, GLM ``clear_thinking``,
            Fireworks ``reasoning_history``, OpenRouter ``reasoning.context``) where its dialect
            has one and the model takes it; off by default (the host then bills reasoning it
            may discard).
        store: where observed thinking and its origin are kept.
    """

    unsigned_to_anthropic: Literal["drop", "text"] = field(
        default="drop", validator=_one_of("drop", "text")
    )
    foreign: Literal["pad", "keep_text", "drop"] = field(
        default="pad", validator=_one_of("pad", "keep_text", "drop")
    )
    trusted_models: tuple[str, ...] = field(default=(), converter=_patterns)
    on_missing_loop_thinking: Literal["send", "raise", "drop_param"] = field(
        default="send", validator=_one_of("send", "raise", "drop_param")
    )
    restore: bool = field(default=True, validator=_boolean)
    reasoning_field: Literal["auto", "reasoning_content", "reasoning", "reasoning_text", "none"] = (
        field(default="auto", validator=_one_of(*FIELD_CHOICES))
    )
    preserve_reasoning: bool = field(default=False, validator=_boolean)
    store: ThinkingStore = field(factory=MemoryStore, repr=False, validator=_store)

    def __attrs_post_init__(self) -> None:
        if self.foreign == "drop":
            warnings.warn(
                "ThinkingRoundTrip(foreign='drop') is deprecated: it sends the same body as "
                "foreign='pad' (a turn the family needs reasoning on gets its pad); use 'pad'",
                DeprecationWarning,
                stacklevel=3,
            )

    def __call__(self, request: Request) -> Request:
        """The request with its prior reasoning fitted to the target's contract."""
        return self.transform(request, SILENT)

    def transform(self, request: Request, notes: Notes) -> Request:
        """Like ``__call__``, recording each decision in ``notes``."""
        start = request if request.resolved is not None else resolve(request)
        # the host's switch first: the pass then sees what the host will do (Kimi with
        # thinking.keep all wants reasoning on every assistant message)
        resolved = preserved(start, notes) if self.preserve_reasoning else start
        run = _RUNS[request.api]
        if is_local(self.store):  # answers from memory: no batch to read first
            out = run(Call(self, resolved, notes, self.store))
            return request if out is start else out
        view = self.view(resolved)
        lookups = CURRENT.get()
        if isinstance(view, Found) and (lookups is None or lookups.sync):
            out = self._fetching(run, resolved, notes, view, lookups or Lookups(sync=True))
        else:  # fetched before the chain (its transport fetches more)
            out = run(Call(self, resolved, notes, view))
        return request if out is start else out

    def _fetching(
        self,
        run: Callable[[Call], Request],
        resolved: Request,
        notes: Notes,
        found: Found,
        lookups: Lookups,
    ) -> Request:
        """Run the pass on a shared store's answers; if it asked for keys the batch did not
        hold, read them in one more batch and run it again (its first notes forgotten)."""
        held = Held(notes) if notes.listening else notes
        out = run(Call(self, resolved, held, found))
        if not found.missed or found.state != "ok":
            if isinstance(held, Held):
                held.replay()
            return out
        more = read_now(self.store, found.missed)
        found.merge(more)
        if more.state != "ok":
            lookups.warn(self.store, more.state)
        return run(Call(self, resolved, notes, found))

    def wanted(self, request: Request) -> Wanted:
        """The keys a call may look up in the store: what a shared store reads for it in one
        batch (the async transport reads them before the chain runs)."""
        return wanted(resolve(request))

    def view(self, request: Request) -> View:
        """What a call reads from the store: the store itself when it answers from memory;
        else its answers to all the call's keys, read once per call."""
        store = self.store
        if is_local(store):
            return store
        lookups = CURRENT.get()
        if lookups is not None:
            return lookups.found(store, lambda: wanted(request))
        found = read_now(store, wanted(request))
        if found.state != "ok":
            Lookups(sync=True).warn(store, found.state)  # the call's one warning
        return found

    def observe(self, request: Request, response_body: Mapping[str, Any]) -> None:
        """Record the thinking of a response with its origin (the target of ``request``);
        anything that is not a response object (None, a list, text) is passed over."""
        if type(response_body) is not dict and not isinstance(response_body, Mapping):
            return
        match = request.resolved or request.match
        origin = _origin(match.family.name, match.host, match.model, upstream(match, response_body))
        turn = _OBSERVED[request.api](origin, response_body)
        if turn is not None:
            try:
                self.store.record(turn)
            except StoreError as exc:
                lookups = CURRENT.get()
                if lookups is None:
                    raise  # Pipeline.observe says so
                lookups.failed_write(self.store, _state(exc))

    def learn(self, sent: Request, error: ThinkingError) -> str | None:
        """Remember what a provider's signature error says about what was sent (which
        signatures, redacted data or encrypted items it rejected: ``learn``); say what.
        Later calls, and the one retry, do not send them again."""
        if error.kind not in ("invalid_signature", "modified", "bound_prefix"):
            return None
        view = self.view(sent)  # (a shared store: the call's answers, read before)
        own = own_key(view.origin_of_signature, lambda o: self.trusts(o, sent.match))
        keys, where = rejected_keys(sent, error, own)
        self._reject(keys)
        if not keys:
            return None
        return f"{len(keys)} signature(s) {where} rejected by the provider"

    def rerouted(self, sent: Request, error: ThinkingError, body: Mapping[str, Any]) -> Any:
        """Behind a router that binds reasoning to its upstream provider: after a signature
        error, ``body`` pinned to the one provider that produced the reasoning ``sent``
        carries (None when there is no such provider or the body already pins it)."""
        if error.kind != "invalid_signature" or sent.match.dialect.bound_to != "provider":
            return None
        if sent.api != "chat_completions":
            return None
        call = Call(self, sent, SILENT)
        found = set().union(*(providers_of(call, m) for m in sent.history.messages))
        if len(found) != 1:
            return None
        new = pin_to(body, found.pop())
        return None if new is body else new

    def _reject(self, keys: list[str]) -> None:
        """Remember rejected keys: at once in this process; in a shared store in one write,
        off the event loop when an async transport runs the chain, never failing the retry."""
        store = self.store
        if is_local(store):
            for key in keys:
                store.reject(key)
            return
        if not keys:
            return
        for key in keys:
            guard_of(store).rejections.add(key)
        write = functools.partial(reject_all, store, keys)
        lookups = CURRENT.get()
        if lookups is not None and not lookups.sync:
            lookups.defer(store, write)
            return
        try:
            write()
        except StoreError as exc:
            if lookups is None:
                log.warning("remembering a rejected signature failed: %s", exc)
            else:
                lookups.failed_write(store, _state(exc))

    def trusts(self, origin: Origin, match: FamilyMatch) -> bool:
        """Whether thinking observed at ``origin`` is the own thinking of the target of
        ``match``: the same model on the same host always is (also when it was observed
        before its family was learned); otherwise only the same family's, and for a
        signature-checking target only the models ``trusted_models`` names."""
        if origin.model == match.model and origin.host == match.host:
            return True
        mode = match.family.anthropic.thinking
        if origin.family != match.family.name or mode is BlockMode.PASS:
            return False  # an unknown target's own is only what it answered itself
        if not mode.checks_signatures:
            return True  # carrying families: any block of their own family is their own
        if match.family.anthropic.reads_from(match.model, origin.model):
            return True  # a newer model that reads an older one's blocks (family data)
        return any(fnmatch.fnmatchcase(origin.model, p) for p in self.trusted_models)


#: One Origin per target answered from (observing builds one after every call; origins are few).
_origin = functools.lru_cache(maxsize=1024)(Origin)


def _state(exc: StoreError) -> State:
    return "timeout" if isinstance(exc, StoreTimeout) else "unavailable"


#: The pass of each wire, and how each wire's responses are observed.
_RUNS = {
    "anthropic_messages": run_anthropic,
    "chat_completions": run_chat,
    "responses": run_responses,
    "bedrock_converse": run_bedrock,
    "gemini": run_gemini,
}
_OBSERVED = {
    "anthropic_messages": observed_anthropic,
    "chat_completions": observed_chat,
    "responses": observed_responses,
    "bedrock_converse": observed_converse,
    "gemini": observed_gemini,
}
