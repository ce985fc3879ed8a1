"""The runner: suites run with their own modules, whatever the process imported before."""

from __future__ import annotations

import sys
import types

import pytest

from conftest import MINICOURSE, ROOT
from proctor.errors import ProctorError
from proctor.result import without_timing
from proctor.runner import collect_tasks, grade_submission


def test_same_named_modules_elsewhere_do_not_replace_the_suite(minimath, monkeypatch):
    impostor = types.ModuleType("test_minimath")
    monkeypatch.setitem(sys.modules, "test_minimath", impostor)
    monkeypatch.setitem(sys.modules, "public.test_public", types.ModuleType("public.test_public"))
    assert collect_tasks(minimath.graders) == {"add", "scale", "counter"}
    result = grade_submission(minimath, MINICOURSE / "submissions" / "correct.py")
    assert result.score == result.max_score == 40
    assert sys.modules["test_minimath"] is impostor  # put back afterwards
    assert not hasattr(sys.modules["public.test_public"], "__file__")  # the stub, not the suite's


def test_no_suite_module_is_left_behind(attention):
    """A suite's modules (its ``conftest`` among them) leave sys.modules with the run."""
    before = set(sys.modules)
    collect_tasks(attention.graders)
    left = {name for name in set(sys.modules) - before
            if (getattr(sys.modules[name], "__file__", None) or "").startswith(str(attention.graders))}
    assert left == set()


def test_grading_twice_gives_identical_json(minimath):
    from proctor.result import without_timing

    path = MINICOURSE / "submissions" / "correct.py"
    first = without_timing(grade_submission(minimath, path).to_dict())
    second = without_timing(grade_submission(minimath, path).to_dict())
    assert first == second


def test_grading_attention_twice_gives_identical_json(attention):
    """Efficiency checks included: only their wall-clock measurements may differ."""
    from proctor.result import without_timing
    from proctor.sandbox.client import Sandbox

    path = ROOT / "examples" / "submissions" / "bug_mask_inverted.py"
    with Sandbox() as box:
        first = grade_submission(attention, path, sandbox=box).to_dict()
        second = grade_submission(attention, path, sandbox=box).to_dict()
    assert first["score"] < first["max_score"]
    assert without_timing(first) == without_timing(second)


def test_results_do_not_depend_on_what_was_graded_before(minimath, tmp_path):
    """Suite modules are reused between runs in one process: a run in between, of a
    broken submission, changes nothing in the next result."""
    from proctor.result import without_timing

    correct = MINICOURSE / "submissions" / "correct.py"
    broken = tmp_path / "broken.py"
    broken.write_text("def add(a, b):\n    return a - b\n\nclass Counter:\n    pass\n")
    first = without_timing(grade_submission(minimath, correct).to_dict())
    assert grade_submission(minimath, broken).score < first["score"]
    assert without_timing(grade_submission(minimath, correct).to_dict()) == first


def test_an_edited_suite_is_reimported(tmp_path):
    """The reused modules are dropped as soon as a suite file changes on disk."""
    import shutil

    from proctor.config import load_course

    course = tmp_path / "course"
    shutil.copytree(MINICOURSE, course)
    assignment = load_course(course / "course.toml").assignment("minimath")
    submission = course / "submissions" / "correct.py"
    before = grade_submission(assignment, submission)
    suite = course / "graders" / "minimath" / "test_minimath.py"
    suite.write_text(suite.read_text().replace("def test_scale_zero(", "def test_scale_by_zero("))
    after = grade_submission(assignment, submission)
    names = lambda result: {t.id.split("::")[-1] for t in result.tests}  # noqa: E731
    assert "test_scale_zero" in names(before) and "test_scale_zero" not in names(after)
    assert "test_scale_by_zero" in names(after)


def _int_add_that_raises(tmp_path, error: str):
    """A submission whose add() prints a line, then raises ``error``, whenever Hypothesis's
    test_add_commutes calls it (with ints; the other tests pass arrays)."""
    path = tmp_path / f"raises_{error}.py"
    path.write_text((MINICOURSE / "submissions" / "correct.py").read_text().replace(
        "def add(a, b):\n",
        f"def add(a, b):\n    if isinstance(a, int):\n        print('int add')\n        raise {error}('no')\n"))
    return path


def test_a_stub_fails_a_property_test_at_its_first_example(minimath, tmp_path):
    """NotImplementedError says nothing about the input: no shrinking (one call, no
    counterexample), where an input-dependent error is shrunk as usual."""
    stub = grade_submission(minimath, _int_add_that_raises(tmp_path, "NotImplementedError"))
    commutes = next(t for t in stub.tests if t.id.endswith("test_add_commutes"))
    assert commutes.status == "error" and "NotImplementedError" in commutes.message
    assert commutes.counterexample is None
    assert stub.output.count("int add") == 1

    shrunk = grade_submission(minimath, _int_add_that_raises(tmp_path, "ValueError"))
    assert next(t for t in shrunk.tests if t.id.endswith("test_add_commutes")).status == "error"
    assert shrunk.output.count("int add") > 1


SEED_TEST = '''
import pytest
from hypothesis import given, settings, strategies as st


@pytest.mark.task("add")
@pytest.mark.visibility("public")
@settings(max_examples=100)
@given(st.integers(0, 2**16))
def test_add_zero(student, n):
    assert student.add(n, 0) == n
'''


