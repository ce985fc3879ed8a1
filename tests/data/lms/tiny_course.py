"""A one-function course for batch, Dask and Gradescope-export tests.

Tiny on purpose: the tests exercise the batch machinery through the real engine, not
the attention suites. Loaded by path (``_load_tiny_course()`` in each test file), so it
works whatever pytest import mode is configured.
"""

from __future__ import annotations

import json
from pathlib import Path

JOURNAL = "journal.jsonl"

COURSE_TOML = """
[course]
name = "Tiny"
term = "Test"

[assignments.tiny]
title = "Tiny"
notebook = "tiny.ipynb"
reference = "ref"
graders = "graders"
release = "release"
due = 2026-12-11T23:59:00-05:00

[assignments.tiny.late]
penalty_per_day = 0.1
cap = 0.5

[assignments.tiny.points]
add = 10

[assignments.tiny.limits]
call_timeout_s = 20
submission_timeout_s = 60
"""

SUITE = '''
import pytest

pytestmark = [pytest.mark.task("add")]


@pytest.mark.visibility("public")
def test_small(student):
    assert student.add(1, 2) == 3


def test_negative(student, reference):
    assert student.add(-1, -2) == reference.add(-1, -2)
'''

CORRECT = "def add(a, b):\n    return a + b\n"
BUGGY = "def add(a, b):\n    return a - b\n"


def make_course(root: Path) -> Path:
    """Write the course (course.toml, reference, suite, source notebook) under ``root``."""
    import nbformat

    (root / "graders").mkdir(parents=True)
    (root / "course.toml").write_text(COURSE_TOML)
    (root / "ref.py").write_text(CORRECT)
    (root / "graders" / "test_add.py").write_text(SUITE)
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(CORRECT))
    nbformat.write(nb, root / "tiny.ipynb")
    return root


def make_submissions(root: Path, n: int, *, slow: float = 0.0) -> dict[str, bool]:
    """n students, every third one buggy; returns {student: correct?}."""
    root.mkdir(parents=True, exist_ok=True)
    truth = {}
    for i in range(n):
        name = f"student{i:02d}"
        correct = i % 3 != 2
        code = (f"import time\ntime.sleep({slow})\n" if slow else "") + (
            CORRECT if correct else BUGGY)
        (root / f"{name}.py").write_text(code)
        truth[name] = correct
    return truth


def journal_lines(out: Path) -> list[dict]:
    """Every readable journal line (a line cut short by a crash is skipped)."""
    lines = []
    for raw in (out / JOURNAL).read_text().splitlines():
        try:
            lines.append(json.loads(raw))
        except ValueError:
            pass
    return lines
