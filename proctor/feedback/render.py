"""Turn a result dict (the JSON in docs/architecture.md) into the student's feedback page.

The work is split in two so the security rule lives in Python, not in a template:

* ``feedback_context(result)`` builds plain view dicts. It applies the visibility rule
  (hidden tests keep only name, status, score, message and hint) *before* any template sees
  the data, so a course that overrides the templates cannot leak hidden inputs by accident:
  the raw result is never passed to the template.
* ``render_feedback`` renders ``feedback.html.j2`` with that context.

Nothing here knows about any particular assignment: tasks and tests are shown by the ids
and names the result carries.
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined

import proctor

from . import svg

PACKAGE_TEMPLATES = Path(__file__).parent / "templates"

# status -> (text shown, symbol). The symbol and the text mean the page never relies on
# color alone; unknown statuses are shown as they come, in neutral style.
STATUSES: dict[str, tuple[str, str]] = {
    "passed": ("passed", "✓"),
    "failed": ("failed", "✗"),
    "error": ("error", "!"),
    "timeout": ("timed out", "◷"),
}

# Diagnostic fields from proctor.asserts, in the order a student should read them.
DETAIL_FIELDS: list[tuple[str, str]] = [
    ("checked", "checked"),
    ("shape", "shape"),
    ("dtype", "dtype"),
    ("max_abs_err", "max abs error"),
    ("max_rel_err", "max rel error"),
    ("mismatch_fraction", "mismatched elements"),
    ("worst_index", "worst element index"),
    ("worst_actual", "worst element: yours"),
    ("worst_expected", "worst element: expected"),
]


# ---------------------------------------------------------------------------------------
# Jinja environment (shared with proctor.dashboard)
# ---------------------------------------------------------------------------------------

def make_environment(template_dir: Path | str | None = None) -> Environment:
    """Jinja environment over the course's templates (if any) and then the package's.

    A course overrides a page by putting a file of the same name (``feedback.html.j2``,
    ``dashboard.html.j2``, ``base.html.j2`` or ``style.css``) in ``template_dir``; anything
    it does not override falls back to the package copy. Autoescaping is always on.
    """
    loaders = [FileSystemLoader(str(template_dir))] if template_dir is not None else []
    loaders.append(FileSystemLoader(str(PACKAGE_TEMPLATES)))
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["num"] = fmt_num
    env.filters["pct"] = fmt_pct
    return env


def fmt_num(x: Any) -> str:
    """Scores and errors for people: 10.0 -> '10', 87.5 -> '87.5', 1.19312 -> '1.193'."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return "—" if x is None else str(x)
    if not math.isfinite(x):
        return str(x)
    if float(x).is_integer() and abs(x) < 1e15:
        return str(int(x))
    if abs(x) >= 1000:
        return f"{x:.1f}"
    return f"{x:.4g}"


def fmt_pct(fraction: Any) -> str:
    """0.25 -> '25%' (one decimal only when it matters)."""
    if not isinstance(fraction, (int, float)) or not math.isfinite(fraction):
        return "—"
    p = 100.0 * fraction
    return f"{p:.0f}%" if abs(p - round(p)) < 0.05 else f"{p:.1f}%"


def fraction(score: Any, max_score: Any) -> float:
    """score / max_score clamped to 0..1; 0 when there is no maximum."""
    try:
        s, m = float(score), float(max_score)
    except (TypeError, ValueError):
        return 0.0
    if not (math.isfinite(s) and math.isfinite(m)) or m <= 0:
        return 0.0
    return min(max(s / m, 0.0), 1.0)


def status_view(status: Any) -> dict[str, str]:
    """Text, symbol and css class for a status ('timeout' reads 'timed out')."""
    key = str(status or "unknown")
    text, symbol = STATUSES.get(key, (key, "?"))
    css = key if key in STATUSES else "unknown"
    return {"key": key, "text": text, "symbol": symbol, "css": css}


