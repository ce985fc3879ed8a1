"""The ``proctor`` command.

Every subcommand loads the course from ``course.toml`` (``--course`` or the current
directory and its parents). Errors a user can fix are printed as one line, without a
traceback, with exit status 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable

from proctor import __version__
from proctor.errors import ProctorError

EXIT_OK, EXIT_CHECK_FAILED, EXIT_USAGE = 0, 1, 2


def _course(args: argparse.Namespace) -> Any:
    from proctor.config import load_course

    return load_course(args.course)


def _assignment(args: argparse.Namespace) -> Any:
    return _course(args).assignment(args.assignment)


def parse_with(pairs: list[str] | None) -> dict[str, Path]:
    """``--with ID=FILE`` options: the student's own work of each required assignment."""
    own: dict[str, Path] = {}
    for pair in pairs or []:
        aid, sep, file = pair.partition("=")
        if not sep or not aid.strip() or not file.strip():
            raise ProctorError(f"--with {pair}: expected ID=FILE, e.g. --with hw1=hw1.py")
        path = Path(file.strip())
        if not path.is_file():
            raise ProctorError(f"--with {pair}: {path} is not a file (give the student's .py or .ipynb)")
        own[aid.strip()] = path
    return own


# ---------------------------------------------------------------------------- grade
def summary_text(result: dict[str, Any], *, verbose: bool = False) -> str:
    """The terminal summary: :func:`proctor.feedback.summary.summary_text` (imported when
    first needed, so ``proctor --help`` stays quick)."""
    from proctor.feedback.summary import summary_text as text

    return text(result, verbose=verbose)


def output_folders(out: Path, submissions: list[Path]) -> list[Path]:
    """Where each submission's files go: ``out`` itself for one, else a folder per file,
    named by its stem (``alice``), or stem and type where stems repeat (``correct_ipynb``)."""
    if len(submissions) == 1:
        return [out]
    stems = [p.stem for p in submissions]
    return [out / (p.stem if stems.count(p.stem) == 1 else f"{p.stem}_{p.suffix.lstrip('.')}")
            for p in submissions]


def cmd_grade(args: argparse.Namespace) -> int:
    from proctor.sandbox.client import Sandbox

    paths = [Path(p) for p in args.submissions]
    for p in paths:
        if not p.is_file():
            raise ProctorError(f"{p}: no such file (give a .py or .ipynb submission)")
    written = []
    folders = output_folders(Path(args.out), paths) if args.out else [None] * len(paths)
    for folder in folders:
        if folder is not None:
            check_out_folder(folder)
    # The fork server starts first: it imports numpy in its own process while this one
    # imports pytest and Hypothesis and loads the course.
    with Sandbox(args.isolation).start() as sandbox:
        from proctor.runner import grade_submission

        from dataclasses import replace

        from proctor.dependencies import requirements

        course = _course(args)
        assignment = course.assignment(args.assignment)
        needs = tuple(replace(r, missing=f"none was given (--with {r.assignment}=FILE)") if r.own is None else r
                      for r in requirements(course, assignment, parse_with(args.with_)))
        for path, folder in zip(paths, folders):
            result = grade_submission(assignment, path, sandbox=sandbox, visibility=args.visibility,
                                      requirements=needs).to_dict()
            if args.json:  # JSON Lines: one object per submission, one per line
                print(json.dumps(result), flush=True)
            else:
                print(summary_text(result, verbose=args.verbose))
            if folder is not None:
                written.append(write_outputs(result, folder, getattr(assignment, "templates", None)))
    for where in written:
        print(f"feedback: {where}", file=sys.stderr if args.json else sys.stdout)
    return EXIT_OK


def check_out_folder(folder: Path) -> None:
    """Fail before grading, not after, if ``folder`` (or a parent) is an existing file."""
    for where in (folder, *folder.parents):
        if where.exists():
            if not where.is_dir():
                raise ProctorError(f"--out {folder}: {where} is a file; give a folder (created if missing)")
            return


def write_outputs(result: dict[str, Any], out_dir: Path, templates: Path | None = None) -> Path:
    """Write result.json and feedback.html into ``out_dir``; return the page's path.
    ``templates``: the course's, overriding the engine's feedback templates."""
    from proctor.feedback import write_feedback
    from proctor.atomic import write_json

    write_json(out_dir / "result.json", result)
    return write_feedback(result, out_dir, templates)


