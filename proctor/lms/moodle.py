"""Moodle: the assignment's "Download all submissions" in, the grading worksheet CSV out.

The download (``mod/assign/classes/downloader.php``, Moodle 4.1+: ``get_student_prefix``,
``load_submissionplugin_filelist``) holds one folder per participant and plugin,
``<Full name>_<participant id>_assignsubmission_file/<path>/<file>``, and online text in
``..._assignsubmission_onlinetext/onlinetext.html``. Moodle 3.1-4.0 ended the folder with
``_``; with "download as folders" off (and before 3.1) files are flat,
``<Full name>_<id>_assignsubmission_file_<file>``. Blind marking puts "Participant" for the
name. Team submissions are one folder per group, ``<group>_<group id>_...``, or
``Default group_...`` (no id) for students in no group: those cannot be told apart from a
participant by name alone, so a worksheet with a group column or a folder without an id
marks the download as a team one, which needs a group-to-member map (a worksheet row is
per participant).

The participant id is per assignment and is what the worksheet's identifier
("Participant 4711"; German "Teilnehmer/in 4711") ends with. What names a student across
assignments is a user identity field the worksheet shows beside it (``gradingtable.php``
adds a column per field of the site's ``showuseridentity``, headed by the field's name:
"Email address", "ID number"): the entry's ``identity`` is ``email:<address>`` (lower
case), else ``idnumber:<ID number>``, else None (no worksheet, a blind-marked sheet, a
team). The worksheet importer
(``mod/assign/feedback/offline/importgradeslib.php`` ``init``/``next``, ``locallib.php``
``process_import_grades``) finds its columns by their exact header in the site's language
(``Identifier``/``ID``, ``Grade``/``Bewertung``, ``Last modified (grade)``), strips the
identifier's prefix by length, and skips a grade that is above the assignment's maximum,
negative, unchanged, or older than a grade made in Moodle since the download. So the
worksheet goes back exactly as Moodle gave it: same header, same rows and cells, with only
Grade (scaled to the sheet's maximum grade), Feedback comments and an empty "Last
modified (grade)" filled in.
"""

from __future__ import annotations

import copy
import csv
import html
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from dateutil import parser as dateparser

from proctor.atomic import atomic_open
from proctor.errors import SubmissionError
from proctor.lms.archive import Member
from proctor.lms.entry import Candidate, FileRecord, StudentFiles
from proctor.lms.tree import add_candidate

FORMAT = "moodle"

FOLDER = re.compile(r"^(?P<prefix>.+?)_assignsubmission_(?P<type>[a-z0-9]+)(?:_(?P<rest>.*))?$",
                    re.S)
PREFIX = re.compile(r"^(?P<name>.*)_(?P<id>\d+)$", re.S)

# Worksheet headers as Moodle's language packs spell them (mod/assign/lang/<lang>/assign.php
# and lang/<lang>/moodle.php): English and German. Others: --moodle-columns role=HEADER.
HEADERS: dict[str, tuple[str, ...]] = {
    "id": ("Identifier", "ID"),                                       # assign recordid
    "grade": ("Grade", "Bewertung"),                                  # core grade
    "modified": ("Last modified (grade)", "Zuletzt geändert (Bewertung)"),
    "max": ("Maximum Grade", "Maximum grade", "Bestwertung"),         # assign maxgrade
    "submitted": ("Last modified (submission)", "Zuletzt geändert (Abgabe)"),
    "feedback": ("Feedback comments",),                  # assignfeedback_comments pluginname
    "email": ("Email address", "E-Mail-Adresse"),                     # core email
    "idnumber": ("ID number", "ID-Nummer"),                           # core idnumber
    "name": ("Full name",),
    "team": ("Group",),                                               # assign submissionteam
}
REQUIRED = ("id", "grade", "modified", "max")
ROLE_NAMES = {"id": "identifier", "grade": "grade", "modified": "last modified (grade)",
              "max": "maximum grade", "submitted": "last modified (submission)",
              "feedback": "feedback comments", "email": "email", "idnumber": "ID number",
              "name": "full name",
              "team": "group"}

