"""Grade many submissions against one suite: in parallel, except tests that time code.

The suite is split by file into a *parallel* copy (no test of a serial task, e.g.
efficiency) and a *serial* copy (only the files holding serial tasks' tests, plus every
helper). The parallel copy grades every job on a pool of worker processes, one sandbox
each; then the serial copy grades the jobs that need it one at a time, with nothing else
running, so timings do not share a core. Each job's two halves are merged test by test
and scored with the whole suite's weights, exactly as one grading would score them.
"""

from __future__ import annotations

import contextlib

import dataclasses
import multiprocessing
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from multiprocessing.util import Finalize
from pathlib import Path
from typing import TYPE_CHECKING, Any

from proctor import runner
from proctor.audit.variants import VariantLog, recording
from proctor.errors import ProctorError
from proctor.sandbox.client import Sandbox
from proctor.scoring import spread_points, task_totals

if TYPE_CHECKING:
    from proctor.config import Assignment


@dataclass
class Job:
    """One submission to grade; ``serial`` False skips the serial half (nothing there can
    change what the audit concludes from it)."""

    label: str
    group: str  # reference, stub, solution, alternative, mutant, probe, degenerate
    path: Path
    serial: bool = True
    record_variants: bool = False
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class Graded:
    """A job's merged verdicts: per test id, status, hint, message, score and max score."""

    job: Job
    tests: dict[str, dict[str, Any]]
    tasks: dict[str, dict[str, float]]
    duration_s: float
    problem: str | None = None

    @property
    def score(self) -> float:
        return round(sum(t["score"] for t in self.tasks.values()), 4)


@dataclass
class Suite:
    """The suite's tests (id -> task, weight) and its parallel and serial copies."""

    tests: dict[str, tuple[str, float]]
    task_weights: dict[str, float]
    parallel: Path | None
    serial: Path | None
    serial_tests: frozenset[str] = frozenset()  # graded in the serial half


def split_suite(graders: Path, serial_tasks: Iterable[str], workdir: Path, assignment: Assignment | None = None) -> Suite:
    """Collect ``graders`` and copy it into a parallel half and a serial half; with
    ``assignment``, check its points name only the suite's tasks (the halves cannot)."""
    plugin = runner.collect(graders)
    if assignment is not None:
        runner.check_tasks(assignment, plugin.task_weights)
    tests = {nid: (o.task, plugin.weights[nid]) for nid, o in plugin.outcomes.items()}
    files_of: dict[str, set[str]] = {}
    for nid, (task, _) in tests.items():
        files_of.setdefault(nid.split("::")[0], set()).add(task)
    serial_tasks = set(serial_tasks)
    serial_files = {f for f, tasks in files_of.items() if tasks & serial_tasks}
    serial_tests = frozenset(nid for nid in tests if nid.split("::")[0] in serial_files)
    if not serial_files:
        return Suite(tests, dict(plugin.task_weights), graders, None)
    if serial_files == set(files_of):
        return Suite(tests, dict(plugin.task_weights), None, graders, serial_tests)
    ignore = shutil.ignore_patterns("__pycache__")
    halves = {}
    for half, drop in (("parallel", serial_files), ("serial", set(files_of) - serial_files)):
        root = workdir / f"graders-{half}"
        shutil.copytree(graders, root, ignore=ignore)
        for name in drop:
            (root / name).unlink()
        halves[half] = root
    return Suite(tests, dict(plugin.task_weights), halves["parallel"], halves["serial"], serial_tests)


# ---------------------------------------------------------------------------- one half
_BOX: Sandbox | None = None


def _start_worker(isolation: str | None) -> None:
    global _BOX
    _BOX = Sandbox(isolation).start()
    Finalize(_BOX, _BOX.close, exitpriority=10)  # the pool's orderly exit closes it


