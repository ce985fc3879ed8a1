"""What a result says about the other assignments' work it was built on (``requires``).

The student sees which of their files each dependent grade used (name and sha256, so a
regrade can be matched), and why a test passed although their own required work is wrong:
that bug is graded once, in its own assignment.
"""

from __future__ import annotations

from typing import Any


def built_on_lines(result: dict[str, Any]) -> list[str]:
    """One sentence per required assignment; none for an assignment that requires nothing."""
    deps = result.get("dependencies")
    if not isinstance(deps, dict):
        return []
    lines = []
    for aid, entry in deps.items():
        if not isinstance(entry, dict):
            continue
        module = str(entry.get("module") or aid)
        own = entry.get("own") if isinstance(entry.get("own"), dict) else None
        correct = "the course's reference" if entry.get("correct") == "reference" else f"a correct {module}"
        if entry.get("own_only"):  # a student's local check: no correct version ships
            if entry.get("problem"):
                lines.append(f"Checked without a {module}: {entry['problem']}.")
                continue
        elif entry.get("problem"):
            lines.append(f"Built on {correct}, not yours: {entry['problem']}.")
            continue
        if own is None:
            continue
        text = f"Built on your {module}: {own.get('file')} (sha256 {str(own.get('sha256'))[:12]})."
        if entry.get("own_only"):
            text += (f" Only yours: the official grade also runs failing tests again on a correct "
                     f"{module}, so a bug in yours costs points only in the {aid} assignment.")
        rescued = int(entry.get("passed_only_with_correct") or 0)
        if entry.get("correct"):
            text += (f" Tests that failed on it ran again on {correct}"
                     + (f"; {rescued} passed only there. A bug in your {module} costs points in the "
                        f"{aid} assignment, not here." if rescued else "."))
        errors = entry.get("load_errors") or []
        if errors and isinstance(errors[0], dict):
            first = errors[0]
            text += (f" While loading it, {first.get('where') or 'a part'} raised "
                     f"{first.get('type') or 'an error'}: {first.get('message') or ''}".rstrip(": ") + ".")
        lines.append(text)
    return lines


def test_note(test: dict[str, Any], result: dict[str, Any]) -> str:
    """For a test whose verdict comes from the run on correct required work: say so."""
    if test.get("dependency") != "correct":
        return ""
    deps = result.get("dependencies") if isinstance(result.get("dependencies"), dict) else {}
    modules = ", ".join(str(e.get("module") or a) for a, e in deps.items() if isinstance(e, dict)) or "required work"
    if test.get("status") == "passed":
        return f"Passed on a correct {modules} (not on yours)."
    return f"Checked on a correct {modules}: this failure is in this assignment's code."
