"""``bench/mutants.py`` breaks each promised rule in one line; a mutant whose text moved
(``stale``) measures nothing. This catches a stale mutant in the suite, in milliseconds,
before the slow script runs."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _mutants() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_mutants", ROOT / "bench" / "mutants.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_mutants", module)
    spec.loader.exec_module(module)
    return module


MUTANTS = _mutants().MUTANTS


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_the_mutant_still_breaks_its_rule(mutant: object) -> None:
    """Its text is in its file exactly once and the break changes it; its tests exist."""
    path, old, new = mutant.path, mutant.old, mutant.new  # type: ignore[attr-defined]
    source = (ROOT / path).read_text(encoding="utf-8")

    assert 1 == source.count(old), f"stale: update the mutant to the code of {path}"
    assert old != new
    for test in mutant.tests:  # type: ignore[attr-defined]
        assert (ROOT / test.split("::")[0]).is_file()