def grade_half(assignment: Assignment, graders: Path, job: Job, box: Sandbox | None = None) -> dict[str, Any]:
    """Grade ``job`` with the suite copy ``graders``: test id -> verdict, plus variants."""
    sandbox = box or _BOX
    half = dataclasses.replace(assignment, graders=graders)
    log = VariantLog() if job.record_variants else None
    started = time.perf_counter()
    try:
        with recording(log) if log is not None else contextlib.nullcontext():
            result = runner.grade_submission(half, job.path, sandbox=sandbox, whole_suite=False)
    except ProctorError as exc:
        return {"label": job.label, "tests": {}, "problem": str(exc), "duration_s": 0.0, "variants": {}}
    tests = {t.id: {"task": t.task, "status": t.status, "hint": t.hint or "", "message": t.message[:400]}
             for t in result.tests}
    return {"label": job.label, "tests": tests, "problem": None,
            "duration_s": time.perf_counter() - started,
            "variants": log.findings() if log is not None else {}}


def _pool_task(args: tuple[Any, Path, Job]) -> dict[str, Any]:
    return grade_half(*args)


# ---------------------------------------------------------------------------- the whole run
@dataclass
class RunOutput:
    graded: dict[str, Graded]
    variants: dict[str, dict[str, list]]
    parallel_s: float
    serial_s: float


def _merge(job: Job, halves: list[dict[str, Any]], suite: Suite, points: dict[str, float]) -> Graded:
    verdicts: dict[str, dict[str, Any]] = {}
    problems = [h["problem"] for h in halves if h["problem"]]
    for half in halves:
        verdicts.update(half["tests"])
    order = list(suite.tests)
    statuses = []
    for nid in order:
        verdict = verdicts.setdefault(nid, {"task": suite.tests[nid][0], "status": "not run", "hint": "",
                                            "message": "not graded in this run"})
        statuses.append((suite.tests[nid][0], suite.tests[nid][1], verdict["status"]))
    for nid, scored in zip(order, spread_points(statuses, points, suite.task_weights)):
        verdicts[nid]["score"], verdicts[nid]["max_score"] = scored.score, scored.max_score
    tasks = task_totals(statuses, points, None)
    return Graded(job, verdicts, tasks, round(sum(h["duration_s"] for h in halves), 3),
                  "; ".join(problems) or None)


def run_jobs(assignment: Assignment, suite: Suite, jobs: list[Job], *, workers: int = 2, isolation: str | None = None,
             progress: Callable[[str], None] | None = None) -> RunOutput:
    """Grade every job: parallel half on ``workers`` processes, then serial half alone."""
    say = progress or (lambda _: None)
    halves: dict[str, list[dict[str, Any]]] = {job.label: [] for job in jobs}
    variants: dict[str, dict[str, list]] = {}
    started = time.perf_counter()
    if suite.parallel is not None:
        work = [(assignment, suite.parallel, job) for job in jobs]
        # spawn: a fresh interpreter per worker, nothing inherited from this process's state
        context = multiprocessing.get_context("spawn")
        with context.Pool(max(1, workers), initializer=_start_worker, initargs=(isolation,)) as pool:
            for n, half in enumerate(pool.imap_unordered(_pool_task, work), 1):
                halves[half["label"]].append(half)
                variants.update(half["variants"])
                say(f"parallel {n}/{len(work)}: {half['label']}")
            pool.close()
            pool.join()
    parallel_s = time.perf_counter() - started
    started = time.perf_counter()
    serial_jobs = [job for job in jobs if job.serial] if suite.serial is not None else []
    if serial_jobs:
        with Sandbox(isolation) as box:
            for n, job in enumerate(serial_jobs, 1):
                half = grade_half(assignment, suite.serial, job, box)
                halves[job.label].append(half)
                variants.update(half["variants"])
                say(f"serial {n}/{len(serial_jobs)}: {job.label}")
    serial_s = time.perf_counter() - started
    graded = {job.label: _merge(job, halves[job.label], suite, dict(assignment.points)) for job in jobs}
    return RunOutput(graded, variants, parallel_s, serial_s)
