"""The transformer's grader suites judge the example submissions as
``examples/transformer/README.md`` says.

Graded through the engine, on the student's own attention (``examples/submissions``) and on
the stand-in the grader uses when a test fails there: ``correct.py`` gets full marks either
way; each bug example loses points in its home task only, and a failing test there names its
misconception in the corpus's hint words (no double jeopardy inside the transformer: a
LayerNorm bug costs nothing in block, model or generate); a correct transformer on a buggy
attention gets full marks, and the result says which tests passed only on a correct one.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from proctor.config import load_course
from proctor.dependencies import requirements
from proctor.runner import grade_submission

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "transformer"
ATTENTION = ROOT / "examples" / "submissions"

pytestmark = pytest.mark.slow

_spec = importlib.util.spec_from_file_location("_transformer_corpus_suites",
                                               ROOT / "mutants" / "transformer" / "corpus.py")
corpus = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(corpus)

# bug example -> the corpus mutant it was generated from (examples/transformer/build_examples.py)
BUGS = {"bug_ln_unbiased.py": "ln_unbiased", "bug_block_post_norm.py": "block_post_norm",
        "bug_gen_shared_cache.py": "gen_shared_cache",
        "bug_gen_positions_restart.py": "gen_positions_restart"}


@pytest.fixture(scope="module")
def course() -> Any:
    return load_course(ROOT / "course.toml")


def grade(course: Any, sandbox: Any, path: Path, attention: Path | None) -> dict[str, Any]:
    assignment = course.assignment("transformer")
    own = {} if attention is None else {"attention": attention}
    return grade_submission(assignment, path, sandbox=sandbox,
                            requirements=requirements(course, assignment, own)).to_dict()


def lost(result: dict[str, Any]) -> dict[str, float]:
    return {task: round(t["max_score"] - t["score"], 4) for task, t in result["tasks"].items()
            if round(t["max_score"] - t["score"], 4) > 0}


@pytest.mark.parametrize("attention", [ATTENTION / "correct.py", None],
                         ids=["own correct attention", "stand-in"])
def test_correct_example_gets_full_marks(course: Any, sandbox: Any, attention: Path | None) -> None:
    result = grade(course, sandbox, EXAMPLES / "correct.py", attention)
    failing = [(t["id"], t["message"][:200]) for t in result["tests"] if t["status"] != "passed"]
    assert result["score"] == result["max_score"] == 100, failing


@pytest.mark.parametrize("name", sorted(BUGS))
def test_bug_example_loses_points_in_its_home_task_only(course: Any, sandbox: Any,
                                                         name: str) -> None:
    tasks, words, _, _ = corpus.MUTANTS[BUGS[name]]
    home = tasks.split(",")[0]
    result = grade(course, sandbox, EXAMPLES / name, ATTENTION / "correct.py")
    assert set(lost(result)) == {home}, lost(result)
    hints = [t["hint"] or "" for t in result["tests"]
             if t["task"] == home and t["status"] != "passed"]
    assert any(words.lower() in h.lower() for h in hints), hints


def test_correct_transformer_on_a_buggy_attention_gets_full_marks(course: Any,
                                                                   sandbox: Any) -> None:
    result = grade(course, sandbox, EXAMPLES / "correct.py", ATTENTION / "bug_scale_dk.py")
    assert result["score"] == result["max_score"], lost(result)
    used = result["dependencies"]["attention"]
    assert used["own"]["file"] == "bug_scale_dk.py"
    assert used["correct"] == "stand_in" and used["passed_only_with_correct"] > 0
