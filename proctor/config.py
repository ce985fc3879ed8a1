"""Load and validate ``course.toml`` into frozen ``Course`` / ``Assignment`` dataclasses.

Every mistake in the file becomes a ``ConfigError`` whose message names the file, the key
path (``assignments.hw1.points.part_a``) and the expected form, so an instructor
can fix it without reading a traceback. All problems found are reported together, one per
line, so a broken file is fixed in one pass rather than one error per run.

The schema is documented in the header comment of the course's own ``course.toml``.
"""

from __future__ import annotations

import difflib
import json
import math
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Protocol

from proctor.dependencies import Requirement
from proctor.errors import ConfigError

__all__ = [
    "Assignment",
    "AuditSettings",
    "Course",
    "Gradable",
    "LatePolicy",
    "Provides",
    "SubmissionLimits",
    "load_course",
    "validate_tasks",
]

COURSE_FILE = "course.toml"

DEFAULT_SHIP = ("public",)  # without a ``ship`` key, only the public tests folder ships
# Defaults a course may override per assignment (the course contract states its own).
DEFAULT_RTOL = 1e-4
DEFAULT_ATOL = 1e-5
DEFAULT_SEED = 0


# --------------------------------------------------------------------------- data model


@dataclass(frozen=True)
class SubmissionLimits:
    """``[assignments.<id>.limits]``: how long one submission and each call into it may
    run, and its memory (the sandbox's rlimits are derived from these)."""

    call_timeout_s: float = 10.0
    submission_timeout_s: float = 120.0
    memory_mb: int = 1024


@dataclass(frozen=True)
class LatePolicy:
    """Late penalty as fractions of the score: per started day late, never above ``cap``."""

    penalty_per_day: float
    cap: float
    grace_minutes: float = 0.0

    def penalty(self, submitted: datetime, due: datetime) -> float:
        """Fraction of the score deducted for a submission at ``submitted``.

        Zero when on time or within the grace period. Past grace, lateness counts from
        ``due`` itself (grace forgives a few minutes, it does not move the deadline), and
        every started day counts in full: 1.5 days late costs two days.
        """
        if submitted.tzinfo is None or due.tzinfo is None:
            raise ValueError("LatePolicy.penalty needs timezone-aware datetimes")
        late = submitted - due
        if late <= timedelta(minutes=self.grace_minutes) or late <= timedelta(0):
            return 0.0
        days = math.ceil(late / timedelta(days=1))
        # round() hides float noise such as 3 * 0.1 == 0.30000000000000004 in reports.
        return round(min(self.cap, days * self.penalty_per_day), 12)


@dataclass(frozen=True)
class AuditThresholds:
    """What ``proctor audit`` requires; below any of them it exits non-zero."""

    reference_full: bool = True
    stub_zero: bool = True
    degenerate_points: float = 0.0  # the most any degenerate part may earn, per task
    kill_rate: float = 1.0  # share of mutants that lose points in their own task
    hint_rate: float = 0.95  # share of mutants whose hint has the declared words
    collateral: float = 0.0  # points mutants lose outside their own and shared tasks
    alternatives_full: bool = True


@dataclass(frozen=True)
class AuditSettings:
    """``[assignments.<id>.audit]``: what the suite is judged against (course content)."""

    solution: Path
    parts: dict[str, list[str]] = field(hash=False)
    mutants: Path | None = None
    alternatives: Path | None = None
    degenerates: Path | None = None
    declared: dict[str, str] = field(default_factory=dict, hash=False)
    effect_only: tuple[str, ...] = ()
    serial_tasks: tuple[str, ...] = ()
    judged_tasks: tuple[str, ...] = ()
    thresholds: AuditThresholds = AuditThresholds()


@dataclass(frozen=True)
class Provides:
    """``[assignments.<id>.provides]``: how assignments that require this one import it.

    A dependent submission imports ``module``. Grading loads the student's own submission of
    this assignment under that name, and where it fails, a correct one: the reference itself
    once ``reference_released`` (a bool, or the datetime after which it is), else the
    ``stand_in`` module, which computes nothing and forwards every call across the sandbox
    boundary, as arrays, to a ``Service`` built from the trusted ``service`` module.
    """

    module: str
    stand_in: Path
    service: str
    reference_released: bool | datetime = False

    def released(self, now: datetime) -> bool:
        """Whether the reference itself may enter students' processes at ``now``."""
        if isinstance(self.reference_released, datetime):
            return now >= self.reference_released
        return bool(self.reference_released)


