"""Canvas: the "Download Submissions" zip in, the gradebook-import CSV out.

How Canvas names each file (canvas-lms ``app/models/content_zipper.rb``: ``get_filename``,
``add_upload_submission``, ``add_text_or_url``; clashes by
``Attachment.make_unique_filename``):

* an upload: ``<sortable name>_[LATE_]<user id>_<attachment id>_<original name>``; the name
  is the sortable name with non-word characters removed, lower-cased;
* anonymous grading: ``[LATE_]anon_<anonymous id>_<attachment id>_<original name>``, with
  no name and an alphanumeric id (no Canvas user id anywhere in the zip);
* a text entry or a URL: ``<name>_[LATE_]<user id>_text.html`` / ``_link.html``, with no
  attachment id;
* a name already in the zip gets ``-1``, ``-2``... before its extension.

The user id is the student's across the course (``identity`` ``canvas:<user id>``, so a
dependent assignment's download finds the same student's earlier work); an anonymous id
belongs to one submission of one assignment (``submissions.anonymous_id``), so an
anonymous submission has no identity and is matched to nothing.

``LATE`` is read in any case (older Canvas lower-cased the whole name). The zip carries no
submission time, so lateness is the marker alone. Canvas's own reader of these names
(``Assignment#infer_comment_context_from_filename``) takes the first two all-digit parts as
user id and attachment id; so does this one.

The gradebook import (``lib/gradebook_importer.rb``) matches students by ``ID`` (Canvas
user id), then ``SIS User ID`` / ``SIS Login ID``, then by name, and the assignment by the
header ``<title> (<assignment id>)``, else by the exact title, else it creates a new
assignment; the second row gives "Points Possible". It refuses grades for an anonymous
assignment whose grades are not yet posted (``gradeable?``), and anonymous students have
no user id: their scores go to ``canvas_anonymous_grades.csv`` for SpeedGrader (which lists
them by the same anonymous id), or into grades.csv through an anonymous-id map.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from proctor.lms.archive import Member
from proctor.atomic import atomic_open
from proctor.lms.entry import Candidate, FileRecord, StudentFiles
from proctor.lms.tree import add_candidate

FORMAT = "canvas"

_TAIL = (r"(?:(?P<att>\d+)_(?P<orig>.+)"
         r"|(?P<entry>text|link)(?:-\d+)?\.html)$")
NAMED = re.compile(r"^(?:(?P<name>.*?)_)??(?:(?P<late>(?i:late))_)?(?P<uid>\d+)_" + _TAIL, re.S)
ANON = re.compile(r"^(?:(?P<late>(?i:late))_)?anon_(?P<anon>[A-Za-z0-9]+)_" + _TAIL, re.S)


def parse(filename: str) -> dict[str, Any] | None:
    """The parts of one Canvas download name, or None when it is not one."""
    match = ANON.match(filename) or NAMED.match(filename)
    if match is None:
        return None
    parts = match.groupdict()
    parts["late"] = bool(parts.get("late"))
    parts.setdefault("anon", None)
    return parts


def looks_like(members: list[Member]) -> bool:
    """Most top-level files follow Canvas's naming (a stray README does not break it)."""
    top = [m for m in members if "/" not in m.name]
    hits = sum(1 for m in top if parse(m.name))
    return hits > 0 and hits * 2 >= len(top)


def read(members: list[Member], unassigned: list[FileRecord] | None = None
         ) -> list[StudentFiles]:
    """One StudentFiles per Canvas student (user id, or anonymous id); every file of theirs
    is a candidate. Files not named like Canvas's go to ``unassigned`` with the reason."""
    students: dict[str, StudentFiles] = {}
    for member in members:
        parts = parse(member.name) if "/" not in member.name else None
        if parts is None:
            if unassigned is not None:
                unassigned.append(FileRecord(member.name, "error", None, member.error or (
                    "not named like a Canvas download file (<name>_<user id>_<attachment "
                    "id>_<file>, anon_<id>_<attachment id>_<file>, or <name>_<user id>_"
                    "text.html); not graded")))
            continue
        if parts["anon"]:
            sid, extra = f"anon_{parts['anon']}", {"canvas_anonymous_id": parts["anon"]}
            name, identity = None, None
        else:
            sid, extra = parts["uid"], {"canvas_user_id": parts["uid"]}
            name, identity = parts["name"] or None, f"canvas:{parts['uid']}"
        filename = parts["orig"] or f"{parts['entry']}.html"
        order = (int(parts["att"]),) if parts["att"] else (-1,)
        files = add_candidate(students, sid, StudentFiles(sid, name, FORMAT, extra=extra,
                                                          identity=identity),
                              Candidate(filename, member.source, member.error, order=order,
                                        path=member.name))
        files.late_marker = files.late_marker or parts["late"]
    return list(students.values())


