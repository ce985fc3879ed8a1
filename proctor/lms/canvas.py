"""Canvas: the "Download Submissions" zip in, the gradebook-import CSV out.

Canvas names each file ``{lastnamefirstname}_{late_}{user_id}_{attachment_id}_{original}``
(``late_`` only when Canvas marked it late; a re-upload's original name gets ``-1``,
``-2``...). The zip carries no submission time, so lateness is the marker alone.

The gradebook import matches students by ``ID`` (Canvas user id) or, failing that,
``SIS User ID`` / ``SIS Login ID``, and the assignment by the column header
``<Assignment name> (<assignment id>)``; the second row gives "Points Possible".
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import Any

from proctor.lms.archive import Member
from proctor.atomic import atomic_open
from proctor.lms.entry import Candidate, StudentFiles
from proctor.lms.tree import add_candidate

FORMAT = "canvas"

NAME = re.compile(r"^(?P<name>[^_/]+)_(?P<late>late_)?(?P<uid>\d+)_(?P<att>\d+)_(?P<orig>.+)$")


def looks_like(members: list[Member]) -> bool:
    """Most top-level files follow Canvas's naming (a stray README does not break it)."""
    top = [m for m in members if "/" not in m.name]
    hits = sum(1 for m in top if NAME.match(m.name))
    return hits > 0 and hits * 2 >= len(top)


def read(members: list[Member]) -> list[StudentFiles]:
    """One StudentFiles per Canvas user id; every file of theirs is a candidate."""
    students: dict[str, StudentFiles] = {}
    for member in members:
        match = NAME.match(PurePosixPath(member.name).name) if "/" not in member.name else None
        if match is None:
            continue
        uid = match["uid"]
        files = add_candidate(
            students, uid,
            StudentFiles(uid, match["name"], FORMAT, extra={"canvas_user_id": uid}),
            Candidate(match["orig"], member.source, member.error,
                      order=(int(match["att"]),)))
        files.late_marker = files.late_marker or bool(match["late"])
    return list(students.values())


def gradebook_header(title: str, canvas_assignment_id: str | None) -> str:
    """The assignment column: with the id Canvas updates that assignment, without it
    Canvas offers to create a new one named ``title`` on import."""
    return f"{title} ({canvas_assignment_id})" if canvas_assignment_id else title


def write_gradebook(rows: Iterable[dict[str, Any]], out: Path, *, title: str,
                    max_score: float, canvas_assignment_id: str | None = None) -> Path:
    """Write ``grades.csv`` for Canvas's gradebook import.

    ``rows`` are result dicts with a ``student`` block (see ``proctor.lms.outputs``). A
    student whose submission could not be graded gets an empty cell: Canvas leaves the
    grade unchanged rather than recording a zero for a file we could not read.
    """
    column = gradebook_header(title, canvas_assignment_id)
    with atomic_open(out) as handle:
        writer = csv.writer(handle)
        writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", column])
        writer.writerow(["Points Possible", "", "", "", "", _number(max_score)])
        for row in rows:
            student = row.get("student", {})
            fmt = student.get("format")
            sid = str(student.get("id", ""))
            canvas_id = sid if fmt == FORMAT else ""
            sis_user = sid if fmt == "gradescope" else ""
            sis_login = sid if fmt not in (FORMAT, "gradescope", "moodle") else ""
            grade = "" if row.get("error") else _number(row.get("score", 0.0))
            writer.writerow([student.get("name") or sid, canvas_id, sis_user, sis_login,
                             "", grade])
    return out


def _number(value: float) -> str:
    """Scores as Canvas shows them: no trailing zeros, at most two decimals."""
    from decimal import ROUND_HALF_UP, Decimal

    text = str(Decimal(repr(float(value))).quantize(Decimal("0.01"), ROUND_HALF_UP))
    return text.rstrip("0").rstrip(".") if "." in text else text