# ---------------------------------------------------------------------------------------
# View building
# ---------------------------------------------------------------------------------------

def is_public(test: dict) -> bool:
    """Only an explicit "public" counts: anything else (missing, typo) is treated as hidden."""
    return test.get("visibility") == "public"


def detail_rows(details: Any) -> list[tuple[str, str]]:
    """The diagnostics table: known fields first (formatted), then any extra fields."""
    if not isinstance(details, dict):
        return []
    rows: list[tuple[str, str]] = []
    for key, label in DETAIL_FIELDS:
        if key in details and details[key] is not None:
            v = details[key]
            if key == "mismatch_fraction":
                text = fmt_pct(v)
            elif isinstance(v, (list, tuple)):
                text = "(" + ", ".join(str(i) for i in v) + ")"
            else:
                text = fmt_num(v)
            rows.append((label, text))
    known = {k for k, _ in DETAIL_FIELDS}
    for key, v in details.items():
        if key not in known and v is not None:
            rows.append((key.replace("_", " "), fmt_num(v) if isinstance(v, (int, float)) else str(v)))
    return rows


def efficiency_view(eff: Any, uid: str, label: str) -> dict[str, Any] | None:
    """Plot plus the numbers behind it (also given as a table for screen readers)."""
    if not isinstance(eff, dict):
        return None
    metric = str(eff.get("metric") or "cost")
    slope = eff.get("slope")
    allowed = eff.get("allowed_slope")
    points = [
        {"size": svg.format_size(s), "value": svg.format_value(metric, v)}
        for s, v in zip(eff.get("sizes") or [], eff.get("values") or [])
        if isinstance(s, (int, float)) and isinstance(v, (int, float))
    ]
    ok = None
    if isinstance(slope, (int, float)) and isinstance(allowed, (int, float)):
        ok = slope <= allowed
    return {
        "svg": svg.efficiency_plot(eff, uid=uid, label=label),
        "metric": svg.metric_label(metric),
        "slope": slope,
        "allowed_slope": allowed,
        "verdict": eff.get("verdict"),
        "within_limit": ok,
        "points": points,
    }


def test_view(test: dict, index: int) -> dict[str, Any]:
    """What the template may show for one test; hidden tests lose everything but the basics.

    This is the security boundary: for hidden tests, ``details``, ``counterexample`` and
    ``efficiency`` (whose sizes and values describe the hidden inputs) are dropped here.
    """
    public = is_public(test)
    name = str(test.get("name") or test.get("id") or f"test {index + 1}")
    view: dict[str, Any] = {
        "anchor": f"test-{index + 1}",
        "id": str(test.get("id") or ""),
        "name": name,
        "public": public,
        "status": status_view(test.get("status")),
        "score": test.get("score"),
        "max_score": test.get("max_score"),
        "message": test.get("message") or "",
        "hint": test.get("hint") or "",
        "details": [],
        "counterexample": "",
        "efficiency": None,
    }
    if public:
        view["details"] = detail_rows(test.get("details"))
        view["counterexample"] = str(test.get("counterexample") or "")
        view["efficiency"] = efficiency_view(test.get("efficiency"), f"plot-{index + 1}", name)
    return view


def late_view(result: dict) -> dict[str, Any] | None:
    """The late penalty, if the result carries one.

    Reads ``result["late"]`` as written by ``proctor.lms.late.apply_late``:
    ``{"days_late": 2, "penalty_fraction": 0.2, "raw_score": 93.0, "note": ...}``
    (``penalty`` is accepted as a synonym of ``penalty_fraction``), or a bare top-level
    ``"late_penalty": 0.2``. Fractions are of the score. A zero penalty is not shown.
    """
    late = result.get("late")
    src: dict = late if isinstance(late, dict) else result
    penalty = src.get("penalty_fraction", src.get("penalty", src.get("late_penalty")))
    if not isinstance(penalty, (int, float)) or isinstance(penalty, bool) or penalty <= 0:
        return None
    return {
        "penalty": penalty,
        "days": src.get("days_late"),
        "raw_score": src.get("raw_score"),
        "note": str(src.get("note") or ""),
    }