@dataclass(frozen=True)
class Assignment:
    """One assignment of the course; every path is absolute, resolved against the root."""

    id: str
    title: str
    notebook: Path
    reference: str
    graders: Path
    release_dir: Path
    due: datetime
    late: LatePolicy
    points: dict[str, float] = field(hash=False)
    rtol: float
    atol: float
    limits: SubmissionLimits
    seed: int
    course_root: Path
    # task id -> grade_id of the notebook's autograded cell that carries its points in
    # nbgrader's gradebook (several tasks may share one cell); empty when not declared
    grade_ids: dict[str, str] = field(default_factory=dict, hash=False)
    audit: AuditSettings | None = field(default=None, hash=False)
    # what of ``graders`` ships to students (release's checks/ folder): paths relative to
    # it, a directory shipping its .py files; declared in course.toml, never inferred
    ship: tuple[str, ...] = DEFAULT_SHIP
    templates: Path | None = None  # the course's (see Course.templates)
    # ids of the assignments whose work this one's submissions import (each ``provides``)
    requires: tuple[str, ...] = ()
    provides: Provides | None = field(default=None, hash=False)
    # what grading needs of each of ``requires`` (filled in when the course loads; own=None)
    required: tuple[Requirement, ...] = field(default=(), hash=False)

    @property
    def max_score(self) -> float:
        """The most a submission can score before any late penalty."""
        return float(sum(self.points.values()))

    @property
    def required_modules(self) -> dict[str, str]:
        """Required assignment id -> the module name submissions import it by."""
        return {r.assignment: r.module for r in self.required}


class Gradable(Protocol):
    """What grading needs from an assignment, the one shape every grading function takes.

    :class:`Assignment` (from course.toml) has it; so does the students' copy that
    :func:`proctor.released_checks.load_checks` rebuilds from a release's manifest, where
    the rest of the course (notebook, due date, reference) is deliberately absent.
    """

    id: str
    title: str
    graders: Path
    points: dict[str, float]
    rtol: float
    atol: float
    seed: int
    limits: SubmissionLimits
    course_root: Path
    reference: str


@dataclass(frozen=True)
class Course:
    """A course: its name, term, root directory (where course.toml lives) and assignments."""

    name: str
    term: str
    root: Path
    assignments: dict[str, Assignment] = field(hash=False)
    # the course's student-facing templates, overriding the engine's of the same name
    templates: Path | None = None

    def assignment(self, id: str) -> Assignment:  # noqa: A002 - public API name
        """The assignment ``id``; a ConfigError lists the known ids when there is none."""
        try:
            return self.assignments[id]
        except KeyError:
            known = ", ".join(sorted(self.assignments)) or "none"
            raise ConfigError(
                f"{self.root / COURSE_FILE}: no assignment {id!r}"
                f"{_did_you_mean(id, self.assignments)}; known assignments: {known}"
            ) from None

    def in_dependency_order(self, ids: Iterable[str] | None = None) -> list[str]:
        """``ids`` (default: every assignment) with each required assignment before the
        ones that require it, otherwise in course.toml's order. An id given twice counts once."""
        wanted = list(dict.fromkeys(self.assignments if ids is None else ids))
        for aid in wanted:
            self.assignment(aid)  # an unknown id: one line listing the known ones
        done: list[str] = []

        def visit(aid: str) -> None:
            if aid in done:
                return
            for dep in self.assignments[aid].requires:
                if dep in wanted:
                    visit(dep)
            done.append(aid)

        for aid in wanted:
            visit(aid)  # load_course refuses cycles
        return done

    def handed_in_names(self, assignment: Assignment) -> dict[str, tuple[str, ...]]:
        """The file stems that mean each required assignment's work when a student hands it
        in with ``assignment``'s: its notebook's stem and the module it provides."""
        names = {}
        for dep in assignment.requires:
            required = self.assignment(dep)
            stems = [Path(required.notebook).stem]
            if required.provides is not None:
                stems.append(required.provides.module)
            names[dep] = tuple(dict.fromkeys(stems))
        return names


# --------------------------------------------------------------------------- problems


class _Problems:
    """Collects (key path, message) pairs so one ConfigError can report them all."""

    def __init__(self, source: Path) -> None:
        self.source = source
        self.items: list[tuple[str, str]] = []

    def add(self, key: str, message: str) -> None:
        self.items.append((key, message))

    def raise_if_any(self) -> None:
        if not self.items:
            return
        lines = [f"{key}: {message}" if key else message for key, message in self.items]
        if len(lines) == 1:
            text = f"{self.source}: {lines[0]}"
        else:
            text = f"{self.source}: {len(lines)} problems:\n" + "\n".join(
                f"  {line}" for line in lines
            )
        error = ConfigError(text)
        error.problems = list(self.items)  # type: ignore[attr-defined]
        raise error


