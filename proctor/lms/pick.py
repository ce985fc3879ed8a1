"""Choose the one file to grade for each student, deterministically, and say why.

Students hand in extra files (a copy, a .py export next to the notebook, a Canvas
resubmission ``hw1-1.ipynb``). The rule, in order: a usable file named like the
assignment's notebook beats one that is not; ``.ipynb`` beats ``.py``; a later upload
(format tie-break, e.g. Canvas attachment id) beats an earlier one; then by name. When the
favourite is corrupt the next candidate is tried, and the note records all of it. The
entry's ``files`` then say what became of each of the student's input files (graded,
superseded by the graded one, an extra beside it, or an error), so none goes unmentioned.

For an assignment that builds on others (course.toml ``requires``), a code file named like
a required assignment (its notebook's stem or the module it provides: ``bundles``) is that
assignment's work handed in alongside, as a platform that shows the grader one submission
asks (Gradescope): it is never graded as this assignment's, and the best usable one per
required assignment is kept in ``entry.bundled``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import replace
from pathlib import Path, PurePosixPath

from proctor.lms.content import SUFFIXES, check_content
from proctor.lms.entry import (KINDS, Bundled, Candidate, FileRecord, StudentFiles,
                               SubmissionEntry)

__all__ = ["choose"]

# Canvas's Attachment.make_unique_filename renames a clash hw1.ipynb -> hw1-1
# (after 8 tries, hw1-<uuid>); strip that to compare the stem with the assignment's.
_RESUBMISSION = re.compile(r"-(\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$")


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
    named ``upload.zip/hw1.ipynb``. Zips inside zips are not opened.
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
            out.append(Candidate(candidate.filename, None, f"{candidate.filename}: {error}",
                                 path=candidate.path))
            continue
        if not members:
            out.append(Candidate(candidate.filename, None, f"{candidate.filename}: empty zip",
                                 path=candidate.path))
        for member in members:
            out.append(Candidate(f"{candidate.filename}/{member.name}", member.source,
                                 member.error, candidate.order, path=candidate.path))
    return out


def choose(files: StudentFiles, prefer: str | None = None,
           bundles: Mapping[str, Collection[str]] | None = None) -> SubmissionEntry:
    """The entry for one student: the best usable candidate, or an error naming every
    problem; ``entry.files`` says what became of each of the student's input files.
    ``bundles`` maps each required assignment's id to the file stems that mean its work
    (see the module docstring)."""
    files.candidates = expand_zips(files.candidates)
    own, rest = _split_bundled(files.candidates, bundles or {}, prefer)
    entry, graded, unusable = _choose(replace(files, candidates=rest), prefer)
    if entry.error and own and not [c for c in rest if _is_code(c)]:
        names = ", ".join(c.filename for found in own.values() for c in found)
        entry.error = (f"only the work of another assignment ({names}); no file of this one "
                       f"(named like {prefer!r}) was handed in")
    entry.files = ledger(rest, graded, unusable, entry)
    for dep, found in own.items():
        kept, records = _bundled(dep, found, entry.student_id)
        if kept is not None:
            entry.bundled[dep] = kept
        entry.files.extend(records)
    return entry


def _usable(candidate: Candidate) -> tuple[bytes, str | None]:
    """A candidate's bytes, or why it cannot be graded (refused, unreadable, not code)."""
    if candidate.error is not None:
        return b"", candidate.error
    try:
        data = _data(candidate)
    except OSError as exc:
        return b"", f"{candidate.filename}: could not be read ({exc})"
    return data, check_content(PurePosixPath(candidate.filename).name, data)


def _is_code(candidate: Candidate) -> bool:
    return PurePosixPath(candidate.filename).suffix.lower() in SUFFIXES


def _split_bundled(candidates: list[Candidate], bundles: Mapping[str, Collection[str]],
                   prefer: str | None) -> tuple[dict[str, list[Candidate]], list[Candidate]]:
    """Code files named like a required assignment's (by id), and everything else."""
    stems = {stem.lower(): dep for dep, names in bundles.items() for stem in names
             if prefer is None or stem.lower() != prefer.lower()}
    own: dict[str, list[Candidate]] = {}
    rest = []
    for candidate in candidates:
        dep = stems.get(_stem(PurePosixPath(candidate.filename).name))
        if dep is not None and _is_code(candidate):
            own.setdefault(dep, []).append(candidate)
        else:
            rest.append(candidate)
    return own, rest


