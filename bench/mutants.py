"""Break each rule the README promises, one line at a time, and check that the tests notice.

Each mutant below replaces one piece of text in one file of a copy of the repository (the
rule broken, nothing else) and runs the tests that pin that rule in the copy. A mutant is
``killed`` when those tests fail, ``survived`` when they pass (a rule the suite would let
break: write the test that catches it), and ``stale`` when its text is no longer in the file
exactly once (the code moved: update the mutant to break the rule as it is now). The script
exits non-zero unless every mutant is killed; the unmutated copy must pass the same tests
first, or nothing is measured.

Usage: python bench/mutants.py [--jobs N] [--list] [NAME ...]
    NAME: run only the mutants whose name contains NAME (default: all of them).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mutant_cases import MUTANTS, Mutant  # (the rules broken, beside this script)

ROOT = Path(__file__).resolve().parent.parent
#: What a copy holds (the tests read the README, the examples, pyproject.toml and LICENSE).
COPIED = ("agent", "tests", "examples", "pyproject.toml", "README.md", "CHANGELOG.md", "LICENSE")
_IGNORED = shutil.ignore_patterns("__pycache__", ".hypothesis", "*.pyc")
__all__ = ["MUTANTS", "Mutant", "main"]


def _copy(into: Path) -> None:
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, into / name, ignore=_IGNORED)
        else:
            shutil.copy2(source, into / name)


def _pytest(root: Path, tests: Iterable[str]) -> subprocess.CompletedProcess[str]:
    """The tests, run in the copy at ``root`` (its ``agent`` first on the path)."""
    env = {**os.environ, "PYTHONPATH": str(root), "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider"]
    plugins = ["-p", "no:langsmith_plugin", "-p", "no:hypothesispytest"]  # (start-up time)
    return subprocess.run(
        [*command, *plugins, *tests],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def apply(mutant: Mutant, root: Path) -> bool:
    """Break the rule in the copy at ``root``; False when the text is not there exactly once."""
    path = root / mutant.path
    source = path.read_text(encoding="utf-8")
    if source.count(mutant.old) != 1:
        return False
    path.write_text(source.replace(mutant.old, mutant.new), encoding="utf-8")
    return True


def outcome(mutant: Mutant) -> str:
    """``killed``, ``survived`` or ``stale`` (or ``error``: pytest could not run)."""
    with tempfile.TemporaryDirectory(prefix="mutant-") as folder:
        root = Path(folder)
        _copy(root)
        if not apply(mutant, root):
            return "stale"
        code = _pytest(root, mutant.tests).returncode
    return {0: "survived", 1: "killed"}.get(code, "error")


def baseline(mutants: Sequence[Mutant]) -> subprocess.CompletedProcess[str]:
    """The mutants' tests on an unmutated copy (they must pass, or nothing is measured)."""
    tests = sorted({t for m in mutants for t in m.tests})
    with tempfile.TemporaryDirectory(prefix="mutant-") as folder:
        _copy(Path(folder))
        return _pytest(Path(folder), tests)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="run the mutants whose name contains one")
    parser.add_argument("--jobs", type=int, default=2, help="mutants run at once (default 2)")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    args = parser.parse_args(argv)
    chosen = [m for m in MUTANTS if not args.names or any(n in m.name for n in args.names)]
    if args.list or not chosen:
        for mutant in chosen:
            print(f"{mutant.path}: {mutant.name}")
        return 0 if chosen else 2
    started = time.perf_counter()
    clean = baseline(chosen)
    if clean.returncode != 0:
        print(clean.stdout[-3000:], file=sys.stderr)
        print("the unmutated tests fail: nothing to measure", file=sys.stderr)
        return 1
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(outcome, chosen))
    for mutant, result in zip(chosen, results, strict=True):
        print(f"{result:<8}  {mutant.name}  ({mutant.path})")
    killed = results.count("killed")
    seconds = time.perf_counter() - started
    print(f"{killed} of {len(chosen)} mutants killed in {seconds:.0f} s")
    return 0 if killed == len(chosen) else 1


if __name__ == "__main__":
    sys.exit(main())
