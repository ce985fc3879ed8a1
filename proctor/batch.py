"""``proctor batch``: grade a whole class in parallel, journaled and resumable.

The main process discovers submissions (``proctor.lms.discover``), hands each one's bytes
to a worker, and writes everything itself: workers only grade and return JSON-able dicts.
That keeps every file write in one place, atomic (tmp + ``os.replace``) and in a fixed
order per student: result files first, then one fsync'd journal line. So after ``kill -9``
a ``--resume`` finds, for each student, either a journal line (done: skipped), or a
complete ``result.json`` carrying the same file hash but no journal line (adopted, not
regraded), or nothing (graded now). Nobody is lost and nobody is graded twice.

Workers are local processes (``forkserver``; each keeps one sandbox fork server for all
its submissions) or, with ``scheduler="tcp://host:8786"``, tasks on an existing Dask
cluster. Dask workers need proctor and the course directory at the same path (a shared
filesystem), since the grader suites and reference are read from ``assignment``'s paths.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from proctor.errors import ProctorError
from proctor.journal import Journal
from proctor.lms import discover
from proctor.lms.archive import ArchiveLimits
from proctor.lms.detect import moodle_template
from proctor.lms.entry import FileRecord, SubmissionEntry
from proctor.lms.late import apply_late
from proctor.lms.match import OwnWork, by_identity, grading_key, own_work
from proctor.lms.outputs import (EXPORTS, RESULT, annotate, error_result, load_results,
                                 write_class_outputs, write_student)

if TYPE_CHECKING:
    from proctor.config import Assignment, Course

__all__ = ["BatchSummary", "Discovered", "discover_input", "grade_bytes", "run_batch"]

JOURNAL = "journal.jsonl"
PRELOAD = ["proctor._forkserver_lifeline", "proctor.batch", "proctor.runner", "proctor.submission",
           "nbformat", "numpy"]
SUMMARY = "summary.json"


@dataclass
class BatchSummary:
    """What a batch did; also written to ``DIR/summary.json``."""

    out: str
    format: str
    total: int = 0
    graded: int = 0
    rejected: int = 0
    failed: int = 0
    skipped: int = 0          # already done in an earlier run (journal)
    adopted: int = 0          # result.json complete but unjournaled (crash): kept, not regraded
    duration_s: float = 0.0
    workers: int = 0
    scheduler: str | None = None
    outputs: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    files: dict[str, int] = field(default_factory=dict)  # input files by kind (files.csv)
    notes: list[str] = field(default_factory=list)       # what to do with the outputs

    @property
    def per_minute(self) -> float:
        """Submissions graded per minute in this run (grading only, not skips)."""
        return 60.0 * self.graded / self.duration_s if self.duration_s > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "per_minute": round(self.per_minute, 2)}

    def report(self) -> str:
        """A few lines for the terminal: counts, speed, where the files are, problems."""
        lines = [f"{self.total} submissions ({self.format}): {self.graded} graded, "
                 f"{self.rejected} not gradable, {self.failed} failed, {self.skipped} "
                 f"already done, {self.adopted} recovered after a crash",
                 f"{self.duration_s:.1f} s, {self.per_minute:.1f} graded/min, "
                 + (f"Dask at {self.scheduler}" if self.scheduler
                    else f"{self.workers} workers")]
        if self.files:
            lines.append(f"{sum(self.files.values())} files in the input: "
                         + ", ".join(f"{n} {k}" for k, n in self.files.items())
                         + " (each one in files.csv; errors also in errors.csv)")
        lines += [f"  {name}: {path}" for name, path in self.outputs.items()]
        lines += [f"  * {note}" for note in self.notes]
        lines += [f"  ! {problem}" for problem in self.problems[:20]]
        if len(self.problems) > 20:
            lines.append(f"  ... and {len(self.problems) - 20} more in summary.json")
        return "\n".join(lines)


# ------------------------------------------------------------------------- the worker side

_local = threading.local()


def _sandbox(isolation: str | None) -> Any:
    """This worker's sandbox fork server, started once and reused for every submission."""
    box = getattr(_local, "box", None)
    if box is None:
        from multiprocessing import util

        from proctor.sandbox.client import Sandbox

        box = Sandbox(isolation)
        _local.box = box
        # multiprocessing children leave through os._exit (atexit does not run); Finalize does
        util.Finalize(box, box.close, exitpriority=10)
    return box


