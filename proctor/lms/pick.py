"""Choose the one file to grade for each student, deterministically, and say why.

Students hand in extra files (a copy, a .py export next to the notebook, a Canvas
resubmission ``attention-1.ipynb``). The rule, in order: a usable file named like the
assignment's notebook beats one that is not; ``.ipynb`` beats ``.py``; a later upload
(format tie-break, e.g. Canvas attachment id) beats an earlier one; then by name. When the
favourite is corrupt the next candidate is tried, and the note records all of it.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from proctor.lms.content import SUFFIXES, check_content
from proctor.lms.entry import Candidate, StudentFiles, SubmissionEntry

__all__ = ["choose"]

_RESUBMISSION = re.compile(r"-\d+$")  # Canvas renames a re-upload attention.ipynb -> attention-1


def _stem(filename: str) -> str:
    return _RESUBMISSION.sub("", PurePosixPath(filename).stem).lower()


def _rank(candidate: Candidate, prefer: str | None) -> tuple:
    name = PurePosixPath(candidate.filename).name
    named = prefer is not None and _stem(name) == prefer.lower()
    notebook = name.lower().endswith(".ipynb")
    # sort ascending: preferred name first, notebooks first, newest upload first, then name
    order = tuple(-x if isinstance(x, (int, float)) else x for x in candidate.order)
    return (not named, not notebook, order, name)


def _data(candidate: Candidate) -> bytes:
    source = candidate.source
    if isinstance(source, bytes):
        return source
    if isinstance(source, Path):
        return source.read_bytes()
    return b""


def expand_zips(candidates: list[Candidate]) -> list[Candidate]:
    """Open a student's own .zip upload one level deep, with the same safety checks.

    Students often zip their notebook before uploading; its members become candidates
    named ``upload.zip/attention.ipynb``. Zips inside zips are not opened.
    """
    from proctor.errors import SubmissionError
    from proctor.lms.archive import read_zip

    out: list[Candidate] = []
    for candidate in candidates:
        if not candidate.filename.lower().endswith(".zip") or candidate.error:
            out.append(candidate)
            continue
        try:
            members = read_zip(_data(candidate))
        except (SubmissionError, OSError) as error:
            out.append(Candidate(candidate.filename, None, f"{candidate.filename}: {error}"))
            continue
        for member in members:
            out.append(Candidate(f"{candidate.filename}/{member.name}", member.source,
                                 member.error, candidate.order))
    return out


def choose(files: StudentFiles, prefer: str | None = None) -> SubmissionEntry:
    """The entry for one student: the best usable candidate, or an error naming every problem."""
    files.candidates = expand_zips(files.candidates)
    base = dict(student_id=files.student_id, student_name=files.student_name,
                submitted_at=files.submitted_at, format=files.format,
                late_marker=files.late_marker, extra=dict(files.extra))
    if files.error:
        return SubmissionEntry(path_or_bytes=None, filename="", error=files.error, **base)
    code = [c for c in files.candidates
            if PurePosixPath(c.filename).suffix.lower() in SUFFIXES]
    if not code:
        seen = [c.filename + (f" ({c.error})" if c.error else "") for c in files.candidates]
        what = "; ".join(seen) if seen else "no files at all"
        return SubmissionEntry(path_or_bytes=None, filename="", **base,
                               error=f"no .ipynb or .py file in the submission ({what})")
    ranked = sorted(code, key=lambda c: _rank(c, prefer))
    problems: list[str] = []
    for candidate in ranked:
        error = candidate.error
        data = b""
        if error is None:
            try:
                data = _data(candidate)
            except OSError as exc:
                error = f"{candidate.filename}: could not be read ({exc})"
        if error is None:
            error = check_content(PurePosixPath(candidate.filename).name, data)
        if error is not None:
            problems.append(error)
            continue
        note = None
        if len(ranked) > 1:
            others = [c.filename for c in ranked if c is not candidate]
            note = (f"{len(ranked)} candidate files; graded {candidate.filename} "
                    f"(preferred: named {prefer!r}, then .ipynb, then newest, then by "
                    f"name); not graded: {', '.join(others)}")
            if problems:
                note += f"; skipped because unusable: {'; '.join(problems)}"
        source = candidate.source if isinstance(candidate.source, Path) else data
        return SubmissionEntry(path_or_bytes=source,
                               filename=PurePosixPath(candidate.filename).name,
                               note=note, **base)
    return SubmissionEntry(path_or_bytes=None, filename=ranked[0].filename, **base,
                           error="; ".join(problems))
