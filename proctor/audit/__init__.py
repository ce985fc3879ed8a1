"""``proctor audit ASSIGNMENT``: does the suite pay only for correct work, and catch mistakes?

The suite is graded against the reference notebook (full marks), the released stub
(zero), correct alternatives (full marks), the course's mutants (each loses points in
its own task only, with a hint that names the bug) and degenerate versions of each graded
part built on the course's solution (paid nothing in their task). The figures and the
verdict against course.toml's thresholds come back as one JSON-able dict; see
``report`` for the terminal table, audit.json and audit.html.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from proctor.audit import judge
from proctor.audit.corpus import Corpus, load_corpus
from proctor.audit.degenerates import degenerates, probes
from proctor.audit.run import Job, run_jobs, split_suite
from proctor.errors import ProctorError

if TYPE_CHECKING:
    from proctor.config import Assignment

__all__ = ["run_audit"]


def _stub(assignment: Assignment, workdir: Path) -> Path:
    from proctor.release import release_assignment

    released = release_assignment(assignment, workdir / "release")
    return next(p for p in released if p.suffix == ".ipynb")


def _write(workdir: Path, group: str, name: str, text: str) -> Path:
    path = workdir / group / (name.replace(" ", "_").replace(",", "").replace("/", "_") + ".py")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _corpus_jobs(corpus: Corpus | None, group: str, workdir: Path) -> list[Job]:
    if corpus is None:
        return []
    return [Job(f"{group} {e.name}", group, _write(workdir, group, e.name, e.text),
                meta={"name": e.name, "what": e.what, "task": e.task, "shared": list(e.shared), "hint": e.hint})
            for e in corpus.entries]


def run_audit(assignment: Assignment, *, workers: int = 2, isolation: str | None = None, keep: Path | None = None,
              progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run the whole audit of ``assignment`` (which must have an ``[audit]`` table)."""
    settings = assignment.audit
    if settings is None:
        raise ProctorError(f"assignment {assignment.id!r} has no [assignments.{assignment.id}.audit] table "
                           "in course.toml; see the header of course.toml for its keys")
    for key in ("solution", "mutants", "alternatives", "degenerates"):
        path = getattr(settings, key)
        if path is not None and not Path(path).exists():
            raise ProctorError(f"assignments.{assignment.id}.audit.{key}: {path} does not exist")
    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="proctor-audit-"))
    try:
        report = _audit(assignment, settings, workdir, workers, isolation, progress)
        if keep is not None:
            shutil.copytree(workdir, keep, dirs_exist_ok=True, ignore=shutil.ignore_patterns("graders-*", "__pycache__"))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report["timing"]["total_s"] = round(time.perf_counter() - started, 1)
    return report


def _audit(assignment: Assignment, settings: Any, workdir: Path, workers: int, isolation: str | None,
           progress: Callable[[str], None] | None) -> dict[str, Any]:
    suite = split_suite(assignment.graders, settings.serial_tasks, workdir, assignment)
    solution_text = settings.solution.read_text()
    mutant_corpus = load_corpus(settings.mutants) if settings.mutants else None
    alternative_corpus = load_corpus(settings.alternatives) if settings.alternatives else None
    fixed = [Job("reference", "reference", assignment.notebook, record_variants=True),
             Job("stub", "stub", _stub(assignment, workdir)),
             Job("solution", "alternative", settings.solution, meta={"name": "solution", "what": "the course solution"})]
    if mutant_corpus is not None:
        fixed.append(Job("mutant base", "alternative", mutant_corpus.base,
                         meta={"name": "mutant base", "what": "the mutants' correct base"}))
    probe_jobs = [Job(d.name, "probe", _write(workdir, "probes", d.name, d.text), meta={"part": d.part})
                  for d in probes(solution_text, settings.parts)]
    first = run_jobs(assignment, suite, fixed + _corpus_jobs(alternative_corpus, "alternative", workdir)
                     + _corpus_jobs(mutant_corpus, "mutant", workdir) + probe_jobs,
                     workers=workers, isolation=isolation, progress=progress)
    graded = first.graded
    called = judge.calls({j.meta["part"]: graded[j.label] for j in probe_jobs}, graded["solution"])

    declared_source = settings.degenerates.read_text() if settings.degenerates else ""
    degenerate_jobs = [Job(d.name, "degenerate", _write(workdir, "degenerates", d.name, d.text),
                           serial=bool(suite.serial_tests & set(called[d.part])),
                           meta={"part": d.part, "task": d.task, "kind": d.kind,
                                 "effects": "kept" if d.keep_effects else "dropped"})
                       for d in degenerates(solution_text, settings.parts, effect_only=list(settings.effect_only),
                                            declared=settings.declared, declared_source=declared_source)]
    second = run_jobs(assignment, suite, degenerate_jobs, workers=workers, isolation=isolation, progress=progress)
    graded.update(second.graded)
    return _report(assignment, settings, suite, graded, called, first.variants,
                   {"parallel_s": round(first.parallel_s + second.parallel_s, 1),
                    "serial_s": round(first.serial_s + second.serial_s, 1),
                    "workers": workers, "jobs": len(graded)})


def _report(assignment: Assignment, settings: Any, suite: Any, graded: dict[str, Any], called: dict[str, list[str]],
            variants: dict[str, Any], timing: dict[str, Any]) -> dict[str, Any]:
    by_group: dict[str, list[Any]] = {}
    for g in graded.values():
        by_group.setdefault(g.job.group, []).append(g)
    degenerate_rows = []
    for g in by_group.get("degenerate", []):
        paid = judge.degenerate_pay(g, g.job.meta["task"], called[g.job.meta["part"]], settings.judged_tasks)
        degenerate_rows.append({"name": g.job.label, **g.job.meta, "paid": paid,
                                "points": round(sum(p["points"] for p in paid), 4)})
    mutant_rows = []
    for g in by_group.get("mutant", []):
        m = g.job.meta
        mutant_rows.append({"name": m["name"], "what": m["what"], "task": m["task"], "shared": m["shared"],
                            "hint_words": m["hint"], "problem": g.problem,
                            **judge.mutant_verdict(g, m["task"], tuple(m["shared"]), m["hint"])})
    alternatives = {g.job.meta["name"]: g for g in by_group.get("alternative", [])}
    tasks = list(assignment.points)
    rows = judge.per_task(tasks, mutant_rows, degenerate_rows)
    checks = judge.checks(settings.thresholds, reference=graded["reference"], stub=graded["stub"], rows=rows,
                          mutants=mutant_rows, alternatives=alternatives)

    def summary(g: Any) -> dict[str, Any]:
        return {"score": g.score, "max_score": round(sum(t["max_score"] for t in g.tasks.values()), 4),
                "problem": g.problem, "tasks": g.tasks,
                "failing": [{"test": nid, "status": t["status"], "message": t["message"][:200]}
                            for nid, t in g.tests.items() if t["status"] != judge.PASSED]}

    return {
        "assignment": assignment.id, "ok": all(c["ok"] for c in checks), "checks": checks, "tasks": rows,
        "reference": summary(graded["reference"]), "stub": summary(graded["stub"]),
        "alternatives": [{"name": name, "what": g.job.meta["what"], **summary(g)} for name, g in alternatives.items()],
        "mutants": mutant_rows, "degenerates": degenerate_rows, "calls": called,
        "tests": judge.test_table(suite.tests, graded["solution"], {g.job.label: g for g in by_group.get("mutant", [])},
                                  alternatives, degenerate_rows),
        "indistinguishable": variants, "timing": timing,
    }
