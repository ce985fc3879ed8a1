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

import functools
import json
import math
import re
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined

import proctor

from proctor.atomic import write_text

from proctor.result import load_notes

from . import svg
from .built_on import built_on_lines, test_note
from .fixes import Fix, points_text, what_to_fix

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

    One environment per directory, kept: it caches compiled templates (compiling them
    took 80% of writing a student's feedback in a batch) and recompiles any whose file
    changes.
    """
    return _environment(None if template_dir is None else str(Path(template_dir).resolve()))


@functools.lru_cache(maxsize=16)
def _environment(template_dir: str | None) -> Environment:
    loaders = [FileSystemLoader(template_dir)] if template_dir is not None else []
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
    env.filters["pts"] = points_text
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
        return f"{x:.6g}"
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


def is_series(x: Any) -> bool:
    """An efficiency-like measurement series: a dict with ``sizes`` and ``values`` lists."""
    return isinstance(x, dict) and isinstance(x.get("sizes"), list) and isinstance(x.get("values"), list)


def detail_rows(details: Any, message: str = "") -> list[tuple[str, str]]:
    """The diagnostics table: known fields first (formatted), then any extra fields.

    Extra fields that only repeat the message, and measurement series (drawn as plots
    instead), are left out; other nested values are shown as compact JSON.
    """
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
        if key in known or v is None or is_series(v):
            continue
        if isinstance(v, str) and v.strip() and v.strip() in message:
            continue
        if isinstance(v, (dict, list)):
            text = json.dumps(v, default=str)
            text = text if len(text) <= 300 else text[:299] + "…"
        elif isinstance(v, (int, float)):
            text = fmt_num(v)
        else:
            text = str(v)
        rows.append((str(key).replace("_", " "), text))
    return rows


_WORD = re.compile(r"^[a-z][a-z0-9 _-]{0,31}$")


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def measurement(eff: Any) -> dict[str, Any] | None:
    """Only the numbers and short labels of an efficiency dict.

    This is what a hidden test may show: sizes, measured values, slopes and a one-word
    verdict. Free text (a metric or verdict that is not a short lowercase word) is dropped,
    so nothing but measurements of the student's own code can get through.
    """
    if not is_series(eff):
        return None
    pairs = [(s, v) for s, v in zip(eff["sizes"], eff["values"]) if _number(s) and _number(v)]
    metric, verdict = eff.get("metric"), eff.get("verdict")
    return {
        "metric": metric if isinstance(metric, str) and _WORD.match(metric) else "cost",
        "sizes": [s for s, _ in pairs],
        "values": [v for _, v in pairs],
        "slope": eff.get("slope") if _number(eff.get("slope")) else None,
        "allowed_slope": eff.get("allowed_slope") if _number(eff.get("allowed_slope")) else None,
        "verdict": verdict if isinstance(verdict, str) and _WORD.match(verdict) else None,
    }


def efficiency_view(eff: Any, uid: str, label: str) -> dict[str, Any] | None:
    """Plot plus the numbers behind it (also given as a table for screen readers)."""
    m = measurement(eff)
    if m is None:
        return None
    slope, allowed = m["slope"], m["allowed_slope"]
    return {
        "uid": uid,
        "svg": svg.efficiency_plot(m, uid=uid, label=label),
        "metric": svg.metric_label(m["metric"]),
        "slope": slope,
        "allowed_slope": allowed,
        "verdict": m["verdict"],
        "within_limit": None if slope is None or allowed is None else slope <= allowed,
        "points": [{"size": svg.format_size(s), "value": svg.format_value(m["metric"], v)}
                   for s, v in zip(m["sizes"], m["values"])],
    }


def strip_hint_line(message: str, hint: str) -> str:
    """Drop a "Hint: ..." line from the message when it repeats the hint shown beside it."""
    if not hint:
        return message
    lines = message.splitlines()
    kept = [ln for ln in lines
            if not (ln.strip().lower().startswith("hint:") and ln.strip()[5:].strip() == hint.strip())]
    return "\n".join(kept).strip() if len(kept) != len(lines) else message


def test_view(test: dict, index: int, *, hidden_plots: bool = True) -> dict[str, Any]:
    """What the template may show for one test. This is the security boundary.

    Public tests show everything. Hidden tests show their name, status, score, message
    and hint -- never ``details`` or ``counterexample`` (which could describe the hidden
    inputs). Their efficiency measurements (sizes, the student's own measured values,
    slope, a one-word verdict: see ``measurement``) are plotted unless ``hidden_plots`` is
    False, because the efficiency checks are usually hidden and the plot is the feedback.
    """
    public = is_public(test)
    name = str(test.get("name") or test.get("id") or f"test {index + 1}")
    hint = str(test.get("hint") or "")
    message = strip_hint_line(str(test.get("message") or ""), hint)
    uid = f"plot-{index + 1}"
    view: dict[str, Any] = {
        "anchor": f"test-{index + 1}",
        "id": str(test.get("id") or ""),
        "name": name,
        "public": public,
        "status": status_view(test.get("status")),
        "score": test.get("score"),
        "max_score": test.get("max_score"),
        "message": message,
        "hint": hint,
        "details": [],
        "counterexample": "",
        "example": [],
        "plots": [],
    }
    plots = []
    if public or hidden_plots:
        plots.append(efficiency_view(test.get("efficiency"), uid, name))
    if public:
        details = test.get("details")
        view["details"] = detail_rows(details, message)
        view["example"] = example_view(test.get("example"))
        # the raw Hypothesis text only when the inputs could not be shown by name
        view["counterexample"] = "" if view["example"] else str(test.get("counterexample") or "")
        if isinstance(details, dict):  # extra series a suite recorded (e.g. time beside memory)
            plots += [efficiency_view(v, f"{uid}-{i}", f"{name} ({k})")
                      for i, (k, v) in enumerate(details.items()) if is_series(v)]
    view["plots"] = [p for p in plots if p is not None]
    return view


def load_view(load: dict, *, all_passed: bool = False) -> dict[str, Any]:
    """Loading problems and notes, read through ``proctor.result.load_notes`` (the one
    schema). Errors go in the problems section; notes (nothing wrong, e.g. an nbgrader test
    cell that is not run) are shown as notes. So is an error that cost nothing: when every
    test passed, a half-finished demo cell that raised is worth a line, not an alarm.
    Tracebacks only contain the student's own frames, so they are shown."""
    notes = load_notes(load)
    restarts = load.get("restarts")
    problem = str(load.get("problem") or "")
    costless = all_passed and not problem
    errors = [{"where": n.where or "—", "error": ": ".join(x for x in (n.type, n.message) if x),
               "line": n.line, "traceback": n.traceback}
              for n in notes if n.is_error and not costless and not (problem and n.message == problem)]
    return {
        "problem": problem,
        "errors": errors,
        "notes": [n.text() + (" (it cost no points)" if n.is_error else "")
                  for n in notes if not n.is_error or costless],
        "skipped_lines": load.get("skipped_lines") or 0,
        "restarts": restarts if _number(restarts) else 0,
    }


def _array_text(value: dict) -> str:
    import numpy as np

    floats = str(value.get("dtype", "")).startswith("float")
    arr = np.asarray(value["values"], dtype=float if floats else None)
    return np.array2string(arr, separator=", ", max_line_width=90,
                           formatter={"float_kind": lambda v: f"{v:.4g}"})


def _value_text(value: Any) -> tuple[str, int]:
    """A value as NumPy would print it, and how many numbers it holds: arrays (also inside
    lists, e.g. a list of (keys, values) chunks), else JSON."""
    if isinstance(value, dict) and "shape" in value:
        if "values" not in value:
            return f"({value.get('dtype', '')} array of shape {tuple(value['shape'])}, too big to show)", 0
        return _array_text(value), math.prod(value["shape"] or [1])
    if isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        parts = [_value_text(v) for v in value]
        return "[" + ",\n ".join(t for t, _ in parts) + "]", sum(n for _, n in parts)
    return (value if isinstance(value, str) else json.dumps(value)), 1


def example_view(example: Any) -> list[dict[str, Any]]:
    """A failing input as named values, each printed as NumPy prints it, with its shape;
    values of more than 12 numbers fold (``long``)."""
    if not isinstance(example, dict):
        return []
    rows = []
    for name, value in example.items():
        shape = ""
        if isinstance(value, dict) and isinstance(value.get("shape"), list):
            dims = value["shape"]
            shape = "(" + ", ".join(str(n) for n in dims) + ("," if len(dims) == 1 else "") + ")"
        text, count = _value_text(value)
        # a long text (an object's printed form: weights of several layers) folds like an array
        rows.append({"name": str(name), "shape": shape, "text": text, "long": count > 12 or len(text) > 240})
    return rows


_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z`(\"'])")


def sentences(text: str) -> list[str]:
    return [x for x in _SENTENCE.split(" ".join(text.split())) if x]


def _beyond(hint: str, shown: set[str]) -> str:
    """The sentences of ``hint`` not already on the page ("" if none): a check that runs
    another task's code adds a note to the same misconception's advice, and a localisation
    adds where the error is."""
    return " ".join(x for x in sentences(hint) if x not in shown)


def zero_point_reason(test: dict, tests: list[dict], local: bool) -> str:
    """Why a check is worth nothing: it is feedback, its task's points are in other tests."""
    task = test.get("task")
    paid = [t for t in tests if t.get("task") == task and _num(t.get("max_score")) > 0]
    hidden = sum(not is_public(t) for t in paid)
    if local or not paid:
        where = f"the hidden tests of {task}, in the official grade"
    elif hidden == len(paid):
        where = f"the {hidden} hidden tests of {task}"
    else:
        where = f"the other {len(paid)} tests of {task}" + (f" ({hidden} of them hidden)" if hidden else "")
    return f"Feedback only (0 points): the points for this are in {where}."


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


def fix_views(fixes: list[Fix], views_by_id: dict[int, dict]) -> list[dict[str, Any]]:
    """The "What to fix" entries: advice, task and points, covered tests, one input."""
    out = []
    said: dict[str, int] = {}  # sentence -> the entry that says it: each is said once
    for n, fix in enumerate(fixes, start=1):
        fresh = [x for x in sentences(fix.hint) if x not in said]
        same_as = min((said[x] for x in sentences(fix.hint) if x in said), default=None) if not fresh else None
        said.update({x: n for x in fresh})
        example = fix.example_test()
        members = [views_by_id[id(t)] for t in fix.tests if id(t) in views_by_id]
        out.append({
            "number": n,
            "anchor": f"fix-{n}",
            "ids": fix.ids,
            "hint": " ".join(fresh),
            "same_as": same_as,
            "explained": fix.explained,
            "tasks": fix.tasks,
            "points": fix.points,
            "tests": [{"name": v["name"], "anchor": v["anchor"]} for v in members],
            "example_test": views_by_id[id(example)]["name"] if example is not None else "",
            "example_checked": str(_dict(example.get("details")).get("checked") or "") if example is not None else "",
            "example": example_view(example.get("example")) if example is not None else [],
            "hidden_only": all(not v["public"] for v in members),
        })
    return out


def feedback_context(result: dict, *, hidden_plots: bool = True) -> dict[str, Any]:
    """Everything the feedback template needs, already filtered for visibility.

    The raw result is not included: fields a template may show are copied one by one
    (the student's captured ``output`` is deliberately left out: it could print the
    inputs of hidden tests).
    """
    tests = [t for t in result.get("tests") or [] if isinstance(t, dict)]
    views = [test_view(t, i, hidden_plots=hidden_plots) for i, t in enumerate(tests)]
    official = _dict(result.get("official_points"))
    local = bool(official)

    # What to fix first; every failure points at its entry, and each hint is shown once.
    fixes = what_to_fix({"tests": tests})
    views_by_id = {id(t): v for t, v in zip(tests, views)}
    fix_list = fix_views(fixes, views_by_id)
    shown = {x for f in fix_list for x in sentences(f["hint"])}
    for fix, fv in zip(fixes, fix_list):
        for t in fix.tests:
            v = views_by_id[id(t)]
            v["fix"] = {"number": fv["number"], "anchor": fv["anchor"]}
            v["hint_extra"] = _beyond(v["hint"], shown)
            v["show_hint"] = bool(v["hint_extra"])
            shown.update(sentences(v["hint_extra"]))
    for t, v in zip(tests, views):
        v["built_on"] = test_note(t, result)
        v.setdefault("fix", None)
        v.setdefault("show_hint", False)
        v.setdefault("hint_extra", v["hint"])
        v["failing"] = v["status"]["key"] != "passed"
        v["zero_reason"] = (zero_point_reason(t, tests, local)
                            if v["failing"] and _num(t.get("max_score")) == 0 else "")

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
            "failures": [v for v in members if v["failing"]],
            "passes": [v for v in members if not v["failing"]],
            "passed": sum(v["status"]["key"] == "passed" for v in members),
            # a local check runs no test of this task: its points are all in the official grade
            "official_only": (_num(official.get(task_id)) if local and not _num(max_score) and not members
                              else None),
        })

    counts: dict[str, int] = {}
    for v in views:
        counts[v["status"]["key"]] = counts.get(v["status"]["key"], 0) + 1

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
        "fixes": fix_list,
        "n_failing": sum(v["failing"] for v in views),
        "local": local,
        "built_on": built_on_lines(result),
        "load": load_view(_dict(result.get("load")), all_passed=bool(views) and not any(v["failing"] for v in views)),
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

def render_feedback(result: dict, *, template_dir: Path | None = None,
                    hidden_plots: bool = True) -> str:
    """The student's feedback page for one result dict, as a self-contained HTML string.

    ``template_dir``: a course may override ``feedback.html.j2`` (or ``base.html.j2``,
    ``style.css``) by putting its own copy there; missing files fall back to the package's.
    Overriding templates receive the already-filtered context from ``feedback_context``,
    never the raw result, so hidden tests stay hidden whatever the template does.
    ``hidden_plots=False`` also hides the efficiency plots of hidden tests (see test_view).
    """
    env = make_environment(template_dir)
    context = feedback_context(result, hidden_plots=hidden_plots)
    return env.get_template("feedback.html.j2").render(**context)


def write_feedback(result: dict, out_dir: Path, template_dir: Path | None = None, *,
                   hidden_plots: bool = True) -> Path:
    """Render and write ``out_dir/feedback.html`` atomically; returns its path."""
    html = render_feedback(result, template_dir=template_dir, hidden_plots=hidden_plots)
    return write_text(Path(out_dir) / "feedback.html", html)


__all__ = [
    "feedback_context",
    "make_environment",
    "render_feedback",
    "write_feedback",
]
