"""The engine knows no course: no attention wording anywhere in ``proctor/``, and the
student-facing text a course sees comes from templates it can override.

A course other than attention (``tests/data/minicourse``, which has no written answers and
no efficiency checks) is released and graded here, and what its students read is checked.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import MINICOURSE, ROOT
from proctor.release import release_assignment

ENGINE = ROOT / "proctor"
COURSE_WORDS = re.compile(r"attention|written questions|sequence length", re.IGNORECASE)


def engine_text_files() -> list[Path]:
    """Every file of the engine a person or a student could read: code, templates, styles."""
    files = [p for p in ENGINE.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    texts = []
    for path in files:
        try:
            path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        texts.append(path)
    return texts


def test_engine_strings_and_templates_never_mention_attention() -> None:
    """Case-insensitive, nothing allowed: code, comments, docstrings, templates."""
    files = engine_text_files()
    assert any(p.suffix == ".j2" for p in files) and len(files) > 50
    found = [f"{p.relative_to(ROOT)}:{n}: {line.strip()}" for p in files
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if re.search("attention", line, re.IGNORECASE)]
    assert not found, "course wording in the engine:\n" + "\n".join(found)


def test_minicourse_release_and_feedback_carry_no_course_wording(minimath, tmp_path: Path) -> None:
    release_assignment(minimath, tmp_path / "release", wheel=False)
    readme = (tmp_path / "release" / "README.md").read_text()
    assert "# Minimal maths" in readme and "proctor check minimath.ipynb" in readme
    assert not COURSE_WORDS.search(readme), COURSE_WORDS.search(readme)
    assert "YOUR ANSWER HERE" not in readme  # no written answers in this notebook

    out = tmp_path / "graded"
    done = subprocess.run([sys.executable, "-m", "proctor", "--course", str(MINICOURSE / "course.toml"),
                           "grade", "minimath", str(MINICOURSE / "submissions" / "correct.py"),
                           "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    feedback = (out / "feedback.html").read_text()
    assert "minimath" in feedback.lower()
    assert not COURSE_WORDS.search(feedback), COURSE_WORDS.search(feedback)
    assert not COURSE_WORDS.search(done.stdout)


def test_course_templates_override_the_engines(minimath, tmp_path: Path) -> None:
    """A course's own ``student_readme.md.j2`` replaces the engine's; it may extend the base."""
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "student_readme.md.j2").write_text(
        '{% extends "student_readme_base.md.j2" %}\n'
        "{% block notebook_tests %}\nOur own words about {{ notebook }}.\n{% endblock %}\n")
    course = dataclasses.replace(minimath, templates=tmp_path / "templates")
    release_assignment(course, tmp_path / "release", wheel=False)
    readme = (tmp_path / "release" / "README.md").read_text()
    assert "Our own words about minimath.ipynb.\n" in readme
    assert "## Checking your work locally" in readme  # the rest is the engine's


def test_course_toml_declares_the_templates_folder(tmp_path: Path) -> None:
    from proctor.config import load_course
    from proctor.errors import ConfigError

    shutil.copytree(MINICOURSE, tmp_path / "c", ignore=shutil.ignore_patterns("release"))
    toml = tmp_path / "c" / "course.toml"
    toml.write_text(toml.read_text().replace('term = "Test"\n', 'term = "Test"\ntemplates = "words"\n'))
    with pytest.raises(ConfigError, match="course.templates: words is not a directory"):
        load_course(toml)
    (tmp_path / "c" / "words").mkdir()
    assert load_course(toml).assignment("minimath").templates == (tmp_path / "c" / "words").resolve()


def test_course_feedback_templates_reach_the_local_check(minimath, tmp_path: Path) -> None:
    """A course that rewords its feedback page ships that template in checks/, so the page
    ``proctor check`` writes reads like the official one; its README template stays home."""
    words = tmp_path / "templates"
    words.mkdir()
    (words / "feedback.html.j2").write_text('{% extends "base.html.j2" %}{% block main %}'
                                            "<p>Course-worded feedback</p>{% endblock %}\n")
    (words / "student_readme.md.j2").write_text("Our README\n")
    release_assignment(dataclasses.replace(minimath, templates=words), tmp_path / "release", wheel=False)
    shipped = sorted(p.name for p in (tmp_path / "release" / "checks" / "templates").iterdir())
    assert shipped == ["feedback.html.j2"]
    shutil.copy(MINICOURSE / "submissions" / "correct.py", tmp_path / "release" / "mine.py")
    done = subprocess.run([sys.executable, "-m", "proctor", "check", "mine.py"], cwd=tmp_path / "release",
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "Course-worded feedback" in (tmp_path / "release" / "feedback.html").read_text()
