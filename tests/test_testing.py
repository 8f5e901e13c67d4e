"""The test helpers users get: the exports of agent.testing, Recorder, and the pytest plugin."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import agent.testing
from agent import Pipeline, Request
from agent.middleware import ThinkingRoundTrip
from agent.testing import Emulator, Recorder
from tests.builders import RELAY, ROOT, A, T, U, anthropic_body, tu

#: The emulators' page of the docs (the README's testing section moved there).
EMULATORS_PAGE = (ROOT / "docs" / "testing.md").read_text(encoding="utf-8")


class TestExports:
    def test_readme_names(self) -> None:
        """The names the docs promise import from agent.testing."""
        names = {"Emulator", "Recorder", "run_tool_loop", "run_tool_loop_async", "FAMILIES"}

        assert names <= set(agent.testing.__all__)
        assert all(hasattr(agent.testing, n) for n in names)

    def test_emulator_repr_hides_its_secret(self) -> None:
        """An emulator's signing secret is never shown."""
        emulator = Emulator("anthropic", secret=b"do-not-show")

        assert "do-not-show" not in repr(emulator)


class TestRecorder:
    def test_records_what_it_sees(self) -> None:
        """Recorder sees each request as it is at its place in the chain."""
        recorder = Recorder()
        pipe = Pipeline([ThinkingRoundTrip(), recorder])
        request = Request(
            api="anthropic_messages",
            base_url=RELAY,
            body=anthropic_body("mimo-v2.5-pro", U(), A(tu("c1")), T("c1")),
        )

        out = pipe(request)

        assert [out.body] == recorder.bodies
        assert "mimo" == recorder.last.match.family.name

    def test_last_without_requests(self) -> None:
        """Asking for the last request before any raises LookupError."""
        with pytest.raises(LookupError):
            _ = Recorder().last


USER_TEST = """
import anthropic
from agent import Pipeline
from agent.integrations.anthropic import PipelineMiddleware
from agent.middleware import ThinkingRoundTrip
from agent.testing.loop import run_tool_loop


def test_my_chain(mimo_emulator, payload_snapshot):
    pipe = Pipeline([ThinkingRoundTrip()])
    client = anthropic.Anthropic(base_url=mimo_emulator.base_url, api_key="k", max_retries=0,
                                 middleware=[PipelineMiddleware(pipe)])
    steps = run_tool_loop(client, [{"role": "user", "content": "go"}], model="mimo-v2.5-pro",
                          max_tokens=100, tools=[{"name": "run", "input_schema": {}}],
                          store=lambda c: [b for b in c if b["type"] != "thinking"])
    assert steps[-1].stop_reason == "end_turn"
    assert mimo_emulator.bodies[-1] == payload_snapshot
"""


class TestPytestPlugin:
    def test_user_suite(self, pytester: pytest.Pytester) -> None:
        """A user's test gets the emulator fixtures and pins its payload with payload_snapshot;
        a changed payload then fails."""
        pytester.makepyfile(test_user=USER_TEST)

        first = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--snapshot-update")
        second = pytester.runpytest_subprocess("-p", "no:cacheprovider")
        snapshots = list(Path(pytester.path).rglob("*.json"))
        snapshots[0].write_text(snapshots[0].read_text().replace("round 4", "round 5"))
        third = pytester.runpytest_subprocess("-p", "no:cacheprovider")

        first.assert_outcomes(passed=1)
        second.assert_outcomes(passed=1)
        third.assert_outcomes(failed=1)
        assert 1 == len(snapshots)


class TestEveryEmulator:
    def test_a_fixture_per_family(self) -> None:
        """The plugin has a <family>_emulator fixture for every family the emulators serve."""
        from agent.testing import pytest_plugin

        names = {n for n in dir(pytest_plugin) if n.endswith("_emulator") and n != "agent_emulator"}

        assert {f"{family}_emulator" for family in agent.testing.FAMILIES} == names

    def test_the_docs_list_every_emulator(self) -> None:
        """The docs' emulators page names every family, its fixture, every relay and every
        host."""
        from agent.testing.emulators.hosts import HOSTS
        from agent.testing.emulators.relays import RELAYS

        section = EMULATORS_PAGE

        assert all(f"`{f}`" in section for f in agent.testing.FAMILIES)
        assert all(f"`{f}_emulator`" in section for f in agent.testing.FAMILIES)
        assert all(f'relay="{r}"' in section for r in RELAYS)
        assert all(f'"{h}"' in section for h in HOSTS)

    def test_gemini_and_openai_fixtures_run(self, pytester: pytest.Pytester) -> None:
        """A user's test gets running gemini and openai emulators from the plugin."""
        pytester.makepyfile(
            test_user="""
import httpx2

def test_both(gemini_emulator, openai_emulator):
    for emulator in (gemini_emulator, openai_emulator):
        reply = httpx2.post(emulator.openai_base_url + "/chat/completions", json={
            "model": "m", "messages": [{"role": "user", "content": "go"}]})
        assert reply.status_code == 200
"""
        )

        pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def _imports(path: Path) -> set[str]:
    """Every module a file imports (at any depth of the file)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


EMULATOR_FILES = sorted((ROOT / "agent" / "testing" / "emulators").glob("*.py"))


class TestIndependentOracle:
    @pytest.mark.parametrize("path", EMULATOR_FILES, ids=[p.name for p in EMULATOR_FILES])
    def test_emulators_import_nothing_they_judge(self, path: Path) -> None:
        """An emulator writes each provider's rule from the evidence: it imports nothing of
        the library but the emulators' own modules (not the middleware, not the family or
        dialect tables it judges), so a wrong rule in the pipeline cannot agree with itself."""
        ours = {m for m in _imports(path) if m == "agent" or m.startswith("agent.")}

        assert set() == {m for m in ours if not m.startswith("agent.testing.emulators")}
