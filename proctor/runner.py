"""Grade one submission: load it in the sandbox, run the suite with pytest, score it.

pytest runs on the trusted side with :class:`~proctor.plugin.ProctorPlugin`; the suite
talks to the submission only through the plugin's ``student`` proxy. One
:class:`~proctor.sandbox.client.Sandbox` (a fork server) can be reused for many
submissions, which is what batch grading does.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

import pytest

from proctor import __version__
from proctor.dependencies import Requirement, correct_supply, own_supply
from proctor.errors import ProctorError
from proctor.golden import GoldenCases, module_inside, official_cases
from proctor.plugin import ProctorPlugin, import_reference
from proctor.result import Result, load_block
from proctor.sandbox.client import ChildRlimits, Sandbox
from proctor.sandbox.proxy import StudentSession
from proctor.scoring import spread_points, task_totals
from proctor.submission import Submission, read_submission

if TYPE_CHECKING:
    from proctor.config import Assignment, Gradable

VISIBILITIES = ("all", "public", "hidden")
#: Every test's message when the submission could not be used at all (load.problem says why).
NOT_RUN = "Not run: the submission could not be used (see the reason at the top)."


#: pytest's own plugins that grading does not need. unraisableexception and
#: threadexception run gc.collect() several times per session, which alone cost
#: ~0.3 s per submission with numpy in the heap.
_UNUSED_PLUGINS = ("cacheprovider", "warnings", "unraisableexception", "threadexception", "doctest", "logging",
                   "junitxml", "pastebin", "legacypath", "lsof", "stepwise", "faulthandler", "setuponly",
                   "setupplan", "nose")


def _pytest_args(graders: Path, extra: list[str] | None = None) -> list[str]:
    disabled = [arg for name in _UNUSED_PLUGINS for arg in ("-p", f"no:{name}")]
    return [str(graders), *disabled, "-q", "--no-header", "--no-summary", "-rN", "--tb=no",
            "--import-mode=importlib", "--rootdir", str(graders), "-c", os.devnull,
            # The suite is self-contained: no conftest.py from the directories above it (a
            # course repository's own test setup), and no walk over their other entries.
            "--confcutdir", str(graders),
            "-W", "ignore", *(extra or [])]


def _suite_files(graders: Path) -> dict[str, Path]:
    """The module names pytest's importlib mode gives a suite's files (``public.test_x``)."""
    names = {}
    for path in sorted(graders.rglob("*.py")):
        parts = list(path.relative_to(graders).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        if parts:
            names[".".join(parts)] = path
    return names


def _fingerprint(files: dict[str, Path]) -> tuple:
    """Changes when any of a suite's files is added, removed or edited."""
    stamps = []
    for name, path in files.items():
        st = path.stat()
        stamps.append((name, st.st_mtime_ns, st.st_size))
    return tuple(stamps)


#: Per suite directory: its fingerprint and the modules a run imported from it. A batch
#: grades hundreds of submissions against one suite; importing (and assertion-rewriting)
#: its modules again for each costs 0.1-0.25 s, a fifth of a submission's budget.
_IMPORTED: dict[Path, tuple[tuple, dict[str, Any]]] = {}


@contextlib.contextmanager
def _own_module_names(graders: Path):
    """Let the suite's modules own their names in ``sys.modules`` only while it runs.

    pytest's importlib mode reuses any module already imported under the same name, so
    another suite's (or the caller's) ``test_efficiency`` or ``conftest`` would be run in
    this suite's place. Same-named modules from elsewhere are set aside and put back after,
    and the suite's own modules are removed, so the caller never finds a suite's
    ``conftest`` under its own name. They are kept aside instead, and put back for this
    suite's next run in this process (that reuse is what importlib mode does anyway),
    unless one of its files has changed since.
    """
    root = graders.resolve()
    files = _suite_files(root)
    stamp = _fingerprint(files)
    saved = {}
    for name in files:
        module = sys.modules.pop(name, None)
        if module is not None and not module_inside(module, root):
            saved[name] = module
    cached = _IMPORTED.get(root)
    if cached is not None and cached[0] == stamp:
        sys.modules.update(cached[1])
    try:
        yield
    finally:
        ours = {}
        for name in files:
            module = sys.modules.pop(name, None)
            if module is not None and module_inside(module, root):
                ours[name] = module
        _IMPORTED[root] = (stamp, ours)
        sys.modules.update(saved)