# ---------------------------------------------------------------------------- validate
def cmd_validate(args: argparse.Namespace) -> int:
    from proctor.validate import course_requirements, validate_assignment

    course = _course(args)
    if args.assignment:
        assignment = course.assignment(args.assignment)
        report = validate_assignment(assignment, isolation=args.isolation,
                                     requirements=course_requirements(course, assignment))
        print(report.text())
        return EXIT_OK if report.ok else EXIT_CHECK_FAILED
    failed = []  # every assignment, each required one first: one line each
    for aid in course.in_dependency_order():
        assignment = course.assignment(aid)
        report = validate_assignment(assignment, isolation=args.isolation,
                                     requirements=course_requirements(course, assignment))
        print(f"{aid}: {report.line()}", flush=True)
        for problem in report.problems:
            print(f"  problem: {problem}")
        if not report.ok:
            failed.append(aid)
    if failed:
        print(f"validation FAILED for {', '.join(failed)}")
    return EXIT_CHECK_FAILED if failed else EXIT_OK


# ---------------------------------------------------------------------------- release
def cmd_release(args: argparse.Namespace) -> int:
    from proctor.release import release_assignment

    assignment = _assignment(args)
    files = release_assignment(assignment, Path(args.out) if args.out else None)
    where = Path(args.out) if args.out else assignment.release_dir
    print(f"released {assignment.id} to {where}: " + ", ".join(sorted(f.name for f in files)))
    return EXIT_OK


# ---------------------------------------------------------------------------- check
def cmd_check(args: argparse.Namespace) -> int:
    from proctor.local_check import ProgressBar, feedback_templates, run_check

    path = Path(args.submission)
    out = Path(args.out) if args.out else path.resolve().parent
    check_out_folder(out)
    result = run_check(path, checks=Path(args.checks) if args.checks else None,
                       isolation=args.isolation, progress=ProgressBar(), own=parse_with(args.with_)).to_dict()
    print(summary_text(result, verbose=args.verbose))
    templates = feedback_templates(path, Path(args.checks) if args.checks else None)
    print(f"feedback: {write_outputs(result, out, templates)}")
    print("These are the public checks only; the official grade also runs hidden tests.")
    return EXIT_OK


# ---------------------------------------------------------------------------- batch, export, dashboard
def batch_work(tokens: list[str]) -> list[tuple[str, Path]]:
    """``proctor batch``'s positional arguments: ``ID INPUT`` (one assignment), or one
    ``ID=INPUT`` per assignment."""
    if len(tokens) == 2 and "=" not in tokens[0]:
        return [(tokens[0], Path(tokens[1]))]
    work = []
    for token in tokens:
        aid, sep, path = token.partition("=")
        if not sep or not aid.strip() or not path.strip():
            raise ProctorError(f"batch: {token!r} is not ID=INPUT; give `proctor batch ID INPUT` "
                               f"for one assignment, or ID=INPUT for each of several")
        work.append((aid.strip(), Path(path.strip())))
    return work


def per_assignment(values: list[str] | None, ids: list[str], option: str) -> dict[str, str]:
    """An option given per assignment: ``VALUE`` when one assignment is graded, else
    ``ID=VALUE`` (the option repeated, one per assignment)."""
    found: dict[str, str] = {}
    for value in values or []:
        aid, sep, rest = value.partition("=")
        if sep and aid.strip() in ids:
            found[aid.strip()] = rest.strip()
        elif len(ids) == 1:
            found[ids[0]] = value
        else:
            raise ProctorError(f"{option} {value}: with several assignments, give "
                               f"{option} ID=VALUE for each one that needs it ({', '.join(ids)})")
    return found


