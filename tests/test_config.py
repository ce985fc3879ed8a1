"""Tests for proctor.config: one test per kind of mistake an instructor can make in
course.toml, the happy path, the grader-task check, and the late-penalty arithmetic."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from proctor.config import (
    Assignment,
    Course,
    LatePolicy,
    SubmissionLimits,
    load_course,
    validate_tasks,
)
from proctor.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]
TASKS = {"causal_mask", "scaled_dot_product", "multi_head", "kv_cache", "cached_attention",
         "efficiency"}

VALID = """\
[course]
name = "ML Systems"
term = "Fall 2026"

[assignments.attention]
title = "Attention"
notebook = "assignments/attention/attention.ipynb"
reference = "reference.attention"
graders = "graders/attention"
release = "student_template/attention"
due = 2026-12-11T23:59:00-05:00
seed = 7

[assignments.attention.late]
penalty_per_day = 0.1
cap = 0.5
grace_minutes = 15

[assignments.attention.points]
causal_mask = 10
scaled_dot_product = 25
multi_head = 25
kv_cache = 15
cached_attention = 15
efficiency = 10

[assignments.attention.tolerance]
rtol = 1e-4
atol = 1e-5

[assignments.attention.limits]
call_timeout_s = 10
submission_timeout_s = 120
memory_mb = 1024
"""


# --------------------------------------------------------------------------- helpers


def make_course_tree(root: Path) -> Path:
    """The files VALID refers to, so path checks pass inside tmp_path."""
    (root / "assignments/attention").mkdir(parents=True)
    (root / "assignments/attention/attention.ipynb").write_text("{}")
    (root / "reference").mkdir()
    (root / "reference/attention.py").write_text("")
    (root / "graders/attention").mkdir(parents=True)
    return root


@pytest.fixture
def course_dir(tmp_path: Path) -> Path:
    return make_course_tree(tmp_path)


def write(directory: Path, text: str, name: str = "course.toml") -> Path:
    path = directory / name
    path.write_text(text)
    return path


def edit(old: str, new: str, text: str = VALID) -> str:
    """VALID with one snippet replaced; fails loudly if the snippet is not there."""
    assert old in text, old
    return text.replace(old, new, 1)


def error_of(path: Path, **kwargs: bool) -> str:
    with pytest.raises(ConfigError) as info:
        load_course(path, **kwargs)
    return str(info.value)


def bad(course_dir: Path, old: str, new: str) -> str:
    """The ConfigError message for VALID with one edit."""
    return error_of(write(course_dir, edit(old, new)))


# --------------------------------------------------------------------------- happy path


def test_valid_course_loads_with_absolute_paths_and_typed_values(course_dir: Path) -> None:
    course = load_course(write(course_dir, VALID))
    assert isinstance(course, Course)
    assert (course.name, course.term, course.root) == ("ML Systems", "Fall 2026", course_dir)
    a = course.assignment("attention")
    assert isinstance(a, Assignment)
    assert a.notebook == course_dir / "assignments/attention/attention.ipynb"
    assert a.graders == course_dir / "graders/attention"
    assert a.release_dir == course_dir / "student_template/attention"
    assert all(p.is_absolute() for p in (a.notebook, a.graders, a.release_dir))
    assert a.reference == "reference.attention"
    assert a.due == datetime(2026, 12, 12, 4, 59, tzinfo=timezone.utc)
    assert a.due.tzinfo is not None
    assert a.late == LatePolicy(penalty_per_day=0.1, cap=0.5, grace_minutes=15)
    assert a.points["kv_cache"] == 15.0 and isinstance(a.points["kv_cache"], float)
    assert a.max_score == 100.0
    assert (a.rtol, a.atol, a.seed) == (1e-4, 1e-5, 7)
    assert a.limits == SubmissionLimits(call_timeout_s=10, submission_timeout_s=120, memory_mb=1024)
    assert a.course_root == course_dir


def test_optional_sections_take_documented_defaults(course_dir: Path) -> None:
    text = VALID.split("[assignments.attention.tolerance]")[0]
    text = edit("seed = 7\n", "", text)
    text = edit("grace_minutes = 15\n", "", text)
    a = load_course(write(course_dir, text)).assignment("attention")
    assert (a.rtol, a.atol, a.seed, a.late.grace_minutes) == (1e-4, 1e-5, 0, 0.0)
    assert a.limits == SubmissionLimits()


def test_dataclasses_are_frozen(course_dir: Path) -> None:
    a = load_course(write(course_dir, VALID)).assignment("attention")
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.seed = 1  # type: ignore[misc]
    hash(a)  # usable as a dict key / in sets despite the dict-valued points


def test_reference_may_be_a_package(course_dir: Path) -> None:
    (course_dir / "reference/attention.py").unlink()
    (course_dir / "reference/attention").mkdir()
    (course_dir / "reference/attention/__init__.py").write_text("")
    assert load_course(write(course_dir, VALID)).assignment("attention").reference


def test_directory_argument_means_its_course_toml(course_dir: Path) -> None:
    write(course_dir, VALID)
    assert load_course(course_dir).root == course_dir
    assert load_course(str(course_dir / "course.toml")).root == course_dir


def test_none_searches_cwd_then_parents(course_dir: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    write(course_dir, VALID)
    monkeypatch.chdir(course_dir / "graders/attention")
    assert load_course().root == course_dir


# --------------------------------------------------------------------------- file-level


def test_missing_file_is_named(tmp_path: Path) -> None:
    message = error_of(tmp_path / "nope.toml")
    assert "nope.toml" in message and "not found" in message


def test_no_course_toml_in_any_parent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if any((d / "course.toml").exists() for d in tmp_path.parents):
        pytest.skip("a parent of tmp_path has a course.toml")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="no course.toml in .* or any parent"):
        load_course()


def test_toml_syntax_error_gives_line_and_shows_it(course_dir: Path) -> None:
    path = write(course_dir, edit('title = "Attention"', "title = Attention"))
    with pytest.raises(ConfigError) as info:
        load_course(path)
    message = str(info.value)
    assert str(path) in message and "TOML syntax error" in message
    assert "line 6" in message and "6 | title = Attention" in message
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_duplicate_key_is_a_syntax_error(course_dir: Path) -> None:
    message = bad(course_dir, "seed = 7\n", "seed = 7\nseed = 8\n")
    assert "TOML syntax error" in message and "line 13" in message


def test_not_utf8(course_dir: Path) -> None:
    path = course_dir / "course.toml"
    path.write_bytes(VALID.encode() + b'# caf\xe9\n')
    assert "not UTF-8" in error_of(path)


# --------------------------------------------------------------------------- unknown keys


@pytest.mark.parametrize(
    ("old", "new", "key", "suggestion"),
    [
        ("[course]", "[cours]", "cours", "'course'"),
        ('name = "ML Systems"', 'nmae = "ML Systems"', "course.nmae", "'name'"),
        ('release = "', 'release_dir = "', "assignments.attention.release_dir", "'release'"),
        ("cap = 0.5", "caps = 0.5", "assignments.attention.late.caps", "'cap'"),
        ("rtol = 1e-4", "rtoll = 1e-4", "assignments.attention.tolerance.rtoll", "'rtol'"),
        ("memory_mb", "memory_MB", "assignments.attention.limits.memory_MB", "'memory_mb'"),
    ],
)
def test_unknown_key_at_every_level_suggests_closest(
        course_dir: Path, old: str, new: str, key: str, suggestion: str) -> None:
    message = bad(course_dir, old, new)
    assert f"{key}: unknown key; did you mean {suggestion}?" in message


def test_unknown_key_without_close_match_lists_known_keys(course_dir: Path) -> None:
    message = bad(course_dir, "seed = 7", "zzz = 7")
    assert "assignments.attention.zzz: unknown key; known keys here: title, notebook" in message


def test_key_in_wrong_table_says_where_it_belongs(course_dir: Path) -> None:
    message = bad(course_dir, "seed = 7", "seed = 7\nrtol = 1e-3")
    assert ("assignments.attention.rtol: unknown key; it belongs in "
            "[assignments.attention.tolerance]") in message


# --------------------------------------------------------------------------- wrong types


@pytest.mark.parametrize(
    ("old", "new", "key", "expected", "got"),
    [
        ("kv_cache = 15", "kv_cache = true", "assignments.attention.points.kv_cache",
         "a number of points >= 0", "true (a boolean)"),
        ("kv_cache = 15", 'kv_cache = "15"', "assignments.attention.points.kv_cache",
         "a number of points >= 0", '"15" (a string)'),
        ("cap = 0.5", "cap = false", "assignments.attention.late.cap", "a number from 0 to 1",
         "false (a boolean)"),
        ("memory_mb = 1024", "memory_mb = 1024.5", "assignments.attention.limits.memory_mb",
         "a whole number of megabytes", "1024.5 (a float)"),
        ("seed = 7", "seed = 7.0", "assignments.attention.seed", "a non-negative integer",
         "7.0 (a float)"),
        ('title = "Attention"', "title = 5", "assignments.attention.title",
         "a non-empty string", "5 (an integer)"),
        ('term = "Fall 2026"', 'term = ""', "course.term", "a non-empty string",
         '"" (a string)'),
        ("rtol = 1e-4", "rtol = nan", "assignments.attention.tolerance.rtol",
         "a relative tolerance >= 0", "nan (a float)"),
    ],
)
def test_wrong_type(course_dir: Path, old: str, new: str, key: str, expected: str,
                    got: str) -> None:
    message = bad(course_dir, old, new)
    assert f"{key}: expected {expected}" in message and f"got {got}" in message


def test_section_that_should_be_a_table(course_dir: Path) -> None:
    text = edit("[assignments.attention.limits]\ncall_timeout_s = 10\n"
                "submission_timeout_s = 120\nmemory_mb = 1024\n", "")
    text = edit("seed = 7", "seed = 7\nlimits = 5", text)
    message = error_of(write(course_dir, text))
    assert "assignments.attention.limits: expected [assignments.attention.limits]" in message
    assert "got 5 (an integer)" in message


# --------------------------------------------------------------------------- nonsense values


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("kv_cache = 15", "kv_cache = -5", "assignments.attention.points.kv_cache"),
        ("call_timeout_s = 10", "call_timeout_s = 0",
         "assignments.attention.limits.call_timeout_s"),
        ("submission_timeout_s = 120", "submission_timeout_s = -1",
         "assignments.attention.limits.submission_timeout_s"),
        ("memory_mb = 1024", "memory_mb = 0", "assignments.attention.limits.memory_mb"),
        ("rtol = 1e-4", "rtol = -1e-4", "assignments.attention.tolerance.rtol"),
        ("atol = 1e-5", "atol = -1.0", "assignments.attention.tolerance.atol"),
        ("penalty_per_day = 0.1", "penalty_per_day = 10",
         "assignments.attention.late.penalty_per_day"),
        ("cap = 0.5", "cap = 1.5", "assignments.attention.late.cap"),
        ("grace_minutes = 15", "grace_minutes = -15", "assignments.attention.late.grace_minutes"),
        ("seed = 7", "seed = -7", "assignments.attention.seed"),
    ],
)
def test_out_of_range_value(course_dir: Path, old: str, new: str, key: str) -> None:
    message = bad(course_dir, old, new)
    assert f"{key}: expected " in message


def test_points_that_add_up_to_zero(course_dir: Path) -> None:
    text = VALID
    for task, value in [("causal_mask", 10), ("scaled_dot_product", 25), ("multi_head", 25),
                        ("kv_cache", 15), ("cached_attention", 15), ("efficiency", 10)]:
        text = edit(f"{task} = {value}\n", f"{task} = 0\n", text)
    assert "assignments.attention.points: the points add up to 0" in error_of(
        write(course_dir, text))


def test_call_timeout_longer_than_submission_timeout(course_dir: Path) -> None:
    message = bad(course_dir, "call_timeout_s = 10", "call_timeout_s = 500")
    assert "assignments.attention.limits.call_timeout_s: 500 s is longer than" in message


def test_bad_assignment_id(course_dir: Path) -> None:
    text = VALID.replace("assignments.attention", 'assignments."my attention"')
    message = error_of(write(course_dir, text))
    assert 'assignments."my attention": assignment ids may use only' in message


# --------------------------------------------------------------------------- missing keys


@pytest.mark.parametrize(
    ("old", "key", "what"),
    [
        ('name = "ML Systems"\n', "course.name", "required key is missing"),
        ('notebook = "assignments/attention/attention.ipynb"\n', "assignments.attention.notebook",
         "required key is missing"),
        ("due = 2026-12-11T23:59:00-05:00\n", "assignments.attention.due",
         "required key is missing; expected a TOML datetime with a UTC offset"),
        ("cap = 0.5\n", "assignments.attention.late.cap", "required key is missing"),
        ("[assignments.attention.late]\npenalty_per_day = 0.1\ncap = 0.5\ngrace_minutes = 15\n",
         "assignments.attention.late", "required table is missing"),
    ],
)
def test_missing_required(course_dir: Path, old: str, key: str, what: str) -> None:
    assert f"{key}: {what}" in bad(course_dir, old, "")


def test_missing_course_table(course_dir: Path) -> None:
    message = bad(course_dir, '[course]\nname = "ML Systems"\nterm = "Fall 2026"\n', "")
    assert "course: required table is missing; expected a [course] table" in message


def test_no_assignments(course_dir: Path) -> None:
    text = VALID.split("[assignments.attention]")[0]
    assert "assignments: required table is missing" in error_of(write(course_dir, text))
    text += "[assignments]\n"
    assert "assignments: no assignments" in error_of(write(course_dir, text))


def test_empty_points_table(course_dir: Path) -> None:
    text = VALID.split("[assignments.attention.points]")[0] + "[assignments.attention.points]\n"
    assert "assignments.attention.points: no tasks" in error_of(write(course_dir, text))


# --------------------------------------------------------------------------- due date


def test_naive_due_says_add_a_utc_offset(course_dir: Path) -> None:
    message = bad(course_dir, "due = 2026-12-11T23:59:00-05:00", "due = 2026-12-11T23:59:00")
    assert "assignments.attention.due: 2026-12-11T23:59:00 has no UTC offset; add one" in message


def test_due_date_without_time(course_dir: Path) -> None:
    message = bad(course_dir, "due = 2026-12-11T23:59:00-05:00", "due = 2026-12-11")
    assert "assignments.attention.due: 2026-12-11 is a date without a time" in message


def test_quoted_due(course_dir: Path) -> None:
    message = bad(course_dir, "due = 2026-12-11T23:59:00-05:00",
                  'due = "2026-12-11T23:59:00-05:00"')
    assert "assignments.attention.due: expected a TOML datetime" in message
    assert "(unquoted)" in message


# --------------------------------------------------------------------------- paths


def test_notebook_that_does_not_exist(course_dir: Path) -> None:
    (course_dir / "assignments/attention/attention.ipynb").unlink()
    message = error_of(write(course_dir, VALID))
    assert ("assignments.attention.notebook: assignments/attention/attention.ipynb does not "
            "exist") in message


def test_notebook_must_be_ipynb(course_dir: Path) -> None:
    message = bad(course_dir, "attention/attention.ipynb", "attention/attention.py")
    assert "assignments.attention.notebook: expected a path to the source .ipynb" in message


def test_graders_that_does_not_exist(course_dir: Path) -> None:
    message = bad(course_dir, 'graders = "graders/attention"', 'graders = "graders/atention"')
    assert "assignments.attention.graders: graders/atention does not exist" in message


def test_graders_that_is_a_file(course_dir: Path) -> None:
    (course_dir / "graders/file.py").write_text("")
    message = bad(course_dir, 'graders = "graders/attention"', 'graders = "graders/file.py"')
    assert "assignments.attention.graders: graders/file.py is not a directory" in message


@pytest.mark.parametrize("release", [".", "assignments", "graders"])
def test_release_that_would_overwrite_sources(course_dir: Path, release: str) -> None:
    message = bad(course_dir, 'release = "student_template/attention"', f'release = "{release}"')
    assert "assignments.attention.release: " in message and "would overwrite" in message


def test_release_that_is_a_file(course_dir: Path) -> None:
    (course_dir / "student_template").mkdir()
    (course_dir / "student_template/attention").write_text("")
    message = error_of(write(course_dir, VALID))
    assert "assignments.attention.release: student_template/attention is a file" in message


def test_reference_module_not_found(course_dir: Path) -> None:
    message = bad(course_dir, '"reference.attention"', '"reference.atention"')
    assert ("assignments.attention.reference: module 'reference.atention' not found: "
            "expected reference/atention.py or reference/atention/__init__.py") in message


def test_reference_written_as_a_path_suggests_dotted_name(course_dir: Path) -> None:
    message = bad(course_dir, '"reference.attention"', '"reference/attention.py"')
    assert "assignments.attention.reference: expected a dotted module name" in message
    assert 'write "reference.attention"' in message


# --------------------------------------------------------------------------- all problems


def test_all_problems_are_listed_one_per_line(course_dir: Path) -> None:
    text = edit("kv_cache = 15", "kv_cache = true")
    text = edit("due = 2026-12-11T23:59:00-05:00", "due = 2026-12-11T23:59:00", text)
    text = edit('name = "ML Systems"', 'nmae = "ML Systems"', text)
    path = write(course_dir, text)
    with pytest.raises(ConfigError) as info:
        load_course(path)
    lines = str(info.value).splitlines()
    assert lines[0] == f"{path}: 4 problems:"
    keys = [line.strip().split(":")[0] for line in lines[1:]]
    assert keys == ["course.nmae", "course.name", "assignments.attention.due",
                    "assignments.attention.points.kv_cache"]
    assert [k for k, _ in info.value.problems] == keys  # type: ignore[attr-defined]


def test_single_problem_is_one_line_naming_the_file(course_dir: Path) -> None:
    path = write(course_dir, edit("kv_cache = 15", "kv_cache = -1"))
    message = error_of(path)
    assert "\n" not in message and message.startswith(f"{path}: assignments.attention")


# --------------------------------------------------------------------------- Course.assignment


def test_unknown_assignment_id_lists_known_ids(course_dir: Path) -> None:
    course = load_course(write(course_dir, VALID))
    with pytest.raises(ConfigError, match=r"no assignment 'atention' \(did you mean "
                                          r"'attention'\?\); known assignments: attention"):
        course.assignment("atention")


# --------------------------------------------------------------------------- grader tasks


@pytest.fixture
def assignment(course_dir: Path) -> Assignment:
    return load_course(write(course_dir, VALID)).assignment("attention")


def test_validate_tasks_accepts_suite_with_extra_tasks(assignment: Assignment) -> None:
    validate_tasks(assignment, TASKS | {"bonus"})  # "bonus" has no points: worth 0, no error


def test_validate_tasks_rejects_points_for_unknown_task(assignment: Assignment) -> None:
    with pytest.raises(ConfigError) as info:
        validate_tasks(assignment, (TASKS - {"kv_cache"}) | {"kvcache"})
    message = str(info.value)
    assert message.startswith(f"{assignment.course_root / 'course.toml'}: ")
    assert ("assignments.attention.points.kv_cache: no task 'kv_cache' in the grader suite "
            "graders/attention (did you mean 'kvcache'?)") in message


def test_validate_tasks_lists_every_unknown_task(assignment: Assignment) -> None:
    with pytest.raises(ConfigError) as info:
        validate_tasks(assignment, {"causal_mask"})
    assert str(info.value).splitlines()[0].endswith(": 5 problems:")


def test_load_course_imports_no_pytest_and_collects_no_suite(course_dir: Path) -> None:
    """Loading only parses the TOML: a fresh interpreter has no pytest after it, even with
    a suite whose collection would fail (it is never collected)."""
    (course_dir / "graders/attention/test_mask.py").write_text("this is not python\n")
    path = write(course_dir, VALID)
    code = ("import sys; from proctor.config import load_course; "
            f"c = load_course({str(path)!r}); "
            "assert 'pytest' not in sys.modules, 'pytest imported'; "
            "assert 'proctor.runner' not in sys.modules, 'runner imported'; print(sorted(c.assignments))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['attention']"


# --------------------------------------------------------------------------- the real course


def test_real_course_toml_content_is_valid(tmp_path: Path) -> None:
    """The repository's course.toml, against stand-in files (the real ones may not exist)."""
    shutil.copy(REPO / "course.toml", tmp_path / "course.toml")
    make_course_tree(tmp_path)
    notebook = "assignments/attention/attention.ipynb"  # grade_ids name its grade cells
    shutil.copy(REPO / notebook, tmp_path / notebook)
    (tmp_path / "templates").mkdir()  # [course] templates: the course's student-facing text
    (tmp_path / "reference/attention_stand_in.py").write_text("")  # provides.stand_in
    transformer = "assignments/transformer/transformer.ipynb"  # requires attention
    (tmp_path / transformer).parent.mkdir(parents=True)
    shutil.copy(REPO / transformer, tmp_path / transformer)
    (tmp_path / "reference/transformer.py").write_text("")
    (tmp_path / "graders/transformer").mkdir(parents=True)
    course = load_course(tmp_path)
    t = course.assignment("transformer")
    assert t.requires == ("attention",) and t.max_score == 100.0
    assert set(t.grade_ids) == set(t.points) and t.due > course.assignment("attention").due
    a = course.assignment("attention")
    assert a.provides is not None and a.provides.module == "attention"
    assert set(a.points) == TASKS and a.max_score == 100.0 and set(a.grade_ids) == TASKS
    assert a.due == datetime(2026, 12, 11, 23, 59, tzinfo=timezone(timedelta(hours=-5)))
    assert (a.rtol, a.atol, a.seed) == (1e-4, 1e-5, 20261122)
    assert a.late == LatePolicy(0.1, 0.5, 15)