def _closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice most like ``word`` (a likely typo), or None when nothing is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return close[0] if close else None


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the closest choice, or '' when nothing is close."""
    close = _closest(word, choices)
    return f" (did you mean {close!r}?)" if close else ""


_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _join(prefix: str, key: str) -> str:
    """Dotted key path, quoting keys that TOML would need quoted."""
    part = key if _BARE_KEY.match(key) else f'"{key}"'
    return f"{prefix}.{part}" if prefix else part


def _show(value: Any) -> str:
    """A short description of a TOML value for 'got ...' in messages."""
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:37] + "..."
        return f'"{text}" (a string)'
    if isinstance(value, int):
        return f"{value} (an integer)"
    if isinstance(value, float):
        return f"{value!r} (a float)"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, datetime):
        return f"{value.isoformat()} (a datetime)"
    if isinstance(value, date):
        return f"{value.isoformat()} (a date)"
    if isinstance(value, time):
        return f"{value.isoformat()} (a time of day)"
    return repr(value)


# --------------------------------------------------------------------------- schema helpers

_REQUIRED: Any = object()  # sentinel: the key has no default


def _check_keys(
    p: _Problems,
    table: Mapping[str, Any],
    prefix: str,
    known: Iterable[str],
    elsewhere: Mapping[str, str] | None = None,
) -> None:
    """Report every key not in ``known``, suggesting the closest known key.

    ``elsewhere`` maps keys that belong in a sub-table to that table's path, so a
    misplaced ``rtol`` says where it goes instead of only 'unknown key'.
    """
    known = list(known)
    for key in table:
        if key in known:
            continue
        where = (elsewhere or {}).get(key)
        close = _closest(key, known)
        if where:
            hint = f"it belongs in [{where}]"
        elif close:
            hint = f"did you mean {close!r}?"
        else:
            hint = f"known keys here: {', '.join(known)}"
        p.add(_join(prefix, key), f"unknown key; {hint}")


def _table(p: _Problems, parent: Mapping[str, Any], name: str, prefix: str,
           expected: str, required: bool) -> dict[str, Any] | None:
    """The sub-table ``name`` of ``parent``; None (after reporting) when absent or not a table."""
    key = _join(prefix, name)
    if name not in parent:
        if required:
            p.add(key, f"required table is missing; expected {expected}")
        return None
    value = parent[name]
    if not isinstance(value, dict):
        p.add(key, f"expected {expected}, got {_show(value)}")
        return None
    return value


def _get(p: _Problems, table: Mapping[str, Any], name: str, prefix: str,
         expected: str, check: Callable[[Any], bool], default: Any = _REQUIRED) -> Any:
    """The value at ``name`` if ``check`` accepts it; else report and return None."""
    key = _join(prefix, name)
    if name not in table:
        if default is _REQUIRED:
            p.add(key, f"required key is missing; expected {expected}")
            return None
        return default
    value = table[name]
    if not check(value):
        p.add(key, f"expected {expected}, got {_show(value)}")
        return None
    return value


def _is_number(value: Any) -> bool:
    """int or float, finite; bool is an int in Python but never a number in course.toml."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        return False


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _number(p: _Problems, table: Mapping[str, Any], name: str, prefix: str, expected: str,
            ok: Callable[[float], bool], default: Any = _REQUIRED) -> float | None:
    value = _get(p, table, name, prefix, expected,
                 lambda v: _is_number(v) and ok(v), default)
    return None if value is None else float(value)


def _text(p: _Problems, table: Mapping[str, Any], name: str, prefix: str,
          expected: str = "a non-empty string") -> str | None:
    value = _get(p, table, name, prefix, expected, _is_text)
    return None if value is None else str(value)


# --------------------------------------------------------------------------- sections

_COURSE_KEYS = ("name", "term", "templates")
_ASSIGNMENT_KEYS = ("title", "notebook", "reference", "graders", "release", "due", "seed",
                    "late", "points", "tolerance", "limits", "grade_ids", "audit", "ship",
                    "requires", "provides")
_LATE_KEYS = ("penalty_per_day", "cap", "grace_minutes")
_TOLERANCE_KEYS = ("rtol", "atol")
_LIMITS_KEYS = ("call_timeout_s", "submission_timeout_s", "memory_mb")
_SUBTABLES = {"late": _LATE_KEYS, "tolerance": _TOLERANCE_KEYS, "limits": _LIMITS_KEYS}

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_TASK_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_MODULE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
_DUE_EXAMPLE = "2026-12-11T23:59:00-05:00"
_FRACTION = "a number from 0 to 1 (a fraction of the score)"


def _parse_course(p: _Problems, data: dict[str, Any], root: Path) -> Course | None:
    _check_keys(p, data, "", ("course", "assignments"))
    info = _table(p, data, "course", "", "a [course] table with name and term", True)
    name = term = templates = None
    if info is not None:
        _check_keys(p, info, "course", _COURSE_KEYS)
        name = _text(p, info, "name", "course")
        term = _text(p, info, "term", "course", 'a non-empty string, e.g. "Fall 2026"')
        templates = _templates(p, info, root)
    tables = _table(p, data, "assignments", "",
                    "one [assignments.<id>] table per assignment", True)
    assignments: dict[str, Assignment] = {}
    if tables is not None:
        if not tables:
            p.add("assignments", "no assignments; expected at least one [assignments.<id>] table")
        for aid, table in tables.items():
            parsed = _parse_assignment(p, aid, table, root)
            if parsed is not None:
                assignments[aid] = parsed
    _dependency_problems(p, assignments)
    if name is None or term is None or p.items:
        return None
    if templates is not None:
        assignments = {aid: replace(a, templates=templates) for aid, a in assignments.items()}
    assignments = {aid: replace(a, required=tuple(
        Requirement(assignment=d, module=assignments[d].provides.module, own=None, provides=assignments[d].provides,
                    course_root=assignments[d].course_root, reference=assignments[d].reference)
        for d in a.requires)) if a.requires else a for aid, a in assignments.items()}
    return Course(name=name, term=term, root=root, assignments=assignments, templates=templates)