def cmd_batch(args: argparse.Namespace) -> int:
    from proctor.batch import run_batch
    from proctor.course_batch import read_required, run_course_batch

    course = _course(args)
    work = batch_work(args.work)
    ids = [aid for aid, _ in work]
    for aid in ids:
        course.assignment(aid)  # an unknown id: one line naming the known ones
    late_days = None if args.late_marker_days == "none" else float(args.late_marker_days)
    paths = {"moodle_worksheet": Path, "canvas_anonymous_map": Path, "canvas_assignment_id": str}
    mine: dict[str, dict[str, Any]] = {}
    for option, kind in paths.items():
        flag = "--" + option.replace("_", "-")
        for aid, value in per_assignment(getattr(args, option), ids, flag).items():
            mine.setdefault(aid, {})[option] = kind(value)
    options: dict[str, Any] = dict(
        workers=args.workers, scheduler=args.scheduler, resume=args.resume,
        progress=not args.no_progress, isolation=args.isolation, format=args.format,
        exports=[e for e in args.export.split(",") if e] if args.export else _default_exports(),
        late_marker_days=late_days, hidden_visibility=args.hidden_visibility,
        moodle_columns=args.moodle_columns,
        moodle_groups=Path(args.moodle_groups) if args.moodle_groups else None,
        nbgrader_course=Path(args.nbgrader_course) if args.nbgrader_course else None)
    with_inputs: dict[str, Path] = {}
    for value in args.with_ or []:
        aid, sep, path = value.partition("=")
        if not sep or not aid.strip() or not path.strip():
            raise ProctorError(f"--with {value}: expected ID=INPUT, an export of the required "
                               f"assignment ID")
        with_inputs[aid.strip()] = Path(path.strip())
    if len(work) == 1:  # one assignment: OUT keeps the one-assignment layout
        aid, input_path = work[0]
        given = read_required(course, ids, with_inputs, format=args.format,
                              moodle_columns=args.moodle_columns,
                              moodle_groups=options["moodle_groups"])
        summary: Any = run_batch(course.assignment(aid), input_path, Path(args.out), course=course,
                                 required={dep: found.entries for dep, found in given.items()},
                                 **options, **mine.get(aid, {}))
    else:
        summary = run_course_batch(course, work, Path(args.out), with_inputs=with_inputs,
                                   per_assignment=mine, **options)
    print(summary.report())
    return EXIT_CHECK_FAILED if summary.failed else EXIT_OK


def _default_exports() -> list[str]:
    from proctor.lms.outputs import EXPORTS

    return list(EXPORTS)


def cmd_export(args: argparse.Namespace) -> int:
    from proctor.gradescope_export import export_gradescope

    path = export_gradescope(_assignment(args), Path(args.out))
    print(f"wrote {path}: upload it as the assignment's autograder on Gradescope")
    return EXIT_OK


def cmd_dashboard(args: argparse.Namespace) -> int:
    from proctor.dashboard import build_dashboard, load_results

    if (Path(args.results) / "summary.json").is_file():
        from proctor.course_batch import course_results, write_course_dashboard

        columns = course_results(Path(args.results))
        if columns:  # a batch of several assignments: rebuild the course overview
            out = Path(args.out) if args.out else Path(args.results) / "dashboard.html"
            write_course_dashboard(out, _course(args), columns, Path(args.results))
            print(f"course dashboard: {out} ({', '.join(aid for aid, _ in columns)}; each "
                  f"assignment's own: proctor dashboard {Path(args.results)}/ID)")
            return EXIT_OK
    results = load_results(Path(args.results))
    if not results:
        raise ProctorError(f"{args.results}: no result.json files found")
    out = Path(args.out) if args.out else Path(args.results) / "dashboard.html"
    print(f"dashboard: {build_dashboard(results, out)} ({len(results)} results)")
    return EXIT_OK


