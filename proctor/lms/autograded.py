"""The autograded notebook formgrader opens for each submission, built without running it.

nbgrader's autograde copies the submission, restores the test cells from the gradebook
(``OverwriteCells``), executes it, and reads each test cell's outputs into a grade
(``SaveAutoGrades`` via ``utils.determine_grade``). proctor grades in its sandbox instead,
so here the submission is never executed: its outputs are cleared and each autograded test
cell gets proctor's verdict as output, a stdout line saying why and an ``execute_result``
holding the score, which is nbgrader's own partial-credit form. ``SaveAutoGrades`` then
stores exactly proctor's scores, and decides written answers as nbgrader always does.

What formgrader opens:

* a ``.ipynb`` submission: the student's notebook, with test cells restored by nbgrader;
* a ``.py`` submission: the released notebook, with the whole ``.py`` in its first answer
  cell (the other answer cells point there) and the written answers left blank, which
  nbgrader scores 0 ("No response."); a grader can still give points by hand;
* a submission that could not be read: the released notebook, headed by the reason.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import nbformat
from nbformat.notebooknode import NotebookNode

__all__ = ["base_notebook", "add_verdicts"]


def _is_answer_code(cell: NotebookNode) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "code" and bool(meta.get("solution"))


def base_notebook(released: NotebookNode, filename: str, data: bytes | None,
                  problem: str | None) -> NotebookNode:
    """The notebook to autograde: the student's own, or the released one carrying theirs."""
    if problem is None and data is not None and filename.lower().endswith(".ipynb"):
        try:
            with warnings.catch_warnings():  # nbformat's notes on old notebooks (no cell ids)
                warnings.simplefilter("ignore")
                return nbformat.reads(data.decode("utf-8"), as_version=4)
        except Exception as error:  # noqa: BLE001 - any unreadable notebook gets the note
            problem = f"{filename} is not a readable notebook ({type(error).__name__})"
    nb = nbformat.from_dict(released)  # a copy: the released notebook serves every student
    if problem is None and data is None:
        problem = f"{filename or 'the submission'} was not available when this was written"
    if problem is not None:
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(
            f"**proctor could not grade this submission:** {problem}"))
        return nb
    answers = [cell for cell in nb.cells if _is_answer_code(cell)]
    code = data.decode("utf-8", "replace")
    for number, cell in enumerate(answers):
        cell.source = (f"# {filename}, submitted as a .py file: the whole file is here\n{code}"
                       if number == 0 else
                       f"# {filename} was submitted as a .py file: it is all in the first "
                       f"answer cell")
    return nb


def _verdict(row: Mapping[str, Any], tasks: list[str]) -> tuple[str, float]:
    """Why this cell scores what it does, and the score (the sum of its tasks')."""
    if not tasks:
        return "proctor: no task is graded in this cell; it is worth 0 here\n", 0.0
    if row.get("error"):
        return f"proctor could not grade this submission: {row['error']}\n", 0.0
    lines, total = [], 0.0
    by_task = row.get("tasks") or {}
    for task in tasks:
        info = by_task.get(task) or {}
        score = float(info.get("score") or 0.0)
        total += score
        tests = [t for t in row.get("tests") or [] if t.get("task") == task]
        passed = sum(1 for t in tests if t.get("status") == "passed")
        lines.append(f"proctor: {task} {score:g} / {float(info.get('max_score') or 0):g} "
                     f"({passed} of {len(tests)} tests passed)")
    lines.append("Each test's verdict is in the student's feedback.html.")
    return "\n".join(lines) + "\n", total


def add_verdicts(nb: NotebookNode, row: Mapping[str, Any],
                 cell_tasks: Mapping[str, list[str]]) -> NotebookNode:
    """Give every autograded test cell proctor's verdict as its outputs (see the docstring)."""
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("grade") or meta.get("solution"):
            continue
        text, score = _verdict(row, cell_tasks.get(meta.get("grade_id"), []))
        # nbgrader refuses partial credit above the cell's points: float noise must not
        # turn a full score into an error
        score = min(score, float(meta.get("points", 0.0)))
        cell.outputs = [
            nbformat.v4.new_output("stream", name="stdout", text=text),
            nbformat.v4.new_output("execute_result", data={"text/plain": repr(score)},
                                   execution_count=None),
        ]
    return nb