def grade_bytes(assignment: Assignment, filename: str, data: bytes,
                isolation: str | None = None, course: Course | None = None,
                own: Sequence[tuple[str, str | None, bytes | None, str]] = ()) -> dict[str, Any]:
    """Grade one submission given as bytes; return ``{"result": dict}`` or ``{"failed": why}``.

    Runs in a worker process (local or Dask). The bytes are written to a private temp
    directory under the original file name, since the engine reads a path. For an
    assignment that requires others (``course`` given), ``own`` holds the student's file of
    each required assignment as ``(id, filename, bytes, why)``, or ``(id, None, None, why)``
    when there is none (a correct version is then used, and the result says ``why``).
    """
    from proctor.runner import grade_submission

    try:
        with tempfile.TemporaryDirectory(prefix="proctor-sub-") as tmp:
            path = Path(tmp) / (Path(filename).name or "submission.py")
            path.write_bytes(data)
            options: dict[str, Any] = {}
            if course is not None and assignment.requires:
                from dataclasses import replace

                from proctor.dependencies import requirements

                files: dict[str, Path | None] = {}
                missing: dict[str, str] = {}
                for dep, name, content, why in own:
                    files[dep], missing[dep] = None, why
                    if name is not None and content is not None:
                        folder = Path(tmp) / "required" / dep  # apart from the submission
                        folder.mkdir(parents=True)
                        files[dep] = folder / (Path(name).name or f"{dep}.py")
                        files[dep].write_bytes(content)
                options["requirements"] = tuple(
                    replace(r, missing=missing.get(r.assignment, "")) if r.own is None else r
                    for r in requirements(course, assignment, files))
            result = grade_submission(assignment, path, isolation=isolation,
                                      sandbox=_sandbox(isolation), **options)
            return {"result": result.to_dict()}
    except Exception as error:  # noqa: BLE001 - reported per student, the batch goes on
        box = getattr(_local, "box", None)
        if box is not None:  # a broken fork server would fail every later submission too
            try:
                box.close()
            finally:
                _local.box = None
        return {"failed": f"{type(error).__name__}: {error}"}


def _check_suite(assignment: Assignment) -> None:
    """A suite that does not collect, or points naming a task it lacks, stop the batch here
    in one line, rather than failing every student's grading with the same error."""
    from proctor.runner import check_tasks, collect_tasks

    check_tasks(assignment, collect_tasks(assignment.graders))


def _worker_start(batch_pid: int) -> None:
    """Pool worker initializer: end with the batch process, even after its ``kill -9``."""
    from proctor.lifeline import exit_with

    exit_with(batch_pid)


# ------------------------------------------------------------------------- progress


class Progress:
    """A one-line progress bar with rate and ETA on stderr (plain lines when not a TTY)."""

    def __init__(self, total: int, enabled: bool = True, stream: Any = None) -> None:
        self.total, self.done, self.enabled = total, 0, enabled and total > 0
        self.stream = stream or sys.stderr
        self.start = time.monotonic()
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.last_line = -1

    def update(self, label: str = "") -> None:
        self.done += 1
        if not self.enabled:
            return
        elapsed = time.monotonic() - self.start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else 0.0
        width = 28
        filled = int(width * self.done / self.total)
        text = (f"[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
                f"{100 * self.done / self.total:3.0f}%  {rate * 60:.0f}/min  "
                f"ETA {int(eta) // 60}:{int(eta) % 60:02d}  {label[:30]}")
        if self.tty:
            self.stream.write("\r" + text.ljust(100))
            if self.done == self.total:
                self.stream.write("\n")
        else:
            tenth = 10 * self.done // self.total
            if tenth != self.last_line or self.done == self.total:
                self.last_line = tenth
                self.stream.write(text + "\n")
        self.stream.flush()


