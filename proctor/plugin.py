"""The pytest plugin that turns grader suites into verdicts.

The runner passes a :class:`ProctorPlugin` instance to ``pytest.main``. It registers the
``task``/``points``/``visibility`` markers, provides the fixtures suites use (``student``,
``reference``, ``tol``, ``rng``, ``assignment``, ``record``, ``check``), loads the derandomized
Hypothesis profile (``proctor.testing``), and records one :class:`~proctor.result.TestResult` per test, turning student
exceptions, timeouts and crashes into statuses with messages a student can act on.
"""

from __future__ import annotations

import functools
import importlib
import re
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import hypothesis
import numpy as np
import pytest
from hypothesis import Phase, settings

from proctor.golden import GoldenCases
from proctor.result import TestResult, load_block, load_notes
from proctor.sandbox.client import SandboxCrashed, SandboxFailure, SandboxTimeout
from proctor.sandbox.proxy import MissingName, StudentError, StudentModule, StudentSession
from proctor.testing import Checker, Tolerance
from proctor.testing._profiles import HIDDEN_PROFILE

if TYPE_CHECKING:
    from proctor.config import Gradable

HIDDEN, PUBLIC = "hidden", "public"
#: Tests of this task, or marked ``cost``, measure cost on large inputs: a part timing out
#: there loses only their points (see proctor.sandbox.proxy, "timeout memory").
COST_TASK = "efficiency"
_PROFILE = HIDDEN_PROFILE


@dataclass
class TestRecord:
    """What a test may report beyond pass/fail; kept for passing tests too."""

    details: dict[str, Any] | None = None
    hint: str | None = None
    efficiency: dict[str, Any] | None = None
    #: the named inputs of the golden case the test loaded last (shown if a public test fails)
    example: dict[str, Any] | None = None