# ---------------------------------------------------------------------------- audit
def cmd_audit(args: argparse.Namespace) -> int:
    from proctor.audit import run_audit
    from proctor.audit.report import summary_line, text_table, write_outputs

    course = _course(args)
    live = not args.quiet and sys.stderr.isatty()  # one rewritten line on a terminal only
    progress = (lambda line: print(f"\r\033[K{line[:100]}", end="", file=sys.stderr, flush=True)) if live else None

    def audit(assignment: Any, out: Path) -> dict[str, Any]:
        # (an assignment that builds on others is graded on correct versions of that work:
        # the runner's default, so the audit judges its own suite)
        report = run_audit(assignment, workers=args.workers or os.cpu_count() or 1, isolation=args.isolation,
                           keep=Path(args.keep) / assignment.id if args.keep and not args.assignment
                           else Path(args.keep) if args.keep else None, progress=progress)
        if progress is not None:
            print(file=sys.stderr)
        write_outputs(report, out)
        return report

    if args.assignment:
        assignment = course.assignment(args.assignment)
        out = Path(args.out) if args.out else Path("audit") / assignment.id
        report = audit(assignment, out)
        print(text_table(report))
        print(f"audit: {out / 'audit.html'} and audit.json")
        return EXIT_OK if report["ok"] else EXIT_CHECK_FAILED
    failed = []  # every assignment with an [audit] table, each required one first
    for aid in course.in_dependency_order():
        assignment = course.assignment(aid)
        if assignment.audit is None:
            print(f"{aid}: not audited (course.toml has no [assignments.{aid}.audit] table)")
            continue
        out = (Path(args.out) if args.out else Path("audit")) / aid
        report = audit(assignment, out)
        print(f"{aid}: {summary_line(report)}; {out / 'audit.html'}", flush=True)
        if not report["ok"]:
            failed.append(aid)
    if failed:
        print(f"audit FAILED for {', '.join(failed)}")
    return EXIT_CHECK_FAILED if failed else EXIT_OK