def test_real_course_toml_loads_in_place() -> None:
    """Loads /work/main's course.toml against the real files once other engineers add them."""
    needed = [REPO / "assignments/attention/attention.ipynb", REPO / "graders/attention"]
    reference = REPO / "reference/attention"
    missing = [p for p in needed if not p.exists()]
    if not (reference.with_suffix(".py").is_file() or (reference / "__init__.py").is_file()):
        missing.append(reference.with_suffix(".py"))
    if missing:
        pytest.skip(f"course content not written yet: {', '.join(map(str, missing))}")
    course = load_course(REPO / "course.toml")
    assert course.assignment("attention").max_score == 100.0


# --------------------------------------------------------------------------- late penalty

DUE = datetime(2026, 12, 11, 23, 59, tzinfo=timezone(timedelta(hours=-5)))
POLICY = LatePolicy(penalty_per_day=0.1, cap=0.5, grace_minutes=15)


@pytest.mark.parametrize(
    ("late_by", "expected"),
    [
        (timedelta(days=-1), 0.0),                  # early
        (timedelta(0), 0.0),                        # exactly on time
        (timedelta(minutes=15), 0.0),               # at the end of grace
        (timedelta(minutes=16), 0.1),               # past grace: a started day counts in full
        (timedelta(days=1), 0.1),                   # exactly one day
        (timedelta(days=1, seconds=1), 0.2),
        (timedelta(days=1.5), 0.2),                 # 1.5 days -> 2 days
        (timedelta(days=3), 0.3),                   # no float noise (3 * 0.1)
        (timedelta(days=6), 0.5),                   # capped
        (timedelta(days=60), 0.5),
    ],
)
def test_late_penalty(late_by: timedelta, expected: float) -> None:
    assert POLICY.penalty(DUE + late_by, DUE) == expected


