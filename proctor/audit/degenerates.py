"""Degenerate versions of each graded part, built on the course's own solution source.

Each one is the solution's text with a few lines appended (``degenerate_runtime.py``) that
replace one part, a function or ``Class.method``, by code that does no work: zeros of the
right shape, a constant, NaN, an echo of an input, random output, or a degenerate the
course declares (a function ``name(out, arguments)`` in its degenerates file). The
original still runs to learn the output's shape, either on the real arguments (its side
effects kept) or on deep copies (dropped). A *probe* raises instead: the tests it fails
are the tests that call the part. Everything runs in the sandbox, like a submission; the
hidden reference is never involved.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

KINDS = ("zeros", "constant", "nan", "echo", "random")
RUNTIME = Path(__file__).with_name("degenerate_runtime.py")


@dataclass(frozen=True)
class Degenerate:
    """One generated submission replacing ``part`` (of ``task``) by ``kind`` code."""

    name: str
    part: str
    task: str
    kind: str
    keep_effects: bool
    text: str


def _install(solution: str, part: str, kind: str, keep: bool, declared: str | None = None,
             declared_source: str = "") -> str:
    call = (f"_proctor_audit_install({part!r}, {kind!r}, {keep!r}"
            + (f", declared={declared})" if declared else ")"))
    extra = f"\n\n# ---- the course's declared degenerates\n{declared_source}\n" if declared else ""
    return f"{solution.rstrip()}\n\n\n{RUNTIME.read_text()}{extra}\n{call}\n"


def _effects(keep: bool) -> str:
    return "kept" if keep else "dropped"


def probes(solution: str, parts: dict[str, list[str]]) -> list[Degenerate]:
    """One submission per part whose part raises: the tests that fail call it."""
    return [Degenerate(f"probe {part}", part, task, "probe", False, _install(solution, part, "probe", False))
            for task, names in parts.items() for part in names]


def degenerates(solution: str, parts: dict[str, list[str]], *, effect_only: list[str] = (),
                declared: dict[str, str] | None = None, declared_source: str = "") -> list[Degenerate]:
    """Every degenerate of every part: each kind, with side effects kept and dropped.

    Parts in ``effect_only`` return nothing (their effect is the work), so their one
    degenerate does nothing at all. ``declared`` maps a function in ``declared_source``
    to the part it replaces.
    """
    task_of = {part: task for task, names in parts.items() for part in names}
    out = []
    for part, task in task_of.items():
        if part in effect_only:
            out.append(Degenerate(f"{part} does nothing", part, task, "noop", False,
                                  _install(solution, part, "noop", False)))
            continue
        for kind in KINDS:
            for keep in (True, False):
                out.append(Degenerate(f"{part} {kind}, effects {_effects(keep)}", part, task, kind, keep,
                                      _install(solution, part, kind, keep)))
    for fn, part in (declared or {}).items():
        for keep in (True, False):
            out.append(Degenerate(f"{part} {fn}, effects {_effects(keep)}", part, task_of[part], fn, keep,
                                  _install(solution, part, "declared", keep, fn, declared_source)))
    return out
