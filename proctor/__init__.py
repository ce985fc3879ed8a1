"""proctor: an autograder and curriculum test-harness for ML-systems courses.

The engine knows nothing about any one assignment: course content (course.toml, the
hidden reference, the grader suites) is loaded from the course directory.
"""

__version__ = "0.1.0"
