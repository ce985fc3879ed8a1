"""Class dashboard: one self-contained HTML page summarising many graded submissions.

For the instructor, not the students: it shows what the class got wrong (pass rates per
task and per test, the most frequent hints, efficiency verdicts) and which submissions
need a human look (errors, timeouts, notebooks that failed to load, unreadable results).

    results = load_results(Path("graded/"))          # every **/result.json below graded/
    build_dashboard(results, Path("graded/dashboard.html"))

A batch over several assignments also writes a course overview (``build_course_dashboard``):
each assignment's numbers, linking its own dashboard, and every student's scores across
them, matched by the identity each LMS reader gives.

It shares ``base.html.j2`` and ``style.css`` with the feedback page (proctor.feedback).
Nothing here knows about a particular assignment.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import proctor
from proctor.atomic import write_text
from proctor.result import load_notes
from proctor.feedback import svg
from proctor.feedback.fixes import points_text, what_to_fix
from proctor.feedback.render import (
    fraction,
    make_environment,
    status_view,
)

log = logging.getLogger(__name__)

SOURCE = "_source"  # key load_results adds: the result.json path the dict came from
ERROR = "_error"    # key of a placeholder for a result.json that could not be read

PROBLEM_STATUSES = ("error", "timeout")


def load_results(directory: Path) -> list[dict]:
    """Every ``**/result.json`` under ``directory``, sorted by path.

    Each dict gets ``"_source"`` (the file's path). A file that is not valid JSON or not a
    result object does not stop the run: it comes back as ``{"_source": ..., "_error": ...}``,
    which the dashboard lists as a warning row, and a warning is logged.
    """
    out: list[dict] = []
    for path in sorted(Path(directory).rglob("result.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or not isinstance(data.get("tests", []), list):
                raise TypeError("not a proctor result object")
        except (OSError, UnicodeDecodeError, ValueError, TypeError) as exc:
            log.warning("skipping unreadable result %s: %s", path, exc)
            out.append({SOURCE: str(path), ERROR: f"{type(exc).__name__}: {exc}"})
            continue
        data[SOURCE] = str(path)
        out.append(data)
    return out


def is_corrupt(result: dict) -> bool:
    """True for the placeholders load_results makes for unreadable files."""
    return ERROR in result


def submission_name(result: dict) -> str:
    """The submission's name, or its folder's name when the result does not say."""
    if result.get("submission"):
        return str(result["submission"])
    if result.get(SOURCE):
        return Path(result[SOURCE]).parent.name
    return "?"


def percent(result: dict) -> float:
    """The result's score as a percentage of its maximum (0 when there is no maximum)."""
    return 100.0 * fraction(result.get("score"), result.get("max_score"))


def _relative_href(href: str | None, base: Path) -> str | None:
    """A link usable from the dashboard's folder, or None.

    Only local links are kept: a path relative to the dashboard, or an absolute file path
    (turned into a relative one). Anything with a scheme or host is dropped, so the page
    never points off the machine.
    """
    if not href:
        return None
    parts = urlsplit(href)
    if parts.scheme or parts.netloc:
        return None
    if os.path.isabs(href):
        href = os.path.relpath(href, base)
    return quote(Path(href).as_posix())


def _feedback_href(result: dict, links: dict[str, str], base: Path) -> str | None:
    """The submission's feedback page: from ``links`` if given, else a feedback.html that
    sits next to its result.json."""
    name = submission_name(result)
    if name in links:
        return _relative_href(links[name], base)
    src = result.get(SOURCE)
    if src:
        candidate = Path(src).parent / "feedback.html"
        if candidate.is_file():
            return _relative_href(str(candidate.resolve()), base.resolve())
    return None


def dashboard_context(
    results: list[dict],
    out_dir: Path,
    feedback_links: dict[str, str] | None = None,
) -> dict[str, Any]:
    """All the numbers the dashboard shows, computed from the result dicts."""
    links = feedback_links or {}
    good = [r for r in results if not is_corrupt(r)]
    corrupt = [{"source": r.get(SOURCE, "?"), "error": r[ERROR]} for r in results if is_corrupt(r)]
    percents = [percent(r) for r in good]
    bins = svg.histogram_bins(percents)

    # Per task: how many submissions got full marks, and the average fraction.
    task_fracs: dict[str, list[float]] = defaultdict(list)
    task_max: dict[str, Any] = {}
    for r in good:
        tasks = r.get("tasks")
        for task_id, info in (tasks.items() if isinstance(tasks, dict) else ()):
            if isinstance(info, dict):
                task_fracs[task_id].append(fraction(info.get("score"), info.get("max_score")))
                task_max.setdefault(task_id, info.get("max_score"))
    tasks = [
        {
            "id": task_id,
            "max_score": task_max.get(task_id),
            "n": len(fr),
            "full": sum(f >= 1 - 1e-9 for f in fr),
            "full_rate": sum(f >= 1 - 1e-9 for f in fr) / len(fr),
            "mean": sum(fr) / len(fr),
        }
        for task_id, fr in task_fracs.items()
    ]

    # Per test, keyed by test id; plus hints, efficiency verdicts and problem submissions.
    per_test: dict[str, dict[str, Any]] = {}
    hints: dict[str, dict[str, Any]] = {}
    verdicts: dict[str, Counter[str]] = defaultdict(Counter)
    problems = []
    misconceptions: dict[str, dict[str, Any]] = {}
    for r in good:
        name = submission_name(r)
        for n, fix in enumerate(what_to_fix(r), start=1):
            if not fix.explained:
                continue
            m = misconceptions.setdefault(fix.key, {"id": fix.key, "hint": fix.hint, "students": set(),
                                                    "tasks": set(), "points": [], "example": None})
            m["students"].add(name)
            m["tasks"].update(fix.tasks)
            m["points"].append(fix.points)
            href = _feedback_href(r, links, out_dir)
            if m["example"] is None and href:
                m["example"] = {"submission": name, "href": f"{href}#fix-{n}"}
        status_counts: Counter[str] = Counter()
        for t in r.get("tests") or []:
            if not isinstance(t, dict):
                continue
            tid = str(t.get("id") or t.get("name") or "?")
            status = str(t.get("status") or "unknown")
            status_counts[status] += 1
            row = per_test.setdefault(tid, {
                "id": tid, "name": str(t.get("name") or tid), "task": str(t.get("task") or "other"),
                "visibility": "public" if t.get("visibility") == "public" else "hidden",
                "n": 0, "statuses": Counter(),
            })
            row["n"] += 1
            row["statuses"][status] += 1
            hint = str(t.get("hint") or "").strip()
            if hint and status != "passed":
                h = hints.setdefault(hint, {"hint": hint, "count": 0, "students": set(), "tests": set()})
                h["count"] += 1
                h["students"].add(name)
                h["tests"].add(row["name"])
            eff = t.get("efficiency")
            if isinstance(eff, dict) and eff.get("verdict"):
                verdicts[tid][str(eff["verdict"])] += 1
        load = r.get("load")
        load_errors = [n.text() for n in load_notes(load) if n.is_error]
        if isinstance(load, dict) and load.get("problem") and not load_errors:  # could not run at all
            load_errors.append(str(load["problem"]))
        if load_errors or any(status_counts[s] for s in PROBLEM_STATUSES):
            problems.append({
                "submission": name,
                "errors": status_counts["error"],
                "timeouts": status_counts["timeout"],
                "load_errors": len(load_errors),
                "score": r.get("score"),
                "max_score": r.get("max_score"),
                "href": _feedback_href(r, links, out_dir),
            })

    tests = []
    for row in per_test.values():
        passed = row["statuses"]["passed"]
        tests.append({
            **row,
            "passed": passed,
            "rate": passed / row["n"],
            "statuses": [
                {**status_view(k), "count": c}
                for k, c in sorted(row["statuses"].items(), key=lambda kv: (kv[0] != "passed", kv[0]))
                if k != "passed"
            ],
        })
    tests.sort(key=lambda t: t["rate"])  # hardest first (stable: suite order among ties)
    hint_rows = sorted(
        (
            {"hint": h["hint"], "count": h["count"], "students": len(h["students"]),
             "tests": sorted(h["tests"])[:3], "more_tests": max(len(h["tests"]) - 3, 0)}
            for h in hints.values()
        ),
        key=lambda h: (-h["students"], -h["count"], h["hint"]),
    )
    efficiency = [
        {
            "test": per_test[tid]["name"],
            "id": tid,
            "total": sum(c.values()),
            "verdicts": [{"verdict": v, "count": n, "share": n / sum(c.values())}
                         for v, n in sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))],
        }
        for tid, c in verdicts.items()
    ]
    misconception_rows = sorted(
        ({"id": m["id"], "hint": m["hint"], "students": len(m["students"]), "tasks": sorted(m["tasks"]),
          "points": points_text(statistics.fmean(m["points"])), "example": m["example"]}
         for m in misconceptions.values()),
        key=lambda m: (-m["students"], -statistics.fmean(misconceptions[m["id"]]["points"]), m["hint"]))
    return {
        "misconceptions": misconception_rows,
        "n": len(good),
        "n_corrupt": len(corrupt),
        "mean": statistics.fmean(percents) if percents else None,
        "median": statistics.median(percents) if percents else None,
        "bins": bins,
        "histogram": svg.histogram(bins, uid="hist"),
        "tasks": tasks,
        "tests": tests,
        "hints": hint_rows,
        "efficiency": efficiency,
        "problems": sorted(problems, key=lambda p: p["submission"]),
        "corrupt": corrupt,
        "proctor_version": proctor.__version__,
        "assignments": sorted({str(r.get("assignment")) for r in good if r.get("assignment")}),
    }


