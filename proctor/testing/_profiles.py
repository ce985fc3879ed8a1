"""The Hypothesis settings of graded property tests: one registered profile per visibility.

Grading must be deterministic: the same submission gets the same examples in students'
local checks, in the official grade and in every batch. So both profiles derandomize (each
test's examples come from a digest of its source) and keep no example database.

* ``proctor-hidden``: what the plugin loads for a whole grading run; a hidden test takes
  its number of examples from :func:`examples`.
* ``proctor-public``: a public check's settings (``@settings(profile("public"))``): two
  generated examples after its explicit ones, no "explain" phase (it re-runs a failure
  under line tracing for tens of seconds and says nothing useful to a student), one
  failure reported, shrunk once.
"""

from __future__ import annotations

from hypothesis import HealthCheck, Phase, settings

HIDDEN_PROFILE = "proctor-hidden"
PUBLIC_PROFILE = "proctor-public"

settings.register_profile(
    HIDDEN_PROFILE, derandomize=True, deadline=None, database=None, print_blob=False,
    max_examples=25, report_multiple_bugs=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture])
settings.register_profile(
    PUBLIC_PROFILE, max_examples=2, derandomize=True, database=None, deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink),
    report_multiple_bugs=False,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def profile(visibility: str) -> settings:
    """The registered settings of ``visibility`` ("public" or "hidden")."""
    return settings.get_profile({"public": PUBLIC_PROFILE, "hidden": HIDDEN_PROFILE}[visibility])


def examples(n: int) -> settings:
    """Settings of a property test: ``n`` generated examples (after its explicit ones), the
    suite's fixtures reused across examples, and one failure reported, not a group."""
    return settings(max_examples=n, suppress_health_check=[HealthCheck.function_scoped_fixture],
                    report_multiple_bugs=False)
