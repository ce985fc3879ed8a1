"""Moodle: the assignment's "Download all submissions" in, the grading worksheet CSV out.

The download holds one folder per participant, ``Full Name_<participantid>_assignsubmission_file_/``
(older Moodle: flat files ``Full Name_<id>_assignsubmission_file_<name>``); online-text
folders (``_assignsubmission_onlinetext_``) are not code and are ignored. The participant id
is per assignment and is what the worksheet's ``Identifier`` ("Participant N") refers to.

The download has no submission times. If the offline grading worksheet (a CSV whose first
column is ``Identifier``) is passed or sits in the input, its "Last modified (submission)"
supplies them, and its rows and columns are reused for the upload, so the file goes back
exactly as Moodle gave it with Grade and Feedback comments filled in.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from dateutil import parser as dateparser

from proctor.lms.archive import Member
from proctor.atomic import atomic_open
from proctor.lms.entry import Candidate, StudentFiles
from proctor.lms.tree import add_candidate

FORMAT = "moodle"

FOLDER = re.compile(
    r"^(?P<name>.+?)_(?P<pid>\d+)_assignsubmission_(?P<plugin>[a-z]+)_(?P<rest>.*)$")

COLUMNS = ["Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade",
           "Grade can be changed", "Last modified (submission)", "Last modified (grade)",
           "Feedback comments"]

# Moodle's default English format: "Wednesday, 23 September 2020, 9:00 PM"
TIME_FORMAT = "%A, %d %B %Y, %I:%M %p"


def looks_like(members: list[Member]) -> bool:
    return any(FOLDER.match(m.name.split("/", 1)[0]) for m in members)


def is_worksheet(member: Member) -> bool:
    """A CSV member whose header starts with Moodle's ``Identifier`` column."""
    if not member.name.lower().endswith(".csv") or member.source is None:
        return False
    head = _text(member)[:200].lstrip("\ufeff")
    return head.startswith("Identifier") or head.startswith('"Identifier"')


def _text(member: Member) -> str:
    data = member.source if isinstance(member.source, bytes) else member.source.read_bytes()
    return data.decode("utf-8-sig", errors="replace")


def read_worksheet(text: str) -> tuple[list[str], dict[str, dict[str, str]]]:
    """Header and rows keyed by participant id, from the worksheet's CSV text."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    rows: dict[str, dict[str, str]] = {}
    for row in reader:
        found = re.search(r"(\d+)\s*$", row.get("Identifier") or "")
        if found:
            rows[found.group(1)] = row
    return list(reader.fieldnames or COLUMNS), rows


def parse_time(text: str | None) -> datetime | None:
    """A worksheet time, or None for "-" / empty / unparseable (Moodle localises these)."""
    if not text or text.strip() in ("-", ""):
        return None
    try:
        return dateparser.parse(text, fuzzy=True)
    except (ValueError, OverflowError):
        return None


def read(members: list[Member], worksheet: dict[str, dict[str, str]] | None = None
         ) -> list[StudentFiles]:
    """One StudentFiles per participant folder, with times from the worksheet if given."""
    students: dict[str, StudentFiles] = {}
    for member in members:
        parts = member.name.split("/")
        match = FOLDER.match(parts[0])
        if match is None or match["plugin"] != "file":
            continue
        if match["rest"] and len(parts) == 1:
            filename = match["rest"]  # old flat layout
        elif not match["rest"] and len(parts) > 1:
            filename = "/".join(parts[1:])
        else:
            continue
        pid = match["pid"]
        add_candidate(students, pid,
                      StudentFiles(pid, match["name"], FORMAT,
                                   extra={"moodle_participant_id": pid}),
                      Candidate(filename, member.source, member.error))
    for pid, files in students.items():
        row = (worksheet or {}).get(pid)
        if row:
            files.extra["email"] = row.get("Email address", "")
            files.submitted_at = parse_time(row.get("Last modified (submission)"))
            if files.submitted_at is not None:
                files.extra["submitted_at_source"] = "Moodle grading worksheet"
    return list(students.values())


def _grade(value: float) -> str:
    return f"{float(value):.2f}"


def feedback_text(row: dict[str, Any]) -> str:
    """A short HTML comment for Moodle: the score per task, the late penalty, any error."""
    if row.get("error"):
        return f"<p>Not graded: {html.escape(str(row['error']))}</p>"
    parts = [f"<p>Autograded score: {_grade(row.get('score', 0))} / "
             f"{_grade(row.get('max_score', 0))}</p>"]
    tasks = row.get("tasks") or {}
    if tasks:
        items = "".join(f"<li>{html.escape(name)}: {_grade(t.get('score', 0))} / "
                        f"{_grade(t.get('max_score', 0))}</li>" for name, t in tasks.items())
        parts.append(f"<ul>{items}</ul>")
    late = row.get("late") or {}
    if late.get("penalty_fraction"):
        parts.append(f"<p>Late penalty: {late['penalty_fraction'] * 100:.0f}% "
                     f"(score before penalty {_grade(late.get('raw_score', 0))})</p>")
    return "".join(parts)


def write_worksheet(rows: Iterable[dict[str, Any]], out: Path, *, max_score: float,
                    template: tuple[list[str], dict[str, dict[str, str]]] | None = None,
                    now: datetime | None = None) -> Path:
    """Write the grading worksheet for Moodle's "Upload grading worksheet".

    Only rows with a Moodle participant id can be matched by Moodle; others are left out.
    With ``template`` (the downloaded worksheet) every original row and column is kept and
    only Grade, Feedback comments and Last modified (grade) change for graded students.
    An ungradable submission keeps its old grade (empty when there was none).
    """
    header, original = template if template else (COLUMNS, {})
    stamp = (now or datetime.now().astimezone()).strftime(TIME_FORMAT)
    merged: dict[str, dict[str, str]] = {pid: dict(row) for pid, row in original.items()}
    for row in rows:
        student = row.get("student", {})
        pid = str(student.get("extra", {}).get("moodle_participant_id") or "")
        if not pid:
            continue
        line = merged.setdefault(pid, {
            "Identifier": f"Participant {pid}", "Full name": student.get("name") or "",
            "Email address": student.get("extra", {}).get("email", ""),
            "Status": "Submitted for grading", "Grade": "",
            "Last modified (submission)": "-", "Grade can be changed": "Yes",
        })
        line["Maximum Grade"] = _grade(max_score)
        if not row.get("error"):
            line["Grade"] = _grade(row.get("score", 0))
            line["Last modified (grade)"] = stamp
        line["Feedback comments"] = feedback_text(row)
    if "Feedback comments" not in header:
        header = [*header, "Feedback comments"]
    with atomic_open(out) as handle:
        writer = csv.DictWriter(handle, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        for pid in sorted(merged, key=lambda p: int(p)):
            writer.writerow({key: merged[pid].get(key, "") for key in header})
    return out
