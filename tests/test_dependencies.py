"""An assignment that builds on another's work (course.toml ``requires``/``provides``).

A small course made from the engine's test course: ``sums`` requires ``minimath`` and its
submissions ``from minimath import add, Counter``. Checked: the student's own minimath is
used and recorded (file and sha256); a bug there costs nothing in ``sums`` (the failing
tests run again on a correct minimath and pass); a bug in ``sums`` itself still costs; with
no usable own work the correct version is used and the result says why; the correct version
in the sandbox is the stand-in, which holds none of the reference, unless course.toml
releases the reference; and results of assignments without ``requires`` keep their JSON.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from proctor.config import load_course
from proctor.dependencies import requirements
from proctor.feedback.summary import summary_text as wrapped_summary
from proctor.errors import ProctorError
from proctor.runner import grade_submission

REPO = Path(__file__).resolve().parents[1]
MINICOURSE = REPO / "tests/data/minicourse"

PROVIDES = """
[assignments.minimath.provides]
module = "minimath"
stand_in = "reference/minimath_stand_in.py"
service = "reference.minimath_service"
"""

SUMS = """
[assignments.sums]
title = "Sums on your own minimath"
notebook = "assignments/sums/sums.ipynb"
reference = "reference.sums"
graders = "graders/sums"
release = "release/sums"
due = 2026-12-08T23:59:00+00:00
seed = 3
requires = ["minimath"]

[assignments.sums.late]
penalty_per_day = 0
cap = 0