# ------------------------------------------------------------------------- the batch


@dataclass
class Discovered:
    """One input read and split into students, before anything is graded."""

    input: Path
    entries: list[SubmissionEntry]
    ledger: list[FileRecord] = field(default_factory=list)  # every input file (files.csv)
    notes: list[str] = field(default_factory=list)


def discover_input(assignment: Assignment, input: Path, *,  # noqa: A002
                   format: str | None = None,  # noqa: A002
                   limits: ArchiveLimits = ArchiveLimits(), moodle_worksheet: Path | None = None,
                   moodle_columns: str | None = None, moodle_groups: Path | None = None,
                   course: Course | None = None) -> Discovered:
    """Read ``input`` as ``assignment``'s submissions (format detected unless given). For an
    assignment that requires others, ``course`` says which files are their work handed in
    alongside. An input with no submission at all is a ProctorError."""
    from proctor.lms import moodle as moodle_lms

    ledger: list[FileRecord] = []
    notes: list[str] = []
    bundles = (course.handed_in_names(assignment)
               if course is not None and getattr(assignment, "requires", ()) else None)
    entries = discover(Path(input), assignment=assignment, format=format, limits=limits,
                       moodle_worksheet=moodle_worksheet, ledger=ledger, notes=notes,
                       moodle_columns=moodle_lms.parse_columns(moodle_columns),
                       moodle_groups=moodle_lms.read_groups(moodle_groups)
                       if moodle_groups else None, bundles=bundles)
    if not entries:
        raise ProctorError(f"{input}: no submissions found (expected a Canvas, Moodle, "
                           f"Gradescope or nbgrader export, or a directory of "
                           f"<student>.ipynb/.py files or <student>/ folders)")
    return Discovered(Path(input), entries, ledger, notes)


