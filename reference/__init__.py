"""Hidden reference implementations that the grader suites compare submissions against.

One module per assignment (``reference.attention`` for the attention assignment), named
in ``course.toml`` by ``Assignment.reference``. These files stay on the trusted side: they
are never released to students and never mounted into the sandbox.
"""