def test_generated_examples_do_not_depend_on_what_the_process_imported(tmp_path, monkeypatch):
    """Hypothesis (6.131+) also draws constants found in "local" modules (outside
    site-packages) that happen to be imported, so the same suite could try other examples
    in students' local checks than in the official grade. The plugin hides them."""
    import shutil

    from proctor.config import load_course

    course = tmp_path / "course"
    shutil.copytree(MINICOURSE, course)
    (course / "graders" / "minimath" / "public" / "test_seeds.py").write_text(SEED_TEST)
    assignment = load_course(course / "course.toml").assignment("minimath")
    talkative = tmp_path / "talkative.py"
    talkative.write_text((MINICOURSE / "submissions" / "correct.py").read_text().replace(
        "def add(a, b):\n", "def add(a, b):\n    if isinstance(a, int):\n        print('add', a)\n"))
    before = grade_submission(assignment, talkative).output
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "many_constants.py").write_text(f"VALUES = {list(range(1000, 1400, 7))}\n")
    monkeypatch.syspath_prepend(str(extra))
    __import__("many_constants")
    after = grade_submission(assignment, talkative).output
    assert before.count("add") >= 50 and after == before


def test_conftest_files_above_the_suite_are_not_loaded(tmp_path):
    """A course repository's own conftest.py (above graders/) is not part of its suites."""
    import shutil

    from proctor.config import load_course

    course = tmp_path / "course"
    shutil.copytree(MINICOURSE, course)
    for above in (tmp_path, course, course / "graders"):
        (above / "conftest.py").write_text("raise RuntimeError('not part of the suite')\n")
    assignment = load_course(course / "course.toml").assignment("minimath")
    result = grade_submission(assignment, course / "submissions" / "correct.py")
    assert result.score == result.max_score == 40


def test_grade_output_folders_never_collide(tmp_path):
    from pathlib import Path

    from proctor.cli import output_folders

    subs = [Path("a/correct.py"), Path("a/correct.ipynb"), Path("b/alice.py")]
    folders = output_folders(tmp_path, subs)
    assert len(set(folders)) == 3
    assert folders[2] == tmp_path / "alice"
    assert output_folders(tmp_path, [Path("x/one.py")]) == [tmp_path]


def test_counterexamples_include_interactive_draws():
    """A public test that draws with st.data() shows those draws with its example."""
    from hypothesis import given, settings, strategies as st

    from proctor.plugin import _falsifying_example

    @settings(database=None, derandomize=True)
    @given(st.integers(0, 3), st.data())
    def fails(n, data):
        assert data.draw(st.integers(10, 20), label="k") < 10

    try:
        fails()
    except AssertionError as exc:
        shown = _falsifying_example(exc)
    assert shown.startswith(("Falsifying example: fails(", "Failing test case: fails("))
    assert "Draw 1 (k): 10" in shown


def test_a_failing_public_property_test_shows_its_smallest_input(minimath, tmp_path):
    """Through the whole pipeline, whatever Hypothesis calls the example in its notes."""
    wrong = tmp_path / "wrong_add.py"
    wrong.write_text((MINICOURSE / "submissions" / "correct.py").read_text().replace(
        "def add(a, b):\n", "def add(a, b):\n    if isinstance(a, int) and a > 2:\n        return a - b\n"))
    result = grade_submission(minimath, wrong)
    commutes = next(t for t in result.tests if t.id.endswith("test_add_commutes"))
    assert commutes.status == "failed"
    assert "test_add_commutes(" in commutes.counterexample and "3" in commutes.counterexample


def _minicourse_with_second(tmp_path, points: str = "") -> "Path":
    """A copy of the minicourse plus a half-written second assignment: its suite does not
    even parse, and its points name a task no suite has."""
    import shutil

    course = tmp_path / "course"
    shutil.copytree(MINICOURSE, course)
    draft = course / "graders" / "draft"
    draft.mkdir()
    (draft / "test_draft.py").write_text("def test_half_written(:\n")
    toml = course / "course.toml"
    toml.write_text(toml.read_text() + points + "\n[assignments.draft]\ntitle = \"Draft\"\n"
                    "notebook = \"assignments/minimath/minimath.ipynb\"\nreference = \"reference.minimath\"\n"
                    "graders = \"graders/draft\"\nrelease = \"release/draft\"\n"
                    "due = 2026-12-20T23:59:00+00:00\n[assignments.draft.late]\npenalty_per_day = 0\ncap = 0\n"
                    "[assignments.draft.points]\nnot_a_task = 10\n")
    return course


def test_a_broken_second_assignment_does_not_block_grading_the_first(tmp_path, minimath):
    from proctor.config import load_course

    course = _minicourse_with_second(tmp_path)
    assignment = load_course(course / "course.toml").assignment("minimath")
    graded = without_timing(grade_submission(assignment, course / "submissions" / "correct.py").to_dict())
    expected = without_timing(grade_submission(minimath, MINICOURSE / "submissions" / "correct.py").to_dict())
    assert graded["score"] == graded["max_score"] == 40
    assert graded["tests"] == expected["tests"] and graded["tasks"] == expected["tasks"]
    draft = load_course(course / "course.toml").assignment("draft")
    with pytest.raises(ProctorError, match="the grader suite has errors"):
        grade_submission(draft, course / "submissions" / "correct.py")


def test_points_naming_a_task_the_suite_lacks_fail_when_grading(tmp_path):
    """Loading the course no longer collects suites; grading, which collects one anyway,
    checks that assignment's task ids, with the message course.toml's checks give."""
    from proctor.config import load_course
    from proctor.errors import ConfigError

    course = _minicourse_with_second(tmp_path, "")
    toml = course / "course.toml"
    toml.write_text(toml.read_text().replace("counter = 10\n", "counter = 10\ncountr = 5\n", 1))
    assignment = load_course(toml).assignment("minimath")
    with pytest.raises(ConfigError, match=r"assignments.minimath.points.countr: no task 'countr' in the "
                                          r"grader suite graders/minimath \(did you mean 'counter'\?\)"):
        grade_submission(assignment, course / "submissions" / "correct.py")
