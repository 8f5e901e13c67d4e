"""What a stranger installs: the distribution's name, its version, its licence and changelog,
the extras an integration names when it is missing, and an editable install type checkers see."""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

import agent
from agent import MissingExtra
from agent.cli import main
from tests.builders import ROOT

NAME = "thinking-round-trip"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
README = (ROOT / "README.md").read_text(encoding="utf-8")
#: Where the README's install details moved: the docs' install page.
INSTALL = (ROOT / "docs" / "install.md").read_text(encoding="utf-8")


class TestWarnings:
    def test_an_unclosed_resource_fails_every_run(self) -> None:
        """pytest's own settings make a ResourceWarning an error (and the warning pytest
        turns one raised while an object is collected into), so the README's test command
        and CI both fail on a socket, file or event loop left open."""
        filters = PYPROJECT["tool"]["pytest"]["ini_options"]["filterwarnings"]

        assert {"error::ResourceWarning", "error::pytest.PytestUnraisableExceptionWarning"} <= set(
            filters
        )


class TestName:
    def test_the_distribution_of_agent(self) -> None:
        """The import package agent is installed by the thinking-round-trip distribution."""
        top_level = metadata.distribution(NAME).read_text("top_level.txt") or ""

        assert ["agent"] == top_level.split()
        assert NAME == PYPROJECT["project"]["name"]

    def test_the_console_script_is_named_like_it(self) -> None:
        """The one console script is called like the distribution and runs the CLI."""
        scripts = {e.name: e.value for e in metadata.entry_points(group="console_scripts")}

        assert "agent.cli:main" == scripts[NAME]
        assert {NAME: "agent.cli:main"} == PYPROJECT["project"]["scripts"]

    def test_readme_installs_it_by_name(self) -> None:
        """Every install line of the README and the docs' install page names the distribution
        (or the clone, '.'), and every extra they name exists, the docs extra too; none
        installs the index's unrelated 'agent'."""
        text = README + INSTALL
        extras = set(PYPROJECT["project"]["optional-dependencies"])
        named = re.findall(r"thinking-round-trip\[([\w-]+)\]", text)
        lines = [line for line in text.splitlines() if "install " in line and "pip" in line]

        assert set(named) <= extras
        assert {"openai", "pydantic-ai", "langchain", "gateway", "redis", "docs"} <= set(named)
        assert [] == re.findall(r"['\"]agent\[", text)
        assert all(NAME in line or "'.[" in line for line in lines), lines

    def test_readme_recommends_an_isolated_gateway_install(self) -> None:
        """The README installs the gateway with pipx / uv tool and says why (hermes' own
        top-level agent package)."""
        assert f"pipx install '{NAME}[gateway]'" in README
        assert f"uv tool install '{NAME}[gateway]'" in README
        assert "hermes-agent\nships a top-level package of its own called `agent`" in README


class TestVersion:
    def test_version_from_metadata(self) -> None:
        """agent.__version__ is the installed distribution's version."""
        assert metadata.version(NAME) == agent.__version__

    def test_version_option(self, capsys: pytest.CaptureFixture[str]) -> None:
        """--version prints the distribution and its version and exits 0."""
        with pytest.raises(SystemExit) as exit_:
            main(["--version"])

        assert 0 == exit_.value.code
        assert f"{NAME} {metadata.version(NAME)}\n" == capsys.readouterr().out


class TestLicenceAndChangelog:
    def test_mit_licence(self) -> None:
        """LICENSE holds the MIT licence pyproject names, and the distribution ships it."""
        text = (ROOT / "LICENSE").read_text(encoding="utf-8")

        assert "MIT" == PYPROJECT["project"]["license"]
        assert text.startswith("MIT License")
        assert "Permission is hereby granted, free of charge" in text
        assert ["LICENSE"] == PYPROJECT["project"]["license-files"]

    def test_changelog_marks_behaviour_changes(self) -> None:
        """CHANGELOG.md has a section for the current version and marks behaviour changes,
        among them foreign: drop now padding."""
        text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
        version = PYPROJECT["project"]["version"]
        section = text.split(f"## {version}", 1)[1].split("\n## ", 1)[0]

        changes = [line for line in section.splitlines() if "**Behaviour change**" in line]
        assert len(changes) >= 5
        assert any("foreign: drop" in line for line in changes)


#: (the extra, the module that needs it, a package the extra installs)
EXTRAS = [
    ("openai", "agent.integrations.openai", "openai"),
    ("pydantic-ai", "agent.integrations.pydantic_ai", "pydantic_ai"),
    ("langchain", "agent.integrations.langchain", "langchain_openai"),
]


class TestMissingExtras:
    @pytest.mark.parametrize(("extra", "module", "package"), EXTRAS, ids=[e[0] for e in EXTRAS])
    def test_an_integration_names_its_extra(
        self, monkeypatch: pytest.MonkeyPatch, extra: str, module: str, package: str
    ) -> None:
        """Importing an integration without its extra raises MissingExtra (a
        ModuleNotFoundError) naming the pip command, not a raw ModuleNotFoundError."""
        for name in [n for n in sys.modules if n.startswith(f"{package}.")]:
            monkeypatch.setitem(sys.modules, name, None)
        monkeypatch.setitem(sys.modules, package, None)  # as if it were not installed
        monkeypatch.delitem(sys.modules, module, raising=False)

        with pytest.raises(MissingExtra) as info:
            importlib.import_module(module)

        assert isinstance(info.value, ModuleNotFoundError)
        assert extra == info.value.extra
        assert f"pip install '{NAME}[{extra}]'" in str(info.value)

    def test_the_redis_store_names_its_extra(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A RedisStore without the redis package names the redis extra."""
        from agent.redis_store import RedisStore

        monkeypatch.setitem(sys.modules, "redis", None)

        with pytest.raises(MissingExtra, match=re.escape(f"pip install '{NAME}[redis]'")):
            RedisStore("redis://127.0.0.1:1/0")

    def test_serve_names_its_extra(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        """serve without the gateway's server stack exits 1 naming the gateway extra."""
        config = tmp_path / "agent.yaml"
        config.write_text("providers: {p: {base_url: 'https://x.example', api_mode: responses}}\n")
        for name in [n for n in sys.modules if n == "starlette" or n.startswith("starlette.")]:
            monkeypatch.setitem(sys.modules, name, None)
        monkeypatch.setitem(sys.modules, "starlette", None)
        monkeypatch.delitem(sys.modules, "agent.gateway", raising=False)

        code = main(["serve", "--config", str(config)])

        assert 1 == code
        assert f"pip install '{NAME}[gateway]'" in capsys.readouterr().err


def _editable() -> bool:
    """Whether the distribution is installed in editable mode (pip's direct_url.json)."""
    for found in metadata.distributions(name=NAME):
        direct = found.read_text("direct_url.json")
        if direct and json.loads(direct).get("dir_info", {}).get("editable"):
            return True
    return False


class TestEditableInstall:
    @pytest.mark.skipif(not _editable(), reason="not an editable install")
    def test_mypy_finds_the_package_outside_the_repository(self, tmp_path: Path) -> None:
        """After pip install -e, mypy run in another project finds agent (a plain path entry,
        not an import hook mypy cannot follow)."""
        (tmp_path / "app.py").write_text("import agent\nimport agent.testing\n", encoding="utf-8")

        result = subprocess.run(
            [sys.executable, "-m", "mypy", "--no-incremental", "--follow-imports=skip", "app.py"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )

        assert 0 == result.returncode, result.stdout
        assert "import-not-found" not in result.stdout