[assignments.sums.points]
total = 10
steps = 10
"""

FILES = {
    "reference/minimath_stand_in.py": '''
        import numpy as np

        def add(a, b):
            return service.add(a, b)

        def scale(x, k):
            return service.scale(x, k)

        class Counter:
            def __init__(self, start=0):
                self.number = service.new_counter(start)
                self.history = np.zeros(4)

            @property
            def count(self):
                return service.count(self.number)

            def step(self, n=1):
                return service.step(self.number, n)
        ''',
    "reference/minimath_service.py": '''
        from reference import minimath as ref

        class Service:
            def __init__(self):
                self._counters = []

            def add(self, a, b):
                return ref.add(a, b)

            def scale(self, x, k):
                return ref.scale(x, k)

            def new_counter(self, start=0):
                self._counters.append(ref.Counter(int(start)))
                return len(self._counters) - 1

            def count(self, number):
                return self._counters[int(number)].count

            def step(self, number, n=1):
                return self._counters[int(number)].step(int(n))
        ''',
    "reference/sums.py": '''
        import numpy as np

        def total(rows):
            return np.sum(np.asarray(rows, dtype=float), axis=0)

        def count_steps(n):
            return n
        ''',
    "graders/sums/test_sums.py": '''
        import pytest
        from proctor.testing import assert_close

        @pytest.mark.task("total")
        @pytest.mark.points(2)
        def test_total(student, reference, tol, rng):
            rows = rng.normal(size=(4, 3))
            assert_close(student.total(rows), reference.total(rows), tol=tol, what="total(rows)")

        @pytest.mark.task("total")
        def test_total_one_row(student, tol):
            assert_close(student.total([[1.0, 2.0]]), [1.0, 2.0], tol=tol, what="total([[1, 2]])")

        @pytest.mark.task("steps")
        def test_steps(student):
            assert student.count_steps(4) == 4, "count_steps(4) should be 4"

        @pytest.mark.task("steps")
        def test_leak_probe(student):
            """Not a real check: reports what the sandbox holds (the test reads it back)."""
            pytest.probe = student.probe()
        ''',
    "graders/sums/public/test_sums_public.py": '''
        import pytest

        @pytest.mark.task("steps")
        @pytest.mark.visibility("public")
        def test_steps_public(student):
            assert student.count_steps(3) == 3, "count_steps(3) should be 3"
        ''',
    "subs/sums_correct.py": '''
        import sys
        from minimath import Counter, add

        def total(rows):
            out = rows[0]
            for row in rows[1:]:
                out = add(out, row)
            return out

        def count_steps(n):
            c = Counter()
            for _ in range(n):
                c.step()
            return c.count

        def probe():
            import minimath
            return {"names": sorted(k for k in vars(minimath) if not k.startswith("__")),
                    "secret": [k for k in vars(minimath) if k == "SECRET"],
                    "reference": sorted(m for m in sys.modules if m.split(".")[0] == "reference")}
        ''',
    "subs/sums_buggy.py": '''
        from minimath import Counter, add

        def total(rows):
            out = rows[1]  # skips the first row
            for row in rows[2:]:
                out = add(out, row)
            return out

        def count_steps(n):
            c = Counter()
            for _ in range(n):
                c.step()
            return c.count

        def probe():
            return {}
        ''',
    "subs/minimath_buggy.py": '''
        import numpy as np

        def add(a, b):
            return np.subtract(a, b)

        def scale(x, k):
            return np.multiply(x, k)

        class Counter:
            def __init__(self, start=0):
                self.count = start
                self.history = np.zeros(4)

            def step(self, n=1):
                self.count += 2 * n
                return self.count
        ''',
}


def make_course(root: Path, *, released: bool = False) -> Path:
    shutil.copytree(MINICOURSE, root, ignore=shutil.ignore_patterns("__pycache__", "release"))
    provides = PROVIDES + ("reference_released = true\n" if released else "")
    (root / "course.toml").write_text((root / "course.toml").read_text() + provides + SUMS)
    for name, text in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    (root / "assignments/sums").mkdir()
    shutil.copy(root / "assignments/minimath/minimath.ipynb", root / "assignments/sums/sums.ipynb")
    reference = root / "reference/minimath.py"  # marks what must never reach a student's process
    reference.write_text(reference.read_text() + '\nSECRET = "the reference itself"\n')
    return root


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_course(tmp_path_factory.mktemp("depcourse") / "course")


def grade(root: Path, submission: str, own: str | None, sandbox) -> dict:
    course = load_course(root)
    sums = course.assignment("sums")
    mine = None if own is None else (root / own if not Path(own).is_absolute() else Path(own))
    reqs = requirements(course, sums, {"minimath": mine})
    result = grade_submission(sums, root / submission, sandbox=sandbox, requirements=reqs).to_dict()
    result["probe"] = getattr(pytest, "probe", None)
    if hasattr(pytest, "probe"):
        del pytest.probe
    return result


def summary_text(result: dict) -> str:
    """The terminal summary as one line (it wraps at 100 columns)."""
    return " ".join(wrapped_summary(result).split())


def by_name(result: dict) -> dict[str, dict]:
    return {t["id"].rpartition("::")[2]: t for t in result["tests"]}


def test_own_correct_work_is_used_and_recorded(course: Path, sandbox) -> None:
    result = grade(course, "subs/sums_correct.py", "submissions/correct.py", sandbox)
    assert result["score"] == result["max_score"] == 20, [(t["name"], t["message"]) for t in result["tests"]]
    entry = result["dependencies"]["minimath"]
    own = (course / "submissions/correct.py").read_bytes()
    assert entry["own"] == {"file": "correct.py", "sha256": hashlib.sha256(own).hexdigest()}
    assert entry["problem"] is None and entry["correct"] is None and entry["passed_only_with_correct"] == 0
    assert all("dependency" not in t for t in result["tests"])
    assert result["probe"]["secret"] == [] and result["probe"]["reference"] == []
    assert "Built on your minimath: correct.py (sha256 " in summary_text(result)


def test_a_bug_in_the_required_work_costs_nothing_here(course: Path, sandbox) -> None:
    result = grade(course, "subs/sums_correct.py", "subs/minimath_buggy.py", sandbox)
    assert result["score"] == 20, [(t["name"], t["status"], t["message"]) for t in result["tests"]]
    tests = by_name(result)
    rescued = {name for name, t in tests.items() if t.get("dependency") == "correct"}
    # one row needs no add: it passed on the buggy one
    assert rescued == {"test_total", "test_steps", "test_steps_public"}
    assert all(tests[name]["status"] == "passed" for name in rescued)
    entry = result["dependencies"]["minimath"]
    assert entry["own"]["file"] == "minimath_buggy.py" and entry["correct"] == "stand_in"
    assert entry["passed_only_with_correct"] == 3
    text = summary_text(result)
    assert "3 passed only there" in text and "costs points in the minimath assignment" in text


def test_a_bug_in_this_assignment_still_costs_and_is_checked_on_correct_work(course: Path, sandbox) -> None:
    result = grade(course, "subs/sums_buggy.py", "subs/minimath_buggy.py", sandbox)
    tests = by_name(result)
    assert result["tasks"]["total"]["score"] == 0 and result["tasks"]["steps"]["score"] == 10
    # the failure shown is the one on a correct minimath: this assignment's own bug, alone
    assert tests["test_total"]["status"] == "failed" and tests["test_total"]["dependency"] == "correct"
    assert "total(rows)" in tests["test_total"]["message"]


def test_without_own_work_a_correct_version_is_used_and_said(course: Path, sandbox, tmp_path: Path) -> None:
    missing = grade(course, "subs/sums_correct.py", None, sandbox)
    assert missing["score"] == 20
    entry = missing["dependencies"]["minimath"]
    assert entry["own"] is None and entry["correct"] == "stand_in"
    assert "no minimath submission was found" in entry["problem"]
    assert "Built on a correct minimath, not yours: no minimath submission" in summary_text(missing)
    # the stand-in forwards: no reference code, no reference module in the student's process
    assert missing["probe"]["secret"] == [] and missing["probe"]["reference"] == []
    assert "service" in missing["probe"]["names"]

    empty = tmp_path / "minimath.py"
    empty.write_text("  \n")
    unusable = grade(course, "subs/sums_correct.py", str(empty), sandbox)
    assert unusable["score"] == 20 and "minimath.py is empty" in unusable["dependencies"]["minimath"]["problem"]


def test_a_released_reference_is_loaded_itself(tmp_path: Path, sandbox) -> None:
    root = make_course(tmp_path / "course", released=True)
    result = grade(root, "subs/sums_correct.py", None, sandbox)
    assert result["score"] == 20 and result["dependencies"]["minimath"]["correct"] == "reference"
    assert result["probe"]["secret"] == ["SECRET"]  # the probe can see the reference when it is there
    assert "Built on the course's reference, not yours" in summary_text(result)


def test_results_without_requires_keep_their_json(sandbox) -> None:
    minimath = load_course(MINICOURSE).assignment("minimath")
    result = grade_submission(minimath, MINICOURSE / "submissions/correct.py", sandbox=sandbox).to_dict()
    assert "dependencies" not in result and all("dependency" not in t for t in result["tests"])


def test_with_names_only_required_assignments(course: Path) -> None:
    loaded = load_course(course)
    with pytest.raises(ProctorError, match="sums does not require attention"):
        requirements(loaded, loaded.assignment("sums"), {"attention": course / "x.py"})


def test_cli_grade_with_own_work(course: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "proctor", "--course", str(course), "grade", "sums",
                          str(course / "subs/sums_correct.py"), "--with", f"minimath={course / 'subs/minimath_buggy.py'}",
                          "--json", "--isolation", "rlimits"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.splitlines()[0])
    assert result["score"] == 20 and result["dependencies"]["minimath"]["own"]["file"] == "minimath_buggy.py"
    bad = subprocess.run([sys.executable, "-m", "proctor", "--course", str(course), "grade", "sums",
                          str(course / "subs/sums_correct.py"), "--with", "minimath"],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "expected ID=FILE" in bad.stderr and "Traceback" not in bad.stderr


def test_local_check_uses_the_students_own_work_only_and_says_so(course: Path, tmp_path: Path) -> None:
    from proctor.release import release_assignment

    folder = tmp_path / "sums"
    release_assignment(load_course(course).assignment("sums"), folder, wheel=False)
    manifest = json.loads((folder / "checks/manifest.json").read_text())
    assert manifest["requires"] == {"minimath": "minimath"}
    shutil.copy(course / "subs/sums_correct.py", folder / "sums.py")

    def check(*extra: str) -> tuple[int, str]:
        run = subprocess.run([sys.executable, "-m", "proctor", "check", str(folder / "sums.py"),
                              "--isolation", "rlimits", *extra], capture_output=True, text=True, timeout=300)
        return run.returncode, " ".join((run.stdout + run.stderr).split())

    code, alone = check()
    assert code == 0 and "Checked without a minimath: no minimath.py or minimath.ipynb beside sums.py" in alone
    assert "0 / " in alone  # nothing to import: the public check cannot pass

    shutil.copy(course / "subs/minimath_buggy.py", folder / "minimath.py")
    code, beside = check()
    assert code == 0 and "Built on your minimath: minimath.py (sha256" in beside and "Only yours" in beside
    assert "FAIL" in beside  # its Counter counts double, and no correct one stands in locally

    (folder / "minimath.py").unlink()
    code, given = check("--with", f"minimath={course / 'submissions/correct.py'}")
    assert code == 0 and "Built on your minimath: correct.py" in given and "FAIL" not in given


def test_the_feedback_page_names_the_work_it_was_built_on(course: Path, sandbox) -> None:
    from proctor.feedback import render_feedback

    result = grade(course, "subs/sums_buggy.py", "subs/minimath_buggy.py", sandbox)
    page = render_feedback(result)
    summary = page[page.index('id="summary"'):page.index('id="scores"')]
    assert 'class="built-on"' in summary and "minimath_buggy.py (sha256 " in summary  # under the score
    assert "Checked on a correct minimath: this failure is in this assignment" in page
    assert "Passed on a correct minimath (not on yours)." in page