def _run_pytest(args: list[str], plugin: ProctorPlugin) -> int:
    """Run pytest quietly; its own terminal output is not part of any result."""
    sink = io.StringIO()
    # Third-party plugins installed on the machine (benchmark, xdist, randomly...) have no
    # business in a grading run: they cost time and could reorder or skip tests.
    previous = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), _own_module_names(Path(args[0])):
            code = pytest.main(args, plugins=[plugin])
    finally:
        if previous is None:
            del os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"]
        else:
            os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = previous
    if code in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR):
        raise ProctorError(f"the grader suite could not run (pytest exit {int(code)}):\n{sink.getvalue()[-3000:]}")
    if plugin.collection_errors:
        raise ProctorError("the grader suite has errors:\n" + "\n".join(plugin.collection_errors))
    return int(code)


def collect(graders: Path) -> ProctorPlugin:
    """Collect a suite without running it: its tests, tasks and weights."""
    plugin = ProctorPlugin(session=None, assignment=None, collect_only=True)
    _run_pytest(_pytest_args(Path(graders), ["--collect-only"]), plugin)
    return plugin


def collect_tasks(graders: Path) -> set[str]:
    """The task ids a suite's tests are marked with (for validating course.toml)."""
    return set(collect(graders).task_weights)


def check_tasks(assignment: Assignment, tasks: Iterable[str]) -> None:
    """ConfigError if ``points`` names a task the just-collected suite lacks: checked where
    a suite is collected anyway, so loading the course never collects one."""
    from proctor.config import validate_tasks

    validate_tasks(assignment, set(tasks))


def golden_cases(assignment: Gradable, reference: Any, golden: Path | None) -> GoldenCases:
    """The golden cases a run sees: a released folder when given (students' checks), else
    computed, when first asked for, from the course's own ``golden_cases.py`` and reference
    (never from release output; see :mod:`proctor.golden`)."""
    if golden is not None:
        return GoldenCases(golden)
    # Without the reference fixture (public tests checked as students run them), the cases
    # are still the course's own: the reference is imported only to compute them.
    return GoldenCases(None, compute=lambda: official_cases(assignment, reference or import_reference(assignment)))


def grade_submission(assignment: Gradable, submission: Path | str, *, visibility: str = "all",
                     isolation: str | None = None, sandbox: Sandbox | None = None,
                     reference: bool = True, golden: Path | None = None,
                     task_weights: dict[str, float] | None = None,
                     progress: Callable[[int, int, str], None] | None = None,
                     whole_suite: bool = True,
                     requirements: Sequence[Requirement] | None = None) -> Result:
    """Grade ``submission`` against ``assignment``'s suite and return the :class:`Result`.

    ``visibility`` "public" runs only public tests; ``sandbox`` lets a caller reuse one
    fork server across submissions. Students' local checks pass ``reference=False``, their
    copy of the golden cases (``golden``, a folder; otherwise they are computed from the
    course sources), and the whole suite's ``task_weights`` (so each public test
    is worth what it is worth in the official grade). Grading always completes: problems
    with the submission become test statuses, never exceptions. The points' task ids are
    checked against the suite just collected (a mistake there is a ConfigError) unless
    it is not the whole suite: a student's public copy (``task_weights`` given) or a part
    of it, such as an audit's half or a test's subset (``whole_suite=False``).

    ``requirements`` (:func:`proctor.dependencies.requirements`): the work of other
    assignments the submission imports. It runs on the student's own; each test that fails
    there runs again on correct versions, and passes if it passes either way, so a bug
    costs points only in the assignment where it lives (see :func:`_on_requirements`).
    None: the assignment's own ``required``, with no student work (correct versions only),
    which is what the audit, validate and any caller without the student's files get.
    """
    if visibility not in VISIBILITIES:
        raise ValueError(f"visibility must be one of {VISIBILITIES}, not {visibility!r}")
    started = time.perf_counter()
    sub = read_submission(submission)
    own_sandbox = sandbox is None
    box = sandbox or Sandbox(isolation).start()  # starts while pytest collects the suite
    reference_module = import_reference(assignment) if reference else None
    cases = golden_cases(assignment, reference_module, golden)

    def run(modules: list[dict[str, Any]], only: set[str] | None = None) -> _Run:
        # A second run's progress would count its few tests again from 1: only the first reports.
        return _run(assignment, sub, box, modules, only=only, reference=reference_module,
                    visibility=visibility, golden=cases, progress=progress if only is None else None)

    if requirements is None:
        requirements = getattr(assignment, "required", ())
    dependencies = None
    try:
        if requirements:
            main, dependencies = _on_requirements(run, requirements, sub)
        else:
            main = run([])
    finally:
        if own_sandbox:
            box.close()
    plugin, session = main.plugin, main.session
    if task_weights is None and whole_suite:
        check_tasks(assignment, plugin.task_weights)
    outcomes = plugin.finish()
    if sub.problem:  # the reason is said once, in load.problem; each test only says it did not run
        for o in outcomes:
            o.status, o.message, o.hint = "error", NOT_RUN, None
    if task_weights is not None:
        plugin.task_weights = dict(task_weights)
    weighed = [(o.task, plugin.weights[o.id], o.status) for o in outcomes]
    for o, s in zip(outcomes, spread_points(weighed, assignment.points, plugin.task_weights)):
        o.score, o.max_score = s.score, s.max_score
    tasks = task_totals(weighed, assignment.points, plugin.task_weights if visibility != "all" else None)
    return Result(
        assignment=assignment.id, submission=sub.name,
        score=round(sum(t["score"] for t in tasks.values()), 4),
        max_score=round(sum(t["max_score"] for t in tasks.values()), 4),
        tasks=tasks, tests=outcomes, isolation=box.level, duration_s=round(time.perf_counter() - started, 3),
        proctor_version=__version__, seed=int(assignment.seed),
        load=load_block(sub.problem, session.load_errors, list(sub.notes), session.restarts,
                        sub.cell_labels),
        peak_memory_mb=main.peak_mb,
        output=main.output,
        dependencies=dependencies)