def _marker_arg(item: pytest.Item, name: str, default: Any) -> Any:
    marker = item.get_closest_marker(name)
    return marker.args[0] if marker is not None and marker.args else default


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`(\"'])")


def _test_name(item: pytest.Item) -> str:
    """A whole sentence: the docstring's first sentence (its first paragraph joined, so a
    sentence wrapped over lines is not cut), with ``{param}`` fields filled in from the
    test's parameters. Without a docstring, the function's name in words. Parameters the
    sentence does not mention are said after it: "(temperature 0.5)"."""
    doc = getattr(getattr(item, "function", None), "__doc__", None) or ""
    paragraph = " ".join(doc.strip().split("\n\n")[0].split())
    if paragraph:
        title = _SENTENCE_END.split(paragraph, maxsplit=1)[0].rstrip(".").replace("``", "")
    else:
        name = getattr(item, "originalname", None) or item.name.split("[")[0]
        title = name.removeprefix("test_").replace("_", " ").capitalize()
    params = dict(getattr(getattr(item, "callspec", None), "params", {}) or {})
    shown = {k: v for k, v in params.items() if isinstance(v, (int, float, str, bool))}
    used = set()
    for key, value in shown.items():
        if "{" + key + "}" in title:
            title = title.replace("{" + key + "}", str(value))
            used.add(key)
    rest = [f"{k.replace('_', ' ')} {v}" for k, v in shown.items() if k not in used]
    if rest:
        title += " (" + ", ".join(rest) + ")"
    return title


class ProctorPlugin:
    """Fixtures, markers and result collection for one grading run."""

    def __init__(self, *, session: StudentSession | None, assignment: Gradable | None, reference: Any = None,
                 visibility: str = "all", collect_only: bool = False, golden_dir: Path | None = None,
                 golden_cases: GoldenCases | None = None, progress: Callable[[int, int, str], None] | None = None,
                 only: set[str] | None = None) -> None:
        self.session = session
        self.only = only  # run just these test ids (a second run, on correct required work)
        self.progress = progress
        self.golden_cases = golden_cases or GoldenCases(golden_dir)
        self._assignment = assignment
        self.reference_module = reference
        self.visibility = visibility
        self.collect_only = collect_only
        self.outcomes: dict[str, TestResult] = {}
        self.weights: dict[str, float] = {}  # test id -> its ``points`` marker weight
        self.requires: dict[str, tuple[str, ...]] = {}  # test id -> its ``requires`` patterns
        self.records: dict[str, TestRecord] = {}  # test id -> what it reported beyond pass/fail
        self.order: list[str] = []
        self.collection_errors: list[str] = []
        self.task_weights: dict[str, float] = {}
        self._previous_profile = "default"
        self._restore_constants: Callable[[], None] = lambda: None
        self._suite_paths: list[str] = []

    # ------------------------------------------------------------------ setup
    def pytest_load_initial_conftests(self, early_config: pytest.Config, parser: Any, args: list[str]) -> None:
        """Put the suite's directory on ``sys.path`` before its conftest loads, so its helper
        modules (``import _inputs``) import in any import mode without each suite arranging it."""
        dirs = dict.fromkeys(str(Path(a).resolve()) for a in args if not a.startswith("-") and Path(a).is_dir())
        self._suite_paths = [d for d in dirs if d not in sys.path]
        sys.path[:0] = self._suite_paths

    def pytest_configure(self, config: pytest.Config) -> None:
        for line in ("task(id): the assignment task this test belongs to",
                     "points(weight): relative weight of this test inside its task",
                     "visibility(level): 'public' (students see details) or 'hidden'",
                     "cost: measures cost on large inputs (a timeout here spares correctness tests)",
                     "requires(*tests): this test's points count only if those tests pass too "
                     "(a bare name is a test function in the same file; 'file.py::name' any other)"):
            config.addinivalue_line("markers", line)
        self._previous_profile = settings.get_current_profile_name()
        settings.load_profile(_PROFILE)
        self._restore_constants = _hide_local_constants()

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        settings.load_profile(self._previous_profile)
        self._restore_constants()
        for path in self._suite_paths:
            if path in sys.path:
                sys.path.remove(path)

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        keep, drop = [], []
        for item in items:  # weights of every test, so a public-only run scores tests alike
            task = str(_marker_arg(item, "task", "ungraded"))
            self.task_weights[task] = self.task_weights.get(task, 0.0) + float(_marker_arg(item, "points", 1.0))
            vis = _marker_arg(item, "visibility", HIDDEN)
            if vis == PUBLIC and "reference" in getattr(item, "fixturenames", ()):
                self.collection_errors.append(
                    f"{item.nodeid}: a public test may not use the `reference` fixture (students run public "
                    "tests without the reference); take expected values from the `golden` fixture instead")
            wanted = self.visibility in ("all", vis) and (self.only is None or item.nodeid in self.only)
            (keep if wanted else drop).append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep
        for item in items:
            _prepare_hypothesis(item)
        for item in items:
            nodeid = item.nodeid
            self.order.append(nodeid)
            self.outcomes[nodeid] = TestResult(
                id=nodeid, name=_test_name(item), task=str(_marker_arg(item, "task", "ungraded")),
                visibility=_marker_arg(item, "visibility", HIDDEN))
            self.weights[nodeid] = float(_marker_arg(item, "points", 1.0))
            self.records[nodeid] = TestRecord()
            self.requires[nodeid] = _required(item)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collection_errors.append(f"{report.nodeid}: {report.longreprtext[-2000:]}")

    # ------------------------------------------------------------------ fixtures
    @pytest.fixture
    def student(self) -> StudentModule:
        """The submission, living in the sandbox."""
        if self.session is None:
            raise RuntimeError("no submission is being graded")
        self.session.ensure_loaded()
        yield StudentModule(self.session)
        self.session.release()

    @pytest.fixture
    def reference(self) -> Any:
        """The assignment's hidden reference module (trusted side only)."""
        if self.reference_module is None:
            pytest.skip("the reference is not available here (students' local checks run public tests only)")
        return self.reference_module

    @pytest.fixture
    def golden(self, request: pytest.FixtureRequest) -> Callable[[str], Any]:
        """``golden(name)``: a golden case byte for byte what students' checks read.
        The case's inputs are noted, so a failing public test can show them."""
        record = self.records.get(request.node.nodeid)

        def load(name: str) -> Any:
            case = self.golden_cases(name)
            if record is not None and isinstance(case, dict) and isinstance(case.get("inputs"), dict):
                record.example = named_values(case["inputs"])
            return case

        return load

    @pytest.fixture
    def tol(self) -> Tolerance:
        return Tolerance(rtol=float(self._assignment.rtol), atol=float(self._assignment.atol))

    @pytest.fixture
    def rng(self, request: pytest.FixtureRequest) -> np.random.Generator:
        """A generator seeded by the assignment seed and this test's id: same inputs every run."""
        return np.random.default_rng([int(self._assignment.seed), zlib.crc32(request.node.nodeid.encode())])

    @pytest.fixture
    def check(self, tol: Tolerance, record: TestRecord) -> Checker:
        """``check(actual, expected, what=..., alternatives=...)``: see
        :class:`proctor.testing.Checker`."""
        return Checker(tol, record)

    @pytest.fixture
    def assignment(self) -> Any:
        return self._assignment

    @pytest.fixture
    def record(self, request: pytest.FixtureRequest) -> TestRecord:
        return self.records.get(request.node.nodeid) or TestRecord()

    # ------------------------------------------------------------------ verdicts
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        _LAST_EXAMPLE.clear()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> Any:
        report = (yield).get_result()
        outcome = self.outcomes.get(item.nodeid)
        if outcome is None or report.passed or report.skipped and call.excinfo is None:
            if outcome is not None and report.skipped and report.when == "setup":
                outcome.status, outcome.message = "error", _skip_reason(report)
            return
        if outcome.status != "passed":
            return  # keep the first failure (setup beats teardown)
        exc = call.excinfo.value if call.excinfo is not None else None
        if isinstance(exc, _Unshrinkable):
            exc = exc.error
        if report.skipped:
            outcome.status, outcome.message = "error", _skip_reason(report)
            return
        self._explain(outcome, exc)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> Any:
        """Tell the session whether this test measures cost (see ``COST_TASK``)."""
        if self.session is not None:
            self.session.measuring_cost = (item.get_closest_marker("cost") is not None
                                           or str(_marker_arg(item, "task", "")) == COST_TASK)
        try:
            yield
        finally:
            if self.session is not None:
                self.session.measuring_cost = False

    def pytest_runtest_logfinish(self, nodeid: str, location: tuple) -> None:
        if self.progress is not None and nodeid in self.outcomes:
            self.progress(self.order.index(nodeid) + 1, len(self.order), self.outcomes[nodeid].name)

    def _explain(self, outcome: TestResult, exc: BaseException | None) -> None:
        public = outcome.visibility == PUBLIC
        if isinstance(exc, SandboxTimeout):
            outcome.status = "timeout"
            outcome.message = f"Your code did not finish: {exc}."
            outcome.hint = "Look for an infinite loop, or a loop in Python over every position where numpy could do it at once."
        elif isinstance(exc, SandboxCrashed):
            outcome.status = "error"
            outcome.message = f"Your code's process died: {exc}."
            outcome.hint = "Grading went on in a fresh process. Check for sys.exit/os._exit, huge allocations or deep recursion."
        elif isinstance(exc, MissingName):
            outcome.status = "error"
            outcome.message = str(exc.student_message)
            outcome.hint = self._load_hint()
        elif isinstance(exc, StudentError):
            outcome.status = "error"
            outcome.message = f"Your code raised {exc}."
            if exc.student_traceback:
                outcome.details = {"traceback": exc.student_traceback}
            outcome.hint = _error_hint(exc)
        elif isinstance(exc, (AssertionError, pytest.fail.Exception)):
            # pytest.fail.Exception: pytest.raises(...) that did not raise, or pytest.fail().
            outcome.status = "failed"
            text = getattr(exc, "summary", None) or str(getattr(exc, "msg", None) or exc)
            outcome.message = text if public or hasattr(exc, "details") else _first_line(exc)
            outcome.details = getattr(exc, "details", None)
            outcome.hint = getattr(exc, "hint", None)
            outcome.misconception = _variant(exc)
            if public:
                outcome.counterexample = _falsifying_example(exc)
                if outcome.counterexample and _LAST_EXAMPLE:
                    outcome.example = named_values(_LAST_EXAMPLE[0])
        else:
            outcome.status = "error"
            outcome.message = (f"The grader could not check this part: {type(exc).__name__}: {_first_line(exc)}"
                               if exc is not None else "The test failed.")
        if outcome.hint is None:
            outcome.hint = self.records[outcome.id].hint
        if outcome.misconception is None and outcome.status != "failed":
            outcome.misconception = _diagnosis(exc)
        if public and outcome.example is None and self.records[outcome.id].example is not None:
            outcome.example = self.records[outcome.id].example

    def _load_hint(self) -> str | None:
        if not self.session or not self.session.load_errors:
            return None
        block = load_block(None, self.session.load_errors, [], 0, self.session.submission.cell_labels)
        first = load_notes(block)[0]
        return (f"While loading your submission, {first.text()}. If the missing name is defined "
                "there, that error is why.")

    def finish(self) -> list[TestResult]:
        """Verdicts in collection order, with each test's record folded in (not scored yet),
        and each passing test whose required tests (``requires`` marker) did not all pass
        turned into a failure."""
        done = []
        for nodeid in self.order:
            o = self.outcomes[nodeid]
            _apply_requirements(o, self.requires[nodeid], self.outcomes)
            rec = self.records[nodeid]
            o.efficiency = o.efficiency or rec.efficiency
            if rec.details:
                o.details = {**rec.details, **(o.details or {})}
            if o.hint is None:  # on a passing test: a note, e.g. which part holds a fault
                o.hint = rec.hint
            done.append(o)
        return done


def _required(item: pytest.Item) -> tuple[str, ...]:
    """The ``requires`` marker's tests as ``path::name`` patterns (a bare name: same file)."""
    module = item.nodeid.split("::")[0]
    names = [n for m in item.iter_markers("requires") for n in m.args]
    return tuple(n if "::" in n else f"{module}::{n}" for n in names)


def _matches(nodeid: str, pattern: str) -> bool:
    """Is ``nodeid`` (any parametrization of) the test ``pattern`` names? A pattern's path
    may be given from any directory down (``public/test_x.py::test_y``)."""
    base = nodeid.split("[")[0]
    return base == pattern or base.endswith("/" + pattern)


def _apply_requirements(outcome: TestResult, requires: tuple[str, ...],
                        outcomes: dict[str, TestResult]) -> None:
    """A passed test earns nothing unless every test it requires passed too.

    Some checks are satisfied by code that does no work (a constant output is invariant
    under permuting the queries; with one key, the value *is* the answer). Such a check
    counts only together with a test that trivial code fails. A required test that did not
    run here (a public-only run) does not decide anything.
    """
    if outcome.status != "passed" or not requires:
        return
    failed = []
    for pattern in requires:
        ran = [o for o in outcomes.values() if _matches(o.id, pattern)]
        failed += [o for o in ran if o.status != "passed" and o.name not in (f.name for f in failed)]
    if not failed:
        return
    names = ", ".join(f"'{o.name}'" for o in failed)
    outcome.status = "failed"
    outcome.message = (f"This check passed, but it counts only together with {names}, which did not "
                       "pass: code that does no real work could also satisfy it on its own.")
    outcome.hint = f"Make {names} pass first; this check then counts too."
    outcome.details = {**(outcome.details or {}), "requires": [o.id for o in failed]}
    # Its cause is the required test's: the feedback lists that misconception once, not twice.
    outcome.misconception = next((o.misconception for o in failed if o.misconception), None)


class _Unshrinkable(BaseException):
    """Carries a failure no smaller input would explain out of Hypothesis at once.

    Hypothesis shrinks whatever ``Exception`` a test raises; a ``BaseException`` it lets
    through untouched (as it does KeyboardInterrupt).
    """

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


def _input_independent(exc: BaseException) -> bool:
    """A failure every input would give the same way: a missing name, a stub's
    NotImplementedError, a timeout or a dead sandbox (each retry of those costs a call
    timeout or a sandbox restart)."""
    if isinstance(exc, (MissingName, SandboxFailure)):
        return True
    return isinstance(exc, StudentError) and exc.type_name == "NotImplementedError"


_LAST_EXAMPLE: list[dict[str, Any]] = []
"""The drawn arguments of the property-test example run last: Hypothesis replays the
minimal failing example last, so after a failure this is the counterexample's input."""


def _stop_at_first(inner: Callable[..., Any], fixtures: frozenset[str]) -> Callable[..., Any]:
    """``inner`` remembering each example's drawn arguments (not ``fixtures``, the test's
    fixtures) and ending the test at an input-independent failure."""
    @functools.wraps(inner)
    def run_example(*args: Any, **kwargs: Any) -> Any:
        _LAST_EXAMPLE[:] = [{k: v for k, v in kwargs.items() if k not in fixtures}]
        try:
            return inner(*args, **kwargs)
        except Exception as exc:
            if _input_independent(exc):
                raise _Unshrinkable(exc) from None
            raise

    run_example._proctor_stops_at_first = True  # type: ignore[attr-defined]
    return run_example


MAX_SHOWN_ENTRIES = 400
"""An input with more numbers than this is shown by its shape only."""


def named_values(inputs: Any) -> dict[str, Any] | None:
    """An example's inputs as ``{name: plain value}`` for the result JSON: arrays as nested
    lists (with their shape), a dict of inputs (a drawn ``Case``) flattened into its names,
    anything else by its ``repr``, shortened."""
    if not isinstance(inputs, dict):
        return None
    out: dict[str, Any] = {}
    for name, value in inputs.items():
        if isinstance(value, dict) and all(isinstance(k, str) for k in value):
            out.update(named_values(value) or {})
        else:
            out[str(name)] = _plain(value)
    return out or None


def _plain(value: Any) -> Any:
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value if not isinstance(value, str) else value[:200]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            return repr(value)[:200]
        if value.size > MAX_SHOWN_ENTRIES:
            return {"shape": list(value.shape), "dtype": str(value.dtype)}
        return {"shape": list(value.shape), "dtype": str(value.dtype), "values": value.tolist()}
    if isinstance(value, (list, tuple)) and len(value) <= 16:
        return [_plain(v) for v in value]
    return repr(value)[:200]


def _variant(exc: BaseException | None) -> str | None:
    """The known-wrong variant a check matched; a suite that re-raises a check's failure with
    a note added (``raise ... from None``) keeps the original as the exception's context."""
    seen = 0
    while exc is not None and seen < 5:
        name = getattr(exc, "misconception", None)
        if isinstance(name, str) and name:
            return name
        exc, seen = exc.__context__, seen + 1
    return None


def _diagnosis(exc: BaseException | None) -> str | None:
    """A stable id for failures that are not wrong values: errors, timeouts, crashes."""
    if isinstance(exc, SandboxTimeout):
        return "timeout"
    if isinstance(exc, SandboxCrashed):
        return "crashed"
    if isinstance(exc, MissingName):
        return "missing-name"
    if isinstance(exc, StudentError):
        return f"error:{exc.type_name}"
    return None


def _prepare_hypothesis(item: pytest.Item) -> None:
    """Run only the Hypothesis work whose results reach the student.

    The phases come from the test's settings (``proctor.testing`` profiles; see
    :func:`_graded_phases` for tests that bring their own). Failures that do not depend on
    the input (see :func:`_input_independent`) end the test at the first example instead of
    being shrunk; the seed derandomize derives is computed once (:func:`_pin_seed`).
    Generation is unchanged, so the verdict is the same either way. (Suite modules are
    reused between runs, so this must be idempotent.)
    """
    fn = getattr(item, "obj", None)
    handle = getattr(fn, "hypothesis", None)  # Hypothesis's documented handle on a @given test
    if handle is None:
        return
    _graded_phases(fn, public=_marker_arg(item, "visibility", HIDDEN) == PUBLIC)
    _pin_seed(fn, handle.inner_test)
    if not getattr(handle.inner_test, "_proctor_stops_at_first", False):
        # The suite's fixtures are not drawn inputs (left out of a shown example); a
        # parametrized argument is part of the example, as Hypothesis shows it.
        params = set(getattr(getattr(item, "callspec", None), "params", {}) or {})
        fixtures = frozenset(set(getattr(item, "fixturenames", ())) - params) | {"request"}
        handle.inner_test = _stop_at_first(handle.inner_test, fixtures)


# Hypothesis internals. Everything else here is Hypothesis's public API (settings profiles,
# ``@seed``, ``derandomize``, the ``.hypothesis.inner_test`` hook). Each function below
# uses one thing Hypothesis has no public API for, in one place, and does nothing if that
# thing moves; its docstring says what grading then loses.


def _graded_phases(fn: Any, *, public: bool) -> None:
    """Drop the phases whose results nobody sees from a test whose own settings keep them.

    A suite written as docs/authoring.md says needs nothing here: ``profile("public")``,
    ``examples(n)`` and the loaded profile already leave out "explain" everywhere and
    shrinking for hidden tests. A test that brings settings of its own (a hidden test with
    plain ``@given``, or ``@settings(...)`` of its own) keeps them, less "explain", and less
    shrinking if it is hidden. Hypothesis has no public way to read or change a decorated
    test's settings (``@settings`` refuses a second application), so this replaces its
    ``_hypothesis_internal_use_settings``. Without it such a test runs with its own phases:
    the same verdict, slower, and a hidden failure's details taken from a shrunk input.
    """
    current = getattr(fn, "_hypothesis_internal_use_settings", None)
    if not isinstance(current, settings):
        return
    unused = {Phase.explain} | (set() if public else {Phase.shrink})
    phases = tuple(p for p in current.phases if p not in unused)
    if phases != tuple(current.phases):
        fn._hypothesis_internal_use_settings = settings(current, phases=phases)


def _pin_seed(fn: Any, inner: Callable[..., Any]) -> None:
    """Give a derandomized test, once, the seed derandomize would derive on every run.

    Derandomized Hypothesis seeds each run from a digest of the test's source, and digests
    it again for its example database (unused here): 1-3 ms each, twice per property test
    per submission. ``hypothesis.seed`` (public) with that same digest gives the same
    examples; the suite's modules are reused between runs, so it is computed once per
    process. The digest is ``hypothesis.internal.reflection.function_digest``, and the
    database key is skipped through ``_hypothesis_internal_database_key``; without them
    derandomize derives the same seed on every run, only slower. A test with its own
    ``@seed`` keeps it.
    """
    if getattr(fn, "_hypothesis_internal_use_seed", None) is not None:
        return
    try:
        from hypothesis.internal.reflection import function_digest
    except ImportError:  # Hypothesis moved it: keep deriving it every run
        return
    hypothesis.seed(int.from_bytes(function_digest(inner), "big"))(fn)
    fn._hypothesis_internal_database_key = None  # database=None: nothing to look up


def _hide_local_constants() -> Callable[[], None]:
    """Stop Hypothesis drawing constants from whatever "local" modules are imported.

    Since 6.131 Hypothesis sometimes draws numbers found in the source of imported modules
    outside site-packages: proctor itself when installed editable, the suite's helpers, a
    course's other code. Which of those a process has imported differs between students'
    local checks and the official grade (and grows during a batch), so the same derandomized
    test would try different examples. Returns the function that undoes it. Hypothesis has
    no setting for this (6.155 neither); this replaces ``providers._get_local_constants``.
    If its internals move, the examples are merely no longer pinned.
    """
    try:
        from hypothesis.internal.conjecture import providers

        original, empty, cache = providers._get_local_constants, providers.Constants(), providers.CONSTANTS_CACHE
    except (ImportError, AttributeError):
        return lambda: None
    providers._get_local_constants = lambda: empty
    cache.cache.clear()  # constants chosen before, with the local ones in them

    def restore() -> None:
        providers._get_local_constants = original
        cache.cache.clear()

    return restore


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:500] if text else type(exc).__name__


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return "skipped"


def _falsifying_example(exc: BaseException) -> str | None:
    notes = getattr(exc, "__notes__", None) or []
    # The example ("Falsifying example: ...", "Failing test case: ..." since Hypothesis
    # 6.16x), and what the test drew from st.data() while running it ("Draw 1: ...").
    lines = [n for n in notes if n.startswith(("Falsifying", "Failing", "Draw "))]
    return "\n".join(lines)[:4000] if lines else None


def _error_hint(exc: StudentError) -> str:
    if exc.type_name == "NotImplementedError":
        return "This part is not implemented yet: the stub still raises NotImplementedError."
    if exc.type_name in ("ValueError", "IndexError") and ("shape" in exc.student_message or "broadcast" in exc.student_message):
        return "A shape mismatch: print the shapes of your intermediate arrays and compare them with the contract."
    return f"Your code raised {exc.type_name}; the traceback shows the line in your submission."


def import_reference(assignment: Gradable) -> Any:
    """Import the assignment's reference module on the trusted side."""
    return import_course_module(Path(assignment.course_root), assignment.reference)


def import_course_module(course_root: Path, name: str) -> Any:
    """Import the dotted module ``name`` from the course's directory (trusted side).

    Courses name their packages alike (``reference``), so a package of that name loaded
    from another course's directory is forgotten first, with its submodules.
    """
    root = Path(course_root).resolve()
    top = name.split(".")[0]
    loaded = sys.modules.get(top)
    if loaded is not None and not _loaded_from(loaded, root / top):
        for module in [m for m in sys.modules if m == top or m.startswith(top + ".")]:
            del sys.modules[module]
    if str(root) in sys.path:
        sys.path.remove(str(root))
    sys.path.insert(0, str(root))
    return importlib.import_module(name)


def _loaded_from(module: Any, where: Path) -> bool:
    """Was ``module`` loaded from ``where`` (a package directory, or ``where``.py)? Not merely
    from below the course root: another course may live inside it (a test course)."""
    locations = list(getattr(module, "__path__", []) or []) + [getattr(module, "__file__", None) or ""]
    return any(loc and Path(loc).resolve() in (where, where.with_suffix(".py"), where / "__init__.py")
               for loc in locations)
