"""Students' local checks: the public part of the official grade, with nothing hidden."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from conftest import DATA, MINICOURSE
from proctor.local_check import run_check
from proctor.released_checks import write_checks
from proctor.errors import ProctorError
from proctor.runner import grade_submission

SUBMISSIONS = [MINICOURSE / "submissions" / "correct.py", DATA / "hostile" / "patch_numpy.py",
               DATA / "hostile" / "sys_exit.py"]


@pytest.fixture(scope="module")
def student_copy(minimath, tmp_path_factory):
    """What a student has: the released checks/ folder, and nothing of the course."""
    release = tmp_path_factory.mktemp("release")
    write_checks(minimath, release)
    student = tmp_path_factory.mktemp("student")
    shutil.copytree(release / "checks", student / "checks")
    return release, student


def test_checks_hold_no_hidden_material(minimath, student_copy):
    _, student = student_copy
    shipped = "\n".join(p.read_text() for p in (student / "checks").rglob("*") if p.is_file())
    hidden_suite = (minimath.graders / "test_minimath.py").read_text()
    reference = (MINICOURSE / "reference" / "minimath.py").read_text()
    public_suite = (minimath.graders / "public" / "test_public.py").read_text()
    secret = {line.strip() for line in hidden_suite.splitlines() + reference.splitlines()
              if len(line.strip()) >= 25 and line.strip() not in public_suite}
    assert secret
    for line in secret:
        assert line not in shipped, line
    assert not list((student / "checks").rglob("golden_cases.py"))


@pytest.mark.parametrize("submission", SUBMISSIONS, ids=lambda p: p.stem)
def test_local_check_equals_public_part_of_official_grade(minimath, student_copy, submission, tmp_path):
    release, student = student_copy
    official = grade_submission(minimath, submission, golden=release / "checks" / "golden").to_dict()
    local = run_check(shutil.copy(submission, student / submission.name), checks=student / "checks").to_dict()
    public = [t for t in official["tests"] if t["visibility"] == "public"]
    assert public, "the suite has public tests"
    assert local["tests"] == public
    for task, entry in local["tasks"].items():
        assert entry["score"] == sum(t["score"] for t in public if t["task"] == task)


def test_proctor_check_command_writes_feedback(student_copy, tmp_path):
    _, student = student_copy
    work = tmp_path / "work"
    shutil.copytree(student, work)
    shutil.copy(MINICOURSE / "submissions" / "correct.py", work / "mine.py")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROCTOR")}
    done = subprocess.run([sys.executable, "-m", "proctor.cli", "check", "mine.py"], cwd=work, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "14 / 14" in done.stdout and "feedback:" in done.stdout
    assert (work / "feedback.html").is_file()


def test_missing_checks_folder_is_a_clear_error(tmp_path):
    (tmp_path / "mine.py").write_text("x = 1\n")
    done = subprocess.run([sys.executable, "-m", "proctor.cli", "check", "mine.py"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 2
    assert "no local checks" in done.stderr and "Traceback" not in done.stderr


def test_minicourse_release_is_current(minimath, tmp_path):
    """The committed release of the engine's test course is what `proctor release` makes."""
    from proctor.release import release_assignment

    fresh = {p.relative_to(tmp_path).as_posix(): p.read_bytes()
             for p in release_assignment(minimath, tmp_path, wheel=False)}
    committed = {p.relative_to(minimath.release_dir).as_posix(): p.read_bytes()
                 for p in minimath.release_dir.rglob("*") if p.is_file() and p.suffix != ".whl"}
    assert fresh == committed


def test_a_release_checks_the_task_ids_it_collects(minimath, tmp_path):
    """Release collects the suite for its manifest anyway, so it refuses points that name
    a task the suite lacks (loading the course no longer collects suites)."""
    import dataclasses

    from proctor.errors import ConfigError

    wrong = dataclasses.replace(minimath, points={**minimath.points, "countr": 5.0})
    with pytest.raises(ConfigError, match=r"assignments\.minimath\.points\.countr: no task 'countr'"):
        write_checks(wrong, tmp_path)
    # the student's copy carries the whole suite's weights: its public run checks no ids
    write_checks(minimath, tmp_path)
    assert run_check(MINICOURSE / "submissions" / "correct.py", checks=tmp_path / "checks").score > 0


def test_only_declared_files_ship_whatever_their_names(minimath, tmp_path):
    """What ships is course.toml's ``ship`` list, not a naming convention: an unlisted
    ``conftest.py`` or ``_helper.py`` stays hidden, a listed ``helper.py`` ships."""
    import dataclasses

    graders = tmp_path / "graders"
    shutil.copytree(minimath.graders, graders)
    for name in ("conftest.py", "_private.py", "helper.py", "composition.py"):
        (graders / name).write_text(f"# {name}\n")
    course = dataclasses.replace(minimath, graders=graders, ship=("public", "helper.py"))
    write_checks(course, tmp_path / "out")
    shipped = {p.relative_to(tmp_path / "out" / "checks").as_posix()
               for p in (tmp_path / "out" / "checks").rglob("*.py")}
    assert shipped == {"public/test_public.py", "helper.py"}
    missing = dataclasses.replace(course, ship=("public", "gone.py"))
    with pytest.raises(ProctorError, match="gone.py: declared in course.toml's ship list but does not exist"):
        write_checks(missing, tmp_path / "again")


@pytest.mark.parametrize("ship, words", [
    ('"public"', "expected a list of paths"),
    ('["../../reference/minimath.py"]', "is not inside minimath/"),
])
def test_ship_list_is_validated(tmp_path, ship, words):
    from proctor.config import load_course
    from proctor.errors import ConfigError

    course = tmp_path / "course"
    shutil.copytree(MINICOURSE, course, ignore=shutil.ignore_patterns("release"))
    toml = course / "course.toml"
    toml.write_text(toml.read_text().replace('ship = ["public"]', f"ship = {ship}"))
    with pytest.raises(ConfigError) as err:
        load_course(toml)
    assert "assignments.minimath.ship" in str(err.value) and words in str(err.value)
