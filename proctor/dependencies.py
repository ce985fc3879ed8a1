"""What an assignment's submissions import from other assignments (course.toml ``requires``).

A submission of hw2 may import the student's own hw1. Grading loads that work in
the sandbox under the module name the required assignment ``provides``; where a test fails
on it, the test runs again on a correct one (the required assignment's stand-in, which
forwards every call to the trusted side, or its reference once released), so a bug costs
points only in the assignment where it lives.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from proctor.errors import ProctorError
from proctor.submission import read_submission

if TYPE_CHECKING:
    from proctor.config import Assignment, Course, Provides


@dataclass(frozen=True)
class Requirement:
    """One required assignment, as grading a dependent submission needs it."""

    assignment: str  # the required assignment's id, e.g. "hw1"
    module: str  # the name dependent submissions import it by
    own: Path | None  # the student's own submission of it, when one was found
    #: How a correct version is supplied; None where none is at hand (a student's local
    #: checks: no reference or service ships), so only the student's own work runs.
    provides: Provides | None = None
    course_root: Path = Path(".")
    reference: str = ""  # the required assignment's reference module (trusted side)
    missing: str = ""  # why ``own`` is None, in the student's terms (default: none was found)


def requirements(course: Course | None, assignment: Assignment,
                 own: Mapping[str, Path | None] | None = None) -> tuple[Requirement, ...]:
    """The requirements of ``assignment``, each with the student's own file from ``own``
    (by required assignment id; missing or None: the student has none, and only a correct
    one is used). A key that ``assignment`` does not require is a mistake, said in one line.
    (``course`` is not needed: the assignment carries what it requires since it loaded.)"""
    own = dict(own or {})
    unknown = sorted(set(own) - set(assignment.requires))
    if unknown:
        needs = ", ".join(assignment.requires) or "nothing"
        raise ProctorError(f"{assignment.id} does not require {', '.join(unknown)} (it requires {needs})")
    return tuple(replace(req, own=own.get(req.assignment)) for req in assignment.required)


@dataclass
class Supply:
    """The modules one grading run loads before a dependent submission, and what the result
    says of them (:func:`own_supply`, :func:`correct_supply`)."""

    modules: list[dict[str, Any]]
    usable: bool = True  # False: a student's file is missing or unreadable; run nothing on it
    notes: dict[str, dict[str, Any]] = field(default_factory=dict)  # requirement id -> result entry


def own_supply(reqs: Sequence[Requirement]) -> Supply:
    """The student's own work of each requirement, read on the trusted side like any
    submission. Unusable when any is missing or cannot be read (the entry says why)."""
    supply = Supply(modules=[])
    for req in reqs:
        entry: dict[str, Any] = {"module": req.module, "own": None, "problem": None}
        supply.notes[req.assignment] = entry
        if req.own is None:
            entry["problem"] = req.missing or f"no {req.assignment} submission was found for this student"
            supply.usable = False
            continue
        sub = read_submission(req.own)
        entry["own"] = {"file": sub.name, "sha256": sub.sha256}
        if sub.problem:
            entry["problem"] = sub.problem
            supply.usable = False
            continue
        supply.modules.append({"name": req.module, **sub.code()})
    return supply


def correct_supply(reqs: Sequence[Requirement], now: datetime | None = None) -> Supply:
    """A correct version of each requirement: its reference itself once released, else its
    stand-in, which computes nothing and forwards each call to a fresh trusted ``Service``."""
    from proctor.plugin import import_course_module
    from proctor.sandbox.callback import Trusted

    now = now or datetime.now(timezone.utc)
    supply = Supply(modules=[])
    for req in reqs:
        name = req.module
        if req.provides is None:
            raise ProctorError(f"no correct {name} is at hand here")
        if req.provides.released(now):
            path = _single_file(req.course_root, req.reference)
            supply.modules.append({"name": name, "kind": "py", "filename": f"{name}.py",
                                   "source": path.read_text(encoding="utf-8")})
            supply.notes[req.assignment] = {"correct": "reference"}
            continue
        service = import_course_module(req.course_root, req.provides.service).Service()
        supply.modules.append({"name": name, "kind": "py", "filename": f"{name}.py",
                               "source": req.provides.stand_in.read_text(encoding="utf-8"),
                               "service": Trusted(service, f"{req.assignment} service")})
        supply.notes[req.assignment] = {"correct": "stand_in"}
    return supply


def _single_file(root: Path, dotted: str) -> Path:
    path = Path(root, *dotted.split(".")).with_suffix(".py")
    if not path.is_file():
        raise ProctorError(f"reference_released needs {dotted} to be one .py file, and "
                           f"{path} is not one; release it as a single module or keep the stand-in")
    return path
