"""The Hypothesis settings of graded property tests: one registered profile per visibility.

Grading must be deterministic: the same submission gets the same examples in students'
local checks, in the official grade and in every batch. So both profiles derandomize (each
test's examples come from a digest of its source) and keep no example database.

* ``proctor-hidden``: what the plugin loads for a whole grading run, so a test without
  settings of its own gets it. A hidden test takes its number of examples from
  :func:`examples`, which also skips shrinking: nobody sees a hidden test's
  counterexample, and shrinking one costs seconds on every buggy submission.
* ``proctor-public``: a public check's settings (``@settings(profile("public"))``): two
  generated examples after its explicit ones, one failure reported, shrunk once.

No test runs the "explain" phase: it re-runs a failure under line tracing for tens of
seconds, and its notes are shown to nobody. These are Hypothesis's public settings, fixed
when a test is decorated; the plugin adjusts only a test whose own settings disagree with
its visibility (``proctor.plugin._graded_phases``).
"""

from __future__ import annotations

from hypothesis import HealthCheck, Phase, settings

HIDDEN_PROFILE = "proctor-hidden"
PUBLIC_PROFILE = "proctor-public"

#: Every phase but "explain"; a public test's, whose failure is shrunk to the input shown.
PHASES = (Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink)
#: A hidden test's: no shrinking either. Generation is the same, so is the verdict.
HIDDEN_PHASES = tuple(p for p in PHASES if p is not Phase.shrink)

settings.register_profile(
    HIDDEN_PROFILE, derandomize=True, deadline=None, database=None, print_blob=False,
    max_examples=25, report_multiple_bugs=False, phases=PHASES,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture])
settings.register_profile(
    PUBLIC_PROFILE, max_examples=2, derandomize=True, database=None, deadline=None,
    phases=PHASES, report_multiple_bugs=False,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def profile(visibility: str) -> settings:
    """The registered settings of ``visibility`` ("public" or "hidden")."""
    return settings.get_profile({"public": PUBLIC_PROFILE, "hidden": HIDDEN_PROFILE}[visibility])


def examples(n: int) -> settings:
    """Settings of a hidden property test: ``n`` generated examples (after its explicit
    ones), the suite's fixtures reused across examples, one failure reported, not a group,
    and no shrinking."""
    return settings(max_examples=n, suppress_health_check=[HealthCheck.function_scoped_fixture],
                    report_multiple_bugs=False, phases=HIDDEN_PHASES)
