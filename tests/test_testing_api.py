"""proctor.testing, the public API suite authors write against (docs/authoring.md).

The attention suites use only it; the engine puts a suite's directory on sys.path and
gives the ``check`` fixture; and the registered Hypothesis profiles keep grading
deterministic whether a process grades for the first time or the hundredth.
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

import proctor.testing as api
from conftest import MINICOURSE, ROOT


def _engine_imports(path: Path) -> set[str]:
    """The ``proctor`` modules a file imports."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return {n for n in names if n == "proctor" or n.startswith("proctor.")}


def test_suites_import_only_proctor_testing():
    """The course's suites and the engine test course's: nothing else is public."""
    files = sorted([*(ROOT / "graders").rglob("*.py"), *(MINICOURSE / "graders").rglob("*.py")])
    assert files
    used = {str(f.relative_to(ROOT)): _engine_imports(f) - {"proctor.testing"} for f in files}
    assert {f: m for f, m in used.items() if m} == {}


def test_every_public_name_is_importable():
    assert all(hasattr(api, name) for name in api.__all__)
    assert api.Tolerance(rtol=1e-6, atol=1e-9).atol == 1e-9


def test_one_derandomized_profile_per_visibility():
    for visibility in ("public", "hidden"):
        chosen = api.profile(visibility)
        assert chosen.derandomize and chosen.database is None and chosen.deadline is None
        assert Phase.explain not in chosen.phases  # its notes are shown to nobody
    assert api.profile("public").max_examples < api.profile("hidden").max_examples
    # The phases are public settings: a public check's failure is shrunk, a hidden test's not.
    assert Phase.shrink in api.profile("public").phases
    assert Phase.shrink not in api.examples(3).phases and Phase.explain not in api.examples(3).phases


class _Record:
    hint = None


def test_check_accepts_an_alternative_and_records_its_note():
    record = _Record()
    check = api.Checker(api.Tolerance(rtol=0, atol=1e-9), record)
    check(np.ones(3), np.zeros(3), what="x", alternatives=[(lambda: 1 / 0, "broken"),
                                                         (lambda: np.ones(3), "the other part")])
    assert record.hint == "the other part"
    with pytest.raises(api.CheckFailure, match="x"):
        check(np.ones(3), np.zeros(3), what="x", alternatives=[(lambda: np.full(3, 2.0), "no")])


def test_check_rowwise_mixes_alternatives_row_by_row():
    record = _Record()
    check = api.Checker(api.Tolerance(rtol=0, atol=1e-9), record)
    actual = np.array([[0.0], [1.0], [2.0]])
    check(actual, np.array([[0.0], [9.0], [9.0]]), what="x", rowwise=True,
          alternatives=[(lambda: np.array([[5.0], [1.0], [5.0]]), "a"),
                        (lambda: np.array([[5.0], [5.0], [2.0]]), "b")])
    assert record.hint == "a b"


@settings(max_examples=20, database=None)
@given(api.seeded(api.quarter_steps, sizes=[st.integers(1, 4), st.integers(1, 4)]))
def test_seeded_builds_arrays_with_numpy_from_a_few_draws(array):
    assert array.ndim == 2 and np.all(np.abs(array) <= 2) and np.all(array * 4 == np.round(array * 4))


def test_a_smaller_size_keeps_the_values_that_remain():
    """Shrinking a size keeps a failure that lies in the leading corner."""
    assert np.array_equal(api.quarter_steps(7, 2, 3), api.quarter_steps(7, 4, 5)[:2, :3])
    assert not api.quarter_steps(0, 3).any() and api.blocking(0, 2, 2).all()
    assert sum(api.chunk_schedule(3, 17)) == 17


def test_evaluated_drops_variants_that_cannot_run():
    out = api.evaluated({"ok": (lambda: [1, 2], "fine"), "bad": (lambda: 1 / 0, "raises")})
    assert list(out) == ["ok"] and out["ok"][0].dtype == np.float64


HELPER_TEST = '''
import pytest
from _helper_of_suite import TWO


@pytest.mark.task("add")
def test_add_uses_a_helper(student):
    assert student.add(TWO, 0) == TWO
'''


