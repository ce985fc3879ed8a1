"""Gradescope: the "Export Submissions" archive in, autograder ``results.json`` out.

The export holds ``submission_metadata.yml`` (keys ``submission_<id>``, each with
``:submitters:`` — ``:name:``, ``:sid:``, ``:email:`` — and ``:created_at:``) and one
``submission_<id>/`` folder of files per submission. A group submission gives one entry
per submitter, sharing the same files, so every member gets a gradebook row. A submitter's
``identity`` across the course's assignments is ``email:<address>`` (lower case; the
account's, the same in every assignment), else ``sid:<student id>`` from the roster.

``results_json`` turns a proctor result into Gradescope's autograder format: top-level
``score``, ``execution_time``, ``output``, ``visibility``, ``stdout_visibility`` and
``tests`` with ``name``, ``score``, ``max_score``, ``status`` (passed/failed),
``output`` and ``visibility``, as specified at
https://gradescope-autograders.readthedocs.io/en/latest/specs/.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from proctor.errors import SubmissionError
from proctor.feedback.built_on import built_on_lines
from proctor.result import load_notes
from proctor.lms.archive import Member
from proctor.lms.entry import Candidate, StudentFiles

FORMAT = "gradescope"
METADATA = "submission_metadata.yml"

# Gradescope test visibilities: visible, hidden, after_due_date, after_published
# (https://gradescope-autograders.readthedocs.io/en/latest/specs/).
VISIBILITY = {"public": "visible", "hidden": "after_published"}


def looks_like(members: list[Member]) -> bool:
    return any(m.name.split("/")[-1] == METADATA for m in members)


def _load_metadata(member: Member) -> dict[str, Any]:
    import yaml  # PyYAML: installed with nbgrader (jupyter-events) and dask

    data = member.source if isinstance(member.source, bytes) else member.source.read_bytes()
    try:
        loaded = yaml.safe_load(data.decode("utf-8", "replace"))
    except yaml.YAMLError as error:
        raise SubmissionError(f"{member.name}: not valid YAML ({error})") from None
    if not isinstance(loaded, dict):
        raise SubmissionError(f"{member.name}: expected a mapping of submissions")
    return loaded


def _key(record: dict[str, Any], name: str) -> Any:
    """Ruby-style ``:name:`` keys load as ':name'; accept plain ``name`` too."""
    return record.get(f":{name}", record.get(name))


def _time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, str) and value.strip():
        from dateutil import parser as dateparser

        try:
            stamp = dateparser.parse(value)
        except (ValueError, OverflowError):
            return None
        return stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)
    return None


def read(members: list[Member]) -> list[StudentFiles]:
    """One StudentFiles per submitter of every submission listed in the metadata."""
    meta_member = next(m for m in members if m.name.split("/")[-1] == METADATA)
    if meta_member.error or meta_member.source is None:
        raise SubmissionError(f"{meta_member.name}: {meta_member.error}")
    prefix = meta_member.name[: -len(METADATA)]
    metadata = _load_metadata(meta_member)
    folders: dict[str, list[Member]] = {}
    for member in members:
        if member is meta_member or not member.name.startswith(prefix):
            continue
        rest = member.name[len(prefix):]
        if "/" in rest:
            folder, _, filename = rest.partition("/")
            folders.setdefault(folder, []).append(Member(filename, member.source, member.error))
    out: list[StudentFiles] = []
    for folder, record in sorted(metadata.items(), key=lambda kv: str(kv[0])):
        if not isinstance(record, dict):
            continue
        submitters = _key(record, "submitters") or []
        created = _time(_key(record, "created_at"))
        files = folders.get(str(folder))
        for person in submitters or [{}]:
            person = person if isinstance(person, dict) else {}
            sid = str(_key(person, "sid") or _key(person, "email") or folder)
            email = str(_key(person, "email") or "").strip().lower()
            roster = str(_key(person, "sid") or "").strip()
            entry = StudentFiles(
                sid, _key(person, "name"), FORMAT, submitted_at=created,
                extra={"gradescope_submission": str(folder),
                       "email": _key(person, "email") or ""},
                identity=f"email:{email}" if email else f"sid:{roster}" if roster else None)
            if files is None:
                entry.error = f"{folder}: listed in {METADATA} but has no files in the export"
            else:
                entry.candidates = [Candidate(m.name, m.source, m.error) for m in files]
            out.append(entry)
    return out


def _test_output(test: dict[str, Any]) -> str:
    lines = [str(test[key]) for key in ("message", "hint") if test.get(key)]
    if test.get("counterexample"):
        lines.append(f"Counterexample: {test['counterexample']}")
    return "\n".join(lines)


def _visibility(test: dict[str, Any], hidden_visibility: str) -> str:
    """A test's Gradescope visibility. The spec reserves ``hidden`` for tests that carry no
    points ("they should only be used for tests which don't contribute points to the
    total"), so a test with points that would be ``hidden`` is ``after_published``."""
    wanted = VISIBILITY["public"] if test.get("visibility") == "public" else hidden_visibility
    if wanted == "hidden" and float(test.get("max_score", 0.0)) > 0:
        return "after_published"
    return wanted


def _load_lines(load: dict[str, Any] | None) -> list[str]:
    """What went wrong while loading the submission, one line each (read through the one
    load-note schema, :func:`proctor.result.load_notes`)."""
    problem = (load or {}).get("problem")
    lines = [f"Your file could not be loaded: {problem}"] if problem else []
    return lines + [f"While loading your code, {n.text()}" for n in load_notes(load) if n.is_error]


def results_json(result: dict[str, Any], *, hidden_visibility: str = "after_published",
                 ) -> dict[str, Any]:
    """Gradescope's results.json for one proctor result (after any late penalty).

    Hidden tests are shown ``after_published`` by default: their messages never contain
    inputs, but students should not see them while the assignment is open. While any test
    with points is not ``visible``, the spec keeps the student's total hidden ("If test
    cases are hidden, students will not be able to see their total score"), so the
    top-level ``output`` (always visible) gives only the visible tests' score.
    """
    tests = []
    for test in result.get("tests", []):
        tests.append({
            "name": test.get("name") or test.get("id", ""),
            "score": float(test.get("score", 0.0)),
            "max_score": float(test.get("max_score", 0.0)),
            "status": "passed" if test.get("status") == "passed" else "failed",
            "output": _test_output(test),
            "visibility": _visibility(test, hidden_visibility),
        })
    withheld = [t for t in tests if t["visibility"] != "visible" and t["max_score"] > 0]
    late = result.get("late") or {}
    if withheld:
        shown = [t for t in tests if t["visibility"] == "visible"]
        summary = [f"Visible tests: {sum(t['score'] for t in shown):.2f} / "
                   f"{sum(t['max_score'] for t in shown):.2f}. Your total is shown when "
                   "grades are published."]
    else:
        summary = [f"Score: {float(result.get('score', 0.0)):.2f} / "
                   f"{float(result.get('max_score', 0.0)):.2f}"]
    if result.get("error"):
        summary.append(f"Not graded: {result['error']}")
    if late.get("penalty_fraction"):
        before = "" if withheld else f" (score before penalty {float(late.get('raw_score', 0)):.2f})"
        summary.append(f"Late penalty {late['penalty_fraction'] * 100:.0f}% applied{before}.")
    summary += _load_lines(result.get("load"))
    summary += built_on_lines(result)  # which of the student's files a dependent grade used
    note = (result.get("student") or {}).get("note")
    if note:
        summary.append(note)
    return {
        "score": float(result.get("score", 0.0)),
        "execution_time": float(result.get("duration_s", 0.0)),
        "output": "\n".join(summary),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def write_results(result: dict[str, Any], path: Path, **kwargs: Any) -> Path:
    from proctor.atomic import write_json

    return write_json(path, results_json(result, **kwargs))
