"""Errors a user can act on. The CLI prints them as one line, never as a traceback."""


class ProctorError(Exception):
    """Base class for errors that carry a readable message for instructors or students."""


class ConfigError(ProctorError):
    """course.toml is missing, malformed, or names something that does not exist."""


class SubmissionError(ProctorError):
    """A submission file could not be read at all (missing, unreadable, wrong type)."""
