"""The comparison tolerance a suite's ``tol`` fixture gives (from course.toml)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tolerance:
    """Comparison tolerance from course.toml: ``|a - e| <= atol + rtol * |e|``."""

    rtol: float
    atol: float
