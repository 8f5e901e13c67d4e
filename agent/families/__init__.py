"""Model families: the table that says what each provider wants back, and how a target is matched;
host dialects: the table that says how each host carries it (``dialects``).

A family is data: its name, model-id patterns, host patterns and one thinking contract per wire
(``contracts``). The built-in table (``builtin``) is written in the same schema a config file's
``families:`` entries use and goes through the same parser; ``registry`` holds detection.
"""

from agent.families.builtin import BUILTIN_FAMILY_DATA
from agent.families.contracts import AnthropicContract, ChatContract
from agent.families.dialects import UNKNOWN_DIALECT, HostDialect
from agent.families.family import UNKNOWN, FamilyMatch, ModelFamily, Rule
from agent.families.registry import FamilyRegistry
from agent.wire import APIS, OFFICIAL_HOSTS, Api, host_of, normalize_model

__all__ = [
    "APIS",
    "BUILTIN_FAMILY_DATA",
    "OFFICIAL_HOSTS",
    "UNKNOWN",
    "UNKNOWN_DIALECT",
    "AnthropicContract",
    "Api",
    "ChatContract",
    "FamilyMatch",
    "FamilyRegistry",
    "HostDialect",
    "ModelFamily",
    "Rule",
    "host_of",
    "normalize_model",
]
