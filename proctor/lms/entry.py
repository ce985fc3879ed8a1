"""The one record every input format produces: who submitted what, when, and what went wrong.

Format readers never grade and never raise for one bad student: a student whose files
cannot be used gets an entry with ``error`` set, so the batch writes a readable error row
for them and carries on with everyone else.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

__all__ = ["Bundled", "Candidate", "FileRecord", "StudentFiles", "SubmissionEntry", "safe_id"]

KINDS = ("graded", "superseded", "extra", "error")


@dataclass
class FileRecord:
    """What became of one file of the input, so every file is accounted for.

    ``kind`` is one of ``KINDS``: the file graded for its student; a code file of the same
    student not graded because another was chosen (``reason`` names it); a non-code file
    beside a graded one (a README, Canvas's text entry); or an error (``reason`` says why:
    refused, unreadable, not named like any student's file, the student has no code).
    """

    path: str
    kind: str
    student: str | None
    reason: str = ""


@dataclass
class SubmissionEntry:
    """One student's chosen submission file (or the reason there is none).

    ``path_or_bytes`` is a Path for inputs read from a directory and bytes for files taken
    out of an archive (never written to disk before grading, so nothing is extracted
    anywhere unsafe). ``late_marker`` is set when the LMS says "late" without saying when
    (Canvas). ``extra`` holds format details the writers need (Canvas user id, Moodle
    participant id, Gradescope submission id, email). ``key`` is the directory-safe,
    unique name of the student's output folder ``DIR/<key>/``.

    ``identity`` names the student the same way in every assignment of the course on the
    platform (``student_id`` need not: Moodle's participant id is per assignment), so a
    dependent assignment's submission finds the same student's submission of the work it
    builds on; None when the input gives no such name (an anonymous Canvas submission, a
    Moodle download without a worksheet). Each format reader says what it uses.
    ``bundled`` holds a required assignment's file handed in with this submission (by that
    assignment's id), kept apart so it is never graded as this assignment's.
    """

    student_id: str
    student_name: str | None
    path_or_bytes: Path | bytes | None
    filename: str
    submitted_at: datetime | None
    format: str
    error: str | None = None
    late_marker: bool = False
    note: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    key: str = ""
    files: list[FileRecord] = field(default_factory=list)  # this student's input files
    identity: str | None = None
    bundled: dict[str, Bundled] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.key:
            self.key = safe_id(self.student_id)

    def read_bytes(self) -> bytes:
        """The submission's bytes (empty when the entry is an error row without data)."""
        if self.path_or_bytes is None:
            return b""
        if isinstance(self.path_or_bytes, bytes):
            return self.path_or_bytes
        return self.path_or_bytes.read_bytes()

    def sha256(self) -> str:
        """Content hash: with the student id it keys the journal, so a changed file regrades."""
        return hashlib.sha256(self.read_bytes()).hexdigest()


@dataclass
class Bundled:
    """A required assignment's file a student handed in together with a dependent one."""

    filename: str
    source: Path | bytes

    def read_bytes(self) -> bytes:
        return self.source if isinstance(self.source, bytes) else self.source.read_bytes()


@dataclass
class Candidate:
    """One file a student handed in, or the reason it was refused (unsafe, too big...)."""

    filename: str
    source: Path | bytes | None
    error: str | None = None
    order: tuple[Any, ...] = ()  # format-specific tie-break, e.g. Canvas attachment id
    path: str = ""  # the file's name in the input (for the file ledger); "" = not known


@dataclass
class StudentFiles:
    """Everything a format reader found for one student, before a file is chosen."""

    student_id: str
    student_name: str | None
    format: str
    candidates: list[Candidate] = field(default_factory=list)
    submitted_at: datetime | None = None
    late_marker: bool = False
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    identity: str | None = None  # see SubmissionEntry.identity


_UNSAFE = re.compile(r"[^A-Za-z0-9._@+-]+")


def safe_id(student_id: str) -> str:
    """A student id usable as one directory name: no separators, no leading dot, not empty.

    Ids are usually safe already (Canvas numbers, nbgrader usernames); this only guards
    against a crafted id such as ``../x`` escaping the output directory.
    """
    cleaned = _UNSAFE.sub("_", student_id).strip("._") or "_"
    return cleaned[:120]
