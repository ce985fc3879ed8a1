"""``proctor check``: a student's local run of the public checks.

Runs the released public tests and golden cases against the student's file, with the same
engine, sandbox and scoring as the official grade, and writes ``feedback.html``. Works
offline and without the instructor's repository: everything it needs is in ``checks/``.
In Jupyter, :func:`show` displays the same report inline.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable, Mapping, TextIO

from proctor.dependencies import Requirement
from proctor.errors import SubmissionError
from proctor.released_checks import CHECKS_DIR, load_checks
from proctor.result import Result


def find_checks(submission: Path, checks: Path | None = None) -> Path:
    """``checks`` if given, else the ``checks/`` folder beside the submission or here."""
    if checks is not None:
        return checks
    for candidate in (submission.resolve().parent / CHECKS_DIR, Path.cwd() / CHECKS_DIR):
        if candidate.is_dir():
            return candidate
    return submission.resolve().parent / CHECKS_DIR


def run_check(submission: Path | str, *, checks: Path | None = None, isolation: str | None = None,
              progress: Callable[[int, int, str], None] | None = None,
              own: Mapping[str, Path] | None = None) -> Result:
    """Grade ``submission`` with the public checks only; the official grade's public part.

    A file that does not exist is :class:`SubmissionError` (the CLI's one line), here and in
    :func:`show`; one that exists but cannot be used is graded, 0 with the reason. An
    assignment that builds on others runs on the student's own work of them only (``own``,
    else found beside the submission: :func:`own_work`); no correct version ships.
    """
    from proctor.runner import grade_submission

    submission = Path(submission)
    if not submission.is_file():
        raise SubmissionError(f"{submission}: no such file (give your .ipynb or .py, saved)")
    assignment = load_checks(find_checks(submission, checks))
    result = grade_submission(assignment, submission, visibility="public", isolation=isolation,
                              reference=False, golden=assignment.golden,
                              task_weights=assignment.task_weights, progress=progress,
                              requirements=own_work(assignment.requires, submission, own or {}))
    # each task's points in the official grade, so a task with no public checks can say so
    result.extra["official_points"] = {k: float(v) for k, v in assignment.points.items()}
    return result


def own_work(requires: Mapping[str, str], submission: Path,
             given: Mapping[str, Path]) -> tuple[Requirement, ...]:
    """The student's own work of each required assignment (id -> module name): the file
    given, else ``<module>.py`` or ``<module>.ipynb`` beside the submission, else in the
    sibling folder named after the assignment (``../<id>/``), as a release unpacks."""
    found = []
    here = submission.resolve().parent
    for aid, module in requires.items():
        path = given.get(aid)
        if path is None:
            places = [here / f"{module}.py", here / f"{module}.ipynb",
                      here.parent / aid / f"{module}.ipynb", here.parent / aid / f"{module}.py"]
            path = next((p for p in places if p.is_file()), None)
        missing = (f"no {module}.py or {module}.ipynb beside {submission.name} or in ../{aid}/ "
                   f"(save your {aid} work there, or pass --with {aid}=FILE)")
        found.append(Requirement(assignment=aid, module=module, own=path, missing=missing))
    return tuple(found)


def feedback_templates(submission: Path | str, checks: Path | None = None) -> Path | None:
    """The course's feedback templates shipped in ``checks/templates``, if any."""
    from proctor.released_checks import TEMPLATES_DIR

    folder = find_checks(Path(submission), checks) / TEMPLATES_DIR
    return folder if folder.is_dir() else None


class ProgressBar:
    """A one-line terminal progress bar: ``[#####.....] 12/40 test name``."""

    def __init__(self, stream: TextIO = sys.stderr, width: int = 30) -> None:
        self.stream = stream
        self.width = width
        self.live = stream.isatty()

    def __call__(self, done: int, total: int, name: str) -> None:
        filled = int(self.width * done / total) if total else self.width
        line = f"[{'#' * filled}{'.' * (self.width - filled)}] {done}/{total} {name[:40]}"
        if self.live:
            self.stream.write("\r" + line.ljust(self.width + 50))
            if done == total:
                self.stream.write("\n")
        elif done == total:
            self.stream.write(line + "\n")
        self.stream.flush()


class _InlineReport:
    """What :func:`show` returns: Jupyter renders it as the feedback page."""

    def __init__(self, result: dict[str, Any], templates: Path | None = None) -> None:
        self.result = result
        self.templates = templates  # the course's feedback templates, if it ships any

    def _repr_html_(self) -> str:
        import html

        from proctor.feedback import render_feedback

        page = render_feedback(self.result, template_dir=self.templates)
        return (f'<iframe title="proctor feedback" srcdoc="{html.escape(page, quote=True)}" '
                'style="width:100%;height:900px;border:1px solid #ccc"></iframe>')

    def __repr__(self) -> str:
        from proctor.feedback.summary import summary_text

        return summary_text(self.result)


def show(notebook: str | Path | None = None, *, checks: Path | None = None) -> _InlineReport:
    """Check a saved notebook from inside Jupyter and show the report inline.

    Save the notebook first: the check reads the file on disk, as the grader will.
    Without ``notebook``, the one ``.ipynb`` in the current folder (the engine knows no
    assignment's file name; the released README names it).
    """
    path = notebook or _only_notebook(Path.cwd())
    return _InlineReport(run_check(path, checks=checks).to_dict(), feedback_templates(path, checks))


def _only_notebook(folder: Path) -> Path:
    found = sorted(folder.glob("*.ipynb"))
    if len(found) != 1:
        names = ", ".join(p.name for p in found) or "none"
        raise SubmissionError(f"{folder}: give the notebook to check, e.g. show(\"name.ipynb\") "
                              f"(notebooks here: {names})")
    return found[0]