def run_batch(assignment: Assignment, input: Path, out: Path, *,  # noqa: A002
              workers: int | None = None, scheduler: str | None = None,
              resume: bool = False, progress: bool = True, isolation: str | None = None,
              format: str | None = None, exports: Iterable[str] = EXPORTS,  # noqa: A002
              canvas_assignment_id: str | None = None, moodle_worksheet: Path | None = None,
              late_marker_days: float | None = 1.0, limits: ArchiveLimits = ArchiveLimits(),
              hidden_visibility: str = "after_published",
              canvas_anonymous_map: Path | None = None, moodle_columns: str | None = None,
              moodle_groups: Path | None = None,
              nbgrader_course: Path | None = None, course: Course | None = None,
              required: Mapping[str, Sequence[SubmissionEntry]] | None = None,
              discovered: Discovered | None = None,
              course_page: str | None = None) -> BatchSummary:
    """Grade every submission in ``input`` into ``out``; see the module docstring.

    ``resume`` continues a batch in ``out`` (required when ``out`` already has a
    journal, so two different runs never mix by accident). ``exports`` picks the class
    files (canvas, moodle, nbgrader, gradescope, dashboard, feedback). ``nbgrader_course``
    writes nbgrader's grades into that course's own gradebook instead of ``out``'s.

    For an assignment that requires others (course.toml ``requires``), each submission is
    graded on the student's own work of them (:mod:`proctor.lms.match`): handed in with it,
    or the same student's entry in ``required`` (each required assignment's entries, by its
    id: graded earlier in this run, or read from an export given for the purpose). ``course``
    defaults to the one ``assignment`` comes from. ``discovered``: ``input`` already read.
    ``course_page``: the course overview (a batch of several assignments) the dashboard
    links back to, relative to ``out``.
    """
    started = time.monotonic()
    input, out = Path(input), Path(out)
    journal_path = out / JOURNAL
    if journal_path.exists() and not resume:
        raise ProctorError(f"{out} already holds a batch ({JOURNAL}); pass --resume to "
                           f"continue it, or choose an empty output directory")
    from proctor.lms import canvas as canvas_lms, moodle as moodle_lms
    from proctor.lms.outputs import count_files

    needs = tuple(getattr(assignment, "requires", ()))  # ids of the assignments it builds on
    if needs and course is None:
        from proctor.config import load_course

        course = load_course(assignment.course_root)
    columns = moodle_lms.parse_columns(moodle_columns)
    anon_map = (canvas_lms.read_anonymous_map(canvas_anonymous_map)
                if canvas_anonymous_map else None)  # read before grading: a bad file stops now
    if discovered is None:
        discovered = discover_input(assignment, input, format=format, limits=limits,
                                    moodle_worksheet=moodle_worksheet,
                                    moodle_columns=moodle_columns, moodle_groups=moodle_groups,
                                    course=course)
    entries, ledger, notes = discovered.entries, discovered.ledger, list(discovered.notes)
    _check_suite(assignment)
    out.mkdir(parents=True, exist_ok=True)
    journal = Journal(journal_path)
    exports = tuple(exports)
    summary = BatchSummary(out=str(out), format=entries[0].format if entries else "none",
                           total=len(entries), scheduler=scheduler,
                           workers=0 if scheduler else (workers or os.cpu_count() or 1),
                           files=count_files(ledger), notes=notes)
    if journal.damaged_lines:
        summary.problems.append(f"{JOURNAL}: ignored {journal.damaged_lines} line(s) cut "
                                f"short by a crash")
    found = {dep: by_identity(required[dep]) for dep in needs
             if required is not None and dep in required}
    work: dict[str, list[OwnWork]] = {}
    if needs:
        for entry in entries:
            work[entry.key] = own_work(entry, needs, found)
        summary.notes.extend(_requires_notes(assignment, entries, work, found))

    def finish(entry: SubmissionEntry, sha: str, result: dict[str, Any], status: str) -> None:
        row = apply_late(annotate(result, entry, entry_sha(entry)), assignment, entry.submitted_at,
                         late_marker=entry.late_marker, marker_days=late_marker_days)
        if entry.key in work:
            _record_own_work(row, work[entry.key], sha)
        summary.problems.extend(write_student(out, row, exports=exports,
                                              hidden_visibility=hidden_visibility,
                                              templates=getattr(assignment, "templates", None)))
        journal.append({"student_id": entry.student_id, "sha256": sha, "key": entry.key,
                        "status": status, "score": row.get("score"),
                        "result": f"{entry.key}/{RESULT}"})
        setattr(summary, status, getattr(summary, status) + 1)

    todo: list[tuple[SubmissionEntry, str]] = []
    for entry in entries:
        sha = grading_key(entry_sha(entry), work.get(entry.key, ()))
        if _already_done(out, journal, entry, sha):
            summary.skipped += 1
        elif _adopt(out, journal, entry, sha):
            summary.adopted += 1
        elif entry.error is not None:
            finish(entry, sha, error_result(assignment, entry, entry.error), "rejected")
        else:
            todo.append((entry, sha))

    bar = Progress(len(todo), enabled=progress)
    grade = _dask_map if scheduler else _local_map
    own = {key: [(w.assignment, w.filename, w.data, w.why) for w in found_work]
           for key, found_work in work.items()}
    for (entry, sha), outcome in grade(assignment, todo, workers=summary.workers,
                                       scheduler=scheduler, isolation=isolation,
                                       course=course if needs else None, own=own):
        if "result" in outcome:
            finish(entry, sha, outcome["result"], "graded")
        else:
            message = f"grading failed (retried on --resume): {outcome['failed']}"
            finish(entry, sha, error_result(assignment, entry, message), "failed")
            summary.problems.append(f"{entry.student_id}: {message}")
        bar.update(entry.student_id)

    results = load_results(out, sorted({e.key for e in entries}))
    template = None
    if "moodle" in exports and summary.format == "moodle":
        template = moodle_template(input, moodle_worksheet, limits, columns)
    written = write_class_outputs(
        out, assignment, results, exports=exports, canvas_assignment_id=canvas_assignment_id,
        moodle_template=template, ledger=ledger, notes=summary.notes,
        canvas_anonymous_map=anon_map, nbgrader_course=nbgrader_course,
        sources={e.key: e for e in entries}, problems=summary.problems,
        course_page=course_page)
    summary.outputs = {name: str(path) for name, path in written.items()}
    summary.duration_s = round(time.monotonic() - started, 3)
    from proctor.atomic import write_json

    write_json(out / SUMMARY, summary.to_dict())
    return summary