def test_late_penalty_compares_instants_across_time_zones() -> None:
    submitted = datetime(2026, 12, 12, 5, 10, tzinfo=timezone.utc)  # 00:10 at -05:00
    assert POLICY.penalty(submitted, DUE) == 0.0
    assert LatePolicy(0.1, 0.5).penalty(submitted, DUE) == 0.1  # no grace: 11 minutes late


def test_late_penalty_rejects_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        POLICY.penalty(datetime(2026, 12, 12), DUE)


# --------------------------------------------------------------------------- requires / provides

SECOND = """
[assignments.attention.provides]
module = "attention"
stand_in = "reference/attention_stand_in.py"
service = "reference.attention_service"

[assignments.transformer]
title = "Transformer"
notebook = "assignments/attention/attention.ipynb"
reference = "reference.attention"
graders = "graders/attention"
release = "student_template/transformer"
due = 2026-12-18T23:59:00-05:00
requires = ["attention"]

[assignments.transformer.late]
penalty_per_day = 0
cap = 0

[assignments.transformer.points]
efficiency = 10
"""


@pytest.fixture
def two_course(course_dir: Path) -> Path:
    (course_dir / "reference/attention_stand_in.py").write_text("")
    return course_dir


def test_requires_and_provides_load(two_course: Path) -> None:
    course = load_course(write(two_course, VALID + SECOND))
    transformer, attention = course.assignments["transformer"], course.assignments["attention"]
    assert transformer.requires == ("attention",) and attention.requires == ()
    provides = attention.provides
    assert provides is not None and provides.module == "attention"
    assert provides.stand_in == two_course / "reference/attention_stand_in.py"
    assert provides.service == "reference.attention_service"
    assert provides.released(datetime(2030, 1, 1, tzinfo=timezone.utc)) is False


