"""The Gradescope autograder zip: its contents, and run_autograder on a simulated
/autograder tree (PROCTOR_AUTOGRADER_ROOT), run the way Gradescope runs it."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import load_tiny_course

from proctor.config import load_course
from proctor.gradescope_export import ROOT_ENV, export_gradescope

tiny = load_tiny_course()
make_course, BUGGY, CORRECT = tiny.make_course, tiny.BUGGY, tiny.CORRECT

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]


def test_zip_has_scripts_course_and_source(tmp_path):
    assignment = load_course(REPO).assignment("attention")
    path = export_gradescope(assignment, tmp_path / "export")
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        modes = {i.filename: i.external_attr >> 16 for i in archive.infolist()}
        toml = archive.read("course/course.toml").decode()
    assert {"setup.sh", "run_autograder", "course/course.toml",
            "course/assignment_id", "course/reference/attention.py",
            "course/assignments/attention/attention.ipynb",
            "proctor_src/pyproject.toml", "proctor_src/proctor/runner.py"} <= names
    assert any(n.startswith("course/graders/attention/test_") for n in names)
    assert modes["run_autograder"] & stat.S_IXUSR and modes["setup.sh"] & stat.S_IXUSR
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    assert not any(n.startswith(("examples/", "tests/", "course/tests/")) for n in names)
    assert "[assignments.attention]" in toml


def simulate(tmp_path: Path, files: dict[str, str], created_at: str | None,
             assignment=None) -> Path:
    """Unpack the zip where Gradescope would and place a submission, as Gradescope does
    (``assignment``'s autograder; default the tiny course's)."""
    if assignment is None:
        assignment = load_course(make_course(tmp_path / "course")).assignment("tiny")
    zpath = export_gradescope(assignment, tmp_path / "export")
    root = tmp_path / "autograder"
    with zipfile.ZipFile(zpath) as archive:
        archive.extractall(root / "source")
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    os.chmod(root / "run_autograder", 0o755)
    (root / "submission").mkdir()
    for name, text in files.items():
        (root / "submission" / name).write_text(text)
    if created_at:
        (root / "submission_metadata.json").write_text(json.dumps(
            {"id": 1, "created_at": created_at, "assignment_id": 7}))
    return root


def run(root: Path) -> dict:
    env = {**os.environ, ROOT_ENV: str(root),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    # python3 on PATH must be this interpreter (proctor is installed for it)
    bindir = root.parent / "bin"
    bindir.mkdir(exist_ok=True)
    (bindir / "python3").unlink(missing_ok=True)
    (bindir / "python3").symlink_to(sys.executable)
    env["PATH"] = f"{bindir}{os.pathsep}{env['PATH']}"
    env["PYTHONPATH"] = str(REPO)
    subprocess.run([str(root / "run_autograder")], env=env, check=True)
    return json.loads((root / "results" / "results.json").read_text())


def test_run_autograder_grades_and_applies_late_policy(tmp_path):
    root = simulate(tmp_path, {"tiny.py": CORRECT, "notes.py": BUGGY},
                    created_at="2026-12-12T10:00:00-05:00")  # 1 started day late
    results = run(root)
    assert results["score"] == pytest.approx(9.0)
    assert {t["status"] for t in results["tests"]} == {"passed"}
    assert {t["visibility"] for t in results["tests"]} == {"visible", "after_published"}
    assert "Late penalty 10%" in results["output"]
    assert "graded tiny.py" in results["output"]  # the choice among two files is explained
    if os.geteuid() == 0:
        course = root / "source" / "course"
        assert stat.S_IMODE(course.stat().st_mode) == 0o700
        assert stat.S_IMODE((course / "ref.py").stat().st_mode) == 0o600


def test_student_code_cannot_read_the_reference(tmp_path):
    # Full marks only if opening the hidden reference fails inside the sandbox; without
    # the sandbox (or with a readable course dir) the open succeeds and add returns -999.
    ref = tmp_path / "autograder" / "source" / "course" / "ref.py"
    sneaky = (f"def add(a, b):\n    try:\n        open({str(ref)!r}).read()\n"
              f"        return -999\n    except Exception:\n        return a + b\n")
    results = run(simulate(tmp_path, {"tiny.py": sneaky}, created_at=None))
    assert ref.exists() and results["score"] == 10.0, results


def test_nothing_gradable_still_writes_results(tmp_path):
    results = run(simulate(tmp_path, {"essay.txt": "I did not do it"}, created_at=None))
    assert results["score"] == 0 and results["tests"] == []
    assert "Nothing could be graded" in results["output"]