def entry_sha(entry: SubmissionEntry) -> str:
    """The submission's content hash (a rejected entry's: see ``_error_sha``)."""
    return entry.sha256() if entry.error is None else _error_sha(entry)


def _record_own_work(row: dict[str, Any], work: list[OwnWork], key: str) -> None:
    """Keep, with the result, where each required file came from (or why there was none:
    the result's ``dependencies`` say so to the student too)."""
    row["student"]["requires"] = {w.assignment: w.record() for w in work}
    row["student"]["grading_key"] = key


def _requires_notes(assignment: Assignment, entries: list[SubmissionEntry],
                    work: dict[str, list[OwnWork]],
                    found: Mapping[str, Mapping[str, SubmissionEntry]]) -> list[str]:
    """For the instructor: where each required assignment's work came from, in numbers."""
    notes = []
    gradable = [e for e in entries if e.error is None]
    for index, dep in enumerate(assignment.requires):
        picked = [work[e.key][index] for e in gradable]
        bundled = sum(w.source == "bundled" for w in picked)
        matched = sum(w.source == "batch" for w in picked)
        text = (f"{assignment.id} requires {dep}: of {len(gradable)} gradable submissions, "
                f"{matched} graded on the student's {dep} submission, {bundled} on the {dep} "
                f"file handed in with them, {len(picked) - matched - bundled} on a correct "
                f"{dep} (none of theirs found or usable)")
        if dep not in found:
            text += (f"; no {dep} submissions were given to this run: pass {dep}=INPUT too, "
                     f"or --with {dep}=INPUT")
        notes.append(text)
    return notes


def _error_sha(entry: SubmissionEntry) -> str:
    """Rejected entries are keyed by their bytes when there are any, else by the reason."""
    import hashlib

    data = entry.read_bytes() if entry.path_or_bytes is not None else b""
    return hashlib.sha256(data or ("error:" + (entry.error or "")).encode()).hexdigest()


def _already_done(out: Path, journal: Journal, entry: SubmissionEntry, sha: str) -> bool:
    """Journaled as done and its result.json still there (re-verified on every resume)."""
    return journal.done(entry.student_id, sha) is not None and (
        out / entry.key / RESULT).is_file()


def _adopt(out: Path, journal: Journal, entry: SubmissionEntry, sha: str) -> bool:
    """Journal a result.json that was fully written just before a crash, without regrading."""
    if journal.done(entry.student_id, sha) is not None:
        return False  # journaled but its result.json vanished: grade again
    path = out / entry.key / RESULT
    try:
        result = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    student = result.get("student") or {}
    key = student.get("grading_key") or result.get("submission_sha256")
    if student.get("id") != entry.student_id or key != sha:
        return False
    status = "rejected" if result.get("error") and entry.error else "graded"
    if result.get("error") and not entry.error:
        return False  # a failed grading is retried, not adopted
    journal.append({"student_id": entry.student_id, "sha256": sha, "key": entry.key,
                    "status": status, "score": result.get("score"),
                    "result": f"{entry.key}/{RESULT}", "adopted": True})
    return True


Work = list[tuple[SubmissionEntry, str]]
Outcome = Iterator[tuple[tuple[SubmissionEntry, str], dict[str, Any]]]


