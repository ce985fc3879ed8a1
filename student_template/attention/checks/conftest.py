"""Grading helpers shared by the attention suites (trusted side).

Fixtures:
* ``check``: ``assert_close`` bound to the course tolerance, plus *alternatives*: other
  results that are acceptable because the fault lies in another task (no double jeopardy).
  A test that passes through an alternative records its note as the test's hint.
* ``new_mha``: a student ``MultiHeadAttention`` with the given weights written in place.

This file ships with students' local checks, so it computes no attention math: the
alternatives themselves (compositions around the student's own pieces) are built by the
hidden tests, from the hidden ``composition.py``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

if str(Path(__file__).parent) not in sys.path:  # make `import _inputs` work in any import mode
    sys.path.insert(0, str(Path(__file__).parent))

from _inputs import WEIGHT_NAMES, Alternative  # noqa: E402
from proctor.asserts import CheckFailure, assert_close, assert_raises  # noqa: E402
from proctor.diagnose import as_numeric, mismatch_mask  # noqa: E402


class Checker:
    """``check(actual, expected, what=..., ...)``: assert_close, or an acceptable alternative.

    ``alternatives`` are ``(zero-argument callable, note)`` pairs, evaluated only when the
    comparison with ``expected`` fails. With ``rowwise``, each row (along axis 0) may match
    ``expected`` or any alternative on its own: decoding steps can be right for one reason
    in one step and for another in the next (e.g. a student who passes no mask on
    one-token steps never reaches their SDPA's mask bug there).
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
        """``call()`` must raise ``exc_type``: ``proctor.asserts.assert_raises``, whose
        failure names the exception expected (``pytest.raises`` would report "DID NOT
        RAISE", or only the other exception, which is not feedback)."""
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


@pytest.fixture
def check(tol: Any, record: Any) -> Checker:
    return Checker(tol, record)


@pytest.fixture
def new_mha(student: Any) -> Callable[[int, int, Mapping[str, np.ndarray]], Any]:
    """Factory: ``new_mha(embed_dim, num_heads, weights)`` -> student MHA with those weights."""

    def make(embed_dim: int, num_heads: int, weights: Mapping[str, np.ndarray]) -> Any:
        mha = student.MultiHeadAttention(embed_dim, num_heads)
        for name in WEIGHT_NAMES:
            mha.assign(name, weights[name])
        return mha

    return make
