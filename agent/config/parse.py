"""Parsing a config file into plain data, and the reader that turns problems into errors.

The file is read only when it is a regular file within ``MAX_CONFIG_BYTES`` (``read_file``).
YAML keeps the line of every mapping and key, so an error names ``file:line``; a parser's own
message is cut to its position and problem, and a token it quotes (an alias, a tag, an anchor:
any may be a key written there) is left out; a value that does not fit its core tag (``!!int
sk-...``) is an error naming the tag, not PyYAML's raw exception quoting the value. YAML aliases
are measured on the parsed nodes before any value is built: a document whose aliases would
expand to more than ``MAX_ALIAS_VALUES`` extra values (a "billion laughs"), that refers to
itself, or that nests deeper than the library's one bound (``MAX_DEPTH``) once expanded is
refused whole, so no field's check ever meets an expanding value.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from agent.errors import ConfigError, UnreadableFile, shown
from agent.inputs import MAX_DEPTH, TOO_DEEP, read_file, too_deep

VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_REFERENCE = re.compile(r"\$\{[^}]*\}")
Lines = dict[int, tuple[int, dict[str, int]]]
#: A config is a few kilobytes; anything this large is not one.
MAX_CONFIG_BYTES = 4_000_000
#: How many values YAML aliases may add to a document when expanded (a defaults block reused by
#: every provider adds a few hundred; a "billion laughs" adds billions).
MAX_ALIAS_VALUES = 10_000


class Refused(yaml.YAMLError):
    """A YAML document refused before any value is built: the problem and where."""

    def __init__(self, problem: str, mark: yaml.Mark | None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.mark = mark


#: what PyYAML's constructors raise, raw, for a value that does not fit an explicit core tag
_UNFIT = (ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError)


def _tag(node: yaml.Node) -> str:
    """A core tag as written (``!!int``); any other tag is not shown (it may be a key)."""
    name = str(node.tag).removeprefix("tag:yaml.org,2002:")
    return f"!!{name}" if name.isalpha() and len(name) <= 12 else "(not shown)"


class LineLoader(yaml.SafeLoader):
    """A YAML loader that remembers the line of every mapping and of each of its keys."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.lines: Lines = {}
        self.depth = 0

    def compose_sequence_node(self, anchor: Any) -> yaml.SequenceNode:
        self._enter()
        try:
            return super().compose_sequence_node(anchor)
        finally:
            self.depth -= 1

    def compose_mapping_node(self, anchor: Any) -> yaml.MappingNode:
        self._enter()
        try:
            return super().compose_mapping_node(anchor)
        finally:
            self.depth -= 1

    def _enter(self) -> None:
        """One level deeper while composing: refused past the bound, before Python's own
        recursion limit is anywhere near."""
        if self.depth >= MAX_DEPTH:
            raise Refused(TOO_DEEP, self.peek_event().start_mark)  # type: ignore[no-untyped-call]
        self.depth += 1

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except _UNFIT:
            # a core tag (!!int, !!timestamp, !!set, ...) on a value it cannot read: PyYAML's
            # own error is a raw exception quoting the value
            raise Refused(
                f"a value that does not fit its tag {_tag(node)}", node.start_mark
            ) from None

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        keys: dict[str, int] = {}
        for key, _ in node.value:
            if not isinstance(key, yaml.ScalarNode):
                continue  # a collection as a key: the constructor refuses it
            if str(key.value) in keys:  # YAML would silently keep the last one
                raise Refused(f"duplicate key {str(key.value)[:60]!r}", key.start_mark)
            keys[str(key.value)] = key.start_mark.line + 1
        mapping = super().construct_mapping(node, deep=deep)
        self.lines[id(mapping)] = (node.start_mark.line + 1, keys)
        return mapping


