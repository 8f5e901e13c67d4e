"""Host dialects: *how* a host carries reasoning, beside the family table's *what*.

The family (``families``) says what a model needs back: MiMo, DeepSeek and Kimi their
unsigned reasoning, Claude its signed blocks. The same model is served by its vendor, by
vLLM, by Fireworks, by OpenRouter, and each host reads prior reasoning from its own place: a
field (``reasoning_content``, ``reasoning``), an opaque pair (Copilot's ``reasoning_text`` +
``reasoning_opaque``), OpenRouter's ``reasoning_details``, ``thinking`` chunks inside
``content`` (Mistral). A dialect is one row of that second table, data with its ``why`` and
``source``: the carrier, the fields the host rejects, whether any unknown message field is a
400 (a strict schema), what a reasoning item's provenance is bound to, and the host's own
switch that makes it keep earlier reasoning. Resolution picks one row per call (an explicit
``dialect:``, else the host), carried on the request's one answer (``req.match.dialect``).

A host no row knows is the ``unknown`` dialect: the field the agent used is kept as it is.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, get_args

from attrs import field, frozen

from agent.errors import FamilyDefinitionError
from agent.families.fields import check_keys, choice, flag, host_names, sources, text

Carrier = Literal["reasoning_content", "reasoning", "pair", "details", "chunks", "none", "agent"]
Bound = Literal["model", "provider"]
#: The string fields a chat message may carry its reasoning in, and what ``reasoning_field``
#: may name (``none``: no string field at all; ``auto``: the dialect decides).
STRING_FIELDS = ("reasoning_content", "reasoning", "reasoning_text")
FIELD_CHOICES = ("auto", *STRING_FIELDS, "none")
#: Copilot's opaque half of its reasoning pair.
OPAQUE = "reasoning_opaque"

_KEYS = (
    "name",
    "hosts",
    "carrier",
    "rejects",
    "strict",
    "vendor",
    "bound_to",
    "preserve",
    "preserve_models",
    "preserve_refused",
    "stateless",
    "why",
    "source",
    "sources",
)


def _strings(value: object, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Sequence) or not all(isinstance(v, str) and v for v in value):
        raise FamilyDefinitionError(where, "expected a list of non-empty strings")
    return tuple(v.strip().lower() for v in value)


def _hosts(value: object, where: str) -> tuple[str, ...]:
    return host_names(_strings(value, where), where)


def _patch(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise FamilyDefinitionError(where, "expected a mapping of request fields")
    return dict(value)


_READERS: Mapping[str, Callable[[object, str], Any]] = {
    "hosts": _hosts,
    "carrier": lambda v, w: choice(v, get_args(Carrier), w),
    "rejects": _strings,
    "strict": flag,
    "vendor": flag,
    "bound_to": lambda v, w: choice(v, get_args(Bound), w),
    "preserve": _patch,
    "preserve_models": _strings,
    "preserve_refused": _strings,
    "stateless": flag,
    "why": text,
    "source": text,
    "sources": sources,
}


@frozen
class HostDialect:
    """How one kind of host carries reasoning on the chat wire.

    Attributes:
        name: the row's name (``vllm``), what a provider's ``dialect:`` names.
        hosts: hosts whose subdomains also match (none: named in config only, like a
            self-hosted vLLM).
        carrier: where the host reads prior reasoning: a string field (``reasoning_content``,
            ``reasoning``), ``pair`` (``reasoning_text`` + ``reasoning_opaque`` as one unit),
            ``details`` (``reasoning_details``), ``chunks`` (``thinking`` chunks in
            ``content``), ``none`` (no reasoning at all), or ``agent`` (whatever field the
            agent used: a host nothing is known of).
        rejects: message fields the host answers 400 to.
        strict: any message field the host does not know is a 400 (a strict schema): every
            reasoning field but its own carrier is left out.
        vendor: a vendor's own host: reasoning_details observed at another host (OpenRouter's
            shape) never go there.
        bound_to: what an observed reasoning item is bound to: the ``model``, or the model and
            the upstream ``provider`` that served it (a router).
        preserve: the host's switch that makes it keep earlier reasoning (a JSON merge patch
            on the request body), set when ``preserve_reasoning`` is on.
        preserve_models: the model ids (globs) the switch is for (empty: every model).
        preserve_refused: model ids (globs) that refuse the switch: it is never set for them.
        stateless: Responses wire: the host keeps no items between calls whatever the body's
            ``store`` says (a relay that forces ``store: false``; learned from its 404).
        why: the host's rule in words, quoted by ``explain``.
        source: where it is documented.
        sources: where each further rule is documented.
    """

    name: str
    hosts: tuple[str, ...] = ()
    carrier: Carrier = "agent"
    rejects: tuple[str, ...] = ()
    strict: bool = False
    vendor: bool = False
    bound_to: Bound = "model"
    preserve: Mapping[str, Any] = field(factory=dict)
    preserve_models: tuple[str, ...] = ()
    preserve_refused: tuple[str, ...] = ()
    stateless: bool = False
    why: str = ""
    source: str = ""
    sources: Mapping[str, str] = field(factory=dict)

    @property
    def field(self) -> str | None:
        """The one string field this host reads reasoning from (None: no fixed string field;
        Copilot's pair and Mistral's chunks are carriers of their own)."""
        return self.carrier if self.carrier in ("reasoning_content", "reasoning") else None

    @property
    def known(self) -> bool:
        """Whether this is a row of the table (not the unknown host)."""
        return self.name != UNKNOWN_DIALECT.name

    def host_pattern(self, host: str) -> str | None:
        """The first of ``hosts`` that is ``host`` or a parent domain of it, or None."""
        return next((h for h in self.hosts if host == h or host.endswith("." + h)), None)

    def switch_for(self, model: str) -> Mapping[str, Any] | None:
        """The preservation switch for ``model`` (None: no switch, or the model refuses it)."""
        if not self.preserve:
            return None
        if any(fnmatch.fnmatchcase(model, p) for p in self.preserve_refused):
            return None
        if self.preserve_models and not any(
            fnmatch.fnmatchcase(model, p) for p in self.preserve_models
        ):
            return None
        return self.preserve

    def describe(self) -> str:
        """One line saying how this host carries reasoning."""
        carriers = {
            "reasoning_content": "reasoning in reasoning_content",
            "reasoning": "reasoning in reasoning (reasoning_content is ignored or rejected)",
            "pair": "reasoning_text + reasoning_opaque, one unit",
            "details": "reasoning_details",
            "chunks": "thinking chunks inside content",
            "none": "no reasoning field",
            "agent": "the field the agent used, kept as it is",
        }
        text = carriers[self.carrier]
        if self.strict:
            text += "; strict schema (an unknown message field is a 400)"
        if self.rejects:
            text += f"; rejects {', '.join(self.rejects)}"
        if self.bound_to == "provider":
            text += "; reasoning bound to the upstream provider"
        if self.preserve:
            text += f"; preservation switch {_flat(self.preserve)}"
            if self.preserve_models:
                text += f" ({', '.join(self.preserve_models)})"
        return text

    @classmethod
    def from_mapping(cls, data: object, where: str) -> HostDialect:
        """A dialect from its mapping (the schema of the built-in table)."""
        if not isinstance(data, Mapping):
            raise FamilyDefinitionError(where, "expected a mapping")
        check_keys(data, _KEYS, where)
        name = data.get("name")
        if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", name):
            raise FamilyDefinitionError(f"{where}.name", "expected a lowercase name like 'vllm'")
        values = {k: _READERS[k](v, f"{where}.{k}") for k, v in data.items() if k != "name"}
        return cls(name=name, **values)


def _flat(patch: Mapping[str, Any], prefix: str = "") -> str:
    """A merge patch as ``a.b=value`` pairs."""
    parts = []
    for key, value in patch.items():
        if isinstance(value, Mapping):
            parts.append(_flat(value, f"{prefix}{key}."))
        else:
            parts.append(f"{prefix}{key}={value!r}")
    return ", ".join(parts)


def merged(body: Mapping[str, Any], patch: Mapping[str, Any]) -> Mapping[str, Any]:
    """``body`` with ``patch`` merged in (objects merged key by key); a key the body already
    sets is left as the agent set it. The same object when the patch adds nothing."""
    out: dict[str, Any] | None = None
    for key, value in patch.items():
        present = body.get(key)
        if isinstance(value, Mapping) and isinstance(present, Mapping):
            new = merged(present, value)
            if new is present:
                continue
        elif key in body:
            continue
        else:
            new = value
        out = dict(body) if out is None else out
        out[key] = new
    return body if out is None else out


UNKNOWN_DIALECT = HostDialect(
    name="unknown",
    why=(
        "no dialect row knows this host, so the field the agent used is kept as it is (a "
        "restore writes the family's own field); a classified error teaches the host"
    ),
    source="this project's do-no-harm rule for targets it does not know",
)