def _templates(p: _Problems, info: Mapping[str, Any], root: Path) -> Path | None:
    """The optional directory of the course's student-facing templates."""
    if "templates" not in info:
        return None
    expected = "a directory of templates overriding the engine's, relative to the course root"
    path = _path(p, info, "templates", "course", root, expected)
    if path is not None and not path.is_dir():
        p.add("course.templates", f"{_shown(path, root)} is not a directory; expected {expected}")
        return None
    return path


def _parse_assignment(p: _Problems, aid: str, table: Any, root: Path) -> Assignment | None:
    prefix = _join("assignments", aid)
    before = len(p.items)
    if not _ID.match(aid):
        p.add(prefix, "assignment ids may use only letters, digits, '_' and '-' "
                      "(they name directories and command-line arguments)")
    if not isinstance(table, dict):
        p.add(prefix, f"expected a table [{prefix}], got {_show(table)}")
        return None
    elsewhere = {key: f"{prefix}.{sub}" for sub, keys in _SUBTABLES.items() for key in keys}
    _check_keys(p, table, prefix, _ASSIGNMENT_KEYS, elsewhere)

    title = _text(p, table, "title", prefix)
    notebook = _notebook(p, table, prefix, root)
    reference = _reference(p, table, prefix, root)
    graders = _graders(p, table, prefix, root)
    release = _release(p, table, prefix, root, [notebook, graders], aid)
    due = _due(p, table, prefix)
    seed = _get(p, table, "seed", prefix, "a non-negative integer, e.g. 20261122",
                lambda v: _is_int(v) and v >= 0, DEFAULT_SEED)
    late = _late(p, table, prefix)
    points = _points(p, table, prefix)
    rtol, atol = _tolerance(p, table, prefix)
    limits = _limits(p, table, prefix)
    grade_ids = _grade_ids(p, table, prefix, notebook, points, root)
    audit = _audit(p, table, prefix, root)
    ship = _ship(p, table, prefix, graders)
    requires = _names(p, table, "requires", prefix, _ID, "a list of assignment ids, e.g. [\"hw1\"]")
    provides = _provides(p, table, prefix, root)
    if len(p.items) > before:
        return None
    return Assignment(
        id=aid, title=title, notebook=notebook, reference=reference, graders=graders,
        release_dir=release, due=due, late=late, points=points, rtol=rtol, atol=atol,
        limits=limits, seed=seed, course_root=root, grade_ids=grade_ids, audit=audit,
        ship=ship, requires=requires, provides=provides,
    )  # type: ignore[arg-type]  # all not-None when no new problems were added


def _path(p: _Problems, table: Mapping[str, Any], name: str, prefix: str, root: Path,
          expected: str) -> Path | None:
    """A path string resolved against the course root (existence checked by the caller)."""
    value = _text(p, table, name, prefix, expected)
    return None if value is None else (root / value).resolve()


def _shown(path: Path, root: Path) -> str:
    """``path`` relative to the course root when inside it: shorter, and what was typed."""
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _notebook(p: _Problems, table: Mapping[str, Any], prefix: str, root: Path) -> Path | None:
    expected = "a path to the source .ipynb, relative to the course root"
    path = _path(p, table, "notebook", prefix, root, expected)
    if path is None:
        return None
    key = _join(prefix, "notebook")
    if path.suffix != ".ipynb":
        p.add(key, f"expected {expected}, got {_shown(path, root)} (not a .ipynb file)")
    elif not path.is_file():
        p.add(key, f"{_shown(path, root)} does not exist under {root}; expected {expected}")
        return None
    return path


def _graders(p: _Problems, table: Mapping[str, Any], prefix: str, root: Path) -> Path | None:
    expected = "a directory of pytest grader suites, relative to the course root"
    path = _path(p, table, "graders", prefix, root, expected)
    if path is not None and not path.is_dir():
        what = "is not a directory" if path.exists() else f"does not exist under {root}"
        p.add(_join(prefix, "graders"), f"{_shown(path, root)} {what}; expected {expected}")
        return None
    return path


def _release(p: _Problems, table: Mapping[str, Any], prefix: str, root: Path,
             sources: list[Path | None], aid: str) -> Path | None:
    """The release output directory: need not exist yet, but must not hold course sources.

    ``proctor release`` writes (and may clear) this directory, so pointing it at the
    course root or at the source notebook's or graders' directory would destroy them.
    """
    expected = "an output directory for the student release, relative to the course root"
    path = _path(p, table, "release", prefix, root, expected)
    if path is None:
        return None
    key = _join(prefix, "release")
    if path.exists() and not path.is_dir():
        p.add(key, f"{_shown(path, root)} is a file; expected {expected}")
    elif path == root or any(s is not None and s.is_relative_to(path) for s in sources):
        p.add(key, f"{_shown(path, root)} contains course sources (the root, the notebook "
                   f"or the graders) that a release would overwrite; expected a separate "
                   f"directory, e.g. student_template/{aid}")
    return path


