"""What an assignment's submissions import from other assignments (course.toml ``requires``).

A transformer submission imports the student's own attention. Grading loads that work in
the sandbox under the module name the required assignment ``provides``; where a test fails
on it, the test runs again on a correct one (the required assignment's stand-in, which
forwards every call to the trusted side, or its reference once released), so a bug costs
points only in the assignment where it lives.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from proctor.errors import ProctorError

if TYPE_CHECKING:
    from proctor.config import Assignment, Course, Provides


@dataclass(frozen=True)
class Requirement:
    """One required assignment, as grading a dependent submission needs it."""

    assignment: str  # the required assignment's id, e.g. "attention"
    provides: Provides
    course_root: Path
    reference: str  # the required assignment's reference module (trusted side)
    own: Path | None  # the student's own submission of it, when one was found


def requirements(course: Course, assignment: Assignment,
                 own: Mapping[str, Path | None] | None = None) -> tuple[Requirement, ...]:
    """The requirements of ``assignment``, each with the student's own file from ``own``
    (by required assignment id; missing or None: the student has none, and only a correct
    one is used). A key that ``assignment`` does not require is a mistake, said in one line."""
    own = dict(own or {})
    unknown = sorted(set(own) - set(assignment.requires))
    if unknown:
        needs = ", ".join(assignment.requires) or "nothing"
        raise ProctorError(f"{assignment.id} does not require {', '.join(unknown)} (it requires {needs})")
    found = []
    for dep_id in assignment.requires:
        dep = course.assignment(dep_id)
        assert dep.provides is not None  # load_course checks it
        found.append(Requirement(assignment=dep_id, provides=dep.provides, course_root=dep.course_root,
                                 reference=dep.reference, own=own.get(dep_id)))
    return tuple(found)
