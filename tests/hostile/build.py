"""Write the hostile submissions: examples/submissions/correct.py with one part broken.

Each file is the correct submission with one edit, so a grader that holds gives full marks
for every task the edit does not reach (see tests/test_hostile_parts.py). Edits insert
lines at the top of a method's body, or a new import block, so the rest stays as written.

    python tests/hostile/build.py          # rewrite the files
    python tests/hostile/build.py --check  # exit 1 if any is stale
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORRECT = HERE.parents[1] / "examples" / "submissions" / "correct.py"
MHA_FORWARD = "class MultiHeadAttention:"
SDPA_FORWARD = "class ScaledDotProductAttention:"
FORWARD = "    def forward(self, query, key, value, mask=None, return_attention_weights=False):\n"

#: file name -> (what it does, the class whose forward is edited, lines put first in forward).
FORWARD_EDITS = {
    "loop.py": ("MultiHeadAttention.forward spins forever", MHA_FORWARD, [
        "while True:",
        "    pass",
    ]),
    "ignore_signals.py": ("MultiHeadAttention.forward ignores SIGTERM/SIGINT/SIGALRM and sleeps forever",
                          MHA_FORWARD, [
        "import signal, time",
        "for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGALRM):",
        "    signal.signal(sig, signal.SIG_IGN)",
        "while True:",
        "    time.sleep(1)",
    ]),
    "fork.py": ("MultiHeadAttention.forward forks a child that spins, then loops itself", MHA_FORWARD, [
        "import os",
        "for _ in range(64):",
        "    try:",
        "        if os.fork() == 0:",
        "            while True:",
        "                pass",
        "    except OSError:",
        "        break",
        "while True:",
        "    pass",
    ]),
    "memory.py": ("MultiHeadAttention.forward allocates until memory runs out", MHA_FORWARD, [
        "hog = []",
        "while True:",
        "    hog.append(np.ones(1 << 24))",
    ]),
    "slow_large.py": ("ScaledDotProductAttention.forward is correct but hangs on efficiency-sized inputs",
                      SDPA_FORWARD, [
        "if np.shape(query)[-2] >= 96:  # stands in for a Python loop too slow at that size",
        "    import time",
        "    time.sleep(3600)",
    ]),
}

#: file name -> (what it does, a block added after ``import numpy as np``).
IMPORT_EDITS = {
    "stdlib_imports.py": ("imports a wide sample of the standard library and uses it in every part", '''
import collections
import csv
import dataclasses
import decimal
import fractions
import functools
import glob
import heapq
import io
import itertools
import json
import logging
import pprint
import re
import statistics
import string
import textwrap



def _stdlib_works():
    """Every part calls this first, so a module that did not import costs every part."""
    logging.getLogger("submission").debug("called")
    buf = io.StringIO()
    csv.writer(buf).writerow(heapq.nsmallest(2, [3, 1, 2]))
    assert buf.getvalue().strip() == "1,2"
    assert json.loads(json.dumps(collections.Counter("aab")))["a"] == 2
    assert list(itertools.accumulate([1, 2])) == [1, 3]
    assert functools.reduce(lambda a, b: a * b, [2, 3]) == 6
    assert dataclasses.is_dataclass(dataclasses.make_dataclass("P", ["x"]))
    assert fractions.Fraction(1, 3) * 3 == 1 and decimal.Decimal("0.1") * 3 == decimal.Decimal("0.3")
    assert statistics.mean([1, 2, 3]) == 2 and textwrap.dedent("  a") == "a"
    assert string.ascii_lowercase[0] == "a" and re.fullmatch(r"\\d+", "42") and glob.escape("*") == "[*]"
    assert pprint.pformat({"a": 1}) == "{'a': 1}"
    return True
'''),
}


#: Where the stdlib submission calls ``_stdlib_works()``: one entry into every part.
USES = ("def create_causal_mask(seq_len):\n", FORWARD,
        "    def update(self, batch_idx, new_keys, new_values):\n",
        "def cached_self_attention(mha, x_new, kv_cache, batch_idx=0):\n")


def _insert_in_forward(source: str, cls: str, lines: list[str]) -> str:
    start = source.index(cls)
    at = source.index(FORWARD, start) + len(FORWARD)
    body = "".join(f"        {line}\n" for line in lines)
    return source[:at] + body + source[at:]


def build() -> dict[str, str]:
    """The files' contents, by name."""
    correct = CORRECT.read_text()
    files = {}
    for name, (what, cls, lines) in FORWARD_EDITS.items():
        files[name] = f"# Hostile: {what}.\n" + _insert_in_forward(correct, cls, lines)
    for name, (what, block) in IMPORT_EDITS.items():
        anchor = "import numpy as np\n"
        text = correct.replace(anchor, anchor + block, 1)
        for header in USES:  # every part uses the modules first
            text = text.replace(header, header + "    assert _stdlib_works()\n" if header.startswith("def")
                                else header + "        assert _stdlib_works()\n")
        files[name] = f"# {what.capitalize()}.\n" + text
    return files


def main(argv: list[str]) -> int:
    stale = []
    for name, text in build().items():
        path = HERE / name
        if "--check" in argv:
            if not path.is_file() or path.read_text() != text:
                stale.append(name)
        else:
            path.write_text(text)
    if stale:
        print("stale: " + ", ".join(stale) + " (run python tests/hostile/build.py)")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
