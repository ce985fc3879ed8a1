"""Feedback pages: the student's ``feedback.html`` and the shared templates/CSS.

Public API (called by the CLI and by ``proctor.dashboard``)::

    render_feedback(result: dict, *, template_dir: Path | None = None) -> str
    write_feedback(result: dict, out_dir: Path, template_dir: Path | None = None) -> Path

``result`` is the dict from ``Result.to_dict()`` / ``result.json``. A course can restyle or
reword the pages by passing ``template_dir``: files there (``feedback.html.j2``,
``dashboard.html.j2``, ``base.html.j2``, ``style.css``) win over the package's copies in
``proctor/feedback/templates/``. Hidden tests are filtered before any template runs.
"""

from .render import feedback_context, make_environment, render_feedback, write_feedback

__all__ = ["feedback_context", "make_environment", "render_feedback", "write_feedback"]
