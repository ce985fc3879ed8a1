"""What to fix: a result's failures grouped by misconception, most points at stake first.

Shared by the feedback page, the terminal summary and the class dashboard, so all three
list the same mistakes in the same order. A failure's group is its ``misconception`` id
(the known-wrong variant that matched, or a diagnosis such as ``error:NameError``); a
failure with none is grouped with the other unexplained failures of its task. Groups
whose advice reads the same are one mistake to the student, so they merge.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

FAILING = ("failed", "error", "timeout")


def points_text(x: Any, digits: int = 1) -> str:
    """Points for people: at most ``digits`` decimals, none when whole (1.4706 -> '1.5',
    10.0 -> '10'; a total keeps two: 33.75). The JSON keeps full precision."""
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
        return "—" if x is None else str(x)
    r = round(float(x), digits)
    if r == 0 and x > 0:
        return f"{x:.2g}"
    return str(int(r)) if r.is_integer() else f"{r:.{digits}f}".rstrip("0")


@dataclass
class Fix:
    """One misconception: its advice, the failing tests it explains and what they cost."""

    key: str
    hint: str
    ids: list[str] = field(default_factory=list)
    tests: list[dict[str, Any]] = field(default_factory=list)

    @property
    def points(self) -> float:
        return sum(_lost(t) for t in self.tests)

    @property
    def tasks(self) -> list[str]:
        return list(dict.fromkeys(str(t.get("task") or "other") for t in self.tests))

    @property
    def explained(self) -> bool:
        """True when a known misconception (not only a description of the error) names it."""
        return not self.key.startswith("unexplained:")

    def example_test(self) -> dict[str, Any] | None:
        """The public failing test with the smallest recorded input, if any has one."""
        shown = [t for t in self.tests if t.get("visibility") == "public" and isinstance(t.get("example"), dict)]
        return min(shown, key=lambda t: (_size(t["example"]), -_lost(t)), default=None)


def failing_tests(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for t in result.get("tests") or [] if isinstance(t, dict) and t.get("status") in FAILING]


def group_key(test: dict[str, Any]) -> str:
    name = test.get("misconception")
    return str(name) if name else f"unexplained:{test.get('task') or 'other'}"


def what_to_fix(result: dict[str, Any]) -> list[Fix]:
    """Each distinct misconception once, ordered by the points at stake (then page order)."""
    fixes: dict[str, Fix] = {}
    for test in failing_tests(result):
        key = group_key(test)
        fixes.setdefault(key, Fix(key=key, hint="", ids=[key])).tests.append(test)
    for fix in fixes.values():  # the advice most of its tests give, the plainest on a tie
        hints = [str(t.get("hint") or "").strip() for t in fix.tests]
        fix.hint = min((h for h in hints if h), key=lambda h: (-hints.count(h), len(h)), default="")
    for fix in fixes.values():  # the advice of the test that costs most, for unexplained groups
        if not fix.explained:
            best = max(fix.tests, key=lambda t: (_lost(t), bool(t.get("hint"))))
            fix.hint = str(best.get("hint") or "").strip()
            fix.tests.sort(key=lambda t: t is not best)
    merged: dict[str, Fix] = {}
    for fix in fixes.values():
        same = merged.get(fix.hint) if fix.hint and fix.explained else None
        if same is not None and same.explained:
            same.ids += fix.ids
            same.tests += fix.tests
        else:
            merged[fix.hint if fix.hint and fix.explained else fix.key] = fix
    order = list(merged.values())
    return sorted(order, key=lambda f: (-round(f.points, 6), not f.explained, order.index(f)))


def _lost(test: dict[str, Any]) -> float:
    try:
        return max(float(test.get("max_score") or 0) - float(test.get("score") or 0), 0.0)
    except (TypeError, ValueError):
        return 0.0


def _size(example: dict[str, Any]) -> int:
    """How many numbers an example holds (smaller reads better)."""
    def count(v: Any) -> int:
        if isinstance(v, dict):
            return count(v["values"]) if "values" in v else math.prod(v.get("shape") or [1])
        if isinstance(v, list):
            return sum(count(x) for x in v)
        return 1
    return sum(count(v) for v in example.values())
