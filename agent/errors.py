"""Every exception the library raises lives here."""

from __future__ import annotations


class AgentError(Exception):
    """Base class of every error raised by the library."""


class InvalidRequest(AgentError, ValueError):
    """A request body is not the JSON shape its wire API expects; the message names the path."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}" if path else problem)


class UnknownFamily(AgentError, LookupError):
    """A family was named (in a request or a config) that no registry entry defines."""


class FamilyDefinitionError(AgentError, ValueError):
    """A model-family definition is malformed; the message names the field."""


class ThinkingContractError(AgentError):
    """A request cannot satisfy its provider's thinking contract and the policy says raise."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}")


class ConfigError(AgentError, ValueError):
    """A config file is invalid; the message names the file, the entry and what is wrong."""