def _local_map(assignment: Assignment, todo: Work, *, workers: int, isolation: str | None,
               course: Course | None = None, own: Mapping[str, Any] | None = None,
               **_: Any) -> Outcome:
    """Grade on local worker processes, at most 2 per worker in flight at once.

    A bounded queue keeps memory flat and loses little work to a crash. If the pool breaks
    (a worker killed by the OOM killer), it is restarted and the in-flight submissions are
    retried once; after that they are reported as failed.
    """
    if not todo:
        return
    context = multiprocessing.get_context("forkserver")
    # Workers fork from the server with the engine already imported: pytest, numpy and
    # nbformat (whose jsonschema import alone can take seconds) load once, not per worker.
    context.set_forkserver_preload(PRELOAD)
    pending = list(reversed(todo))
    attempts: dict[str, int] = {}
    restarts = 0
    while pending:
        pool = cf.ProcessPoolExecutor(max_workers=max(1, min(workers, len(pending))),
                                      mp_context=context, initializer=_worker_start,
                                      initargs=(os.getpid(),))
        running: dict[cf.Future, tuple[SubmissionEntry, str]] = {}
        broken = False
        try:
            while pending or running:
                while pending and len(running) < 2 * workers and not broken:
                    item = pending.pop()
                    entry, _sha = item
                    try:
                        future = pool.submit(grade_bytes, assignment, entry.filename,
                                             entry.read_bytes(), isolation, course,
                                             (own or {}).get(entry.key, ()))
                    except cf.process.BrokenProcessPool:
                        pending.append(item)
                        broken = True
                        break
                    running[future] = item
                if not running:
                    break
                done, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
                for future in done:
                    item = running.pop(future)
                    try:
                        yield item, future.result()
                    except cf.process.BrokenProcessPool:
                        broken = True
                        key = item[0].key
                        attempts[key] = attempts.get(key, 0) + 1
                        if attempts[key] >= 2 or restarts >= 3:
                            yield item, {"failed": "the worker process died while grading"}
                        else:
                            pending.append(item)
                if broken and not running:
                    break
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        if not broken:
            break
        restarts += 1


def _dask_map(assignment: Assignment, todo: Work, *, scheduler: str, isolation: str | None,
              course: Course | None = None, own: Mapping[str, Any] | None = None,
              **_: Any) -> Outcome:
    """Grade on an existing Dask cluster: one task per submission, results as dicts."""
    if not todo:
        return
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise ProctorError("--scheduler needs Dask: pip install 'dask[distributed]'") from None
    try:
        client = Client(scheduler, timeout="10s")
    except (OSError, TimeoutError) as error:
        raise ProctorError(f"cannot reach the Dask scheduler at {scheduler}: {error}") from None
    try:
        try:
            client.wait_for_workers(1, timeout="10s")
        except TimeoutError:
            raise ProctorError(f"the Dask scheduler at {scheduler} has no workers; start some "
                               f"(`dask worker {scheduler}`) and run again") from None
        workers = max(1, sum(w.get("nthreads", 1) for w in
                             client.scheduler_info().get("workers", {}).values()))
        pending = list(reversed(todo))
        items: dict[str, tuple[SubmissionEntry, str]] = {}
        remote = client.scatter(assignment, broadcast=True)
        remote_course = client.scatter(course, broadcast=True) if course is not None else None
        queue = as_completed()

        def submit() -> None:
            entry, sha = item = pending.pop()
            future = client.submit(grade_bytes, remote, entry.filename, entry.read_bytes(),
                                   isolation, remote_course, (own or {}).get(entry.key, ()),
                                   key=f"proctor-grade-{entry.key}-{sha[:16]}",
                                   pure=False, retries=1)
            items[future.key] = item
            queue.add(future)

        for _ in range(min(len(pending), 2 * workers)):
            submit()
        for future in queue:
            item = items.pop(future.key)
            try:
                outcome = future.result()
            except Exception as error:  # noqa: BLE001 - a lost worker, a cancelled task
                outcome = {"failed": f"Dask task failed: {type(error).__name__}: {error}"}
            future.release()
            yield item, outcome
            if pending:
                submit()
    finally:
        client.close()
