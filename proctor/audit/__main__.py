"""Write out, or check, the committed entries of a corpus (see :mod:`proctor.audit.corpus`).

Mutants are built at audit time and never committed; a corpus that declares ``OUTPUT``
(example submissions people read) is committed, and kept current with this.
"""

from __future__ import annotations

import sys
from pathlib import Path

from proctor.audit.corpus import load_corpus, stale_entries, write_all
from proctor.errors import ProctorError


def main(argv: list[str] | None = None) -> int:
    """``python -m proctor.audit CORPUS [--check]``: rewrite a corpus's committed entries, or check them."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m proctor.audit", description=main.__doc__)
    parser.add_argument("corpus", type=Path, help="a corpus.py (or its folder) that declares OUTPUT")
    parser.add_argument("--check", action="store_true", help="exit 1 if a committed entry is stale")
    args = parser.parse_args(argv)
    try:
        corpus = load_corpus(args.corpus)
        stale = stale_entries(corpus)
    except ProctorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.check:
        if stale:
            print(f"stale: {', '.join(stale)}; run python -m proctor.audit {args.corpus}",
                  file=sys.stderr)
        return 1 if stale else 0
    assert corpus.output is not None  # stale_entries checked it
    for path in sorted(write_all(corpus, corpus.output).values()):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
