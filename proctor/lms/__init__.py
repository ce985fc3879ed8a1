"""LMS inputs and outputs: Canvas, Moodle, nbgrader, Gradescope, and plain directories.

``discover(input)`` reads any of them (directory or zip, safely) into one
``SubmissionEntry`` per student; the writers in ``proctor.lms.outputs`` turn result dicts
back into each system's gradebook format. Nothing here grades: that is ``proctor.batch``.
"""

from proctor.lms.archive import ArchiveLimits
from proctor.lms.detect import FORMATS, detect_format, discover
from proctor.lms.entry import SubmissionEntry
from proctor.lms.late import apply_late

__all__ = ["FORMATS", "ArchiveLimits", "SubmissionEntry", "apply_late", "detect_format", "discover"]