@dataclass
class _Run:
    """One pytest run of a suite against one sandboxed session."""

    plugin: ProctorPlugin
    session: StudentSession
    output: str
    peak_mb: float | None


def _run(assignment: Gradable, sub: Submission, box: Sandbox, modules: list[dict[str, Any]], *,
         only: set[str] | None, reference: Any, visibility: str, golden: GoldenCases,
         progress: Callable[[int, int, str], None] | None) -> _Run:
    limits = assignment.limits
    session = StudentSession(box, sub, call_timeout_s=limits.call_timeout_s,
                             submission_timeout_s=limits.submission_timeout_s,
                             limits=ChildRlimits(memory_mb=limits.memory_mb,
                                                cpu_s=int(limits.submission_timeout_s) + 10),
                             modules=modules)
    plugin = ProctorPlugin(session=session, assignment=assignment, reference=reference,
                           visibility=visibility, golden_cases=golden, progress=progress, only=only)
    try:
        if sub.problem:  # nothing to run: every test would fail for this one reason
            _run_pytest(_pytest_args(Path(assignment.graders), ["--collect-only"]), plugin)
        else:
            _run_pytest(_pytest_args(Path(assignment.graders)), plugin)
        return _Run(plugin, session, session.output(), session.peak_memory_mb())
    finally:
        session.close()


def _on_requirements(run: Callable[..., _Run], reqs: Sequence[Requirement],
                     sub: Submission) -> tuple[_Run, dict[str, dict[str, Any]]]:
    """Run the suite on the student's own required work, then the tests that failed there
    on correct versions; a test takes the second verdict when it ran again (passing only
    there, or failing for the submission's own reasons, with no other bug mixed in).

    Without usable own work (none found, or unreadable) the whole suite runs on the correct
    versions. Returns the run whose verdicts the result keeps, and its ``dependencies``.
    """
    own = own_supply(reqs)
    notes = own.notes
    if any(req.provides is None for req in reqs):  # no correct version at hand: own work only
        first = run(own.modules)
        _note_module_errors(first, reqs, notes)
        for entry in notes.values():
            entry.update(correct=None, passed_only_with_correct=0, own_only=True)
        return first, notes
    first = run(own.modules) if own.usable else None
    if first is not None:
        _note_module_errors(first, reqs, notes)
    again = None if first is None else {i for i in first.plugin.order if first.plugin.outcomes[i].status != "passed"}
    if sub.problem or again == set():
        for entry in notes.values():
            entry.update(correct=None, passed_only_with_correct=0)
        return first or run([]), notes
    correct = correct_supply(reqs)
    second = run(correct.modules, only=again)
    for req in reqs:
        notes[req.assignment].update(correct.notes[req.assignment])
    if first is None:
        for entry in notes.values():
            entry["passed_only_with_correct"] = 0
        return second, notes
    rescued = 0
    for nodeid in again or ():
        redone = second.plugin.outcomes.get(nodeid)
        if redone is None:
            continue
        redone.dependency = "correct"
        rescued += redone.status == "passed"
        first.plugin.outcomes[nodeid] = redone
        first.plugin.records[nodeid] = second.plugin.records[nodeid]
    for entry in notes.values():
        entry["passed_only_with_correct"] = rescued
    if second.peak_mb is not None:
        first.peak_mb = max(first.peak_mb or 0.0, second.peak_mb)
    return first, notes


def _note_module_errors(run: _Run, reqs: Sequence[Requirement], notes: dict[str, dict[str, Any]]) -> None:
    """What the student's own required work raised while loading, in the load-note schema."""
    for req in reqs:
        if notes[req.assignment].get("own") is not None:
            errors = run.session.module_errors.get(req.module, [])
            notes[req.assignment]["load_errors"] = load_block(None, errors, [], 0)["errors"]
