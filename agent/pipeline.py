"""Pipeline: a tuple of middleware run in order before every API call."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol, runtime_checkable

from attrs import evolve, field, frozen

from agent.errors import InvalidOption, InvalidResponse, StoreError, shown
from agent.explain import SILENT, Action, Explanation, Notes, Tally
from agent.families import FamilyRegistry
from agent.lessons import HostLessons, learn_rule
from agent.middleware.settled import settled_check
from agent.recovery import ThinkingError, classify
from agent.request import Request, resolve

_log = logging.getLogger(__name__)

#: A middleware is any callable from Request to Request.
Middleware = Callable[[Request], Request]
#: How the chain runs one middleware: on the request so far, recording in the notes given.
Step = Callable[[Request, Notes], Request]


@runtime_checkable
class Explaining(Protocol):
    """A middleware that can say what it changes: ``__call__(r)`` is ``transform(r, SILENT)``."""

    def transform(self, request: Request, notes: Notes) -> Request:
        """Return the transformed request, recording each decision in ``notes``."""


@runtime_checkable
class Observing(Protocol):
    """A middleware that keeps round-trip state from the provider's responses."""

    def observe(self, request: Request, response_body: Mapping[str, Any]) -> None:
        """Take the response to ``request`` (as it was sent)."""


@runtime_checkable
class Learning(Protocol):
    """A middleware that remembers what a provider's thinking error says about a request."""

    def learn(self, sent: Request, error: ThinkingError) -> str | None:
        """Remember what ``error`` says about ``sent``; say what, or None."""


@runtime_checkable
class Rerouting(Protocol):
    """A middleware that pins a retry to the upstream provider a router's reasoning is bound
    to (``ThinkingRoundTrip`` behind OpenRouter)."""

    def rerouted(self, sent: Request, error: ThinkingError, body: Mapping[str, Any]) -> Any:
        """``body`` pinned to that provider, or None."""


class PipelineSource(Protocol):
    """What builds pipelines: a loaded ``agent.config.Config``."""

    def pipeline(self, provider: str | None = None) -> Pipeline:
        """The pipeline for ``provider`` (the global chain when None)."""


def middleware_name(middleware: object) -> str:
    """The name ``explain`` shows for a middleware."""
    name = getattr(middleware, "__name__", None)
    return name if isinstance(name, str) else type(middleware).__name__


def _step(middleware: Middleware) -> Step:
    """How the chain runs ``middleware``: its own ``transform`` when it explains itself, else
    the call, its changes found by comparing bodies when someone listens."""
    if isinstance(middleware, Explaining):
        return middleware.transform

    def run(current: Request, notes: Notes) -> Request:
        after = middleware(current)
        if notes.listening:
            _diff(current.body, after.body, notes)
        return after

    return run


def _silent(name: str) -> Notes:
    return SILENT


def _as_middleware(items: Iterable[Middleware]) -> tuple[Middleware, ...]:
    if isinstance(items, str | bytes | Mapping) or not isinstance(items, Iterable):
        raise InvalidOption("middleware", f"expected a list of middleware, got {shown(items)}")
    chain = tuple(items)
    for index, item in enumerate(chain):
        if not callable(item):
            raise InvalidOption(f"middleware[{index}]", f"a {type(item).__name__} is not callable")
    return chain