def _ship(p: _Problems, table: Mapping[str, Any], prefix: str,
          graders: Path | None) -> tuple[str, ...]:
    """What of the graders ships to students: paths inside the graders directory.

    Declared, never inferred from file names: a helper is hidden unless listed here.
    Existence is checked by release, which copies them.
    """
    expected = ('a list of paths inside the graders directory that students receive, '
                'e.g. ["public", "conftest.py"]')
    if "ship" not in table:
        return DEFAULT_SHIP
    value = _get(p, table, "ship", prefix, expected,
                 lambda v: isinstance(v, list) and all(_is_text(x) for x in v))
    if value is None or graders is None:
        return DEFAULT_SHIP
    key = _join(prefix, "ship")
    for entry in value:
        path = (graders / entry).resolve()
        if not path.is_relative_to(graders) or path == graders:
            p.add(key, f"{entry!r} is not inside {graders.name}/; expected {expected}")
    return tuple(value)


def _reference(p: _Problems, table: Mapping[str, Any], prefix: str, root: Path) -> str | None:
    """A dotted module name that resolves to a .py file or package under the course root."""
    expected = 'a dotted module name under the course root, e.g. "reference.hw1"'
    name = _text(p, table, "reference", prefix, expected)
    if name is None:
        return None
    key = _join(prefix, "reference")
    if not _MODULE.match(name):
        dotted = name.removesuffix(".py").replace("/", ".").replace("\\", ".").strip(".")
        hint = f'; write "{dotted}"' if _MODULE.match(dotted) else ""
        p.add(key, f"expected {expected}, got {_show(name)}{hint}")
        return None
    base = root.joinpath(*name.split("."))
    module, package = base.with_suffix(".py"), base / "__init__.py"
    if not (module.is_file() or package.is_file()):
        p.add(key, f"module {name!r} not found: expected {_shown(module, root)} or "
                   f"{_shown(package, root)} under {root}")
        return None
    return name


def _due(p: _Problems, table: Mapping[str, Any], prefix: str) -> datetime | None:
    """The deadline: a TOML offset datetime, because a naive one is ambiguous across zones."""
    expected = f"a TOML datetime with a UTC offset, e.g. due = {_DUE_EXAMPLE}"
    key = _join(prefix, "due")
    if "due" not in table:
        p.add(key, f"required key is missing; expected {expected}")
        return None
    value = table["due"]
    if isinstance(value, datetime):
        if value.tzinfo is None:
            p.add(key, f"{value.isoformat()} has no UTC offset; add one, e.g. "
                       f"{value.isoformat()}-05:00 (or Z for UTC)")
            return None
        return value
    if isinstance(value, date):
        p.add(key, f"{value.isoformat()} is a date without a time; expected {expected}")
    elif isinstance(value, str):
        p.add(key, f"expected {expected} (unquoted), got {_show(value)}")
    else:
        p.add(key, f"expected {expected}, got {_show(value)}")
    return None


def _late(p: _Problems, table: Mapping[str, Any], prefix: str) -> LatePolicy | None:
    key = _join(prefix, "late")
    late = _table(p, table, "late", prefix,
                  f"[{key}] with penalty_per_day and cap (fractions 0..1; 0 for no penalty)",
                  True)
    if late is None:
        return None
    _check_keys(p, late, key, _LATE_KEYS)
    per_day = _number(p, late, "penalty_per_day", key, _FRACTION, lambda v: 0 <= v <= 1)
    cap = _number(p, late, "cap", key, _FRACTION, lambda v: 0 <= v <= 1)
    grace = _number(p, late, "grace_minutes", key, "a number of minutes >= 0",
                    lambda v: v >= 0, 0.0)
    if per_day is None or cap is None or grace is None:
        return None
    return LatePolicy(penalty_per_day=per_day, cap=cap, grace_minutes=grace)


def _points(p: _Problems, table: Mapping[str, Any], prefix: str) -> dict[str, float] | None:
    key = _join(prefix, "points")
    raw = _table(p, table, "points", prefix,
                 f"[{key}] mapping task ids to points, e.g. causal_mask = 10", True)
    if raw is None:
        return None
    if not raw:
        p.add(key, "no tasks; expected at least one task id = points entry")
        return None
    points: dict[str, float] = {}
    for task in raw:
        if not _TASK_ID.match(task):
            p.add(_join(key, task), "task ids may use only letters, digits, '_' and '-'")
            continue
        value = _number(p, raw, task, key, "a number of points >= 0", lambda v: v >= 0)
        if value is not None:
            points[task] = value
    if len(points) == len(raw) and sum(points.values()) <= 0:
        p.add(key, "the points add up to 0; expected at least one task worth more than 0")
    return points if len(points) == len(raw) else None


def _autograded_cells(notebook: Path) -> tuple[list[str], list[str]] | None:
    """(autograded test cells, written-answer cells) by grade_id, in notebook order.

    Autograded is nbgrader's own rule (``utils.is_grade`` and not ``is_solution``, a code
    cell): those are the cells nbgrader's autograde scores; grade cells that are also
    solution cells are answers a person grades. Plain JSON: no nbformat import here.
    """
    try:
        cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError, AttributeError):
        return None
    auto: list[str] = []
    written: list[str] = []
    for cell in cells if isinstance(cells, list) else []:
        if not isinstance(cell, dict):
            continue
        meta = (cell.get("metadata") or {}).get("nbgrader") or {}
        if not meta.get("grade") or not isinstance(meta.get("grade_id"), str):
            continue
        is_auto = cell.get("cell_type") == "code" and not meta.get("solution")
        (auto if is_auto else written).append(meta["grade_id"])
    return auto, written


