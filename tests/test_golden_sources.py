"""Official grading takes golden cases from the course sources, never from release output.

A Gradescope export once left ``student_template/`` out and a correct submission scored
94.07 / 100 ("golden case 'decode_small' not found"). Now the official grade computes the
cases from ``graders/<id>/golden_cases.py`` and the reference, and ``proctor validate``
catches released files that no longer equal that computation.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from proctor.config import load_course
from proctor.golden import official_cases, released_drift, source_hash
from proctor.plugin import import_reference
from proctor.release import release_assignment
from proctor.runner import grade_submission

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "submissions"
COURSE_SOURCES = ("course.toml", "assignments", "reference", "graders", "templates")


def copy_checkout(dest: Path) -> Path:
    """The course as a fresh checkout without ``student_template/`` would have it."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    dest.mkdir(parents=True)
    for name in COURSE_SOURCES:
        src = ROOT / name
        (shutil.copytree(src, dest / name, ignore=ignore) if src.is_dir() else shutil.copy(src, dest / name))
    return dest


def verdicts(result) -> dict[str, str]:
    return {t.id: t.status for t in result.tests}


@pytest.mark.slow
@pytest.mark.parametrize("example", ["correct.py", "bug_softmax_axis.py"])
def test_a_checkout_without_the_release_grades_the_same(tmp_path, attention, example):
    checkout = copy_checkout(tmp_path / "course")
    bare = load_course(checkout).assignment("attention")
    assert not Path(bare.release_dir).exists()
    here = grade_submission(bare, EXAMPLES / example)
    there = grade_submission(attention, EXAMPLES / example)
    assert not any("golden case" in t.message for t in here.tests), [t.message for t in here.tests]
    assert (here.score, verdicts(here)) == (there.score, verdicts(there))
    if example == "correct.py":
        assert here.score == here.max_score == 100
    assert not Path(bare.release_dir).exists()  # grading wrote no release either


def test_the_official_cases_are_the_released_text(tmp_path, attention):
    reference = import_reference(attention)
    release_assignment(attention, out_dir=tmp_path, wheel=False)
    computed = official_cases(attention, reference)
    released = {p.stem: p.read_text() for p in (tmp_path / "checks" / "golden").glob("*.json")}
    assert computed == released and computed
    assert released_drift(attention, reference, tmp_path / "checks" / "golden") == []


def _nudge_last_bit(path: Path) -> None:
    """Change one float64 of the case's first array by one unit in the last place."""
    data = json.loads(path.read_text())
    raw = bytearray(base64.b64decode(data["buffers"][0]))
    value = np.frombuffer(bytes(raw[:8]), dtype=np.int64)[0] + 1
    raw[:8] = np.int64(value).tobytes()
    data["buffers"][0] = base64.b64encode(bytes(raw)).decode("ascii")
    path.write_text(json.dumps(data, indent=1) + "\n")


def test_validate_names_released_cases_that_drifted(tmp_path, attention):
    reference = import_reference(attention)
    release_assignment(attention, out_dir=tmp_path, wheel=False)
    golden = tmp_path / "checks" / "golden"
    _nudge_last_bit(golden / "mha_small.json")
    text = (golden / "sdpa_small.json").read_text()
    (golden / "sdpa_small.json").write_text(text.replace("\n", "\n ", 1))  # same data, other bytes
    (golden / "mask_small.json").unlink()
    (golden / "stale.json").write_text("{}")
    problems = released_drift(attention, reference, golden)
    assert len(problems) == 4, problems
    assert any("mask_small" in p and "missing" in p for p in problems)
    assert any("stale.json" in p and "no such golden case" in p for p in problems)
    assert any("mha_small.json" in p and "up to 1 units in the last place" in p for p in problems)
    assert any("sdpa_small.json" in p and "differs" in p for p in problems)


def test_the_cache_key_follows_every_source(tmp_path):
    checkout = copy_checkout(tmp_path / "course")
    assignment = load_course(checkout).assignment("attention")
    before = source_hash(assignment)
    assert source_hash(assignment) == before
    for edited in ("graders/attention/golden_cases.py", "graders/attention/_inputs.py", "reference/attention.py"):
        path = checkout / edited
        path.write_text(path.read_text() + "\n# edited\n")
        assert source_hash(assignment) != before, edited
        before = source_hash(assignment)
    assert source_hash(dataclasses.replace(assignment, seed=assignment.seed + 1)) != before


@pytest.mark.slow
def test_validate_fails_when_released_golden_files_drift(tmp_path):
    from conftest import MINICOURSE

    from proctor.validate import validate_assignment

    course = tmp_path / "minicourse"
    shutil.copytree(MINICOURSE, course, ignore=shutil.ignore_patterns("__pycache__"))
    assignment = load_course(course / "course.toml").assignment("minimath")
    assert validate_assignment(assignment, isolation="rlimits").ok
    released = next((Path(assignment.release_dir) / "checks" / "golden").glob("*.json"))
    released.write_text(released.read_text().replace("\n", "\n ", 1))
    report = validate_assignment(assignment, isolation="rlimits")
    assert not report.ok
    assert [p for p in report.problems if released.name in p and "fresh computation" in p], report.text()


HELPED_CASES = '''
from _golden_helper import SHIFT


def case_shifted(reference):
    from _golden_later import SCALE  # imported only when the case runs
    a = np.arange(4.0)
    return {"a": a, "expected": reference.add(a, SHIFT) * SCALE}
'''


def test_golden_cases_import_the_suites_helpers_by_name(tmp_path):
    """The engine puts the suite's directory on sys.path while golden_cases.py loads and
    runs, as it does for the suite's tests, and takes it off after: no course file arranges
    sys.path itself."""
    import sys

    from conftest import MINICOURSE

    from proctor.golden import compute_cases, loads

    course = tmp_path / "course"
    shutil.copytree(MINICOURSE, course, ignore=shutil.ignore_patterns("__pycache__"))
    suite = course / "graders" / "minimath"
    (suite / "_golden_helper.py").write_text("SHIFT = 3.0\n")
    (suite / "_golden_later.py").write_text("SCALE = 2.0\n")
    (suite / "golden_cases.py").write_text((suite / "golden_cases.py").read_text() + HELPED_CASES)
    reference = import_reference(load_course(course / "course.toml").assignment("minimath"))
    try:
        cases = compute_cases(suite, reference)
    finally:
        for name in ("_golden_helper", "_golden_later"):
            sys.modules.pop(name, None)
    assert list(loads(cases["shifted"])["expected"]) == [6.0, 8.0, 10.0, 12.0]
    assert str(suite.resolve()) not in sys.path
    assert not [p for p in ROOT.glob("graders/*/golden_cases.py") if "sys.path" in p.read_text()]


def test_suites_with_helpers_of_the_same_name_compute_their_cases_in_one_process() -> None:
    """`proctor validate` over every assignment: attention's `_inputs` is imported first, and
    the transformer's golden_cases.py must still import its own `_inputs`."""
    from proctor.config import load_course
    from proctor.golden import compute_cases
    from proctor.plugin import import_reference

    course = load_course(Path(__file__).resolve().parents[1])
    for aid in ("attention", "transformer", "attention"):
        assignment = course.assignment(aid)
        assert compute_cases(assignment.graders, import_reference(assignment)), aid