COLUMNS = ["Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade",
           "Grade can be changed", "Last modified (submission)", "Last modified (grade)",
           "Feedback comments"]

# Written into an empty "Last modified (grade)": PHP's strtotime reads it in any language.
STAMP_FORMAT = "%Y-%m-%d %H:%M"


@dataclass
class Worksheet:
    """A downloaded grading worksheet, kept cell for cell, and where its columns are."""

    header: list[str]
    rows: list[list[str]]
    columns: dict[str, int]
    by_pid: dict[str, int] = field(default_factory=dict)
    source: str = "worksheet"

    def cell(self, pid: str, role: str) -> str:
        index, column = self.by_pid.get(pid), self.columns.get(role)
        if index is None or column is None or column >= len(self.rows[index]):
            return ""
        return self.rows[index][column]

    @property
    def decimal(self) -> str:
        """The sheet's decimal separator, read from its maximum grades ("100,00" -> ",")."""
        column = self.columns["max"]
        for row in self.rows:
            if column < len(row) and "," in row[column] and "." not in row[column]:
                return ","
        return "."


def parse_columns(spec: str | None) -> dict[str, str]:
    """``--moodle-columns id=ID,grade=Bewertung,...`` as ``{role: header}``."""
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in (spec or "").split(","))):
        role, sep, header = part.partition("=")
        if not sep or role.strip() not in HEADERS:
            raise SubmissionError(f"--moodle-columns: {part!r} is not ROLE=HEADER with ROLE "
                                  f"one of {', '.join(HEADERS)}")
        out[role.strip()] = header.strip()
    return out


def looks_like(members: list[Member]) -> bool:
    return any(FOLDER.match(m.name.split("/", 1)[0]) for m in members)


def is_worksheet(member: Member, columns: dict[str, str] | None = None) -> bool:
    """A CSV member whose first header cell is a worksheet identifier column."""
    if not member.name.lower().endswith(".csv") or member.source is None:
        return False
    first = next(csv.reader(io.StringIO(_text(member)[:2000])), [""])
    ids = {*HEADERS["id"], *([columns["id"]] if columns and "id" in columns else [])}
    return bool(first) and first[0].strip() in ids


def _text(member: Member) -> str:
    data = member.source if isinstance(member.source, bytes) else member.source.read_bytes()
    return data.decode("utf-8-sig", errors="replace")


def read_worksheet(text: str, columns: dict[str, str] | None = None,
                   source: str = "worksheet") -> Worksheet:
    """Parse the worksheet and find its columns as Moodle's importer does: by exact header.

    A required column that is not there stops the run with one line naming it.
    """
    table = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    if not table:
        raise SubmissionError(f"{source}: the Moodle grading worksheet is empty")
    header = [h.strip() for h in table[0]]
    found: dict[str, int] = {}
    for role, names in HEADERS.items():
        wanted = [columns[role]] if columns and role in columns else list(names)
        for index, title in enumerate(header):
            if title in wanted:
                found[role] = index
                break
        else:
            if role in REQUIRED:
                raise SubmissionError(
                    f"{source}: no {ROLE_NAMES[role]} column in the Moodle grading worksheet "
                    f"(Moodle finds it by its exact header in the site's language; looked for "
                    f"{' or '.join(repr(w) for w in wanted)}); name it with --moodle-columns "
                    f"{role}=HEADER" + (" (a scale-graded assignment has no maximum grade; "
                                        "proctor writes points)" if role == "max" else ""))
    sheet = Worksheet(table[0], table[1:], found, source=source)
    for index, row in enumerate(sheet.rows):
        ident = row[found["id"]] if found["id"] < len(row) else ""
        number = re.search(r"(\d+)\s*$", ident)
        if number:
            sheet.by_pid[number.group(1)] = index
    return sheet


