"""Apply the course's late policy to a graded result, recording what was done and why.

The score is reduced; the result keeps ``late.raw_score`` so nothing about the original
grade is lost and an instructor can waive the penalty by hand.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from proctor.config import Assignment

__all__ = ["apply_late"]


def apply_late(result: dict[str, Any], assignment: Assignment, submitted_at: datetime | None, *,
               late_marker: bool = False, marker_days: float | None = 1.0) -> dict[str, Any]:
    """Return ``result`` with ``late`` = {submitted_at, days_late, penalty_fraction,
    raw_score} and ``score`` reduced by ``assignment.late.penalty(submitted_at, due)``.

    Canvas only says "late" (``late_marker``) without a time: the submission is then
    charged as ``marker_days`` late (default one started day, the policy's minimum), or
    not at all when ``marker_days`` is None. A naive ``submitted_at`` (Moodle's worksheet
    has no zone) is read in the due date's time zone.
    """
    raw = float(result.get("score", 0.0))
    due: datetime = assignment.due
    late: dict[str, Any] = {"submitted_at": None, "days_late": None,
                            "penalty_fraction": 0.0, "raw_score": raw}
    when = submitted_at
    if when is not None and when.tzinfo is None:
        when = when.replace(tzinfo=due.tzinfo)
        late["note"] = "submission time had no time zone; read in the due date's zone"
    if when is not None:
        late["submitted_at"] = when.isoformat()
        late["days_late"] = round(max(0.0, (when - due) / timedelta(days=1)), 4)
        late["penalty_fraction"] = float(assignment.late.penalty(when, due))
    elif late_marker:
        if marker_days is None:
            late["note"] = "marked late by the LMS without a time; no penalty applied"
        else:
            late["days_late"] = float(marker_days)
            late["penalty_fraction"] = float(
                assignment.late.penalty(due + timedelta(days=marker_days), due))
            late["note"] = (f"marked late by the LMS without a time; charged as "
                            f"{marker_days:g} day(s) late")
    else:
        late["note"] = "no submission time in this input; no late penalty applied"
    late["penalty"] = late["penalty_fraction"]  # the name proctor.feedback reads
    out = dict(result)
    out["late"] = late
    out["score"] = round(raw * (1.0 - late["penalty_fraction"]), 6)
    return out
