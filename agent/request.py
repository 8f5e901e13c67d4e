"""Request: the outgoing call as a frozen value, and the one path that resolves its family."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from attrs import field, frozen

from agent.errors import InvalidRequest, json_kind
from agent.explain import JSONObject
from agent.families import FamilyMatch, FamilyRegistry
from agent.history import History, scan
from agent.wire import APIS, safe_url, thinking_requested


def _url_repr(url: str | None) -> str:
    return repr(safe_url(url))


#: What each optional string field holds, for its error.
_OPTIONAL_STRINGS = (
    ("base_url", "a URL string"),
    ("family", "a family name"),
    ("dialect", "a dialect name"),
)


def _signatures(items: Iterable[str]) -> frozenset[str]:
    if type(items) is frozenset and not items:
        return items  # the common case, on every request built
    if isinstance(items, str) or not isinstance(items, Iterable):
        raise InvalidRequest(
            "dead_signatures", f"expected a set of strings, got {json_kind(items)}"
        )
    members = list(items)
    if not all(isinstance(k, str) for k in members):
        raise InvalidRequest("dead_signatures", "expected a set of strings")
    return frozenset(members)


@frozen
class Request:
    """One outgoing API call.

    The body is plain JSON and is never mutated: a middleware that changes it builds a new body
    that shares every unchanged message and block with the old one.

    Attributes:
        api: the wire, ``anthropic_messages`` or ``chat_completions``.
        body: the JSON request body.
        base_url: where it goes; None means the official endpoint of the wire.
        provider: the name of a configured provider, if any (shown by ``explain``).
        family: an explicit model family (a provider's ``family:`` in config); wins detection.
        resolved: the family detection answer, set once by ``resolve``.
        dead_signatures: signatures (and ``redacted_thinking`` data) of turns whose structure a
            middleware changed; they no longer verify and must not be sent as signed thinking.
        dialect: an explicit host dialect (a provider's ``dialect:`` in config: how the host
            carries reasoning, for hosts with no fixed name such as a self-hosted vLLM); wins
            detection by host.
    """

    api: str
    body: JSONObject
    base_url: str | None = field(default=None, repr=_url_repr)
    provider: str | None = None
    family: str | None = None
    resolved: FamilyMatch | None = field(default=None, eq=False, repr=False)
    dead_signatures: frozenset[str] = field(default=frozenset(), converter=_signatures, repr=False)
    dialect: str | None = None
    # the one walk over the body, made on first use and shared by every middleware
    _history: History | None = field(default=None, init=False, eq=False, repr=False)

    @property
    def model(self) -> str:
        """The ``model`` of the body ('' when absent; Converse: ``modelId`` too)."""
        model = self.body.get("model", self.body.get("modelId"))
        return model if isinstance(model, str) else ""

    @property
    def match(self) -> FamilyMatch:
        """The resolved family answer (resolving with the built-in table if not yet done)."""
        return self.resolved or resolve(self).match

    @property
    def history(self) -> History:
        """The facts of the body's conversation, from one validating scan kept on the request."""
        history = self._history
        if history is None:
            history = scan(self.api, self.body)
            object.__setattr__(self, "_history", history)
        return history

    def __attrs_post_init__(self) -> None:
        # every field's check in one method, not one validator per field: a request is built
        # twice before every call, and each validator is one more call
        if self.api not in APIS:
            raise InvalidRequest(
                "api", f"expected one of {', '.join(APIS)}, got {json_kind(self.api)}"
            )
        if type(self.body) is not dict and not isinstance(self.body, Mapping):
            raise InvalidRequest("", f"the body must be a JSON object, got {json_kind(self.body)}")
        for name, what in _OPTIONAL_STRINGS:
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise InvalidRequest(name, f"expected {what} or None, got {json_kind(value)}")


def with_history(request: Request, history: History) -> Request:
    """``request`` (the same object, just built) with the facts of its body found already:
    ``history`` must be of this very body (``agent.history.grown`` finds them)."""
    if history.messages and history.messages is not request.body.get("messages"):
        raise ValueError("the facts given are not of this request's body")
    object.__setattr__(request, "_history", history)
    return request


def walked(request: Request) -> bool:
    """Whether the facts of ``request``'s conversation are known already (its walk made, or
    given by ``with_history``)."""
    return request._history is not None


def resolve(
    request: Request,
    registry: FamilyRegistry | None = None,
    family: str | None = None,
    dialect: str | None = None,
) -> Request:
    """``request`` carrying its family answer: the one place a family (and the host's
    dialect) is classified.

    The same object when it already carries one. ``registry`` is the family table (built-ins
    when None); ``family`` and ``dialect`` the defaults of a configured provider (its
    ``family:`` and ``dialect:``), which the request's own fields override.
    """
    if request.resolved is not None:
        return request
    model = request.body.get("model")
    if model is None and request.api == "bedrock_converse":
        model = request.body.get("modelId")  # Converse's own name for it (also in the URL)
    if not isinstance(model, str):
        raise InvalidRequest("model", f"expected the model id as a string, got {json_kind(model)}")
    table = registry if registry is not None else FamilyRegistry.builtin()
    explicit = request.family if request.family is not None else family
    thinking = thinking_requested(request.body)
    host_dialect = request.dialect if request.dialect is not None else dialect
    match = table.resolve(model, request.base_url, request.api, explicit, thinking, host_dialect)
    return Request(  # not attrs.evolve: this runs before every call, and evolve introspects
        request.api,
        request.body,
        request.base_url,
        request.provider,
        request.family,
        match,
        request.dead_signatures,
        request.dialect,
    )
