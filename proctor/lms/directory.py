"""A plain directory (or zip) of submissions: ``<student>.ipynb`` or ``<student>/<files>``.

The fallback when no LMS naming convention is recognised; the student id is the file's
stem or the folder's name, which is also its ``identity`` across assignments
(``name:<student>``: folders of different assignments name a student alike). Top-level files that are not code (a README, a roster CSV)
are ignored rather than mistaken for students.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from proctor.lms.archive import Member
from proctor.lms.content import SUFFIXES
from proctor.lms.entry import Candidate, StudentFiles
from proctor.lms.tree import add_candidate

FORMAT = "directory"


def read(members: list[Member]) -> list[StudentFiles]:
    """One StudentFiles per top-level code file or per top-level folder."""
    students: dict[str, StudentFiles] = {}
    for member in members:
        parts = member.name.split("/")
        if len(parts) == 1:
            path = PurePosixPath(member.name)
            if path.suffix.lower() not in SUFFIXES:
                continue
            student, filename = path.stem, member.name
        else:
            student, filename = parts[0], "/".join(parts[1:])
        add_candidate(students, student, StudentFiles(student, None, FORMAT,
                                                      identity=f"name:{student}"),
                      Candidate(filename, member.source, member.error, path=member.name))
    return list(students.values())
