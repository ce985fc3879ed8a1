"""The audit's outputs: a terminal table, ``audit.json`` and ``audit.html``.

The page uses the feedback pages' Jinja environment, skeleton and stylesheet
(``proctor.feedback.make_environment``), so it looks like them and is as self-contained.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from proctor.atomic import write_json, write_text

TEMPLATE = "audit.html.j2"


def _rate(x: float | None) -> str:
    return "-" if x is None else f"{x:.0%}"


def text_table(report: dict[str, Any]) -> str:
    """Per task: mutants, kill rate, hint rate, collateral, degenerate points; then checks."""
    lines = [f"audit of {report['assignment']}",
             f"  {'task':<20} {'mutants':>7} {'killed':>7} {'hinted':>7} {'collateral':>10} {'degenerate pts':>14}"]
    for r in report["tasks"]:
        lines.append(f"  {r['task']:<20} {r['mutants']:>7} {_rate(r['kill_rate']):>7} {_rate(r['hint_rate']):>7}"
                     f" {r['collateral']:>10g} {r['degenerate_points']:>14g}")
    lines.append("")
    for m in report["mutants"]:
        trouble = [w for w, bad in (("not killed", not m["killed"]), ("hint lacks " + repr(m["hint_words"]), not m["hinted"]),
                                    ("collateral " + ", ".join(f"{k} -{v:g}" for k, v in m["collateral"].items()),
                                     bool(m["collateral"]))) if bad]
        if trouble:
            lines.append(f"  mutant {m['name']} ({m['task']}): " + "; ".join(trouble))
    for d in report["degenerates"]:
        if d["paid"]:
            lines.append(f"  degenerate {d['name']}: paid {d['points']:g} by {len(d['paid'])} test(s)")
    vacuous = [t["test"] for t in report["tests"] if t["vacuous"]]
    if vacuous:
        lines.append(f"  {len(vacuous)} test(s) worth points fail no mutant (vacuous); see audit.html")
    alike = sum(len(v["indistinguishable"]) for v in report["indistinguishable"].values())
    if alike:
        lines.append(f"  {alike} pair(s) of hint variants are indistinguishable on a test's inputs; see audit.html")
    lines.append("")
    for c in report["checks"]:
        lines.append(f"  [{'ok' if c['ok'] else 'FAIL'}] {c['check']}: {c['value']} (required {c['threshold']})")
    t = report["timing"]
    lines.append(f"  {t['jobs']} gradings in {t.get('total_s', 0):g} s: parallel phase {t['parallel_s']:g} s "
                 f"on {t['workers']} workers, serial (timing) phase {t['serial_s']:g} s")
    lines.append("audit " + ("passed" if report["ok"] else "FAILED: the suite is below the thresholds in course.toml"))
    return "\n".join(lines)


def summary_line(report: dict[str, Any]) -> str:
    """One line for a course-wide audit: the verdict, and the checks that failed (or how
    many held), the mutants and the time."""
    failed = [f"{c['check']} {c['value']} (required {c['threshold']})" for c in report["checks"] if not c["ok"]]
    verdict = ("FAILED: " + "; ".join(failed)) if failed else f"passed: {len(report['checks'])} checks hold"
    return (f"{verdict} ({len(report['mutants'])} mutants, {len(report['degenerates'])} degenerates, "
            f"{report['timing'].get('total_s', 0):g} s)")


def html_page(report: dict[str, Any], template_dir: Path | None = None) -> str:
    from proctor.feedback import make_environment

    return make_environment(template_dir).get_template(TEMPLATE).render(r=report, title=f"Audit of {report['assignment']}")


def write_outputs(report: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    """Write ``audit.json`` and ``audit.html`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(out_dir / "audit.json", report)
    write_text(out_dir / "audit.html", html_page(report))
    return out_dir / "audit.json", out_dir / "audit.html"
