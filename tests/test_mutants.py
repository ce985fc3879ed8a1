"""Every single-bug mutant loses points in its own task only, with a hint that names the bug.

The mutants (the course's corpus, ``mutants/attention/``: ``_base.py`` plus one patch
each, built by ``proctor.audit.corpus`` into a temporary directory) are graded with the five correctness suites of the attention assignment, copied into a
temporary graders directory: the efficiency suite measures cost, not values, and its
budget would dominate this test's run time ("efficiency aside" in the header contract).
No double jeopardy is checked test by test: a bug in SDPA may not fail a multi_head test
worth points (0-point public checks that run another task's code are feedback, and say so).
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

import pytest

from proctor.audit.corpus import Entry, load_corpus, write_all
from proctor.config import load_course
from proctor.runner import grade_submission
from proctor.sandbox.client import Sandbox

ROOT = Path(__file__).resolve().parents[1]
SUITES = ("test_causal_mask.py", "test_scaled_dot_product.py", "test_multi_head.py",
          "test_kv_cache.py", "test_cached_attention.py", "conftest.py", "_inputs.py",
          "_decoding.py", "composition.py",  # composition.py: hidden helpers of the hidden tests
          "golden_cases.py", "public")  # public/ tests take golden cases computed from golden_cases.py
TASKS = ("causal_mask", "scaled_dot_product", "multi_head", "kv_cache", "cached_attention")
CORPUS = load_corpus(ROOT / "mutants" / "attention")
ENTRIES = {e.name: e for e in CORPUS.entries}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def mutants(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every mutant, written once for this module."""
    return write_all(CORPUS, tmp_path_factory.mktemp("mutants"))


def expectation(entry: Entry) -> tuple[set[str], str]:
    assert entry.task and entry.hint, f"{entry.name} declares no task or hint words"
    return {entry.task, *entry.shared}, entry.hint


@pytest.fixture(scope="module")
def assignment(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The attention assignment, graded by the correctness suites only."""
    real = load_course(ROOT / "course.toml").assignments["attention"]
    graders = tmp_path_factory.mktemp("graders")
    for name in SUITES:
        if (real.graders / name).is_dir():
            shutil.copytree(real.graders / name, graders / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(real.graders / name, graders / name)
    return dataclasses.replace(real, graders=graders)


def grade(assignment: Any, sandbox: Sandbox, path: Path) -> dict[str, Any]:
    return grade_submission(assignment, path, sandbox=sandbox, whole_suite=False).to_dict()


def failing(result: dict[str, Any], task: str, *, costly: bool = True) -> list[dict[str, Any]]:
    """The task's tests that did not pass; with ``costly``, only those worth points (a
    0-point public check that runs another task's code is feedback, not jeopardy)."""
    return [t for t in result["tests"] if t["task"] == task and t["status"] != "passed"
            and (t["max_score"] > 0 or not costly)]


def test_base_gets_full_marks(assignment: Any, sandbox: Sandbox) -> None:
    result = grade(assignment, sandbox, CORPUS.base)
    for task in TASKS:
        assert not failing(result, task, costly=False), (task, failing(result, task, costly=False))


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_mutant_is_caught_in_its_task_only(assignment: Any, sandbox: Sandbox,
                                           mutants: dict[str, Path], name: str) -> None:
    path = mutants[name]
    tasks, keyword = expectation(ENTRIES[name])
    result = grade(assignment, sandbox, path)
    for task in TASKS:
        lost = failing(result, task)
        if task in tasks:
            assert lost, f"{path.stem}: no {task} test failed"
        else:
            assert not lost, (
                f"{path.stem} should cost points in {sorted(tasks)} only, but these {task} "
                f"tests failed: {[(t['id'], t['message'][:200]) for t in lost]}")
    hints = [t["hint"] or "" for task in tasks for t in failing(result, task, costly=False)]
    assert any(keyword.lower() in h.lower() for h in hints), (
        f"{path.stem}: no failing test's hint mentions {keyword!r}; hints: {sorted(set(hints))}")
