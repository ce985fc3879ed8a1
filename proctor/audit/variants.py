"""Indistinguishable mistakes: hint variants that give the same output on a test's inputs.

During the audit's reference run, every ``assert_close`` call a test makes is observed
(the suite's own ``variants=`` dicts, golden cases' included): each variant is evaluated
and compared with the others and with the expected value. Two variants with different
hints that agree on every check of a test can never be told apart by that test's hint;
a variant that equals the expected value on every check can never fire. Observing means
registering an observer with ``proctor.asserts.observing`` in the trusted process for
that one run, so suites need no change.
"""

from __future__ import annotations

import contextlib
import os
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import numpy as np

import proctor.asserts
from proctor.diagnose import as_numeric


def _evaluate(value: Any) -> np.ndarray | None:
    try:
        if callable(value) and not isinstance(value, np.ndarray):
            value = value()
        return as_numeric(value)
    except Exception:  # a variant these inputs cannot produce is simply absent here
        return None


def _same(a: np.ndarray | None, b: np.ndarray | None, rtol: float, atol: float) -> bool:
    return (a is not None and b is not None and a.shape == b.shape
            and bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True)))


def _current_test() -> str:
    return os.environ.get("PYTEST_CURRENT_TEST", "?").rsplit(" (", 1)[0]


class VariantLog:
    """Per test: how often each variant equalled the truth, and how often each pair of
    variants (on checks where both are wrong) agreed with each other."""

    def __init__(self) -> None:
        self.checks: dict[str, dict[tuple[str, str], list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
        self.hints: dict[str, dict[str, str]] = defaultdict(dict)

    def observe(self, expected: Any, variants: Any, tol: Any) -> None:
        if not variants:
            return
        rtol, atol = float(tol.rtol), float(tol.atol)
        test = _current_test()
        truth = as_numeric(expected)
        values = {}
        for name, (value, hint) in variants.items():
            values[name] = _evaluate(value)
            self.hints[test][name] = str(hint)
        names = [n for n, v in values.items() if v is not None]
        right = {n: _same(values[n], truth, rtol, atol) for n in names}
        for i, a in enumerate(names):
            pair = self.checks[test][(a, "")]  # "" stands for the expected value
            pair[0] += 1
            pair[1] += right[a]
            for b in names[i + 1:]:
                if right[a] or right[b]:
                    continue  # a variant equal to the truth is silent here, not confusable
                pair = self.checks[test][(a, b)]
                pair[0] += 1
                pair[1] += _same(values[a], values[b], rtol, atol)

    def findings(self) -> dict[str, dict[str, list]]:
        """Per test: pairs with different hints alike on every check, and silent variants."""
        out: dict[str, dict[str, list]] = {}
        for test, pairs in self.checks.items():
            hints = self.hints[test]
            alike = [[a, b] for (a, b), (n, same) in pairs.items()
                     if b and n and same == n and hints.get(a) != hints.get(b)]
            silent = [a for (a, b), (n, same) in pairs.items() if not b and n and same == n]
            if alike or silent:
                out[test] = {"indistinguishable": alike, "equal_to_expected": silent}
        return out


@contextlib.contextmanager
def recording(log: VariantLog) -> Iterator[None]:
    """Observe every ``assert_close`` call while active (``proctor.asserts.observing``)."""

    def observe(expected: Any, variants: Any, tol: Any) -> None:
        try:
            log.observe(expected, variants, tol)
        except Exception:  # observing must never change a verdict
            pass

    with proctor.asserts.observing(observe):
        yield
