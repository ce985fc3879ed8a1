"""Gradescope's results.json, checked against its published autograder specification.

Spec: https://gradescope-autograders.readthedocs.io/en/latest/specs/ (source text:
github.com/gradescope/autograder_samples, docs/specs.md), "Controlling Test Case
Visibility": visibilities are ``hidden``, ``after_due_date``, ``after_published`` and
``visible``; "If test cases are hidden, students will not be able to see their total
score. Test cases with visibility set to ``hidden`` don't affect this, since they should
only be used for tests which don't contribute points to the total." The top-level
``output`` is "text relevant to the entire submission", shown with the top-level
``visibility`` (``visible`` here).

The load notes come from a real grading run, so the reader follows what the engine writes.
"""

from __future__ import annotations

import pytest
from conftest import load_tiny_course

from proctor.config import load_course
from proctor.lms.gradescope import results_json
from proctor.runner import grade_submission

tiny = load_tiny_course()


def result(public_points: float, hidden_points: float, *, late: dict | None = None) -> dict:
    return {"score": 7.0, "max_score": 10.0, "duration_s": 1.0, "late": late or {},
            "tests": [{"name": "public one", "status": "passed", "score": 3.0, "max_score": public_points,
                       "visibility": "public", "message": ""},
                      {"name": "hidden one", "status": "failed", "score": 0.0, "max_score": hidden_points,
                       "visibility": "hidden", "message": "output differs"}],
            "load": {"problem": None, "errors": [], "notes": []}}


@pytest.mark.parametrize("hidden_visibility", ["after_published", "after_due_date"])
def test_the_visible_output_withholds_the_total_while_point_tests_are_hidden(hidden_visibility):
    late = {"penalty_fraction": 0.1, "raw_score": 7.7}
    out = results_json(result(3.0, 7.0, late=late), hidden_visibility=hidden_visibility)
    assert out["visibility"] == "visible"
    assert [t["visibility"] for t in out["tests"]] == ["visible", hidden_visibility]
    assert "7.00" not in out["output"] and "10.00" not in out["output"] and "7.70" not in out["output"]
    assert "3.00 / 3.00" in out["output"]  # what the student may see: the visible tests
    assert "Late penalty 10%" in out["output"]


def test_the_total_shows_when_every_test_with_points_is_visible():
    out = results_json(result(3.0, 0.0))
    assert "Score: 7.00 / 10.00" in out["output"]


def test_hidden_visibility_only_for_tests_without_points():
    out = results_json(result(3.0, 7.0), hidden_visibility="hidden")
    assert out["tests"][1]["visibility"] == "after_published"  # carries points: never "hidden"
    out = results_json(result(3.0, 0.0), hidden_visibility="hidden")
    assert out["tests"][1]["visibility"] == "hidden"


@pytest.mark.slow
def test_load_problems_are_told_with_the_engines_own_notes(tmp_path):
    assignment = load_course(tiny.make_course(tmp_path / "course")).assignment("tiny")
    path = tmp_path / "tiny.py"
    path.write_text(tiny.CORRECT + "import no_such_module_here\n")
    graded = grade_submission(assignment, path, isolation="rlimits").to_dict()
    assert graded["load"]["errors"]  # the engine's notes, whatever their keys
    output = results_json(graded)["output"]
    assert "While loading your code, line 3 raised ModuleNotFoundError:" in output, output
    assert "no_such_module_here" in output and "None" not in output
    empty = tmp_path / "empty.py"
    empty.write_text("")
    output = results_json(grade_submission(assignment, empty, isolation="rlimits").to_dict())["output"]
    assert "Your file could not be loaded: empty.py is empty" in output, output
