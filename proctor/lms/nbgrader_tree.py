"""nbgrader: ``submitted/<student>/<assignment>/`` in (its gradebook out: see ``gradebook``).

nbgrader's exchange writes ``timestamp.txt`` next to the files; that is the submission
time (naive times are UTC, as nbgrader itself assumes). The input may be the course
directory, its ``submitted/`` directory, or a zip of either. The student folder is the
student's id in nbgrader's gradebook, the same in every assignment: the entry's
``identity`` is ``nbgrader:<id>``.

The gradebook and the autograded notebooks formgrader opens are written by
:mod:`proctor.lms.gradebook`.
"""

from __future__ import annotations

from datetime import datetime, timezone

from dateutil import parser as dateparser

from proctor.lms.archive import Member
from proctor.lms.entry import Candidate, StudentFiles
from proctor.lms.tree import add_candidate

FORMAT = "nbgrader"


def _split(name: str, course: bool) -> tuple[str, str, str] | None:
    """(student, assignment, file) for a member under ``submitted/`` (``course``: the
    input is a course directory), or at depth 3 when the input is ``submitted/`` itself."""
    parts = name.split("/")
    if course:
        if "submitted" not in parts[:-3]:
            return None
        parts = parts[parts.index("submitted") + 1:]
    if len(parts) < 3:
        return None
    return parts[0], parts[1], "/".join(parts[2:])


def looks_like(members: list[Member]) -> bool:
    """A ``submitted/`` folder, or ``<student>/<assignment>/timestamp.txt`` files."""
    for member in members:
        parts = member.name.split("/")
        if "submitted" in parts[:-3] or (len(parts) == 3 and parts[2] == "timestamp.txt"):
            return True
    return False


def parse_timestamp(text: str) -> datetime | None:
    """nbgrader's ``2026-11-22 13:05:00.123456 UTC`` (or ISO); naive means UTC."""
    try:
        stamp = dateparser.parse(text.strip())
    except (ValueError, OverflowError):
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    return stamp


def read(members: list[Member], assignment_id: str | None = None) -> list[StudentFiles]:
    """One StudentFiles per student that submitted ``assignment_id`` (or the only one)."""
    found: dict[str, list[tuple[str, str, Member]]] = {}
    course = any("submitted" in m.name.split("/")[:-3] for m in members)
    for member in members:
        split = _split(member.name, course)
        if split:
            student, assignment, filename = split
            found.setdefault(assignment, []).append((student, filename, member))
    if assignment_id is not None:
        chosen = found.get(assignment_id, [])
    elif len(found) == 1:
        chosen = next(iter(found.values()))
    else:
        chosen = [item for items in found.values() for item in items]
    students: dict[str, StudentFiles] = {}
    for student, filename, member in chosen:
        make = StudentFiles(student, None, FORMAT, identity=f"nbgrader:{student}")
        if filename == "timestamp.txt":
            files = students.setdefault(student, make)
            if member.source is not None:
                data = (member.source if isinstance(member.source, bytes)
                        else member.source.read_bytes())
                files.submitted_at = parse_timestamp(data.decode("utf-8", "replace"))
            continue
        add_candidate(students, student, make, Candidate(filename, member.source, member.error))
    return list(students.values())
