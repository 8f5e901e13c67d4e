"""agent.inputs: the one nesting bound for JSON text the library decodes, and the one reader of
files a path names (regular files only, bounded)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agent import ConfigError, load_config
from agent.errors import UnreadableFile
from agent.inputs import MAX_DEPTH, decode_at, loads, read_file, too_deep
from agent.integrations import _sse
from tests.test_hostile_inputs import SPECIAL, nested, special


class TestDecodeBound:
    @pytest.mark.parametrize("kind", ["list", "object"])
    def test_the_bound_itself(self, kind: str) -> None:
        """Text nesting MAX_DEPTH levels decodes; one level more is refused as no JSON."""
        assert json.loads(nested(MAX_DEPTH, kind)) == loads(nested(MAX_DEPTH, kind))

        with pytest.raises(ValueError, match="nested too deeply"):
            loads(nested(MAX_DEPTH + 1, kind))

    @pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 1_000, 10_000, 1_000_000])
    def test_any_depth_is_a_value_error(self, depth: int) -> None:
        """However deep (far beyond Python's recursion limit), the answer is a ValueError."""
        for text in (nested(depth), nested(depth).encode()):
            with pytest.raises(ValueError, match="nested too deeply"):
                loads(text)
        with pytest.raises(ValueError, match="nested too deeply"):
            decode_at("x" + nested(depth), 1)

    @pytest.mark.parametrize("depth", [MAX_DEPTH, MAX_DEPTH + 1])
    def test_small_texts_of_both_kinds(self, depth: int) -> None:
        """A small text (its brackets counted before any walk) nesting arrays and objects by
        turns is held to the same bound, as text and as bytes, and from any start."""
        text = "0"
        for level in range(depth):
            text = f"[{text}]" if level % 2 else '{"a":' + text + "}"
        assert len(text) < 4096
        for value in (text, text.encode()):
            if depth > MAX_DEPTH:
                with pytest.raises(ValueError, match="nested too deeply"):
                    loads(value)
            else:
                assert json.loads(text) == loads(value)
        if depth > MAX_DEPTH:
            with pytest.raises(ValueError, match="nested too deeply"):
                decode_at('{"x": 1} ' + text, 9)
        else:
            assert decode_at('{"x": 1} ' + text, 9)[1] == 9 + len(text)

    def test_decode_at(self) -> None:
        """decode_at reads one value where it starts and says where it ends."""
        assert ([[1]], 6) == decode_at("x[[1]] tail", 1)

    def test_too_deep(self) -> None:
        """too_deep counts levels of lists and dicts; a value that holds itself is too deep."""
        holder: dict[str, Any] = {}
        holder["self"] = holder

        assert not too_deep(json.loads(nested(MAX_DEPTH)))
        assert too_deep(json.loads(nested(MAX_DEPTH + 1)))
        assert too_deep(holder)

    def test_the_integrations_decoder_at_the_bound(self) -> None:
        """The integrations' decoder reads text as deep as the bound and no deeper."""
        assert _sse.loads(nested(MAX_DEPTH).encode()) is not None
        assert _sse.loads(nested(MAX_DEPTH + 1).encode()) is None

    @pytest.mark.parametrize("suffix", [".yaml", ".toml"])
    def test_config_at_the_bound(self, tmp_path: Path, suffix: str) -> None:
        """A config as deep as the bound loads (the document is one level); one more fails."""
        path = tmp_path / f"agent{suffix}"
        key = "a: " if suffix == ".yaml" else "a = "
        provider = (
            "providers: {p: {base_url: 'https://x.example', model: m}}\n"
            if suffix == ".yaml"
            else '[providers.p]\nbase_url = "https://x.example"\nmodel = "m"\n'
        )
        path.write_text(key + nested(MAX_DEPTH - 1) + "\n" + provider)
        load_config(path)

        path.write_text(key + nested(MAX_DEPTH) + "\n" + provider)
        with pytest.raises(ConfigError, match="nested too deeply"):
            load_config(path)

    def test_yaml_aliases_count_toward_the_bound(self, tmp_path: Path) -> None:
        """An alias puts its value where it stands: the depth counted is the expanded one."""
        half = MAX_DEPTH // 2 + 1
        path = tmp_path / "agent.yaml"
        path.write_text(f"a: &a {nested(half)}\nb: {'[' * half}*a{']' * half}\n")

        with pytest.raises(ConfigError, match="nested too deeply"):
            load_config(path)


class TestReadFile:
    @pytest.mark.parametrize("kind", SPECIAL)
    def test_only_regular_files(self, tmp_path: Path, kind: str) -> None:
        """read_file refuses anything but a regular file, without waiting for a writer."""
        with special(tmp_path, kind) as path, pytest.raises(UnreadableFile, match="regular"):
            read_file(path, 1000)

    def test_bounds(self, tmp_path: Path) -> None:
        """A regular file is read whole up to the limit and refused above it."""
        path = tmp_path / "f"
        path.write_bytes(b"x" * 10)

        assert b"x" * 10 == read_file(path, 10)
        with pytest.raises(UnreadableFile, match="larger than 9 bytes"):
            read_file(path, 9)
        with pytest.raises(UnreadableFile, match="cannot read"):
            read_file(tmp_path / "missing", 9)
