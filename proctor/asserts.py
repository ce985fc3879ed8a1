"""``assert_close``: the one comparison grader suites use, with feedback a student can act on.

A failed check raises ``CheckFailure``: an ``AssertionError`` (so plain pytest shows it too)
whose message is a short English paragraph (what was checked, by how much and where it
missed, a hint), with the same facts as a dict in ``.details`` and the hint in ``.hint`` for
the result JSON. The hint comes from ``proctor.diagnose``: a matching known-wrong variant's
misconception, else a description of where the error is.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

import numpy as np

from proctor.diagnose import Variants, as_numeric, localise, match_variant, mismatch_mask

__all__ = ["CheckFailure", "ToleranceLike", "assert_close", "assert_raises", "describe_value"]


class ToleranceLike(Protocol):
    """Anything with ``rtol`` and ``atol`` (the plugin's ``tol`` fixture)."""

    rtol: float
    atol: float


class CheckFailure(AssertionError):
    """A failed check: ``str(self)`` is the readable message, hint included; ``summary`` is
    the same without the hint (for reports that show ``hint`` on its own); ``details`` and
    ``hint`` are copied into the test's result by the plugin."""

    def __init__(self, message: str, details: dict[str, Any], hint: str | None = None,
                 summary: str | None = None, misconception: str | None = None) -> None:
        super().__init__(message)
        self.details = details
        self.hint = hint
        self.summary = message if summary is None else summary
        #: the known-wrong variant that matched, if one did (feedback groups failures by it)
        self.misconception = misconception


def _shape_text(shape: Sequence[int], axes: Sequence[str] | None) -> str:
    text = str(tuple(int(n) for n in shape))
    if axes is not None and len(axes) == len(shape):
        text += " (" + ", ".join(axes) + ")"
    return text


def _index_text(index: Sequence[int]) -> str:
    return "[" + ", ".join(str(int(i)) for i in index) + "]"


def _num(x: float) -> str:
    return f"{x:.6g}"


def _fail(what: str, problem: str, details: dict[str, Any], hint: str | None,
          misconception: str | None = None) -> CheckFailure:
    """Build the exception: message = checked thing + problem + hint, as one paragraph."""
    details = {"checked": what, "problem": problem, **details}
    summary = f"Checking {what}: {problem}"
    message = f"{summary}\nHint: {hint}" if hint else summary
    return CheckFailure(message, details, hint, summary, misconception)


def describe_value(value: Any) -> str:
    """What a student's value is, for a message: "a list", "a method", "a KVCache object".

    Values that live in the sandbox reach the suite as proxies; their own description is
    used, so a message never names the proxy's internals (a partial, a RemoteObject)."""
    described = getattr(type(value), "_student_description", None)
    if described is not None:
        return str(described(value))
    return f"a {type(value).__name__}"


def assert_raises(expected: type[BaseException], call: Any, *, what: str,
                  hint: str | None = None) -> None:
    """``call()`` must raise ``expected`` (or a subclass). Returning normally, or raising
    another exception, is a :class:`CheckFailure` whose hint names the exception expected.

    A student's exception arrives as ``StudentError`` carrying its type's name; a missing
    name, a stub's NotImplementedError, a timeout or a dead sandbox are not answers to
    this check and propagate as they are."""
    from proctor.sandbox.proxy import MissingName, StudentError

    name = expected.__name__
    try:
        call()
    except expected:
        return
    except MissingName:
        raise
    except StudentError as exc:
        raised = exc.type_name
        if raised == "NotImplementedError":  # a stub: "not implemented yet" says it better
            raise
        note = f"It should raise {name}, not {raised}" + (
            " (an assert statement raises AssertionError: use `raise "
            f"{name}(...)` instead)." if raised == "AssertionError" else
            f": `raise {name}(\"...\")`.")
        raise _fail(what, f"it should raise {name}, but it raised {raised}"
                    + (f" ({exc.student_message})" if exc.student_message else "") + ".",
                    {"expected_exception": name, "raised": raised},
                    " ".join(p for p in (note, hint) if p)) from None
    raise _fail(what, f"it should raise {name}, but it returned normally.",
                {"expected_exception": name, "raised": None}, hint)


def _kind_problem(value: Any) -> str | None:
    """Say plainly why ``value`` cannot be compared as numbers, or None if it can."""
    if value is None:
        return "your code returned None (is a `return` statement missing?)"
    if isinstance(value, tuple):
        return (
            f"your code returned a tuple of {len(value)} values where one array was "
            "expected"
        )
    if callable(value) and not isinstance(value, np.ndarray):
        return (f"your code returned {describe_value(value)} where an array was expected "
                "(a method or function that was not called?)")
    arr = value if isinstance(value, np.ndarray) else None
    if arr is None and hasattr(value, "data") and isinstance(value.data, np.ndarray):
        arr = value.data
    if arr is None:
        try:
            arr = np.asarray(value)
        except (ValueError, TypeError):
            return f"your code returned {describe_value(value)}, which is not an array"
    if arr.dtype.kind == "c":
        return "your result has complex numbers; expected real numbers"
    if arr.dtype.kind not in "biuf":
        return (
            f"your result has dtype {arr.dtype} (not numbers); expected an array of "
            "numbers"
        )
    return None


def _nonfinite_text(a: np.ndarray, e: np.ndarray) -> tuple[str, int] | None:
    """"3 of 48 entries are NaN, first at [0, 2, 1]" for entries non-finite only in ``a``."""
    parts = []
    count = 0
    for label, mask in (
        ("NaN", np.isnan(a) & ~np.isnan(e)),
        ("+inf", np.isposinf(a) & ~np.isposinf(e)),
        ("-inf", np.isneginf(a) & ~np.isneginf(e)),
    ):
        n = int(mask.sum())
        if n:
            first = np.unravel_index(int(np.flatnonzero(mask)[0]), a.shape)
            verb = "is" if n == 1 else "are"
            parts.append(f"{n} of {a.size} entries {verb} {label}, first at {_index_text(first)}")
            count += n
    if not parts:
        return None
    return "; ".join(parts) + " (the expected values there are finite)", count


#: Called as ``observer(expected, variants, tol)`` by every :func:`assert_close` while
#: registered (the audit's reference run records the variants each test passes).
_observers: list[Callable[[Any, Any, Any], None]] = []


@contextlib.contextmanager
def observing(observer: Callable[[Any, Any, Any], None]) -> Iterator[None]:
    """Call ``observer`` from every :func:`assert_close` while the block runs, however a
    suite imported it (``proctor.testing``, the ``check`` fixture or this module)."""
    _observers.append(observer)
    try:
        yield
    finally:
        _observers.remove(observer)


def assert_close(
    actual: Any,
    expected: Any,
    *,
    tol: ToleranceLike,
    what: str,
    variants: Variants | None = None,
    where: Any = None,
    axes: Sequence[str] | None = None,
    hint: str | None = None,
) -> None:
    """Check ``|actual - expected| <= tol.atol + tol.rtol * |expected|`` entry by entry.

    ``actual`` may be an ndarray, a Tensor-like with an ndarray ``.data``, or a nested list;
    bool/int/float dtypes all compare as numbers. ``what`` names the checked thing in words
    (it appears in the message, so it must not reveal hidden inputs). ``variants`` (name ->
    (array or zero-argument callable, hint)) are known-wrong results on the same inputs, for
    the hint. ``where`` (bool, broadcastable to ``expected``) limits the value comparison to
    some entries; the others need only be finite (e.g. rows with no agreed answer).
    ``axes`` names the axes for messages ("(batch, seq_q, d_v)"). ``hint`` is the suite's
    own advice for this check: shown unless a known-wrong variant matches, followed by the
    generic localisation of the error.
    """
    for observer in _observers:
        observer(expected, variants, tol)
    rtol, atol = float(tol.rtol), float(tol.atol)
    e = as_numeric(expected)
    if e is None:
        raise TypeError(f"assert_close: expected value for {what} is not numeric")

    problem = _kind_problem(actual)
    if problem is not None:
        base = {"expected_shape": list(e.shape), "actual_type": describe_value(actual)}
        return_hint = hint
        if isinstance(actual, tuple) and len(actual) == 2:
            return_hint = (
                "A tuple was returned where one value was expected: return the "
                "extra values only when the call asks for them."
                if hint is None else hint
            )
        raise _fail(what, problem, base, return_hint)

    a = as_numeric(actual)
    assert a is not None  # _kind_problem has ruled the rest out
    dtype_details = {"actual_dtype": str(np.asarray(a).dtype)}
    if hasattr(actual, "dtype"):
        dtype_details["actual_dtype"] = str(actual.dtype)

    if a.shape != e.shape:
        problem = (
            f"expected shape {_shape_text(e.shape, axes)} but got {_shape_text(a.shape, None)}"
        )
        found, variant = _hint(a, e, variants, rtol, atol, axes, hint)
        details = {"expected_shape": list(e.shape), "actual_shape": list(a.shape),
                   "shape": list(a.shape), **dtype_details}
        raise _fail(what, problem, details, found, variant)

    compared = np.ones(e.shape, dtype=bool)
    if where is not None:
        compared = np.broadcast_to(np.asarray(where, dtype=bool), e.shape)
    bad = mismatch_mask(a, e, rtol, atol) & compared
    bad |= ~np.isfinite(a) & np.isfinite(e)  # non-finite is never fine where e is finite
    if not bad.any():
        return

    err = np.abs(a - e)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        ratio = np.where(bad, err / (atol + rtol * np.abs(e)), -1.0)
        rel = err / np.maximum(np.abs(e), atol)
    ratio = np.where(np.isnan(ratio), np.inf, ratio)
    worst = np.unravel_index(int(np.argmax(ratio)), e.shape)
    checked_err = np.where(bad, err, 0.0)
    checked_rel = np.where(bad, rel, 0.0)
    n_bad = int(bad.sum())
    details: dict[str, Any] = {
        "shape": list(e.shape),
        "max_abs_err": float(np.nanmax(np.where(np.isnan(checked_err), np.inf, checked_err))),
        "max_rel_err": float(np.nanmax(np.where(np.isnan(checked_rel), np.inf, checked_rel))),
        "worst_index": [int(i) for i in worst],
        "worst_actual": float(a[worst]),
        "worst_expected": float(e[worst]),
        "mismatch_fraction": n_bad / e.size,
        "rtol": rtol,
        "atol": atol,
        **dtype_details,
    }

    nonfinite = _nonfinite_text(a, e)
    scope = "" if where is None else f" (of the {int(compared.sum())} entries compared)"
    if nonfinite is not None:
        text, count = nonfinite
        details["nonfinite"] = count
        problem = text + "."
        if n_bad > count:
            problem += f" In all, {n_bad} of {e.size} entries are wrong{scope}."
    else:
        problem = (
            f"{n_bad} of {e.size} entries ({100 * n_bad / e.size:.3g}%){scope} differ from "
            f"the expected values by more than the tolerance ({atol:g} + {rtol:g} * "
            f"|expected|). The largest error is {_num(details['max_abs_err'])} "
            f"({_num(100 * details['max_rel_err'])}% relative); the worst entry is "
            f"{_index_text(worst)}, where you returned {_num(details['worst_actual'])} "
            f"instead of {_num(details['worst_expected'])}."
        )
    problem = f"result of shape {_shape_text(e.shape, axes)}: " + problem
    # variants are matched on everything the student returned (a NaN row outside `where`
    # is part of the mistake's signature); localisation only describes compared entries
    # and those that are not finite
    located = a if where is None else np.where(compared | ~np.isfinite(a), a, e)
    found, variant = _hint(a, e, variants, rtol, atol, axes, hint, located=located)
    raise _fail(what, problem, details, found, variant)


def _hint(a: np.ndarray, e: np.ndarray, variants: Variants | None, rtol: float, atol: float,
          axes: Sequence[str] | None, hint: str | None,
          located: np.ndarray | None = None) -> tuple[str | None, str | None]:
    """``(hint, variant name)``: a matching variant's hint and name; else the suite's hint and
    the error's localisation, and no name."""
    matched = match_variant(a, e, variants, rtol=rtol, atol=atol)
    if matched is not None:
        return matched[1], matched[0]
    where_wrong = localise(a if located is None else located, e, rtol=rtol, atol=atol, axes=axes)
    parts = [p for p in (hint, where_wrong) if p]
    return " ".join(parts) or None, None
