"""Every script under examples/ runs as it is, against the bundled emulators, and completes
its tool loop; the example tests pass; the docs show the examples as they are (included,
not copied)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SCRIPTS = sorted(p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith(("_", "test_")))
TESTS = sorted(p.name for p in EXAMPLES.glob("test_*.py"))
#: Each example gets this long (each takes seconds alone).
TIMEOUT = 300

Finished = dict[str, tuple[int, str]]


def _environment() -> dict[str, str]:
    """The caller's environment without what would send the examples to a real provider."""
    prefixes = ("EXAMPLE_", "ANTHROPIC_", "OPENAI_")
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


def _command(name: str) -> list[str]:
    if name.startswith("test_"):
        return [sys.executable, "-m", "pytest", f"examples/{name}", "-q", "-p", "no:cacheprovider"]
    return [sys.executable, f"examples/{name}"]


def _run(name: str) -> tuple[int, str]:
    try:
        done = subprocess.run(
            _command(name),
            cwd=ROOT,
            env=_environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired as exc:
        return -1, f"{exc.output or ''}\n(killed after {TIMEOUT} s)"
    return done.returncode, done.stdout


@pytest.fixture(scope="module")
def finished() -> Finished:
    """Every example run as a child process, two at a time; its exit code and output."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        names = [*SCRIPTS, *TESTS]
        return dict(zip(names, pool.map(_run, names), strict=True))


class TestExamples:
    def test_there_is_one_per_way_in_and_client(self) -> None:
        """The examples cover the three ways in and every client the docs name."""
        assert [
            "anthropic_sdk.py",
            "gateway_claude_code.py",
            "gateway_hermes.py",
            "langchain_agent.py",
            "openai_sdk.py",
            "own_payloads.py",
            "pydantic_ai_agent.py",
            "transport.py",
        ] == SCRIPTS
        assert ["test_payload_snapshot.py"] == TESTS

    @pytest.mark.parametrize("name", SCRIPTS)
    def test_each_completes_against_the_emulators(self, finished: Finished, name: str) -> None:
        """The script exits 0 after a completed tool loop that the provider refused nowhere."""
        code, output = finished[name]

        assert (0, True, True) == (
            code,
            "completed" in output,
            "(0 refused)" in output,
        ), output

    def test_the_snapshot_example_passes(self, finished: Finished) -> None:
        """The payload snapshot example's tests pass against their stored snapshots."""
        code, output = finished["test_payload_snapshot.py"]

        assert (0, True) == (code, "2 passed" in output), output


def _included() -> set[str]:
    """The files the docs include (pymdownx.snippets' ``--8<--`` lines)."""
    names = set()
    for page in (ROOT / "docs").rglob("*.md"):
        names |= set(re.findall(r'--8<--\s+"([^"]+)"', page.read_text(encoding="utf-8")))
    return names


def test_the_docs_include_every_example() -> None:
    """Each example and the helper they share appear in the docs as the file itself."""
    expected = {f"examples/{name}" for name in [*SCRIPTS, *TESTS, "_upstream.py"]}

    assert set() == expected - _included()


class TestARealProvider:
    def test_the_variables_send_an_example_elsewhere(self) -> None:
        """With EXAMPLE_BASE_URL, EXAMPLE_API_KEY and EXAMPLE_MODEL set, an example calls that
        provider with that key and model (here a provider stood in for by an emulator the
        example did not start)."""
        from agent.testing import Emulator

        with Emulator("deepseek", rounds=2) as provider:
            variables = {
                "EXAMPLE_BASE_URL": provider.openai_base_url,
                "EXAMPLE_API_KEY": "sk-real-looking",
                "EXAMPLE_MODEL": "deepseek-v4-flash",
            }
            done = subprocess.run(
                _command("openai_sdk.py"),
                cwd=ROOT,
                env={**_environment(), **variables},
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
            )

            received = [(r.status, r.body["model"]) for r in provider.log]
            url = provider.openai_base_url

        assert 0 == done.returncode, done.stdout + done.stderr
        assert [(200, "deepseek-v4-flash")] * 3 == received
        assert f"sent to {url}" in done.stdout

    def test_a_variable_missing_is_named(self) -> None:
        """Only some of the three set: the example stops at once, naming those missing."""
        done = subprocess.run(
            _command("anthropic_sdk.py"),
            cwd=ROOT,
            env={**_environment(), "EXAMPLE_BASE_URL": "https://open.markhub.top"},
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )

        assert 1 == done.returncode
        assert "missing: ['EXAMPLE_API_KEY', 'EXAMPLE_MODEL']" in done.stderr


def test_the_docs_python_is_included_not_copied() -> None:
    """Every Python block of the docs is one include line of a file that runs (no copy that
    could drift from the examples)."""
    copied = [
        f"{page.relative_to(ROOT)}: {block[:40]!r}"
        for page in (ROOT / "docs").rglob("*.md")
        for block in re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), re.S)
        if not re.fullmatch(r'--8<-- "examples/[\w./:-]+"\n', block)
    ]

    assert [] == copied