def build_dashboard(
    results: list[dict],
    out_path: Path,
    *,
    feedback_links: dict[str, str] | None = None,
    title: str = "Class dashboard",
    template_dir: Path | None = None,
    course_page: str | None = None,
) -> Path:
    """Write the class dashboard to ``out_path`` (atomically) and return the path.

    ``feedback_links`` maps a submission name (the result's ``submission``) to its
    feedback page, relative to the dashboard's folder; without an entry, a ``feedback.html``
    next to the submission's ``result.json`` is linked. Remote URLs are never linked.
    ``template_dir`` lets a course override ``dashboard.html.j2`` (see proctor.feedback).
    ``course_page``: the course overview this assignment's page belongs to (a local link).
    """
    out_path = Path(out_path)
    context = dashboard_context(results, out_path.parent, feedback_links)
    env = make_environment(template_dir)
    html = env.get_template("dashboard.html.j2").render(
        title=title, course_page=_relative_href(course_page, out_path.parent), **context)
    return write_text(out_path, html)


# ------------------------------------------------------------------------- the course page


def course_dashboard_context(assignments: list[dict[str, Any]], out_dir: Path) -> dict[str, Any]:
    """The course overview's numbers. ``assignments``, in grading order (required ones
    first), are dicts with ``id``, ``title``, ``max_score``, ``requires`` (ids), ``folder``
    (its batch output, holding ``dashboard.html`` and each student's ``<key>/``) and
    ``results`` (its result dicts, each with the batch's ``student`` block). A student is
    one row across assignments by ``student.identity``; one without an identity gets a
    row per assignment."""
    out_dir = Path(out_dir)
    students: dict[str, dict[str, Any]] = {}
    views = []
    for a in assignments:
        good = [r for r in a["results"] if not is_corrupt(r)]
        graded = [r for r in good if not r.get("error")]
        percents = [percent(r) for r in graded]
        view = {"id": a["id"], "title": a["title"], "max_score": a["max_score"],
                "requires": list(a.get("requires") or ()), "submissions": len(good),
                "graded": len(graded), "not_graded": len(good) - len(graded),
                "mean": statistics.fmean(percents) if percents else None,
                "median": statistics.median(percents) if percents else None,
                "histogram": svg.histogram(svg.histogram_bins(percents), uid=f"hist-{a['id']}",
                                           title=f"{a['title']}: score distribution"),
                "href": _relative_href(str(Path(a["folder"]).resolve() / "dashboard.html"),
                                       out_dir.resolve())
                if (Path(a["folder"]) / "dashboard.html").is_file() else None,
                "built_on": _built_on(a, graded)}
        views.append(view)
        for r in good:
            student = r.get("student") or {}
            key = student.get("identity") or f"{a['id']}:{student.get('id') or submission_name(r)}"
            row = students.setdefault(key, {"identity": student.get("identity") or "",
                                            "name": "", "cells": {}})
            row["name"] = row["name"] or student.get("name") or str(student.get("id") or "")
            page = Path(a["folder"]) / str(student.get("key") or "") / "feedback.html"
            row["cells"][a["id"]] = {
                "score": None if r.get("error") else r.get("score"),
                "error": r.get("error"),
                "href": _relative_href(str(page.resolve()), out_dir.resolve())
                if student.get("key") and page.is_file() else None}
    total_max = sum(float(a["max_score"]) for a in assignments)
    rows = []
    for key, row in students.items():
        total = sum(float(c["score"] or 0.0) for c in row["cells"].values())
        rows.append({**row, "total": total, "percent": 100.0 * fraction(total, total_max),
                     "complete": all(a["id"] in row["cells"] and row["cells"][a["id"]]["score"]
                                     is not None for a in assignments)})
    rows.sort(key=lambda r: (r["name"].lower(), r["identity"]))
    totals = [r["percent"] for r in rows]
    bins = svg.histogram_bins(totals)
    return {
        "assignments": views, "students": rows, "n_students": len(rows),
        "complete": sum(r["complete"] for r in rows),
        "matched": sum(1 for r in rows if r["identity"]),
        "total_max": total_max,
        "mean": statistics.fmean(totals) if totals else None,
        "median": statistics.median(totals) if totals else None,
        "bins": bins, "histogram": svg.histogram(bins, uid="hist-course", title="Course totals",
                                   counted="students"),
        "proctor_version": proctor.__version__,
    }


