"""The ``check`` fixture: ``assert_close`` bound to the course tolerance, plus *alternatives*.

An alternative is another result that is acceptable because the fault lies in another task
(no double jeopardy): a composition around the student's own pieces. It is evaluated only
when the comparison with the expected value fails; a test that passes through one records
the alternative's note as the test's hint. The notes' wording belongs to the course.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from proctor.asserts import CheckFailure, assert_close, assert_raises
from proctor.diagnose import as_numeric, mismatch_mask

Alternative = tuple[Callable[[], Any], str]
"""``(zero-argument callable, note)``: a result acceptable because another task is at fault."""


class Checker:
    """``check(actual, expected, what=..., ...)``: assert_close, or an acceptable alternative.

    ``alternatives`` are ``(zero-argument callable, note)`` pairs, evaluated only when the
    comparison with ``expected`` fails. With ``rowwise``, each row (along axis 0) may match
    ``expected`` or any alternative on its own: steps of a sequence can be right for one
    reason in one step and for another in the next.
    """

    def __init__(self, tol: Any, record: Any) -> None:
        self.tol = tol
        self.record = record

    def __call__(
        self,
        actual: Any,
        expected: Any,
        *,
        what: str,
        variants: Mapping[str, tuple[Any, str]] | None = None,
        axes: Sequence[str] | None = None,
        where: Any = None,
        alternatives: Sequence[Alternative] = (),
        rowwise: bool = False,
        hint: str | None = None,
        also: str | None = None,
    ) -> None:
        """``also``: a note added to any failure's hint, whichever variant matched (a public
        check that runs another task's code says so, since it has no alternatives)."""
        try:
            assert_close(actual, expected, tol=self.tol, what=what, variants=variants,
                         axes=axes, where=where, hint=hint)
        except CheckFailure as failure:
            notes = self._accepted(actual, expected, alternatives, rowwise)
            if notes is None:
                if also:
                    raise _with_note(failure, also) from None
                raise
            if self.record is not None:
                self.record.hint = " ".join(notes)

    def raises(self, exc_type: type[BaseException], call: Callable[[], Any], *, what: str,
               hint: str | None = None) -> None:
        """``call()`` must raise ``exc_type``: :func:`assert_raises`, whose failure names the
        exception expected (``pytest.raises`` would report "DID NOT RAISE", or only the
        other exception, which is not feedback)."""
        assert_raises(exc_type, call, what=what, hint=hint)

    def _accepted(self, actual: Any, expected: Any, alternatives: Sequence[Alternative],
                  rowwise: bool) -> list[str] | None:
        """The notes of the alternatives that make ``actual`` acceptable, or None."""
        a = as_numeric(actual)
        if a is None:
            return None

        def rows_ok(candidate: np.ndarray | None) -> np.ndarray | None:
            """Per row (axis 0; one row for a scalar): does ``actual`` match ``candidate``?"""
            if candidate is None or candidate.shape != a.shape:
                return None
            bad = mismatch_mask(a, candidate, self.tol.rtol, self.tol.atol).reshape(
                max(a.shape[:1] or (1,)), -1)
            return ~bad.any(axis=1)

        ok = rows_ok(as_numeric(expected)) if rowwise else None
        if rowwise and ok is None:
            return None
        notes: list[str] = []
        for make, note in alternatives:
            rows = rows_ok(_safe(make))
            if rows is None:
                continue
            if ok is None:  # whole-array alternatives: one must match everywhere
                if rows.all():
                    return [note]
                continue
            if (rows & ~ok).any():
                ok |= rows
                notes.append(note)
            if ok.all():
                return notes
        return None


def _with_note(failure: CheckFailure, note: str) -> CheckFailure:
    """The same failure with ``note`` after its hint."""
    hint = " ".join(p for p in (failure.hint, note) if p)
    return CheckFailure(f"{failure.summary}\nHint: {hint}", failure.details, hint, failure.summary)


def _safe(make: Callable[[], Any]) -> np.ndarray | None:
    """Evaluate an alternative; one that cannot be computed (the student's piece raised) is
    simply not available."""
    try:
        return as_numeric(make())
    except Exception:  # noqa: BLE001 - any student failure just means "no alternative"
        return None