def test_a_suite_imports_its_helpers_without_a_conftest(tmp_path):
    """The engine puts the suite's directory on sys.path while it runs, and only then."""
    from proctor.config import load_course
    from proctor.runner import grade_submission

    course = tmp_path / "course"
    shutil.copytree(MINICOURSE, course)
    suite = course / "graders" / "minimath"
    (suite / "_helper_of_suite.py").write_text("TWO = 2\n")
    (suite / "test_helper.py").write_text(HELPER_TEST)
    assignment = load_course(course / "course.toml").assignment("minimath")
    result = grade_submission(assignment, course / "submissions" / "correct.py")
    test = next(t for t in result.tests if t.id.endswith("test_add_uses_a_helper"))
    assert test.status == "passed", test.message
    assert str(suite.resolve()) not in sys.path


SEED_TEST = '''
import pytest
from hypothesis import given, settings, strategies as st


@pytest.mark.task("add")
@pytest.mark.visibility("public")
@settings(max_examples=60)
@given(st.integers(0, 2**16), st.integers(-50, 50))
def test_add_commutes_drawn(student, a, b):
    assert student.add(a, b) == student.add(b, a)
'''

GRADE_TWICE = '''
import json, sys
from proctor.config import load_course
from proctor.result import without_timing
from proctor.runner import grade_submission
assignment = load_course(sys.argv[1]).assignment("minimath")
runs = [grade_submission(assignment, sys.argv[2]) for _ in range(2)]
print(json.dumps([{"output": r.output, "result": without_timing(r.to_dict())} for r in runs]))
'''


def test_a_cold_and_a_warm_run_give_the_same_result(tmp_path):
    """The first grading in a process (suite imported, seeds pinned) and the next (modules
    reused) draw the same examples and give the same result."""
    course = tmp_path / "course"
    shutil.copytree(MINICOURSE, course)
    (course / "graders" / "minimath" / "public" / "test_seeds.py").write_text(SEED_TEST)
    talkative = tmp_path / "talkative.py"
    talkative.write_text((MINICOURSE / "submissions" / "correct.py").read_text().replace(
        "def add(a, b):\n", "def add(a, b):\n    print('add', a, b)\n"))
    out = subprocess.run([sys.executable, "-c", GRADE_TWICE, str(course / "course.toml"), str(talkative)],
                         capture_output=True, text=True, check=True, cwd=tmp_path)
    cold, warm = json.loads(out.stdout.strip().splitlines()[-1])
    assert cold["output"].count("add") >= 100
    assert warm == cold


SHRINK_TESTS = '''
import pytest
from hypothesis import given, settings, strategies as st

from proctor.testing import examples, profile

pytestmark = pytest.mark.task("add")


@examples(30)
@given(st.integers(0, 2**16))
def test_hidden_as_the_guide_says(student, n):
    assert student.add(n, 1) == n + 1


@given(st.integers(0, 2**16))
def test_hidden_with_plain_given(student, n):
    assert student.add(n, 2) == n + 2


@pytest.mark.visibility("public")
@settings(profile("public"), max_examples=30)
@given(st.integers(0, 2**16))
def test_public_check(student, n):
    assert student.add(n, 3) == n + 3
'''


def test_public_failures_are_shrunk_and_hidden_ones_are_not(tmp_path):
    """A public check shows the smallest failing input; a hidden test stops at its first
    failing one, whether it takes its settings from examples() (Hypothesis's own settings)
    or brings none (the plugin drops the phase)."""
    import re

    from proctor.config import load_course
    from proctor.runner import grade_submission

    course = tmp_path / "course"
    shutil.copytree(MINICOURSE, course)
    (course / "graders" / "minimath" / "test_shrinking.py").write_text(SHRINK_TESTS)
    wrong = tmp_path / "wrong_from_1000.py"
    wrong.write_text((MINICOURSE / "submissions" / "correct.py").read_text().replace(
        "def add(a, b):\n", "def add(a, b):\n    if isinstance(a, int) and a >= 1000:\n        return a + b + 1\n"))
    result = grade_submission(load_course(course / "course.toml").assignment("minimath"), wrong)
    tests = {t.id.split("::")[-1]: t for t in result.tests if "test_shrinking" in t.id}
    assert all(t.status == "failed" for t in tests.values()), {k: t.message for k, t in tests.items()}
    assert "n=1000" in tests["test_public_check"].counterexample
    for name in ("test_hidden_as_the_guide_says", "test_hidden_with_plain_given"):
        failing = int(re.search(r"assert (\d+) ==", tests[name].message)[1])
        assert failing > 1001 + 2, (name, tests[name].message)  # not shrunk to n=1000