def _grade_ids(p: _Problems, table: Mapping[str, Any], prefix: str, notebook: Path | None,
               points: dict[str, float] | None, root: Path) -> dict[str, str]:
    """``[assignments.<id>.grade_ids]``: task id = grade_id of an autograded notebook cell.

    Optional; when given, every task worth points must be mapped, or nbgrader's total would
    leave its points out, and every target must be an autograded (test) cell of the source
    notebook: a written-answer cell keeps its own points and is graded by hand.
    """
    key = _join(prefix, "grade_ids")
    raw = _table(p, table, "grade_ids", prefix,
                 f'[{key}] mapping task ids to grade cells, e.g. causal_mask = "test_causal_mask"',
                 False)
    if raw is None or notebook is None or points is None:
        return {}
    cells = _autograded_cells(notebook)
    if cells is None:
        p.add(key, f"cannot read the grade cells of {_shown(notebook, root)}")
        return {}
    auto, written = cells
    listed = ", ".join(auto) or "none"
    mapped: dict[str, str] = {}
    for task, grade_id in raw.items():
        where = _join(key, task)
        if task not in points:
            p.add(where, f"no task {task!r} in [{_join(prefix, 'points')}]"
                         f"{_did_you_mean(task, points)}")
        elif not _is_text(grade_id):
            p.add(where, f'expected a grade_id string, e.g. "test_{task}", got {_show(grade_id)}')
        elif grade_id in written:
            p.add(where, f"{grade_id!r} is a written-answer cell of {_shown(notebook, root)}: "
                         f"it keeps its own points and is graded by hand; expected one of "
                         f"the autograded cells: {listed}")
        elif grade_id not in auto:
            p.add(where, f"no autograded grade cell {grade_id!r} in {_shown(notebook, root)}"
                         f"{_did_you_mean(grade_id, auto)}; expected one of: {listed}")
        else:
            mapped[task] = grade_id
    missing = [task for task, value in points.items() if value > 0 and task not in raw]
    if missing:
        p.add(key, f"tasks worth points but mapped to no grade cell: {', '.join(missing)}; "
                   f"nbgrader's total would leave their points out")
    return mapped


def _tolerance(p: _Problems, table: Mapping[str, Any], prefix: str
               ) -> tuple[float | None, float | None]:
    key = _join(prefix, "tolerance")
    tol = _table(p, table, "tolerance", prefix, f"[{key}] with rtol and atol", False)
    if tol is None:
        return (None, None) if "tolerance" in table else (DEFAULT_RTOL, DEFAULT_ATOL)
    _check_keys(p, tol, key, _TOLERANCE_KEYS)
    rtol = _number(p, tol, "rtol", key, "a relative tolerance >= 0, e.g. 1e-4",
                   lambda v: v >= 0, DEFAULT_RTOL)
    atol = _number(p, tol, "atol", key, "an absolute tolerance >= 0, e.g. 1e-5",
                   lambda v: v >= 0, DEFAULT_ATOL)
    return rtol, atol


def _limits(p: _Problems, table: Mapping[str, Any], prefix: str) -> SubmissionLimits | None:
    key = _join(prefix, "limits")
    raw = _table(p, table, "limits", prefix, f"[{key}] with sandbox limits", False)
    if raw is None:
        return None if "limits" in table else SubmissionLimits()
    _check_keys(p, raw, key, _LIMITS_KEYS)
    default = SubmissionLimits()
    call = _number(p, raw, "call_timeout_s", key, "a number of seconds > 0",
                   lambda v: v > 0, default.call_timeout_s)
    whole = _number(p, raw, "submission_timeout_s", key, "a number of seconds > 0",
                    lambda v: v > 0, default.submission_timeout_s)
    memory = _get(p, raw, "memory_mb", key, "a whole number of megabytes > 0, e.g. 1024",
                  lambda v: _is_int(v) and v > 0, default.memory_mb)
    if call is None or whole is None or memory is None:
        return None
    if call > whole:
        p.add(_join(key, "call_timeout_s"),
              f"{call:g} s is longer than submission_timeout_s ({whole:g} s); expected "
              "call_timeout_s <= submission_timeout_s")
        return None
    return SubmissionLimits(call_timeout_s=call, submission_timeout_s=whole, memory_mb=int(memory))


# --------------------------------------------------------------------------- dependencies

_PROVIDES_KEYS = ("module", "stand_in", "service", "reference_released")


