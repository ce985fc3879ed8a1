"""Find the work a dependent submission builds on (course.toml ``requires``).

For each required assignment, in order: the file of it the student handed in with this
submission (``SubmissionEntry.bundled``: a platform that shows the grader one submission,
such as Gradescope, asks for both files together, and the grade then equals the one its
autograder gave), else the same student's submission of that assignment in this batch (or
in the export given with ``--with``), found by ``SubmissionEntry.identity``, the name each
format reader gives a student in every assignment of the course. Nothing found, or only an
ungradable file: None, and grading uses a correct version; ``why`` says which.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from proctor.lms.entry import SubmissionEntry

__all__ = ["OwnWork", "by_identity", "own_work"]


@dataclass(frozen=True)
class OwnWork:
    """The student's own file of one required assignment, or why there is none."""

    assignment: str
    filename: str | None = None
    data: bytes | None = None
    source: str | None = None  # "bundled" (handed in with this submission) or "batch"
    why: str = ""  # for the student: where it came from, or why there is none

    @property
    def sha256(self) -> str | None:
        return hashlib.sha256(self.data).hexdigest() if self.data is not None else None

    def record(self) -> dict[str, str | None]:
        """What the result's ``student`` block keeps of it."""
        return {"file": self.filename, "sha256": self.sha256, "source": self.source,
                "why": self.why}


def by_identity(entries: Iterable[SubmissionEntry]) -> dict[str, SubmissionEntry]:
    """Entries by identity; entries without one cannot be found from another assignment.
    Where one identity has several entries (never in a well-formed export), a gradable one
    wins, then the first by student id."""
    found: dict[str, SubmissionEntry] = {}
    for entry in sorted(entries, key=lambda e: (e.error is not None, e.student_id)):
        if entry.identity and entry.identity not in found:
            found[entry.identity] = entry
    return found


def own_work(entry: SubmissionEntry, requires: Sequence[str],
             required: Mapping[str, Mapping[str, SubmissionEntry]]) -> list[OwnWork]:
    """The student's own work of each required assignment (see the module docstring).
    ``required`` maps a required assignment's id to its entries by identity; an id missing
    from it had no submissions given to this run."""
    found = []
    for dep in requires:
        bundled = entry.bundled.get(dep)
        if bundled is not None:
            found.append(OwnWork(dep, bundled.filename, bundled.read_bytes(), "bundled",
                                 "handed in with this submission"))
            continue
        if dep not in required:
            found.append(OwnWork(dep, why=f"no {dep} submissions were given to this grading "
                                          f"run"))
            continue
        if not entry.identity:
            found.append(OwnWork(dep, why=f"this submission does not name you the same way in "
                                          f"every assignment (an anonymous one, say), so your "
                                          f"{dep} submission could not be found"))
            continue
        match = required[dep].get(entry.identity)
        if match is None:
            found.append(OwnWork(dep, why=f"no {dep} submission of yours was found "
                                          f"({entry.identity})"))
        elif match.error is not None:
            found.append(OwnWork(dep, why=f"your {dep} submission could not be used "
                                          f"({match.error})"))
        else:
            found.append(OwnWork(dep, match.filename, match.read_bytes(), "batch",
                                 f"your submission to the {dep} assignment ({entry.identity})"))
    return found


def grading_key(sha256: str, work: Sequence[OwnWork]) -> str:
    """The journal key of a dependent submission: its file and the required work it is
    graded on, so a changed required file regrades it on ``--resume``."""
    if not work:
        return sha256
    parts = [sha256] + [f"{w.assignment}:{w.sha256 or 'none'}" for w in work]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()