@frozen
class Pipeline:
    """A chain of middleware, built once and run by a plain loop.

    The family is resolved once per call (``resolve``), and that one answer, carried on the
    request, is what every middleware, ``observe`` and ``recover`` see.

    Attributes:
        middleware: the chain, in order; ThinkingRoundTrip belongs last among the
            message-shaping steps so it sees the final history.
        families: the family table that detection uses (built-ins unless configured).
        family: the explicit family of the provider this pipeline serves (config
            ``family:``); applied to requests that do not name one themselves.
        dialect: the explicit host dialect of that provider (config ``dialect:``, for a host
            with no fixed name such as a self-hosted vLLM); likewise a default.
    """

    middleware: tuple[Middleware, ...] = field(converter=_as_middleware)
    families: FamilyRegistry = field(factory=FamilyRegistry.builtin, kw_only=True)
    family: str | None = field(default=None, kw_only=True)
    dialect: str | None = field(default=None, kw_only=True)
    # what the hosts' classified errors taught (fields they reject, the field they read)
    _lessons: HostLessons = field(init=False, factory=HostLessons, repr=False, eq=False)
    # the roles each middleware plays, found once here: a Protocol isinstance check is slow
    _observers: tuple[Observing, ...] = field(init=False, repr=False, eq=False)
    _learners: tuple[Learning, ...] = field(init=False, repr=False, eq=False)
    _routers: tuple[Rerouting, ...] = field(init=False, repr=False, eq=False)
    _steps: tuple[tuple[str, Step], ...] = field(init=False, repr=False, eq=False)
    # the default chain's one-walk check for a request it leaves as it is (None: another chain)
    _settled: Callable[[Request], bool] | None = field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        steps = tuple((middleware_name(m), _step(m)) for m in self.middleware)
        object.__setattr__(self, "_steps", steps)
        chain: tuple[object, ...] = self.middleware
        object.__setattr__(self, "_observers", tuple(m for m in chain if isinstance(m, Observing)))
        object.__setattr__(self, "_learners", tuple(m for m in chain if isinstance(m, Learning)))
        object.__setattr__(self, "_routers", tuple(m for m in chain if isinstance(m, Rerouting)))
        object.__setattr__(self, "_settled", settled_check(self.middleware))

    @classmethod
    def from_config(cls, config: PipelineSource, provider: str | None = None) -> Pipeline:
        """The pipeline a loaded config (``agent.config.Config``) defines for ``provider``."""
        return config.pipeline(provider)

    def resolve(self, request: Request) -> Request:
        """``request`` with its model family and host dialect resolved (the same object if it
        already was), with what the host's errors taught folded in."""
        if request.resolved is not None:
            return request  # (resolved before: the chain's steps, and observing what was sent)
        out = resolve(request, self.families, self.family, self.dialect)
        if not self._lessons:
            return out
        match = self._lessons.apply(out.match)
        return out if match is out.match else evolve(out, resolved=match)

    def _chain(self, request: Request, notes: Callable[[str], Notes]) -> tuple[Request, Request]:
        """The one loop of a call, ``counted`` and ``explain``: the request resolved, and what
        the chain made of it (``request`` itself when nothing changed); each middleware
        records its decisions in ``notes(its name)``."""
        resolved = current = self.resolve(request)
        for name, step in self._steps:
            current = step(current, notes(name))
        if current.body is request.body and current.base_url == request.base_url:
            current = request
        return resolved, current

    def __call__(self, request: Request) -> Request:
        """Run the chain; a request that needs no change comes back as the same object (with
        the default chain, one the chain would leave as it is is recognized first, in one walk:
        ``agent.middleware.settled``)."""
        resolved = self.resolve(request)
        settled = self._settled
        if settled is not None and settled(resolved):
            return request  # the default chain would leave it as it is
        out = self._chain(resolved, _silent)[1]
        return request if out is resolved else out

    def counted(self, request: Request) -> tuple[Request, dict[str, int]]:
        """Run the chain like ``__call__`` (the same object back when nothing changes) and
        count its decisions by action (``{"kept": 12, "restored": 2}``), nothing formatted."""
        tally = Tally()
        return self._chain(request, lambda _: tally)[1], tally.counts

    def explain(self, request: Request) -> Explanation:
        """Run the chain and say what each middleware changed, where, and why."""
        kept: list[Notes] = []

        def notes(name: str) -> Notes:
            kept.append(Notes(name))
            return kept[-1]

        resolved, out = self._chain(request, notes)
        changes = tuple(change for n in kept for change in n.changes)
        return Explanation(request.api, resolved.match, changes, out.body, request.provider)

    def recover(
        self, original: Request, sent: Request, status: int, error_body: object
    ) -> Request | None:
        """A corrected request after a provider's thinking error, or None (not ours to fix).

        ``original`` is the request as it came to the pipeline, ``sent`` what went out. A
        signature error is remembered (those blocks are not sent again); a "must be passed
        back" error from a family the target was not detected as is retried as that family
        (set ``family:`` on the provider to make it permanent). Retry once, at most.
        """
        error = classify(status, error_body)
        if error is None:
            return None
        resolved = self.resolve(sent)
        learned = [note for m in self._learners if (note := m.learn(resolved, error))]
        learned += self._learn_host(resolved, error)
        retry = evolve(original, resolved=None)
        family = _learned_family(error, resolved.match.family.name)
        if family is not None and family in self.families.names:
            learned.append(
                "the provider rejects reasoning fields"
                if error.kind == "unknown_field"
                else f"the provider answered in {family}'s words"
            )
            retry = evolve(original, family=family, resolved=None)
        for router in self._routers:
            pinned = router.rerouted(resolved, error, retry.body)
            if pinned is not None:
                retry = evolve(retry, body=pinned)
                learned.append(f"the retry is pinned to {pinned['provider']['only'][0]}")
        out = self(retry)
        if out.body == sent.body:
            return None  # nothing this pipeline would send differently
        why = "; ".join(learned) or "the request as the pipeline builds it now differs"
        _log.warning("retrying once after a thinking error (%s): %s", error.text, why)
        return out

    def _learn_host(self, sent: Request, error: ThinkingError) -> list[str]:
        """What the error teaches about the host: a field it names as unknown is left out
        from now on (only that field); "must be passed back" at a host no dialect knows,
        after the agent's own field went, means it reads the family's own field; and the
        rules the tables did not know (``_learn_rule``)."""
        host = sent.match.host
        taught = learn_rule(self._lessons, sent, error)
        if taught is not None:
            return [taught]
        if error.kind == "unknown_field" and error.field is not None:
            self._lessons.reject(host, error.field)
            return [f"the host {host} rejects the field {error.field}; it is left out from now on"]
        if sent.api != "chat_completions":
            return []
        dialect = sent.match.dialect
        if (
            error.kind == "must_pass_back"
            and dialect.carrier == "agent"
            and sent.match.family.chat.reasoning_content == "keep"
            and self._lessons.reads(host, "reasoning_content")
        ):
            return [f"the host {host} reads reasoning_content, the family's own field"]
        return []

    def observe(self, request: Request, response_body: object) -> None:
        """Feed the provider's response to ``request`` (as sent) to every observing middleware.

        ``response_body`` is the response JSON (a mapping) or the SDK's response object (an
        anthropic ``Message``, an openai ``ChatCompletion`` or ``Response``, any pydantic
        model: read through ``to_dict()`` / ``model_dump()``); anything else is
        InvalidResponse (a TypeError), never silently passed over. A store that cannot take it
        (StoreError: a full disk, a file gone read-only) is logged as a warning, not raised:
        observing never fails the agent's call."""
        body = response_body if type(response_body) is dict else response_json(response_body)
        resolved = request if request.resolved is not None else self.resolve(request)
        for observer in self._observers:
            try:
                observer.observe(resolved, body)
            except StoreError as exc:  # a full disk must not fail the agent's call
                _log.warning("observing a response failed: %s", exc)


