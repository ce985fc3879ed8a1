"""``proctor validate`` and ``proctor audit`` with no assignment id: every assignment of the
course, each required one before the assignments that build on it, one line each, exit 1
when any fails. ``proctor validate ID`` keeps its report.

The course is the dependency test course with a source notebook of ``sums`` (requires
``minimath``) itself (``tests/test_batch_course.py``, ``make_chain``). Grading ``sums`` at all needs its
requirements: its solution imports ``minimath``, so a line saying its solution got full
marks shows the requirements were passed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from test_batch_course import make_chain

pytestmark = pytest.mark.slow


def proctor(course: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "proctor", "--course", str(course), *args],
                          capture_output=True, text=True, timeout=1200, cwd=cwd)


def test_validate_every_assignment_required_ones_first(tmp_path: Path) -> None:
    course = make_chain(tmp_path / "course")
    run = proctor(course, "validate")
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.splitlines() == ["minimath: ok: solution 40 / 40, stub 0 / 40",
                                       "sums: ok: solution 20 / 20, stub 0 / 20"]
    one = proctor(course, "validate", "sums")  # one assignment: the report as before
    assert one.returncode == 0 and one.stdout.startswith("solution: 20 / 20\nstub:     0 / 20\nok:")


def test_a_wrong_required_solution_fails_both_assignments(tmp_path: Path) -> None:
    """minimath's source notebook adds wrongly: minimath fails validation, and sums'
    solution, graded on minimath's solution, passes some tests only on a correct minimath:
    sums fails too, and says so. Exit status 1; every assignment still gets its line."""
    course = make_chain(tmp_path / "course")
    notebook = course / "assignments/minimath/minimath.ipynb"
    notebook.write_text(notebook.read_text().replace("return np.add(a, b)", "return np.subtract(a, b)"))
    run = proctor(course, "validate")
    assert run.returncode == 1, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("minimath: FAILED (")
    sums = next(line for line in lines if line.startswith("sums: "))
    assert sums.startswith("sums: FAILED (") and "solution 20 / 20" in sums
    assert any("passes test_sums.py::test_total only on a correct version" in line for line in lines)
    assert lines.index(sums) > 0 and lines[-1] == "validation FAILED for minimath, sums"


AUDITS = '''
[assignments.minimath.audit]
solution = "submissions/correct.py"
mutants = "mutants/minimath"

[assignments.minimath.audit.parts]
add = ["add"]
scale = ["scale"]
counter = ["Counter.step"]

[assignments.sums.audit]
solution = "subs/sums_correct.py"
mutants = "mutants/sums"

[assignments.sums.audit.parts]
total = ["total"]
steps = ["count_steps"]
'''

CORPORA = {
    "mutants/minimath/corpus.py": '''
        BASE = "../../submissions/correct.py"
        MUTANTS = {"scale_adds": ("scale", "scale", "adds instead of multiplying",
                                  [("np.multiply(x, k)", "np.add(x, k)")])}
        ''',
    "mutants/sums/corpus.py": '''
        BASE = "../../subs/sums_correct.py"
        MUTANTS = {"skips_first_row": ("total", "total", "starts from the second row",
                                       [("out = rows[0]\\n    for row in rows[1:]",
                                         "out = rows[1]\\n    for row in rows[2:]")])}
        ''',
}


def test_audit_every_assignment_with_an_audit_table(tmp_path: Path) -> None:
    course = make_chain(tmp_path / "course")
    toml = course / "course.toml"
    toml.write_text(toml.read_text() + AUDITS)
    for name, text in CORPORA.items():
        (course / name).parent.mkdir(parents=True, exist_ok=True)
        (course / name).write_text(textwrap.dedent(text).lstrip())
    out = tmp_path / "audits"
    run = proctor(course, "audit", "--out", str(out), "-q", "--workers", "2")
    lines = run.stdout.splitlines()
    assert [line.split(":")[0] for line in lines[:2]] == ["minimath", "sums"], run.stdout + run.stderr
    sums = json.loads((out / "sums" / "audit.json").read_text())
    checks = {c["check"]: c for c in sums["checks"]}
    # sums' reference notebook imports minimath: full marks means it was graded on one
    assert checks["reference full marks"]["ok"] and checks["stub scores zero"]["ok"]
    assert sums["mutants"][0]["killed"] and sums["mutants"][0]["task"] == "total"
    minimath = json.loads((out / "minimath" / "audit.json").read_text())
    assert not minimath["ok"]  # the test course's scale-by-zero test pays a zeros degenerate
    assert lines[0].startswith("minimath: FAILED: degenerate points")
    assert lines[1].startswith(f"sums: {'passed' if sums['ok'] else 'FAILED'}")
    assert str(out / "sums" / "audit.html") in lines[1]
    assert run.returncode == 1 and lines[-1].startswith("audit FAILED for minimath")

    toml.write_text(toml.read_text().split("[assignments.sums.audit]")[0])
    again = proctor(course, "audit", "--out", str(out), "-q", "--workers", "2")
    assert "sums: not audited (course.toml has no [assignments.sums.audit] table)" in again.stdout
