"""What the package is called on the package index, its version, and how to install an extra.

The import package is ``agent``; the distribution (``pip install``, the console script) is
``thinking-round-trip``: the index's ``agent`` and ``agent-pipeline`` are other people's code.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from agent.errors import MissingExtra

#: The distribution's name on the package index, and the console script's.
DISTRIBUTION = "thinking-round-trip"


def installed_version() -> str:
    """The installed distribution's version (its metadata), ``0+unknown`` when the package
    runs from a source tree that was never installed."""
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "0+unknown"


def install_hint(extra: str) -> str:
    """The command that installs one extra: ``pip install 'thinking-round-trip[openai]'``."""
    return f"pip install '{DISTRIBUTION}[{extra}]'"


def missing_extra(extra: str, feature: str, error: ImportError) -> MissingExtra:
    """The error to raise when ``feature`` could not import what ``extra`` installs."""
    what = f" ({error.name} is not installed)" if error.name else ""
    problem = f"{feature} needs the {extra!r} extra{what}: {install_hint(extra)}"
    return MissingExtra(extra, problem, name=error.name)