def response_json(response: object) -> Mapping[str, Any]:
    """A response as its JSON: a mapping as it is, an SDK or pydantic model dumped (the SDKs'
    ``to_dict()`` keeps the fields the provider sent that the model does not declare, such as
    ``reasoning_content``); InvalidResponse for anything else."""
    if type(response) is dict or isinstance(response, Mapping):
        return response
    dump = getattr(response, "model_dump", None)
    if callable(dump):
        to_dict = getattr(response, "to_dict", None)  # the anthropic and openai SDKs' models
        data = to_dict() if callable(to_dict) else dump(mode="json", by_alias=True)
        if isinstance(data, Mapping):
            return data
    kind = type(response).__name__[:60]
    raise InvalidResponse(
        "response",
        "expected the response JSON (a mapping) or an SDK response object (with model_dump(), "
        f"like an anthropic Message or an openai ChatCompletion), got {kind}; observe a "
        "stream's final message",
    )


def _learned_family(error: ThinkingError, current: str) -> str | None:
    """The family a classified error teaches, if it is not the one already used: "must be
    passed back" in a family's words teaches that family; a strict server's unknown-field
    error that names no field teaches ``strict`` (send no reasoning fields)."""
    if error.kind == "must_pass_back":
        family = error.family
    elif error.kind == "unknown_field" and error.field is None:
        family = "strict"  # (a field it names is left out alone: see _learn_host)
    else:
        return None
    return None if family in (None, current) else family


def _diff(before: Mapping[str, Any], after: Mapping[str, Any], notes: Notes) -> None:
    """Entries for a middleware that does not explain itself, found by comparing bodies."""
    if before is after:
        return
    reason = "changed by a middleware that does not explain itself"
    for key in sorted(set(before) | set(after)):
        if key not in after:
            notes.add(key, Action.DROPPED, reason)
        elif key not in before:
            notes.add(key, Action.CONVERTED, f"added; {reason}")
        elif key == "messages" and isinstance(before[key], list) and isinstance(after[key], list):
            _diff_messages(before[key], after[key], notes, reason)
        elif before[key] is not after[key] and before[key] != after[key]:
            notes.add(key, Action.CONVERTED, reason)


def _diff_messages(old: list[Any], new: list[Any], notes: Notes, reason: str) -> None:
    for i in range(max(len(old), len(new))):
        if i >= len(new):
            notes.add(f"messages[{i}]", Action.DROPPED, reason)
        elif i >= len(old):
            notes.add(f"messages[{i}]", Action.CONVERTED, f"added; {reason}")
        elif old[i] is not new[i] and old[i] != new[i]:
            notes.add(f"messages[{i}]", Action.CONVERTED, reason)