def test_reference_released_after_a_date(two_course: Path) -> None:
    text = edit('service = "reference.attention_service"\n',
                'service = "reference.attention_service"\nreference_released = 2026-12-12T00:00:00Z\n',
                VALID + SECOND)
    provides = load_course(write(two_course, text)).assignments["attention"].provides
    assert not provides.released(datetime(2026, 12, 11, 23, tzinfo=timezone.utc))
    assert provides.released(datetime(2026, 12, 12, 0, tzinfo=timezone.utc))


@pytest.mark.parametrize("old, new, words", [
    ('requires = ["attention"]', 'requires = ["atention"]', ["no assignment 'atention'", "did you mean 'attention'"]),
    ('requires = ["attention"]', 'requires = ["transformer"]', ["'transformer' cannot require itself"]),
    ('[assignments.attention.provides]\nmodule = "attention"\nstand_in = "reference/attention_stand_in.py"\n'
     'service = "reference.attention_service"\n', '', ["'attention' has no [assignments.attention.provides]"]),
    ('module = "attention"', 'module = "my-attention"', ["provides.module", "a module name"]),
    ('stand_in = "reference/attention_stand_in.py"', 'stand_in = "reference/nope.py"',
     ["provides.stand_in", "nope.py does not exist"]),
    ('service = "reference.attention_service"', 'service = "reference/attention_service.py"',
     ["provides.service", "dotted module name"]),
])
def test_dependency_mistakes_are_named(two_course: Path, old: str, new: str, words: list[str]) -> None:
    message = error_of(write(two_course, edit(old, new, VALID + SECOND)))
    for word in words:
        assert word in message, message


def test_a_cycle_of_requires_is_refused(two_course: Path) -> None:
    text = VALID + SECOND + '\n[assignments.transformer.provides]\nmodule = "transformer"\n' \
        'stand_in = "reference/attention_stand_in.py"\nservice = "reference.attention_service"\n'
    text = edit("seed = 7\n", 'seed = 7\nrequires = ["transformer"]\n', text)
    message = error_of(write(two_course, text))
    assert "requires itself through a cycle" in message, message