def _provides(p: _Problems, table: Mapping[str, Any], prefix: str, root: Path) -> Provides | None:
    """The optional ``provides`` table: what dependents import, and the correct stand-in."""
    key = _join(prefix, "provides")
    raw = _table(p, table, "provides", prefix, f"[{key}] with module, stand_in and service", False)
    if raw is None:
        return None
    _check_keys(p, raw, key, _PROVIDES_KEYS)
    module = _get(p, raw, "module", key, 'a module name dependents import, e.g. "hw1"',
                  lambda v: isinstance(v, str) and v.isidentifier())
    stand_in = _path(p, raw, "stand_in", key, root,
                     "a .py that forwards every call to the service (it computes nothing)")
    if stand_in is not None and not stand_in.is_file():
        p.add(_join(key, "stand_in"), f"{_shown(stand_in, root)} does not exist under {root}")
    service = _get(p, raw, "service", key, 'a dotted module name under the course root defining '
                   'class Service, e.g. "reference.hw1_service"',
                   lambda v: isinstance(v, str) and bool(_MODULE.match(v)))
    released = _get(p, raw, "reference_released", key,
                    f"true, false, or a TOML datetime with a UTC offset, e.g. {_DUE_EXAMPLE}",
                    lambda v: isinstance(v, bool) or isinstance(v, datetime) and v.tzinfo is not None,
                    False)
    if module is None or stand_in is None or service is None or released is None:
        return None
    return Provides(module=module, stand_in=stand_in, service=service, reference_released=released)


def _dependency_problems(p: _Problems, assignments: Mapping[str, Assignment]) -> None:
    """Each required assignment exists, provides a module, and no assignment needs itself."""
    for aid, a in assignments.items():
        key = _join(_join("assignments", aid), "requires")
        for dep in a.requires:
            if dep == aid:
                p.add(key, f"{aid!r} cannot require itself")
            elif dep not in assignments:
                p.add(key, f"no assignment {dep!r}{_did_you_mean(dep, assignments)}; known: "
                           f"{', '.join(sorted(assignments))}")
            elif assignments[dep].provides is None:
                p.add(key, f"{dep!r} has no [assignments.{dep}.provides] table saying what "
                           f"{aid}'s submissions import")
    for aid in assignments:  # a cycle would make "grade the required work first" impossible
        seen, todo = set(), [d for d in assignments[aid].requires if d != aid]
        while todo:
            dep = todo.pop()
            if dep == aid:
                p.add(_join(_join("assignments", aid), "requires"),
                      f"{aid!r} requires itself through a cycle of requires")
                break
            if dep in assignments and dep not in seen:
                seen.add(dep)
                todo.extend(assignments[dep].requires)


# --------------------------------------------------------------------------- audit

_AUDIT_KEYS = ("solution", "mutants", "alternatives", "degenerates", "parts", "declared",
               "effect_only", "serial_tasks", "judged_tasks", "thresholds")
_THRESHOLD_FLAGS = ("reference_full", "stub_zero", "alternatives_full")
_THRESHOLD_FRACTIONS = ("kill_rate", "hint_rate")
_THRESHOLD_POINTS = ("degenerate_points", "collateral")
_PART = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)?$")


def _audit_file(p: _Problems, raw: Mapping[str, Any], name: str, key: str, root: Path,
                expected: str) -> Path | None:
    """A path of audit content. Its existence is checked by ``proctor audit`` itself: the
    course is also loaded where that content is deliberately absent (a Gradescope export)."""
    if name not in raw:
        return None
    return _path(p, raw, name, key, root, expected)


def _names(p: _Problems, raw: Mapping[str, Any], name: str, key: str, pattern: re.Pattern[str],
           expected: str) -> tuple[str, ...]:
    value = _get(p, raw, name, key, expected, lambda v: isinstance(v, list) and all(
        isinstance(x, str) and pattern.match(x) for x in v), [])
    return tuple(value or ())


def _audit(p: _Problems, table: Mapping[str, Any], prefix: str, root: Path) -> AuditSettings | None:
    """The optional audit table; paths must exist, parts are "name" or "Class.method"."""
    key = _join(prefix, "audit")
    raw = _table(p, table, "audit", prefix, f"[{key}] describing what `proctor audit` uses", False)
    if raw is None:
        return None
    _check_keys(p, raw, key, _AUDIT_KEYS)
    solution = _audit_file(p, raw, "solution", key, root, "a correct .py submission (course content)")
    if "solution" not in raw:
        p.add(_join(key, "solution"), "required key is missing; expected a correct .py submission")
    corpus = "a corpus file (or its directory) of patches of a base submission"
    mutants = _audit_file(p, raw, "mutants", key, root, corpus)
    alternatives = _audit_file(p, raw, "alternatives", key, root, corpus)
    degenerates = _audit_file(p, raw, "degenerates", key, root, "a .py of declared degenerate functions")
    parts_expected = 'a table task = ["function", "Class.method", ...]'
    parts_raw = _table(p, raw, "parts", key, parts_expected, True) or {}
    parts = {task: list(_names(p, parts_raw, task, _join(key, "parts"), _PART, parts_expected))
             for task in parts_raw}
    known = {part for names in parts.values() for part in names}
    declared_raw = _table(p, raw, "declared", key, 'a table function = "Class.method"', False) or {}
    declared = {}
    for fn, part in declared_raw.items():
        if part not in known:
            p.add(_join(_join(key, "declared"), fn), f"{_show(part)} is not one of the parts: {sorted(known)}")
        else:
            declared[fn] = part
    if declared and degenerates is None:
        p.add(_join(key, "declared"), "declared degenerates need the `degenerates` file that defines them")
    task_names = "a list of task ids"
    thresholds = _audit_thresholds(p, raw, key)
    settings = dict(
        effect_only=_names(p, raw, "effect_only", key, _PART, "a list of parts that return nothing"),
        serial_tasks=_names(p, raw, "serial_tasks", key, _TASK_ID, task_names),
        judged_tasks=_names(p, raw, "judged_tasks", key, _TASK_ID, task_names))
    if solution is None or thresholds is None:
        return None
    return AuditSettings(solution=solution, parts=parts, mutants=mutants, alternatives=alternatives,
                         degenerates=degenerates, declared=declared, thresholds=thresholds, **settings)