def read_groups(path: Path) -> dict[str, list[str]]:
    """A team map: CSV rows ``group,participant`` (group id or name as in the download,
    participant id or the worksheet identifier); a header row is skipped."""
    groups: dict[str, list[str]] = {}
    if not Path(path).is_file():
        raise SubmissionError(f"{path}: no such file")
    with Path(path).open(newline="", encoding="utf-8-sig") as handle:
        for number, row in enumerate(csv.reader(handle), 1):
            cells = [c.strip() for c in row]
            if not any(cells):
                continue
            pid = re.search(r"(\d+)\s*$", cells[-1]) if len(cells) == 2 else None
            if pid is None:
                if number == 1:
                    continue
                raise SubmissionError(f"{path}:{number}: expected 'group,participant id', "
                                      f"got {','.join(row)!r}")
            groups.setdefault(cells[0], []).append(pid.group(1))
    return groups


def parse_time(text: str | None) -> datetime | None:
    """A worksheet time, or None for "-" / empty / unparseable (Moodle localises these)."""
    if not text or text.strip() in ("-", ""):
        return None
    try:
        return dateparser.parse(text, fuzzy=True)
    except (ValueError, OverflowError):
        return None


def read(members: list[Member], worksheet: Worksheet | None = None, *,
         groups: dict[str, list[str]] | None = None,
         unassigned: list[FileRecord] | None = None) -> list[StudentFiles]:
    """One StudentFiles per participant (or per team, with ``groups``), with submission
    times from the worksheet when given. Team downloads without ``groups`` are refused;
    with ``groups`` every folder is a team's (group id or name -> participant ids)."""
    students: dict[str, StudentFiles] = {}
    teams: set[str] = set()
    for member in members:
        parts = member.name.split("/")
        match = FOLDER.match(parts[0])
        if match is None:
            if unassigned is not None:
                unassigned.append(FileRecord(member.name, "error", None, member.error or (
                    "not in Moodle's download layout (<Full name>_<id>_assignsubmission_"
                    "<plugin>/...); not graded")))
            continue
        rest = match["rest"] or ""
        filename = "/".join(parts[1:]) if len(parts) > 1 else rest
        if not filename:
            filename = parts[0]
        prefix = PREFIX.match(match["prefix"])
        name, pid = (prefix["name"], prefix["id"]) if prefix else (match["prefix"], None)
        if groups is not None or pid is None or _is_team(worksheet, pid):
            teams.add(match["prefix"])
            if groups is None:
                continue
            key = next((k for k in (pid, match["prefix"], name) if k and k in groups), None)
            if key is None:
                raise SubmissionError(
                    f"Moodle team folder {match['prefix']!r} is not in the group map; add "
                    f"rows '{pid or match['prefix']},<participant id>' for its members")
            sid = f"group_{pid}" if pid else f"group_{name}"
            extra = {"moodle_participant_ids": groups[key], "moodle_group": match["prefix"]}
        else:
            sid, extra = pid, {"moodle_participant_id": pid}
        add_candidate(students, sid, StudentFiles(sid, name, FORMAT, extra=extra),
                      Candidate(filename, member.source, member.error, path=member.name))
    if teams and groups is None:
        shown = ", ".join(sorted(teams)[:3]) + (" ..." if len(teams) > 3 else "")
        raise SubmissionError(
            f"this Moodle download holds team submissions ({shown}); a worksheet row is per "
            f"participant, so pass --moodle-groups MAP.csv (rows: group id or name, "
            f"participant id) to give each member the team's grade")
    for files in students.values():
        pid = files.extra.get("moodle_participant_id") or next(
            iter(files.extra.get("moodle_participant_ids") or []), None)
        if worksheet is not None and pid in worksheet.by_pid:
            files.extra["email"] = worksheet.cell(pid, "email")
            if "moodle_participant_id" in files.extra:  # a person, not a team
                files.identity = identity(worksheet, pid)
            files.submitted_at = parse_time(worksheet.cell(pid, "submitted"))
            if files.submitted_at is not None:
                files.extra["submitted_at_source"] = "Moodle grading worksheet"
    return list(students.values())


def identity(worksheet: Worksheet, pid: str) -> str | None:
    """The participant's name across the course's assignments: their email address, else
    their ID number (participant ids differ per assignment)."""
    email = worksheet.cell(pid, "email").strip().lower()
    if email:
        return f"email:{email}"
    number = worksheet.cell(pid, "idnumber").strip()
    return f"idnumber:{number}" if number else None


