"""ThinkingRoundTrip: each provider gets back exactly the reasoning its contract demands.

Keyed on the request's one family answer (resolved once, carried on the request), it keeps,
restores, converts, pads or drops prior thinking; the wire passes live in ``anthropic_wire``
and ``chat_wire``, the per-block policies in ``policies``:

- Anthropic (``verify``): signed blocks verbatim, in order, only from their own origin (same
  model on the same host, widened by ``trusted_models``); unsigned or foreign thinking dropped
  (``unsigned_to_anthropic="text"`` opts into visible text); ``redacted_thinking`` with ``data``
  kept, without dropped; earlier turns only on keep-all models.
- DeepSeek, Kimi, MiMo, MiniMax, GLM, Qwen (``carry``): every turn keeps its own thinking;
  unsigned thinking is written the way the family takes it (``signature: ""`` only for those
  that accept it); a turn that must carry thinking and has none gets it restored from the
  store, or the family's documented pad.
- Unknown families (``drop``): prior thinking and ``reasoning_content`` are removed.
"""

from __future__ import annotations

import fnmatch
import functools
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

from attrs import Attribute, field, frozen

from agent.body import (
    block_key,
)
from agent.errors import InvalidOption, StoreError, shown
from agent.explain import SILENT, Notes
from agent.families import FamilyMatch
from agent.middleware.anthropic_wire import run as run_anthropic
from agent.middleware.bedrock_wire import observed_converse
from agent.middleware.bedrock_wire import run as run_bedrock
from agent.middleware.chat_wire import run as run_chat
from agent.middleware.context import Call, Held, View
from agent.middleware.gemini_wire import observed_gemini
from agent.middleware.gemini_wire import run as run_gemini
from agent.middleware.needs import wanted
from agent.middleware.observed import observed_anthropic, observed_chat
from agent.middleware.responses_wire import observed_responses
from agent.middleware.responses_wire import run as run_responses
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

log = logging.getLogger("agent")


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
            travels unsigned), or ``drop`` (removed; the turn is then treated as one that never
            had reasoning, so a turn the family needs reasoning on still gets its pad: sending it
            without is a 400, and a second run could not tell it apart; the same body as
            ``pad``, kept for configs that name it).
        trusted_models: glob patterns of origin models (same family) whose signatures an
            Anthropic target also accepts, e.g. ``("claude-*",)``; by default only the same
            model on the same host is trusted.
        on_missing_loop_thinking: with thinking enabled, when the active tool loop's assistant
            message has no thinking that can be sent: ``send`` as is (and say so loudly),
            ``raise`` ThinkingContractError, or ``drop_param`` (remove ``thinking`` for this
            one request).
        restore: put back a turn's own observed thinking when the history lost it.
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
    store: ThinkingStore = field(factory=MemoryStore, repr=False, validator=_store)

    def __call__(self, request: Request) -> Request:
        """The request with its prior reasoning fitted to the target's contract."""
        return self.transform(request, SILENT)

    def transform(self, request: Request, notes: Notes) -> Request:
        """Like ``__call__``, recording each decision in ``notes``."""
        resolved = resolve(request)
        run = _RUNS[request.api]
        view = self.view(resolved)
        lookups = CURRENT.get()
        if isinstance(view, Found) and (lookups is None or lookups.sync):
            out = self._fetching(run, resolved, notes, view, lookups or Lookups(sync=True))
        else:  # answers from memory, or fetched before the chain (its transport fetches more)
            out = run(Call(self, resolved, notes, view))
        return request if out is resolved else out

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
        if not isinstance(response_body, Mapping):
            return
        match = resolve(request).match
        origin = Origin(match.family.name, match.host, match.model)
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
        """Remember what a provider's thinking error says about what was sent; say what.

        An invalid signature (or redacted data) is remembered as rejected, and so are all of a
        turn's blocks when the provider says that turn's thinking was modified; for a model
        that binds thinking to the conversation prefix, every later thinking block goes with
        it (removing one invalidates the rest). Later calls do not send them again.
        """
        if error.kind not in ("invalid_signature", "modified", "bound_prefix"):
            return None
        if sent.api == "responses":
            return self._learn_item(sent, error)
        if error.message is None:
            return None
        messages = sent.body.get("messages")
        if not isinstance(messages, list) or not 0 <= error.message < len(messages):
            return None
        message = messages[error.message]
        content = message.get("content") if isinstance(message, Mapping) else None
        if not isinstance(content, list):
            return None
        blocks = content
        bound = error.kind == "bound_prefix" or sent.match.family.anthropic.binds_prefix(
            sent.match.model
        )
        if bound:
            # prefix binding: the block and every later thinking block no longer verify
            blocks = [
                *content[error.block or 0 :],
                *(
                    b
                    for m in messages[error.message + 1 :]
                    if isinstance(m, Mapping) and isinstance(m.get("content"), list)
                    for b in m["content"]
                ),
            ]
        elif error.kind == "invalid_signature" and error.block is not None:
            blocks = content[error.block : error.block + 1]
        keys = [k for b in blocks if isinstance(b, Mapping) and (k := block_key(b)) is not None]
        self._reject(keys)
        if not keys:
            return None
        return f"{len(keys)} signature(s) at messages[{error.message}] rejected by the provider"

    def _learn_item(self, sent: Request, error: ThinkingError) -> str | None:
        """Responses: the item whose encrypted content did not verify is not sent again."""
        items = sent.body.get("input")
        for item in items if isinstance(items, list) else ():
            if isinstance(item, Mapping) and item.get("id") == error.field:
                key = item.get("encrypted_content")
                if isinstance(key, str) and key:
                    self._reject([key])
                    return f"the encrypted content of {error.field} was rejected by the provider"
        return None

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
        if origin.family != match.family.name or mode == "pass":
            return False  # an unknown target's own is only what it answered itself
        if mode != "verify":
            return True  # carrying families: any block of their own family is their own
        if match.family.anthropic.reads_from(match.model, origin.model):
            return True  # a newer model that reads an older one's blocks (family data)
        return any(fnmatch.fnmatchcase(origin.model, p) for p in self.trusted_models)


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
