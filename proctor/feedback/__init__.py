"""Feedback pages: the student's ``feedback.html`` and the shared templates/CSS.

Public API (called by the CLI and by ``proctor.dashboard``)::

    render_feedback(result: dict, *, template_dir: Path | None = None,
                    hidden_plots: bool = True) -> str
    write_feedback(result: dict, out_dir: Path, template_dir: Path | None = None, *,
                   hidden_plots: bool = True) -> Path      # out_dir/feedback.html, atomic

``result`` is the dict from ``Result.to_dict()`` / ``result.json``. A course can restyle or
reword the pages by passing ``template_dir``: files there (``feedback.html.j2``,
``dashboard.html.j2``, ``base.html.j2``, ``_macros.html.j2``, ``style.css``) win over the
package's copies in ``proctor/feedback/templates/``; anything not overridden falls back.

Hidden tests are filtered in Python before any template runs (``render.test_view``): they
show name, status, score, message and hint, plus the numbers of their efficiency
measurement unless ``hidden_plots=False``; never details or counterexamples.
``selfcontained.external_references(html)`` checks that a (course-overridden) page still
loads nothing from outside itself. The class dashboard is ``proctor.dashboard``.
"""

from typing import Any

__all__ = ["feedback_context", "make_environment", "render_feedback", "write_feedback"]


def __getattr__(name: str) -> Any:
    """Import ``render`` (and jinja2) only when a page is made: the terminal summary
    (``proctor.feedback.summary``) lives in this package too and needs neither."""
    if name in __all__:
        from proctor.feedback import render

        return getattr(render, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