def gradebook_header(title: str, canvas_assignment_id: str | None) -> str:
    """The assignment column: with the id Canvas updates that assignment, without it
    Canvas offers to create a new one named ``title`` on import."""
    return f"{title} ({canvas_assignment_id})" if canvas_assignment_id else title


def write_gradebook(rows: Iterable[dict[str, Any]], out: Path, *, title: str,
                    max_score: float, canvas_assignment_id: str | None = None,
                    anon_map: dict[str, str] | None = None) -> Path:
    """Write ``grades.csv`` for Canvas's gradebook import.

    ``rows`` are result dicts with a ``student`` block (see ``proctor.lms.outputs``). A
    student whose submission could not be graded gets an empty cell: Canvas leaves the
    grade unchanged rather than recording a zero for a file we could not read. Anonymous
    Canvas students are left out (no user id; the importer would invent a new student)
    unless ``anon_map`` gives their user id.
    """
    column = gradebook_header(title, canvas_assignment_id)
    # anonymous ids compared without case: older Canvas lower-cased the whole file name
    anon_map = {k.lower(): v for k, v in (anon_map or {}).items()}
    with atomic_open(out) as handle:
        writer = csv.writer(handle)
        writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", column])
        writer.writerow(["Points Possible", "", "", "", "", _number(max_score)])
        for row in rows:
            student = row.get("student", {})
            fmt = student.get("format")
            sid = str(student.get("id", ""))
            anon = (student.get("extra") or {}).get("canvas_anonymous_id")
            if anon:
                if anon.lower() not in anon_map:
                    continue
                sid = anon_map[anon.lower()]
            canvas_id = sid if fmt == FORMAT else ""
            sis_user = sid if fmt == "gradescope" else ""
            sis_login = sid if fmt not in (FORMAT, "gradescope", "moodle") else ""
            grade = "" if row.get("error") else _number(row.get("score", 0.0))
            writer.writerow([student.get("name") or (f"anon_{anon}" if anon else sid), canvas_id, sis_user, sis_login,
                             "", grade])
    return out


def _number(value: float) -> str:
    """Scores as Canvas shows them: no trailing zeros, at most two decimals."""
    from decimal import ROUND_HALF_UP, Decimal

    text = str(Decimal(repr(float(value))).quantize(Decimal("0.01"), ROUND_HALF_UP))
    return text.rstrip("0").rstrip(".") if "." in text else text


def is_anonymous(row: dict[str, Any]) -> bool:
    return bool(((row.get("student") or {}).get("extra") or {}).get("canvas_anonymous_id"))


def write_anonymous(rows: Iterable[dict[str, Any]], out: Path, *, max_score: float) -> Path:
    """``canvas_anonymous_grades.csv``: anonymous id, score, file, late, for SpeedGrader."""
    with atomic_open(out) as handle:
        writer = csv.writer(handle)
        writer.writerow(["Anonymous ID", "Score", "Points Possible", "Late", "File",
                         "Problem"])
        for row in rows:
            if not is_anonymous(row):
                continue
            student = row.get("student") or {}
            grade = "" if row.get("error") else _number(row.get("score", 0.0))
            writer.writerow([student["extra"]["canvas_anonymous_id"], grade,
                             _number(max_score), "LATE" if student.get("late_marker") else "",
                             student.get("filename") or "", row.get("error") or ""])
    return out


def read_anonymous_map(path: Path) -> dict[str, str]:
    """``anonymous id -> Canvas user id`` from a two-column CSV (a header row is skipped)."""
    from proctor.errors import ProctorError, SubmissionError

    mapping: dict[str, str] = {}
    if not Path(path).is_file():
        raise SubmissionError(f"{path}: no such file")
    with Path(path).open(newline="", encoding="utf-8-sig") as handle:
        for number, row in enumerate(csv.reader(handle), 1):
            cells = [c.strip() for c in row if c.strip()]
            if not cells or (number == 1 and not cells[-1].isdigit()):
                continue
            if len(cells) != 2 or not cells[1].isdigit():
                raise ProctorError(f"{path}:{number}: expected 'anonymous id,Canvas user "
                                   f"id', got {','.join(row)!r}")
            mapping[cells[0].removeprefix("anon_")] = cells[1]
    return mapping