def _audit_thresholds(p: _Problems, raw: Mapping[str, Any], prefix: str) -> AuditThresholds | None:
    key = _join(prefix, "thresholds")
    table = _table(p, raw, "thresholds", prefix, f"[{key}]", False)
    if table is None:
        return None if "thresholds" in raw else AuditThresholds()
    _check_keys(p, table, key, (*_THRESHOLD_FLAGS, *_THRESHOLD_FRACTIONS, *_THRESHOLD_POINTS))
    default = AuditThresholds()
    values: dict[str, Any] = {}
    for name in _THRESHOLD_FLAGS:
        values[name] = _get(p, table, name, key, "true or false", lambda v: isinstance(v, bool),
                            getattr(default, name))
    for name in _THRESHOLD_FRACTIONS:
        values[name] = _number(p, table, name, key, "a fraction from 0 to 1", lambda v: 0 <= v <= 1,
                               getattr(default, name))
    for name in _THRESHOLD_POINTS:
        values[name] = _number(p, table, name, key, "a number of points >= 0", lambda v: v >= 0,
                               getattr(default, name))
    if any(v is None for v in values.values()):
        return None
    return AuditThresholds(**values)


# --------------------------------------------------------------------------- grader tasks


def _task_problems(p: _Problems, assignment: Assignment, tasks: set[str]) -> None:
    """Report each points entry that names a task the suite does not have.

    Suite tasks without a points entry are fine: they are worth 0.
    """
    prefix = _join(_join("assignments", assignment.id), "points")
    suite = _shown(assignment.graders, assignment.course_root)
    listed = ", ".join(sorted(tasks)) or "none"
    for task in assignment.points:
        if task not in tasks:
            p.add(_join(prefix, task),
                  f"no task {task!r} in the grader suite {suite}{_did_you_mean(task, tasks)}; "
                  f"expected one of the suite's tasks: {listed}")


def validate_tasks(assignment: Assignment, tasks: set[str], *,
                   source: Path | None = None) -> None:
    """Raise ConfigError if ``points`` names a task that the grader suite does not have.

    ``tasks`` are the ids the suite declares (``pytest.mark.task``); ``source`` is the file
    to name in the message, by default ``course.toml`` in the course root.
    """
    p = _Problems(source or assignment.course_root / COURSE_FILE)
    _task_problems(p, assignment, tasks)
    p.raise_if_any()


# --------------------------------------------------------------------------- loading


def _find(path: Path | str | None) -> Path:
    """The course.toml to load: the given file (or dir/course.toml), else search upwards."""
    if path is not None:
        candidate = Path(path).expanduser()
        if candidate.is_dir():
            candidate = candidate / COURSE_FILE
        if not candidate.is_file():
            raise ConfigError(f"{candidate.absolute()}: course file not found; expected a "
                              f"{COURSE_FILE} (pass its path or the course directory)")
        return candidate.resolve()
    cwd = Path.cwd()
    for directory in (cwd, *cwd.parents):
        if (directory / COURSE_FILE).is_file():
            return (directory / COURSE_FILE).resolve()
    raise ConfigError(f"no {COURSE_FILE} in {cwd} or any parent directory; run proctor "
                      f"inside the course directory or pass the path to {COURSE_FILE}")


def _syntax_message(source: Path, text: str, error: tomllib.TOMLDecodeError) -> str:
    """tomllib's message plus the offending line, so the mistake is visible at once."""
    message = f"{source}: TOML syntax error: {error}"
    found = re.search(r"at line (\d+)", str(error))
    lines = text.splitlines()
    if found and 1 <= int(found.group(1)) <= len(lines):
        number = int(found.group(1))
        message += f"\n  {number} | {lines[number - 1]}"
    return message


def _read(source: Path) -> dict[str, Any]:
    try:
        text = source.read_bytes().decode("utf-8")
    except OSError as error:
        raise ConfigError(f"{source}: cannot read: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise ConfigError(f"{source}: not UTF-8 text (byte {error.start}); save it as "
                          "UTF-8") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(_syntax_message(source, text, error)) from None


def load_course(path: Path | str | None = None) -> Course:
    """Load and validate a course.toml; every problem is reported in one ConfigError.

    ``path`` may be the file or its directory; None means ./course.toml or the nearest
    parent's. Only the file is read: no suite is collected, so a half-written second
    assignment cannot block grading the first. Points that name a task the suite lacks are
    caught where a suite is collected anyway (grading, release, validate, audit), for that
    assignment only (:func:`proctor.runner.check_tasks`).
    """
    source = _find(path)
    data = _read(source)
    p = _Problems(source)
    course = _parse_course(p, data, source.parent)
    p.raise_if_any()
    assert course is not None  # no problems means every section parsed
    return course
