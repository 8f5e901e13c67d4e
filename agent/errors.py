"""Every exception the library raises lives here.

Each carries *where* (a JSON path, a config entry, an option name) and *what is wrong* as
fields, so callers read ``error.where`` / ``error.problem`` instead of parsing the message.
"""

from __future__ import annotations

import reprlib
from collections.abc import Mapping


class AgentError(Exception):
    """Base class of every error the library raises.

    Attributes:
        where: the JSON path, option or config entry at fault ('' when the whole thing is).
        problem: what is wrong, in words.
    """

    def __init__(self, where: str, problem: str) -> None:
        self.where = where
        self.problem = problem
        super().__init__(f"{where}: {problem}" if where else problem)


class InvalidRequest(AgentError, ValueError):
    """A request body is not the JSON shape its wire API expects; ``where`` is the JSON path."""

    @property
    def path(self) -> str:
        """The JSON path at fault (the same as ``where``)."""
        return self.where


class InvalidResponse(AgentError, TypeError):
    """What was given to ``Pipeline.observe`` as a response is neither the response JSON (a
    mapping) nor an SDK response object; ``where`` is ``response``."""


class InvalidOption(AgentError, ValueError, TypeError):
    """A middleware, pipeline or store option has a bad value; ``where`` names the option."""


class UnknownFamily(AgentError, LookupError):
    """A family was named (in a request or a config) that no registry entry defines."""


class FamilyDefinitionError(AgentError, ValueError):
    """A model-family definition is malformed; ``where`` names the field."""


class ThinkingContractError(AgentError):
    """A request cannot satisfy its provider's thinking contract and the policy says raise."""

    @property
    def path(self) -> str:
        """The JSON path at fault (the same as ``where``)."""
        return self.where


class UnreadableFile(AgentError):
    """A file named by a path is not a regular file of a sane size, or cannot be read;
    ``where`` is the path (callers turn it into their own error: ConfigError, a CLI line)."""


class StoreError(AgentError, OSError):
    """A store cannot use its file; ``where`` is the path."""


class MissingExtra(AgentError, ModuleNotFoundError):
    """An optional integration was used without the extra that installs its dependencies;
    the message names the command (``pip install 'thinking-round-trip[openai]'``).

    Attributes:
        extra: the extra to install (``openai``, ``pydantic-ai``, ``langchain``, ``gateway``,
            ``redis``).
    """

    def __init__(self, extra: str, problem: str, name: str | None = None) -> None:
        super().__init__("", problem)
        self.extra = extra
        self.name = name


class ConfigError(AgentError, ValueError):
    """A config file is invalid: the file, the line (when known), the entry and the problem.

    Attributes:
        file: the config file.
        line: the line (YAML, and parser errors), if known.
        column: the column (parser errors), if known.
        entry: the entry at fault (``providers.bad.api_mode``), '' for the whole file.
    """

    def __init__(
        self,
        file: str,
        problem: str,
        *,
        entry: str = "",
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.file = file
        self.line = line
        self.column = column
        self.entry = entry
        location = file
        if line is not None:
            location += f":{line}" + (f":{column}" if column is not None else "")
        super().__init__(f"{location}: {entry}" if entry else location, problem)


_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxstring, _SHORT.maxother, _SHORT.maxlist, _SHORT.maxdict = 2, 60, 60, 4, 4


def shown(value: object) -> str:
    """A bad value a person chose as a word or a number (an option, a family or middleware name,
    a file suffix), for an error message: a scalar as a bounded ``repr``; a value that holds
    others (a list, a mapping) only by its kind, since it may hold a key. Never for user data (a
    request body): that is named by ``json_kind`` alone."""
    if value is None or isinstance(value, str | int | float):
        return _SHORT.repr(value)
    return json_kind(value)


_KINDS: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (bool, "a boolean"),
    ((int, float), "a number"),
    (str, "a string"),
    (list, "a list"),
    (Mapping, "an object"),
    (type(None), "null"),
)


def json_kind(value: object) -> str:
    """What a bad value in user data is, in JSON's words (``an object``, ``a list``, ``a
    string``, ``a number``, ``a boolean``, ``null``; anything else by its Python type), for an
    error that names the JSON path and the type found, never the value (it may hold a key)."""
    for types, name in _KINDS:
        if isinstance(value, types):
            return name
    return f"a {type(value).__name__}"
