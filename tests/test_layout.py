"""The layout keeps the shape a newcomer can read: small files, short functions, no import
circle, no module reaching into another's private names."""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "agent"
FILES = sorted(PACKAGE.rglob("*.py"))


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _top_level_imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) of the imports that run at import time: module level, not under
    ``if TYPE_CHECKING``."""
    tree = ast.parse(path.read_text())
    found: list[tuple[str, list[str]]] = []
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, [alias.name for alias in node.names]))
    return found


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_file_and_function_sizes(path: Path) -> None:
    """No file under agent/ over 400 lines, no function over 60."""
    source = path.read_text()
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > 60
    ]
    assert source.count("\n") <= 400
    assert [] == long


def _inside(a: str, b: str) -> bool:
    """One is the other's package: ``agent.middleware`` importing ``agent.middleware.x``."""
    return b.startswith(a + ".") or a.startswith(b + ".")


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import circles of ``graph`` (module -> modules it imports), one per module on
    one; a package importing its own submodules (and they, it) is how packages work."""
    found = []
    for start in sorted(graph):
        stack = [(start, [start])]
        while stack:
            node, trail = stack.pop()
            hits = [n for n in graph.get(node, ()) if n == start]
            if hits:
                circle = [*trail, start]
                if not all(_inside(a, b) for a, b in itertools.pairwise(circle)):
                    found.append(circle)
                    break
            stack += [(n, [*trail, n]) for n in graph.get(node, ()) if n not in trail]
    return found


def test_the_circle_finder() -> None:
    """It finds a circle through two modules, and none between a package and its parts."""
    assert [["a", "b", "a"], ["b", "a", "b"]] == circles({"a": {"b"}, "b": {"a"}})
    assert [] == circles({"p": {"p.x"}, "p.x": {"p"}})
    assert 3 == len(circles({"a": {"b"}, "b": {"c"}, "c": {"a"}}))


def test_no_import_circle() -> None:
    """The modules of agent/ import each other without a circle (at import time)."""
    modules = {_module(p): p for p in FILES}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for module, names in _top_level_imports(path):
            # ``from agent.x import y``: the submodule agent.x.y if there is one, else agent.x
            for candidate in [*(f"{module}.{n}" for n in names), module]:
                if candidate in modules and candidate != name:
                    targets.add(candidate)
                    break
        graph[name] = targets

    assert [] == circles(graph)


def test_no_private_names_across_modules() -> None:
    """No module imports another module's private (underscored) names; private modules
    (``_sse``) are imported whole by name, and only inside their package."""
    offenders = []
    for path in FILES:
        for module, names in _top_level_imports(path):
            if not module.startswith("agent"):
                continue
            offenders += [f"{_module(path)}: {module}.{n}" for n in names if n.startswith("_")]
    assert [] == offenders
