"""The name released READMEs give students: ``from proctor.check import show``.

The local check itself lives in :mod:`proctor.local_check`; this name stays because
students' copies of the README (and their notebooks) already use it.
"""

from proctor.local_check import run_check, show

__all__ = ["run_check", "show"]