def _is_team(worksheet: Worksheet | None, pid: str) -> bool:
    """A numbered folder is a team's when the worksheet has a group column (Moodle's grading
    table adds one only for team submissions)."""
    return worksheet is not None and "team" in worksheet.columns


def _grade(value: float, decimal: str = ".") -> str:
    return f"{float(value):.2f}".replace(".", decimal)


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


def participant_ids(row: dict[str, Any]) -> list[str]:
    """The worksheet rows a result goes to: the participant, or every member of a team."""
    extra = (row.get("student") or {}).get("extra") or {}
    if extra.get("moodle_participant_ids"):
        return [str(p) for p in extra["moodle_participant_ids"]]
    return [str(extra["moodle_participant_id"])] if extra.get("moodle_participant_id") else []


def scaled(score: float, max_score: float, sheet_max: float) -> float:
    """The score on the worksheet's scale, within [0, sheet_max] (Moodle skips above max)."""
    if max_score <= 0:
        return 0.0
    return min(max(round(score / max_score * sheet_max, 2), 0.0), sheet_max)


def _number(text: str) -> float | None:
    try:
        return float(text.strip().replace(",", "."))
    except (ValueError, AttributeError):
        return None


def write_worksheet(rows: Iterable[dict[str, Any]], out: Path, *, max_score: float,
                    template: Worksheet | None = None,
                    now: datetime | None = None) -> Path:
    """Write the grading worksheet for Moodle's "Upload grading worksheet".

    With ``template`` (the downloaded worksheet) every header, row and cell is kept and only
    the graded students' Grade (scaled from ``max_score`` to the row's maximum grade),
    Feedback comments (when the sheet has that column) and an empty "Last modified (grade)"
    change. Without one, a standard English sheet is written with grades out of
    ``max_score``. Only rows with a Moodle participant id can be matched; an ungradable
    submission keeps its old grade.
    """
    stamp = (now or datetime.now().astimezone()).strftime(STAMP_FORMAT)
    sheet = copy.deepcopy(template) if template else Worksheet(list(COLUMNS), [], {
        role: COLUMNS.index(HEADERS[role][0]) for role in
        ("id", "grade", "modified", "max", "submitted", "feedback", "email", "name")})
    decimal = sheet.decimal
    for row in rows:
        for pid in participant_ids(row):
            if pid not in sheet.by_pid:
                if template is not None:
                    continue  # not a participant of this assignment: Moodle would skip it
                sheet.by_pid[pid] = len(sheet.rows)
                sheet.rows.append(_new_row(pid, row, max_score))
            line = sheet.rows[sheet.by_pid[pid]]
            line.extend([""] * (len(sheet.header) - len(line)))
            columns = sheet.columns
            if not row.get("error"):
                sheet_max = _number(line[columns["max"]]) or float(max_score)
                line[columns["grade"]] = _grade(
                    scaled(float(row.get("score", 0.0)), float(max_score), sheet_max), decimal)
                if line[columns["modified"]].strip() in ("", "-"):
                    line[columns["modified"]] = stamp
            if "feedback" in columns:
                line[columns["feedback"]] = feedback_text(row)
    body = sheet.rows if template else sorted(sheet.rows, key=lambda r: int(
        re.search(r"(\d+)\s*$", r[0]).group(1)))
    with atomic_open(out) as handle:
        writer = csv.writer(handle)
        writer.writerow(sheet.header)
        writer.writerows(body)
    return out


def _new_row(pid: str, row: dict[str, Any], max_score: float) -> list[str]:
    student = row.get("student") or {}
    values = {"Identifier": f"Participant {pid}", "Full name": student.get("name") or "",
              "Email address": (student.get("extra") or {}).get("email", ""),
              "Status": "Submitted for grading", "Maximum Grade": _grade(max_score),
              "Grade can be changed": "Yes", "Last modified (submission)": "-",
              "Last modified (grade)": "-"}
    return [values.get(column, "") for column in COLUMNS]