def feedback_context(result: dict) -> dict[str, Any]:
    """Everything the feedback template needs, already filtered for visibility."""
    tests = [t for t in result.get("tests") or [] if isinstance(t, dict)]
    views = [test_view(t, i) for i, t in enumerate(tests)]

    # Tasks in the order the result lists them; tasks only named by tests come after.
    declared = _dict(result.get("tasks"))
    order = list(declared)
    for t in tests:
        task = str(t.get("task") or "other")
        if task not in order:
            order.append(task)
    tasks: list[dict[str, Any]] = []
    for task_id in order:
        members = [v for t, v in zip(tests, views) if str(t.get("task") or "other") == task_id]
        info = _dict(declared.get(task_id))
        score = info.get("score", sum(_num(v["score"]) for v in members))
        max_score = info.get("max_score", sum(_num(v["max_score"]) for v in members))
        tasks.append({
            "id": task_id,
            "anchor": f"task-{len(tasks) + 1}",
            "score": score,
            "max_score": max_score,
            "fraction": fraction(score, max_score),
            "tests": members,
            "passed": sum(v["status"]["key"] == "passed" for v in members),
        })

    counts: dict[str, int] = {}
    for v in views:
        counts[v["status"]["key"]] = counts.get(v["status"]["key"], 0) + 1

    load = _dict(result.get("load"))
    load_errors = [
        {"cell": e.get("cell"), "error": str(e.get("error") or "")}
        for e in load.get("errors") or []
        if isinstance(e, dict)
    ]
    score, max_score = result.get("score"), result.get("max_score")
    return {
        "assignment": str(result.get("assignment") or "assignment"),
        "submission": str(result.get("submission") or ""),
        "score": score,
        "max_score": max_score,
        "fraction": fraction(score, max_score),
        "late": late_view(result),
        "tasks": tasks,
        "status_counts": [
            {**status_view(k), "count": counts.get(k, 0)}
            for k in [*STATUSES, *sorted(set(counts) - set(STATUSES))]
            if counts.get(k, 0)
        ],
        "n_tests": len(views),
        "load_errors": load_errors,
        "skipped_lines": load.get("skipped_lines") or 0,
        "footer": {
            "isolation": result.get("isolation"),
            "proctor_version": result.get("proctor_version") or proctor.__version__,
            "seed": result.get("seed"),
            "duration_s": result.get("duration_s"),
        },
    }


def _dict(x: Any) -> dict:
    """x if it is a dict, else an empty one (results from disk may be malformed)."""
    return x if isinstance(x, dict) else {}


def _num(x: Any) -> float:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else 0.0


# ---------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------

def render_feedback(result: dict, *, template_dir: Path | None = None) -> str:
    """The student's feedback page for one result dict, as a self-contained HTML string.

    ``template_dir``: a course may override ``feedback.html.j2`` (or ``base.html.j2``,
    ``style.css``) by putting its own copy there; missing files fall back to the package's.
    Overriding templates receive the already-filtered context from ``feedback_context``,
    never the raw result, so hidden tests stay hidden whatever the template does.
    """
    env = make_environment(template_dir)
    return env.get_template("feedback.html.j2").render(**feedback_context(result))


def write_atomic(path: Path, text: str) -> Path:
    """Write text to path via a temp file in the same directory + os.replace, so a reader
    (a web server, the LMS upload) never sees a half-written page."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; the page is meant to be served/shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_feedback(result: dict, out_dir: Path, template_dir: Path | None = None) -> Path:
    """Render and write ``out_dir/feedback.html`` atomically; returns its path."""
    html = render_feedback(result, template_dir=template_dir)
    return write_atomic(Path(out_dir) / "feedback.html", html)


__all__ = [
    "feedback_context",
    "make_environment",
    "render_feedback",
    "write_feedback",
]
