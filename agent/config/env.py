"""Environment variables a config refers to: every one that is not set, found in one load.

``${VAR}`` in a value and ``api_key_env: VAR`` (hermes: ``key_env``) name variables. A load
does not stop at the first that is not set: it records each with its entry and line and, at the
end, names them all in one error; with ``require_env=False`` (``check --no-env``) it names none
and keeps the value as written, so a config can be validated without its secrets.
"""

from __future__ import annotations

import os

from agent.config.parse import VAR, Lines, Reader, bounded
from agent.errors import ConfigError

#: At most this many variables are named in one error (a config has a few).
MAX_NAMED = 20


class EnvReader(Reader):
    """A Reader that records the variables that are not set instead of stopping at the first.

    Attributes:
        missing: (variable, where) of each reference to a variable that is not set, in order.
    """

    def __init__(self, path: str, lines: Lines) -> None:
        super().__init__(path, lines)
        self.missing: list[tuple[str, str]] = []
        self._errors: list[ConfigError] = []
        self._unresolved: set[str] = set()

    def interpolate(self, value: str, where: str, parent: object, key: str) -> str:
        """``value`` with its variables filled in; as written when one of them is not set
        (recorded, and ``where`` counted as unresolved)."""
        absent = [name for name in VAR.findall(value) if name not in os.environ]
        if not absent:
            return super().interpolate(value, where, parent, key)
        # the rest is still checked (a ${...} that names no variable is an error of its own)
        rest = VAR.sub(lambda found: "" if found[1] in absent else found[0], value)
        super().interpolate(rest, where, parent, key)
        for name in dict.fromkeys(absent):
            self.not_set(name, where, parent, key, f"(used as ${{{bounded(name)}}})")
        return value

    def not_set(self, name: str, where: str, parent: object, key: str, how: str) -> None:
        """Record that variable ``name``, referred to at ``where``, is not set."""
        self.missing.append((name, where))
        self._unresolved.add(where)
        problem = f"environment variable {bounded(name)} is not set {how}".rstrip()
        self._errors.append(self.error(where, problem, parent, key))

    def unresolved(self, where: str) -> bool:
        """Whether the value at ``where`` refers to a variable that is not set."""
        return where in self._unresolved

    def check_env(self) -> None:
        """Raise one ConfigError naming every variable that is not set (the single one's own
        error when there is one)."""
        if len(self._errors) == 1:
            raise self._errors[0]
        if self._errors:
            named = [
                f"{bounded(name)} ({where}" + (f", line {error.line})" if error.line else ")")
                for (name, where), error in zip(self.missing, self._errors, strict=True)
            ]
            more = len(named) - MAX_NAMED
            listed = "; ".join(named[:MAX_NAMED]) + (f"; and {more} more" if more > 0 else "")
            raise ConfigError(
                self.path, f"{len(named)} environment variables are not set: {listed}"
            )