# ---------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="proctor", description="Grade ML-systems assignments in a sandbox, "
                                     "with feedback that explains every verdict.")
    parser.add_argument("--version", action="version", version=f"proctor {__version__}")
    parser.add_argument("--course", help="course.toml, or its directory (default: search from here upward)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, fn: Callable[[argparse.Namespace], int], help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(func=fn)
        return p

    p = add("grade", cmd_grade, "grade one or more .py/.ipynb submissions")
    p.add_argument("assignment")
    p.add_argument("submissions", nargs="+", metavar="SUBMISSION")
    p.add_argument("--json", action="store_true",
                   help="print results as JSON Lines: one object per submission, one per line")
    p.add_argument("--out", help="write result.json and feedback.html here (a folder per submission when several)")
    p.add_argument("--visibility", choices=("all", "public", "hidden"), default="all")
    p.add_argument("--isolation", choices=("bwrap", "unshare", "rlimits"),
                   help="sandbox level (default: the strongest that works here)")
    p.add_argument("-v", "--verbose", action="store_true", help="list passing tests too")
    p.add_argument("--with", dest="with_", action="append", metavar="ID=FILE",
                   help="the student's own work of an assignment this one requires (course.toml "
                        "`requires`), e.g. --with hw1=hw1.py; without it, a correct "
                        "version is used")

    p = add("validate", cmd_validate, "check the solution gets full marks and the released stub gets zero")
    p.add_argument("assignment", nargs="?", help="default: every assignment of the course, required ones first")
    p.add_argument("--isolation", choices=("bwrap", "unshare", "rlimits"))

    p = add("audit", cmd_audit, "judge the suite: reference, stub, correct alternatives, mutants and "
            "degenerate parts, against the thresholds in course.toml")
    p.add_argument("assignment", nargs="?", help="default: every assignment with an [audit] table, "
                   "required ones first, one line each")
    p.add_argument("--out", help="where to write audit.json and audit.html (default: audit/ASSIGNMENT; "
                   "for every assignment, OUT/ID)")
    p.add_argument("--workers", type=int, help="grading processes (default: all cores)")
    p.add_argument("--keep", help="also write every generated submission (mutants, degenerates...) here")
    p.add_argument("--isolation", choices=("bwrap", "unshare", "rlimits"))
    p.add_argument("-q", "--quiet", action="store_true", help="no progress line")

    p = add("check", cmd_check, "run the public checks on your own work (students)")
    p.add_argument("submission", metavar="SUBMISSION", help="your notebook (.ipynb) or .py, saved")
    p.add_argument("--checks", help="the checks/ folder from your assignment (default: beside SUBMISSION)")
    p.add_argument("--out", help="where to write feedback.html (default: beside SUBMISSION)")
    p.add_argument("--isolation", choices=("bwrap", "unshare", "rlimits"))
    p.add_argument("-v", "--verbose", action="store_true", help="list passing checks too")
    p.add_argument("--with", dest="with_", action="append", metavar="ID=FILE",
                   help="your own work of an assignment this one builds on, when it is not beside "
                        "SUBMISSION, e.g. --with hw1=../hw1/hw1.ipynb")

    p = add("batch", cmd_batch, "grade a whole class: an LMS export or a folder in, gradebooks and feedback out")
    p.add_argument("work", nargs="+", metavar="ID=INPUT",
                   help="ID INPUT, an assignment and its input (a Canvas/Moodle/Gradescope export, an nbgrader "
                   "course's submitted/ tree, or a folder of files); for several assignments, "
                   "ID=INPUT each: required ones are graded first, each into OUT/ID/, with the "
                   "course's grades.csv and dashboard in OUT")
    p.add_argument("--with", dest="with_", action="append", metavar="ID=INPUT",
                   help="an export of an assignment the graded one requires (course.toml `requires`), "
                   "not graded: each student's own work of it is found there")
    p.add_argument("-o", "--out", required=True, help="output folder")
    p.add_argument("--workers", type=int, help="local worker processes (default: all cores)")
    p.add_argument("--scheduler", help="a Dask scheduler address, tcp://HOST:PORT, to grade on a cluster")
    p.add_argument("--resume", action="store_true", help="continue a batch in --out after an interruption")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--isolation", choices=("bwrap", "unshare", "rlimits"))
    p.add_argument("--format", choices=("canvas", "moodle", "nbgrader", "gradescope", "directory"),
                   help="the input's format (default: detected)")
    p.add_argument("--export", help="comma-separated outputs (default: all): "
                   "canvas,moodle,nbgrader,gradescope,dashboard,feedback")
    p.add_argument("--canvas-assignment-id", action="append", metavar="[ID=]CANVAS_ID",
                   help="the Canvas assignment id, for grades.csv's column (ID=... per assignment "
                   "when grading several)")
    p.add_argument("--moodle-worksheet", action="append", metavar="[ID=]CSV",
                   help="Moodle's downloaded grading worksheet CSV, to fill in (ID=... per assignment)")
    p.add_argument("--canvas-anonymous-map", action="append", metavar="[ID=]CSV",
                   help="CSV 'anonymous id,Canvas user id', to put anonymously "
                   "graded students in grades.csv (ID=... per assignment)")
    p.add_argument("--moodle-columns", help="worksheet headers when the site's language is not English or "
                   "German, e.g. id=Identificador,grade=Calificación,modified=...,max=...")
    p.add_argument("--moodle-groups", help="CSV 'group id or name,participant id': grade Moodle team "
                   "submissions, each member getting the team's grade")
    p.add_argument("--late-marker-days", default="1", help="days charged for Canvas's 'late' marker, or 'none'")
    p.add_argument("--hidden-visibility", default="after_published",
                   choices=("after_published", "hidden", "after_due_date"),
                   help="Gradescope visibility of hidden tests' results ('hidden' applies only to "
                        "tests without points, as Gradescope's spec requires; others get after_published)")
    p.add_argument("--nbgrader-course", metavar="COURSE_DIR",
                   help="write nbgrader grades and autograded notebooks into this nbgrader course "
                   "(found through its nbgrader_config.py) instead of OUT/gradebook.db")

    p = add("export", cmd_export, "package an assignment's autograder for an LMS (gradescope)")
    p.add_argument("target", choices=("gradescope",))
    p.add_argument("assignment")
    p.add_argument("-o", "--out", default=".", help="where to write autograder.zip")

    p = add("dashboard", cmd_dashboard, "build the class dashboard from a folder of result.json files")
    p.add_argument("results", metavar="RESULTS_DIR")
    p.add_argument("--out", help="the page to write (default: RESULTS_DIR/dashboard.html)")

    p = add("release", cmd_release, "build the student version of an assignment")
    p.add_argument("assignment")
    p.add_argument("--out", help="output folder (default: the assignment's release path in course.toml)")
    return parser


def main(argv: list[str] | None = None) -> int:
    # One BLAS thread on the trusted side too: reference timings in efficiency checks
    # must not depend on how many cores are idle. Set before numpy is first imported.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ProctorError as exc:
        print(f"proctor: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("proctor: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