def _construct_mapping(loader: LineLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    return loader.construct_mapping(node, deep=True)


LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class Reader:
    """Walks the parsed document, producing errors that name file, entry and line."""

    def __init__(self, path: str, lines: Lines) -> None:
        self.path = path
        self.lines = lines

    def error(
        self, where: str, problem: str, at: object = None, key: str | None = None
    ) -> ConfigError:
        line = None
        if at is not None and id(at) in self.lines:
            start, keys = self.lines[id(at)]
            line = keys.get(key, start) if key is not None else start
        return ConfigError(self.path, problem, entry=where, line=line)

    def mapping(
        self, value: object, where: str, parent: object, key: str | None
    ) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.error(where, f"expected a mapping, got {kind_of(value)}", parent, key)
        return value

    def string(
        self, value: object, where: str, parent: object, key: str, secret: bool = False
    ) -> str:
        if not isinstance(value, str):
            shown = "a value" if secret else kind_of(value)
            raise self.error(where, f"expected a string, got {shown}", parent, key)
        return value

    def interpolate(self, value: str, where: str, parent: object, key: str) -> str:
        def sub(found: re.Match[str]) -> str:
            name = found.group(1)
            if name not in os.environ:
                shown_name = bounded(name)
                raise self.error(
                    where,
                    f"environment variable {shown_name} is not set (used as ${{{shown_name}}})",
                    parent,
                    key,
                )
            return os.environ[name]

        for found in _REFERENCE.finditer(value):
            if not VAR.fullmatch(found.group(0)):  # not echoed: it may be a key written there
                raise self.error(
                    where,
                    "a ${...} that names no environment variable (letters, digits and _)",
                    parent,
                    key,
                )
        return VAR.sub(sub, value)


def bounded(name: str) -> str:
    """A name from the config (an environment variable's) as an error shows it: at most 60
    characters."""
    return name if len(name) <= 60 else name[:57] + "..."


def kind_of(value: object) -> str:
    names = {
        dict: "a mapping",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        type(None): "nothing (null)",
    }
    for kind, name in names.items():
        if isinstance(value, kind):
            return name  # never the value: a key written in the wrong place is a string too
    return type(value).__name__


def near(key: str, known: Sequence[str]) -> str | None:
    match = difflib.get_close_matches(key, known, n=1, cutoff=0.8)
    return match[0] if match and match[0] != key else None


def parse(path: Path) -> tuple[Any, Lines]:
    suffix = path.suffix.lower()
    file = str(path)
    try:
        raw = read_file(path, MAX_CONFIG_BYTES)
    except UnreadableFile as exc:
        raise ConfigError(file, exc.problem) from None
    try:  # (newlines read as text mode reads them, as before)
        text = raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as exc:
        raise ConfigError(file, f"not UTF-8 text (byte {exc.start})") from None
    try:
        return _parse_text(file, suffix, text)
    except RecursionError:  # (the bounds below come first; this is the last guard)
        raise ConfigError(file, TOO_DEEP) from None


def _parse_text(file: str, suffix: str, text: str) -> tuple[Any, Lines]:
    if suffix in (".yaml", ".yml"):
        return _parse_yaml(file, text)
    if suffix == ".toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(file, f"TOML syntax: {exc}") from None
        if too_deep(data):  # the one bound (a YAML document is measured on its nodes)
            raise ConfigError(file, TOO_DEEP)
        return data, {}
    raise ConfigError(file, f"unknown config format {shown(suffix)} (use .yaml, .yml or .toml)")


def _parse_yaml(file: str, text: str) -> tuple[Any, Lines]:
    loader = LineLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, loader.lines
        check_aliases(node)
        return loader.construct_document(node), loader.lines
    except Refused as exc:
        line = exc.mark.line + 1 if exc.mark else None
        raise ConfigError(file, exc.problem, line=line) from None
    except yaml.MarkedYAMLError as exc:
        # the parser's own message quotes the offending line and tokens, which may hold a
        # secret: keep the position and the problem only, without what it quotes
        mark = exc.problem_mark or exc.context_mark
        raise ConfigError(
            file,
            f"YAML syntax: {unquoted(exc.problem or exc.context or '')}",
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(file, f"YAML syntax: {type(exc).__name__}") from None
    except _UNFIT:  # a core tag on a top-level document it cannot read
        raise ConfigError(file, "YAML: a value that does not fit its tag") from None
    finally:
        loader.dispose()


#: a token PyYAML quotes in a message ('...' or "..." as repr writes it)
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
#: what may stay: a token kind ('<block end>') or one character ('\t', ':')
_HARMLESS = re.compile(r"(['\"])(?:<[a-z ]+>|\\?[^\\]|\\(?:x[0-9a-f]{2}|u[0-9a-f]{4}))\1")


def unquoted(problem: str) -> str:
    """A parser's message without the tokens it quotes (an alias or tag name, a scalar: any
    may be a key written there); a token kind or a single character stays."""
    kept = _QUOTED.sub(lambda m: m[0] if _HARMLESS.fullmatch(m[0]) else "", problem)
    return re.sub(r" +([;,:)]|$)", r"\1", re.sub(r"  +", " ", kept)).strip()


def check_aliases(root: yaml.Node) -> None:
    """Refuse (``Refused``) a node graph whose aliases would expand to more than
    ``MAX_ALIAS_VALUES`` extra values, that refers to itself, or that nests deeper than
    ``MAX_DEPTH`` once expanded: measured on the nodes (each counted once), nothing built."""
    order = _post_order(root)
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    cap = len(order) + MAX_ALIAS_VALUES
    for node in order:
        children = _children(node)
        size[id(node)] = min(cap + 1, 1 + sum(size[id(c)] for c in children))
        nested = max((depth[id(c)] for c in children), default=0)
        depth[id(node)] = nested + (0 if isinstance(node, yaml.ScalarNode) else 1)
        if size[id(node)] > cap:
            raise Refused(
                f"YAML aliases here expand to more than {MAX_ALIAS_VALUES:,} values "
                "(an alias bomb?); write the values out",
                node.start_mark,
            )
        if depth[id(node)] > MAX_DEPTH:
            raise Refused(TOO_DEEP + " (with its aliases expanded)", node.start_mark)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _post_order(root: yaml.Node) -> list[yaml.Node]:
    """Every distinct node once, children before their parents; Refused on a cycle (an
    anchored collection that holds an alias of itself)."""
    order: list[yaml.Node] = []
    done: set[int] = set()
    open_: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        if finished:
            open_.discard(id(node))
            done.add(id(node))
            order.append(node)
            continue
        if id(node) in done:
            continue
        if id(node) in open_:
            raise Refused("a YAML alias refers to the collection it is in", node.start_mark)
        open_.add(id(node))
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in done)
    return order
