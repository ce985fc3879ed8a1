"""Write the transformer's ``bug_*.py`` examples from the mutant corpus.

Each example is one mutant of ``mutants/transformer`` (the corpus base with exactly one bug
patched in), so it is otherwise correct by construction and stays in step with the corpus.
``correct.py`` is written by hand, in a different style on purpose, and is not touched here.

    python examples/transformer/build_examples.py          # rewrite the files
    python examples/transformer/build_examples.py --check  # exit 1 if any is stale
"""

from __future__ import annotations

import sys
from pathlib import Path

from proctor.audit.corpus import load_corpus

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parents[1] / "mutants" / "transformer"
EXAMPLES = ["ln_unbiased", "block_post_norm", "gen_shared_cache", "gen_positions_restart"]


def bug_files() -> dict[Path, str]:
    """``bug_<mutant>.py`` path -> text, for each mutant named in ``EXAMPLES``."""
    entries = {entry.name: entry for entry in load_corpus(CORPUS).entries}
    return {HERE / f"bug_{name}.py": entries[name].text for name in EXAMPLES}


def main(argv: list[str]) -> int:
    stale = [p for p, text in bug_files().items() if not p.is_file() or p.read_text() != text]
    if "--check" in argv:
        for path in stale:
            print(f"stale: {path.name}")
        return 1 if stale else 0
    for path, text in bug_files().items():
        path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
