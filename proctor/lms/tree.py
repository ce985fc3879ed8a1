"""Small helpers shared by the format readers: common root folder, grouping by student."""

from __future__ import annotations

from proctor.lms.archive import Member
from proctor.lms.entry import Candidate, StudentFiles

__all__ = ["strip_common_root", "add_candidate"]


def strip_common_root(members: list[Member]) -> list[Member]:
    """Drop one top folder shared by every member (an export re-zipped inside a folder).

    Repeats while a single folder wraps everything, so ``export/assignment_1_export/...``
    is seen the same as the bare export.
    """
    while members:
        tops = {m.name.split("/", 1)[0] for m in members}
        if len(tops) != 1 or any("/" not in m.name for m in members):
            break
        members = [Member(m.name.split("/", 1)[1], m.source, m.error) for m in members]
    return members


def add_candidate(students: dict[str, StudentFiles], key: str, make: StudentFiles,
                  candidate: Candidate) -> StudentFiles:
    """Append ``candidate`` to the student ``key``, creating the record from ``make`` once."""
    files = students.setdefault(key, make)
    files.candidates.append(candidate)
    return files