def _bundled(dep: str, found: list[Candidate], who: str
             ) -> tuple[Bundled | None, list[FileRecord]]:
    """The best usable file of a required assignment handed in with this submission."""
    kept: Bundled | None = None
    records = []
    for candidate in sorted(found, key=lambda c: _rank(c, None)):
        data, error = _usable(candidate)
        if error is not None:
            records.append(FileRecord(candidate.path, "error", who,
                                      f"{dep}'s work handed in with this submission, unusable: "
                                      f"{error}"))
        elif kept is None:
            source = candidate.source if isinstance(candidate.source, Path) else data
            kept = Bundled(PurePosixPath(candidate.filename).name, source)
            records.append(FileRecord(candidate.path, "extra", who,
                                      f"{dep}'s work handed in with this submission: the "
                                      f"{dep} this submission is graded on"))
        else:
            records.append(FileRecord(candidate.path, "superseded", who,
                                      f"{dep}'s work handed in with this submission; "
                                      f"{kept.filename} was used (.ipynb, then newest, then by "
                                      f"name)"))
    return kept, records


def _choose(files: StudentFiles, prefer: str | None
            ) -> tuple[SubmissionEntry, Candidate | None, dict[int, str]]:
    base = dict(student_id=files.student_id, student_name=files.student_name,
                submitted_at=files.submitted_at, format=files.format,
                late_marker=files.late_marker, extra=dict(files.extra), identity=files.identity)
    if files.error:
        return (SubmissionEntry(path_or_bytes=None, filename="", error=files.error, **base),
                None, {})
    code = [c for c in files.candidates
            if PurePosixPath(c.filename).suffix.lower() in SUFFIXES]
    if not code:
        seen = [c.filename + (f" ({c.error})" if c.error else "") for c in files.candidates]
        what = "; ".join(seen) if seen else "no files at all"
        return (SubmissionEntry(path_or_bytes=None, filename="", **base,
                                error=f"no .ipynb or .py file in the submission ({what})"),
                None, {})
    ranked = sorted(code, key=lambda c: _rank(c, prefer))
    problems: list[str] = []
    unusable: dict[int, str] = {}
    for candidate in ranked:
        data, error = _usable(candidate)
        if error is not None:
            problems.append(error)
            unusable[id(candidate)] = error
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
        return (SubmissionEntry(path_or_bytes=source,
                                filename=PurePosixPath(candidate.filename).name,
                                note=note, **base), candidate, unusable)
    return (SubmissionEntry(path_or_bytes=None, filename=ranked[0].filename, **base,
                            error="; ".join(problems)), None, unusable)


def ledger(candidates: list[Candidate], graded: Candidate | None, unusable: dict[int, str],
           entry: SubmissionEntry) -> list[FileRecord]:
    """One record per input file of this student (a zip upload is one file, whatever it
    held): graded, superseded by the graded file, extra beside it, or an error."""
    by_path: dict[str, FileRecord] = {}
    who = entry.student_id
    for candidate in candidates:
        if graded is not None and candidate is graded:
            inside = ".zip/" in candidate.filename.lower()  # a student's own zip upload
            record = FileRecord(candidate.path, "graded", who,
                                f"graded {candidate.filename}" if inside else "")
        elif id(candidate) in unusable:
            kind = "superseded" if graded is not None else "error"
            instead = f"; graded {graded.filename} instead" if graded is not None else ""
            record = FileRecord(candidate.path, kind, who,
                                f"unusable: {unusable[id(candidate)]}{instead}")
        elif candidate.error:
            record = FileRecord(candidate.path, "error", who, candidate.error)
        elif graded is None:
            record = FileRecord(candidate.path, "error", who,
                                entry.error or "not graded")
        elif PurePosixPath(candidate.filename).suffix.lower() in SUFFIXES:
            record = FileRecord(candidate.path, "superseded", who,
                                f"{candidate.filename} not graded: {graded.filename} was "
                                f"chosen (named like the assignment, then .ipynb, then "
                                f"newest upload, then by name)")
        else:
            record = FileRecord(candidate.path, "extra", who,
                                f"{candidate.filename}: not code; beside the graded "
                                f"{graded.filename}")
        old = by_path.get(record.path)
        if old is None or KINDS.index(record.kind) < KINDS.index(old.kind):
            by_path[record.path] = record
    return list(by_path.values())
