"""The ``proctor`` command.

Every subcommand loads the course from ``course.toml`` (``--course`` or the current
directory and its parents). Errors a user can fix are printed as one line, without a
traceback, with exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Callable

from proctor import __version__
from proctor.errors import ProctorError

EXIT_OK, EXIT_CHECK_FAILED, EXIT_USAGE = 0, 1, 2
_MARK = {"passed": "ok", "failed": "FAIL", "error": "ERROR", "timeout": "TIMEOUT"}


def _course(args: argparse.Namespace) -> Any:
    from proctor.config import load_course

    return load_course(args.course)


def _assignment(args: argparse.Namespace) -> Any:
    return _course(args).assignment(args.assignment)


# ---------------------------------------------------------------------------- grade
def summary_text(result: dict[str, Any], *, verbose: bool = False) -> str:
    """A terminal summary: the score, each task, and why each failing test failed."""
    lines = [f"{result['submission']}: {result['score']:g} / {result['max_score']:g}"
             f"   ({result['isolation']} sandbox, {result['duration_s']:.2f} s)"]
    for task, t in result["tasks"].items():
        lines.append(f"  {task:<22} {t['score']:>6g} / {t['max_score']:g}")
    load = result.get("load") or {}
    if load.get("problem"):
        lines.append(f"  ! {load['problem']}")
    for err in load.get("errors") or []:
        lines.append(f"  ! while loading, {err.get('where')}: {err.get('type')}: {err.get('message')}")
    for test in result["tests"]:
        if test["status"] == "passed" and not verbose:
            continue
        lines.append(f"  [{_MARK.get(test['status'], test['status'])}] {test['task']}: {test['name']}")
        if test["status"] != "passed":
            message = test["message"].strip().splitlines()
            lines += [f"      {m}" for m in message[:6]]
            if test.get("hint"):
                lines.append(f"      hint: {test['hint']}")
    return "\n".join(lines)


def _out_dir_for(out: Path, submission: Path, many: bool) -> Path:
    return out / submission.stem if many else out


def cmd_grade(args: argparse.Namespace) -> int:
    from proctor.runner import grade_submission
    from proctor.sandbox.client import Sandbox

    assignment = _assignment(args)
    paths = [Path(p) for p in args.submissions]
    for p in paths:
        if not p.is_file():
            raise ProctorError(f"{p}: no such file (give a .py or .ipynb submission)")
    written = []
    with Sandbox(args.isolation) as sandbox:
        for path in paths:
            result = grade_submission(assignment, path, sandbox=sandbox, visibility=args.visibility).to_dict()
            if args.json:
                print(json.dumps(result, indent=2))
            else:
                print(summary_text(result, verbose=args.verbose))
            if args.out:
                written.append(write_outputs(result, _out_dir_for(Path(args.out), path, len(paths) > 1)))
    for where in written:
        print(f"feedback: {where}", file=sys.stderr if args.json else sys.stdout)
    return EXIT_OK


def write_outputs(result: dict[str, Any], out_dir: Path) -> Path:
    """Write result.json and feedback.html into ``out_dir``; return the page's path."""
    from proctor.feedback import write_feedback
    from proctor.result import write_json_atomic

    write_json_atomic(out_dir / "result.json", result)
    return write_feedback(result, out_dir)


# ---------------------------------------------------------------------------- validate
def cmd_validate(args: argparse.Namespace) -> int:
    from proctor.validate import validate_assignment

    report = validate_assignment(_assignment(args), isolation=args.isolation)
    print(report.text())
    return EXIT_OK if report.ok else EXIT_CHECK_FAILED


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
    from proctor.check import ProgressBar, run_check

    path = Path(args.submission)
    if not path.is_file():
        raise ProctorError(f"{path}: no such file (give your .ipynb or .py, saved)")
    result = run_check(path, checks=Path(args.checks) if args.checks else None,
                       isolation=args.isolation, progress=ProgressBar()).to_dict()
    print(summary_text(result, verbose=args.verbose))
    out = Path(args.out) if args.out else path.resolve().parent
    print(f"feedback: {write_outputs(result, out)}")
    print("These are the public checks only; the official grade also runs hidden tests.")
    return EXIT_OK


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
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--out", help="write result.json and feedback.html here (a folder per submission when several)")
    p.add_argument("--visibility", choices=("all", "public", "hidden"), default="all")
    p.add_argument("--isolation", choices=("bwrap", "unshare", "rlimits"),
                   help="sandbox level (default: the strongest that works here)")
    p.add_argument("-v", "--verbose", action="store_true", help="list passing tests too")

    p = add("validate", cmd_validate, "check the solution gets full marks and the released stub gets zero")
    p.add_argument("assignment")
    p.add_argument("--isolation", choices=("bwrap", "unshare", "rlimits"))

    p = add("check", cmd_check, "run the public checks on your own work (students)")
    p.add_argument("submission", metavar="SUBMISSION", help="your attention.ipynb or .py, saved")
    p.add_argument("--checks", help="the checks/ folder from your assignment (default: beside SUBMISSION)")
    p.add_argument("--out", help="where to write feedback.html (default: beside SUBMISSION)")
    p.add_argument("--isolation", choices=("bwrap", "unshare", "rlimits"))
    p.add_argument("-v", "--verbose", action="store_true", help="list passing checks too")

    p = add("release", cmd_release, "build the student version of an assignment")
    p.add_argument("assignment")
    p.add_argument("--out", help="output folder (default: the assignment's release path in course.toml)")
    return parser


def main(argv: list[str] | None = None) -> int:
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


if __name__ == "__main__":
    sys.exit(main())
