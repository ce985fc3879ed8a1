"""``discover``: recognise the input's format and list one entry per student.

Detection looks only at names, most specific first: a Gradescope export has
``submission_metadata.yml``; nbgrader has ``submitted/<student>/<assignment>/``; Moodle has
``_assignsubmission_`` folders; Canvas has ``name_[late_]uid_attachment_file`` names.
Anything else is a plain directory of ``<student>.ipynb`` files or ``<student>/`` folders.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from proctor.errors import SubmissionError
from proctor.lms import canvas, directory, gradescope, moodle, nbgrader_tree
from proctor.lms.archive import Limits, Member, read_input
from proctor.lms.entry import SubmissionEntry
from proctor.lms.pick import choose
from proctor.lms.tree import strip_common_root

__all__ = ["FORMATS", "detect_format", "discover"]

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


def discover(input: Path, *, assignment: Any = None, format: str | None = None,  # noqa: A002
             limits: Limits = Limits(), moodle_worksheet: Path | None = None,
             ) -> list[SubmissionEntry]:
    """Every student's submission in ``input`` (a directory or a zip), sorted by student id.

    ``assignment`` (a ``proctor.config.Assignment``) names the preferred file (its
    notebook's stem) and, for nbgrader trees, which assignment to take. ``format`` skips
    detection. Per-student problems become entries with ``error`` set; only an input that
    cannot be read at all raises ``SubmissionError``.
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
    prefer = Path(assignment.notebook).stem if assignment is not None else None
    if fmt == "gradescope":
        students = gradescope.read(members)
    elif fmt == "nbgrader":
        students = nbgrader_tree.read(members, getattr(assignment, "id", None))
    elif fmt == "moodle":
        sheet = _worksheet(members, moodle_worksheet)
        students = moodle.read(members, sheet[1] if sheet else None)
    elif fmt == "canvas":
        students = canvas.read(members)
    else:
        students = directory.read(members)
    entries = [choose(files, prefer) for files in students]
    if fmt == "moodle" and sheet:
        for entry in entries:
            entry.extra["moodle_worksheet"] = True
    entries.sort(key=lambda e: (e.student_id, e.extra.get("gradescope_submission", "")))
    _unique_keys(entries)
    return entries


def _worksheet(members: list[Member], path: Path | None
               ) -> tuple[list[str], dict[str, dict[str, str]]] | None:
    """The Moodle grading worksheet: the given file, else a worksheet CSV in the input."""
    if path is not None:
        return moodle.read_worksheet(Path(path).read_text(encoding="utf-8-sig"))
    for member in members:
        if moodle.is_worksheet(member):
            return moodle.read_worksheet(moodle._text(member))
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
                    limits: Limits = Limits()
                    ) -> tuple[list[str], dict[str, dict[str, str]]] | None:
    """The Moodle worksheet to fill in on output (given, or found inside ``input``)."""
    if worksheet is not None:
        return _worksheet([], worksheet)
    members = read_input(Path(input), limits)
    return _worksheet(members, None) or _worksheet(strip_common_root(members), None)
