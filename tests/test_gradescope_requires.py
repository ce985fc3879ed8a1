"""A dependent assignment on Gradescope: its students hand in both files in one submission.

Gradescope's autograder sees one submission per assignment (``/autograder/submission/``,
``run_autograder`` then ``/autograder/results/results.json``: the autograder specification,
https://gradescope-autograders.readthedocs.io/en/latest/specs/), so the required
assignment's work must come with the dependent one's. The released README tells students
so (the engine's generic template, worded from course.toml ``requires`` and ``provides``),
and the exported autograder grades the dependent file on the required one handed in with
it: never the other way round, whatever the file names' order.

The course is the dependency test course with a source notebook of ``sums`` (requires
``minimath``) itself (``tests/test_batch_course.py``, ``make_chain``).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from test_batch_course import FILES, make_chain
from test_gradescope_export import run
from test_gradescope_export import simulate as gradescope

from proctor.config import load_course
from proctor.gradescope_export import export_gradescope
from proctor.release import release_assignment

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_chain(tmp_path_factory.mktemp("chain") / "course")


def test_the_released_readme_says_to_hand_in_both_files(chain: Path, tmp_path: Path) -> None:
    course = load_course(chain)
    release_assignment(course.assignment("sums"), tmp_path / "sums", wheel=False)
    readme = (tmp_path / "sums" / "README.md").read_text()
    assert "## Building on your earlier work" in readme
    assert "imports `minimath`: your own work from Minimal maths" in readme
    together = readme.split("**Hand in your earlier work with it.**", 1)[1]
    assert "Gradescope" in together and "`sums.ipynb` together with" in together
    assert "`minimath.ipynb` (or `minimath.py`)" in together
    release_assignment(course.assignment("minimath"), tmp_path / "minimath", wheel=False)
    alone = (tmp_path / "minimath" / "README.md").read_text()
    assert "earlier work" not in alone and "together" not in alone


def simulate(chain: Path, tmp_path: Path, files: dict[str, str]) -> Path:
    """The sums autograder unpacked where Gradescope would, with one submission."""
    return gradescope(tmp_path, files, None, load_course(chain).assignment("sums"))


def test_the_export_holds_what_grading_on_the_required_work_needs(chain: Path, tmp_path: Path) -> None:
    path = export_gradescope(load_course(chain).assignment("sums"), tmp_path / "export")
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path / "x")
    assert {"course/reference/minimath_stand_in.py", "course/reference/minimath_service.py",
            "course/assignments/sums/sums.ipynb", "course/assignments/minimath/minimath.ipynb",
            "course/graders/sums/test_sums.py"} <= names
    assert len(names) == len(set(names))
    exported = load_course(tmp_path / "x" / "course")  # loads on its own: tables and files
    assert set(exported.assignments) == {"minimath", "sums"}
    assert exported.assignment("sums").requires == ("minimath",)


def test_run_autograder_grades_the_dependent_file_on_the_one_handed_in_with_it(
        chain: Path, tmp_path: Path) -> None:
    """A buggy minimath handed in with a correct sums: full sums marks, the output names
    the minimath used; 'minimath.py' sorts before 'my_sums.py' yet is not graded as sums."""
    from textwrap import dedent

    files = {"minimath.py": dedent(FILES["subs/minimath_buggy.py"]).lstrip(),
             "my_sums.py": dedent(FILES["subs/sums_correct.py"]).lstrip()}
    results = run(simulate(chain, tmp_path, files))
    assert results["score"] == 20, results["output"]
    assert "Built on your minimath: minimath.py (sha256 " in results["output"]
    assert "costs points in the minimath assignment, not here" in results["output"]


def test_without_the_required_file_a_correct_one_is_used_and_the_student_told(
        chain: Path, tmp_path: Path) -> None:
    from textwrap import dedent

    results = run(simulate(chain, tmp_path, {"sums.py": dedent(FILES["subs/sums_correct.py"]).lstrip()}))
    assert results["score"] == 20
    assert ("Built on a correct minimath, not yours: your submission has no minimath file "
            "(minimath.ipynb/minimath.py); upload both files together") in results["output"]

    only = run(simulate(chain, tmp_path / "only", {"minimath.py": "x = 1\n"}))
    assert only["score"] == 0 and only["tests"] == []
    assert "Nothing could be graded: only the work of another assignment" in only["output"]
    assert "together with your minimath work" in only["output"]
