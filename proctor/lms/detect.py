"""``discover``: recognise the input's format and list one entry per student.

Detection looks only at names, most specific first: a Gradescope export has
``submission_metadata.yml``; nbgrader has ``submitted/<student>/<assignment>/``; Moodle has
``_assignsubmission_`` folders; Canvas has ``name_[LATE_]uid_attachment_file`` (or
``[LATE_]anon_<id>_...``) names. Anything else is a plain directory of ``<student>.ipynb``
files or ``<student>/`` folders; when some of its files look like an LMS's names, the
``ledger`` says so, since a half-recognised export read as a directory would turn one
student with two files into two students.

With a ``ledger`` list, every file of the input is accounted for there: graded,
superseded, extra beside a graded file, or an error with the reason.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from proctor.errors import SubmissionError
from proctor.lms import canvas, directory, gradescope, moodle, nbgrader_tree
from proctor.lms.archive import ArchiveLimits, Member, read_input
from proctor.lms.entry import FileRecord, SubmissionEntry
from proctor.lms.pick import choose
from proctor.lms.tree import strip_common_root

if TYPE_CHECKING:
    from proctor.config import Assignment

__all__ = ["FORMATS", "detect_format", "discover", "lookalikes"]

FORMATS = ("gradescope", "nbgrader", "moodle", "canvas", "directory")


def detect_format(members: list[Member]) -> str:
    """The first format whose naming convention the members follow."""
    if gradescope.looks_like(members):
        return "gradescope"
    if nbgrader_tree.looks_like(members):
        return "nbgrader"
    if moodle.looks_like(members):
        return "moodle"
    if canvas.looks_like(members):
        return "canvas"
    return "directory"


def lookalikes(members: list[Member]) -> str | None:
    """Why a "directory" input may really be an LMS export (some Canvas-named files)."""
    top = [m.name for m in members if "/" not in m.name]
    named = [n for n in top if canvas.parse(n)]
    if named:
        return (f"{len(named)} of {len(top)} top-level files are named like a Canvas "
                f"download (e.g. {named[0]!r}) but most are not, so the input was read as a "
                f"plain directory (one student per file); if it is a Canvas download, pass "
                f"--format canvas")
    return None


def discover(input: Path, *, assignment: Assignment | None = None, format: str | None = None,  # noqa: A002
             limits: ArchiveLimits = ArchiveLimits(), moodle_worksheet: Path | None = None,
             ledger: list[FileRecord] | None = None,
             moodle_columns: dict[str, str] | None = None,
             moodle_groups: dict[str, list[str]] | None = None,
             notes: list[str] | None = None,
             bundles: Mapping[str, Collection[str]] | None = None) -> list[SubmissionEntry]:
    """Every student's submission in ``input`` (a directory or a zip), sorted by student id.

    ``assignment`` (a ``proctor.config.Assignment``) names the preferred file (its
    notebook's stem) and, for nbgrader trees, which assignment to take. ``format`` skips
    detection. Per-student problems become entries with ``error`` set; only an input that
    cannot be read at all (or a Moodle team download without ``moodle_groups``, or a
    worksheet without a needed column) raises ``SubmissionError``. ``ledger`` receives a
    record per input file; ``notes`` receives lines the instructor should read.
    ``bundles`` names the files that are a required assignment's work handed in alongside
    (``Course.handed_in_names``; see ``proctor.lms.pick``).
    """
    input = Path(input)
    members = read_input(input, limits)
    stripped = strip_common_root(members)
    # A wrapping folder hides an LMS layout (an export re-zipped inside a folder), but a
    # directory holding one student's folder must keep it: strip only if that finds a format.
    if format is None and detect_format(members) == "directory":
        if detect_format(stripped) != "directory":
            members = stripped
    elif format is not None and format != "directory":
        members = stripped
    fmt = format or detect_format(members)
    if fmt not in FORMATS:
        raise SubmissionError(f"unknown submission format {fmt!r}; expected one of "
                              f"{', '.join(FORMATS)}")
    if fmt == "directory" and format is None and notes is not None:
        warning = lookalikes(members) or lookalikes(stripped)
        if warning:
            notes.append(warning)
    prefer = Path(assignment.notebook).stem if assignment is not None else None
    unassigned: list[FileRecord] = []
    sheet = None
    every = members
    if fmt == "gradescope":
        students = gradescope.read(members)
    elif fmt == "nbgrader":
        students = nbgrader_tree.read(members, getattr(assignment, "id", None))
    elif fmt == "moodle":
        found = _worksheet(members, moodle_worksheet, moodle_columns)
        sheet = found[1] if found else None
        if found and found[0]:
            unassigned.append(FileRecord(found[0], "extra", None,
                                         "Moodle grading worksheet (read, then filled in)"))
            members = [m for m in members if m.name != found[0]]
        students = moodle.read(members, sheet, groups=moodle_groups, unassigned=unassigned)
    elif fmt == "canvas":
        students = canvas.read(members, unassigned)
    else:
        students = directory.read(members)
    paths = _paths(members)
    for files in students:
        for candidate in files.candidates:
            if not candidate.path:
                candidate.path = paths.get(id(candidate.source), "")
    entries = [choose(files, prefer, bundles) for files in students]
    if sheet is not None:
        for entry in entries:
            entry.extra["moodle_worksheet"] = True
    entries.sort(key=lambda e: (e.student_id, e.extra.get("gradescope_submission", "")))
    _unique_keys(entries)
    if ledger is not None:
        ledger.extend(_account(every, entries, unassigned, fmt))
    return entries


def _paths(members: list[Member]) -> dict[int, str]:
    """Input name by the identity of each member's data, for readers that do not record it."""
    return {id(m.source): m.name for m in members if m.source is not None}


# Files the readers take for metadata rather than as submissions.
METADATA = {"gradescope": "submission_metadata.yml", "nbgrader": "timestamp.txt"}


def _account(members: list[Member], entries: list[SubmissionEntry],
             unassigned: list[FileRecord], fmt: str = "") -> list[FileRecord]:
    """Exactly one record per input file; a file no reader took is an error, except the
    format's metadata files and, in an nbgrader course tree, other folders' files."""
    records: dict[str, FileRecord] = {r.path: r for r in unassigned}
    for entry in entries:
        for record in entry.files:
            if record.path:
                records[record.path] = record
    for member in members:
        if member.name in records:
            continue
        if member.error is None and member.name.rsplit("/", 1)[-1] == METADATA.get(fmt):
            records[member.name] = FileRecord(member.name, "extra", None,
                                              f"{fmt} metadata, read for names and times")
        elif member.error is None and fmt == "nbgrader":
            records[member.name] = FileRecord(
                member.name, "extra", None, "not a submission of this assignment in the "
                "nbgrader course tree (submitted/<student>/<assignment>/)")
        else:
            records[member.name] = FileRecord(
                member.name, "error", None,
                member.error or "not part of any student's submission in this layout; "
                                "not graded")
    return [records[m.name] for m in members]


def _worksheet(members: list[Member], path: Path | None,
               columns: dict[str, str] | None = None
               ) -> tuple[str | None, moodle.Worksheet] | None:
    """The Moodle grading worksheet: the given file, else a worksheet CSV in the input
    (with the member's name, so it is accounted for)."""
    if path is not None:
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise SubmissionError(f"{path}: cannot read the Moodle grading worksheet "
                                  f"({error.__class__.__name__}: {error})") from None
        return None, moodle.read_worksheet(text, columns, source=str(path))
    for member in members:
        if moodle.is_worksheet(member, columns):
            return member.name, moodle.read_worksheet(moodle._text(member), columns,
                                                      source=member.name)
    return None


def _unique_keys(entries: list[SubmissionEntry]) -> None:
    """Make output folder names unique when two ids sanitise to the same name."""
    seen: dict[str, int] = {}
    for entry in entries:
        base = entry.key
        count = seen.get(base, 0)
        seen[base] = count + 1
        if count:
            entry.key = f"{base}-{count + 1}"


def moodle_template(input: Path, worksheet: Path | None = None,  # noqa: A002
                    limits: ArchiveLimits = ArchiveLimits(), columns: dict[str, str] | None = None
                    ) -> moodle.Worksheet | None:
    """The Moodle worksheet to fill in on output (given, or found inside ``input``)."""
    found = _worksheet([], worksheet, columns) if worksheet is not None else None
    if found is None and worksheet is None:
        members = read_input(Path(input), limits)
        found = (_worksheet(members, None, columns)
                 or _worksheet(strip_common_root(members), None, columns))
    return found[1] if found else None