def _built_on(assignment: dict[str, Any], graded: list[dict]) -> list[dict[str, Any]]:
    """Per required assignment: how many grades used the student's own work of it, how many
    a correct version because theirs was missing or unusable, and the tests that passed only
    on a correct version (a bug in the student's own work, graded in its own assignment)."""
    rows = []
    for dep in assignment.get("requires") or ():
        entries = [((r.get("dependencies") or {}).get(dep) or {}) for r in graded]
        own = sum(1 for e in entries if isinstance(e, dict) and e.get("own") and not e.get("problem"))
        rescued = sum(int(e.get("passed_only_with_correct") or 0) for e in entries if isinstance(e, dict))
        helped = sum(1 for e in entries if isinstance(e, dict) and int(e.get("passed_only_with_correct") or 0))
        rows.append({"id": dep, "own": own, "correct": len(graded) - own, "rescued": rescued,
                     "helped": helped})
    return rows


def build_course_dashboard(assignments: list[dict[str, Any]], out_path: Path, *,
                           title: str = "Course dashboard",
                           template_dir: Path | None = None) -> Path:
    """Write the course overview (each assignment, and every student across them) to
    ``out_path`` and return the path; see :func:`course_dashboard_context`."""
    out_path = Path(out_path)
    context = course_dashboard_context(assignments, out_path.parent)
    env = make_environment(template_dir)
    html = env.get_template("course_dashboard.html.j2").render(title=title, **context)
    return write_text(out_path, html)


__all__ = ["build_course_dashboard", "build_dashboard", "course_dashboard_context",
           "dashboard_context", "load_results"]
