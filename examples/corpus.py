"""The example submissions (``examples/submissions/``) that are generated, not hand-written:
a corpus for ``proctor.audit.corpus``, the same base-plus-patches mechanism as the mutants.

* ``bug_*.py``: one common, correct student module (``bug_base.py``) with exactly one
  mistake patched in each (``EXAMPLES``). Building them from one base guarantees each file
  is otherwise correct: it differs from the base only in the lines the bug names.
* ``correct.ipynb`` (``BUILT``): the released student notebook
  (``student_template/attention``) as a student would hand it back: every
  ``# YOUR CODE HERE`` stub filled in, written answers given, plus the clutter real
  notebooks carry (a ``%matplotlib inline`` magic, a ``!pip list`` shell line, print cells,
  and a half-finished cell that raises).

``correct.py`` is written by hand (a different style on purpose) and is not touched here.
Never used by the audit (course.toml names the mutants and the alternatives, not this).

    python -m proctor.audit examples/corpus.py          # rewrite the files
    python -m proctor.audit examples/corpus.py --check  # exit 1 if any is stale
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from textwrap import dedent

import nbformat

BASE = "bug_base.py"
OUTPUT = "submissions"
HEADER = '"""Example submission with one bug ({name}).\n\n{what}\nEverything else is correct.\n"""\n\n'
TEMPLATE_NOTEBOOK = Path(__file__).resolve().parents[1] / "student_template" / "attention" / "attention.ipynb"
STUB = "# YOUR CODE HERE\nraise NotImplementedError()"

# name -> (what the student got wrong, [(correct line, buggy line), ...])
EXAMPLES: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "bug_scale_dk": (
        "Divides the scores by d_k instead of sqrt(d_k): attention is too flat.",
        [("/ np.sqrt(d_k)\n", "/ d_k  # BUG: should be np.sqrt(d_k)\n")],
    ),
    "bug_mask_inverted": (
        "Reads the mask backwards: attends exactly where the mask says 'blocked'.",
        [
            (
                "np.where(np.asarray(mask) != 0, scores, -1e9)",
                "np.where(np.asarray(mask) == 0, scores, -1e9)  # BUG: should be != 0",
            )
        ],
    ),
    "bug_heads_no_transpose": (
        "Splits heads with a bare reshape to (batch, heads, seq, head_dim), and merges the "
        "same way: every head mixes positions and features of different tokens.",
        [
            (
                "x.reshape(b, s, self.num_heads, self.head_dim).transpose(0, 2, 1, 3)",
                "x.reshape(b, self.num_heads, s, self.head_dim)  # BUG: reshape then transpose",
            ),
            (
                "x.transpose(0, 2, 1, 3).reshape(b, s, h * d)",
                "x.reshape(b, s, h * d)  # BUG: transpose back first",
            ),
        ],
    ),
    "bug_cache_not_advanced": (
        "KVCache.update writes the new keys/values but never records the slot's new "
        "length, so the next update overwrites them and decoding forgets the past.",
        [
            (
                "        self.cache_lengths[batch_idx] = end\n",
                "        # BUG: forgot self.cache_lengths[batch_idx] = end\n",
            )
        ],
    ),
    "bug_softmax_axis": (
        "Normalizes the attention weights over the queries (axis -2) instead of the keys.",
        [("softmax(scores, axis=-1)", "softmax(scores, axis=-2)  # BUG: should be axis=-1")],
    ),
}


# ============================================================================ correct.ipynb

# Per solution cell: what the student typed in place of each stub, in order. Bodies are
# written at zero indentation and indented to match the stub they replace.
STUDENT_CODE: dict[str, list[str]] = {
    "causal_mask": [
        """
        mask = np.tril(np.ones((seq_len, seq_len)))
        return mask.astype(bool)
        """
    ],
    "softmax": [
        """
        z = x - x.max(axis=axis, keepdims=True)
        ez = np.exp(z)
        return ez / ez.sum(axis=axis, keepdims=True)
        """
    ],
    "scaled_dot_product": [
        """
        d_k = query.shape[-1]
        scores = np.matmul(query, key.swapaxes(-1, -2)) / np.sqrt(d_k) / self.temperature
        if mask is not None:
            mask = np.asarray(mask)
            scores = np.where(mask.astype(bool), scores, MASK_FILL)
        weights = softmax(scores)
        output = np.matmul(weights, value)
        """
    ],
    "multi_head": [
        """
        if embed_dim % num_heads:
            raise ValueError("num_heads has to divide embed_dim")
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        self.w_q = np.random.randn(embed_dim, embed_dim) / np.sqrt(embed_dim)
        self.w_k = np.random.randn(embed_dim, embed_dim) / np.sqrt(embed_dim)
        self.w_v = np.random.randn(embed_dim, embed_dim) / np.sqrt(embed_dim)
        self.w_o = np.random.randn(embed_dim, embed_dim) / np.sqrt(embed_dim)
        self.parameters = [self.w_q, self.w_k, self.w_v, self.w_o]
        self.attention = ScaledDotProductAttention(dropout)
        """,
        """
        new_shape = x.shape[:-1] + (self.num_heads, self.head_dim)
        return np.swapaxes(x.reshape(new_shape), -2, -3)
        """,
        """
        x = np.swapaxes(x, -2, -3)
        return x.reshape(x.shape[:-2] + (self.embed_dim,))
        """,
        """
        Q = self.split_heads(query @ self.w_q)
        K = self.split_heads(key @ self.w_k)
        V = self.split_heads(value @ self.w_v)
        if mask is not None:
            mask = np.asarray(mask)
            if mask.ndim == 3:
                mask = mask[:, None]  # one mask per batch element, shared by heads
        heads_out, weights = self.attention(Q, K, V, mask=mask, return_attention_weights=True)
        output = self.merge_heads(heads_out) @ self.w_o
        """,
    ],
    "kv_cache": [
        """
        self.max_batch_size = max_batch_size
        self.max_seq_length = max_seq_length
        self.num_heads = num_heads
        self.head_dim = head_dim
        self.cached_keys = np.zeros((max_batch_size, num_heads, max_seq_length, head_dim))
        self.cached_values = np.zeros_like(self.cached_keys)
        self.cache_lengths = np.zeros(max_batch_size, dtype=np.int64)
        """,
        """
        n_new = new_keys.shape[1]
        cur = self.cache_lengths[batch_idx]
        if cur + n_new > self.max_seq_length:
            raise ValueError(f"cache slot {batch_idx} is full")
        self.cached_keys[batch_idx, :, cur:cur + n_new] = new_keys
        self.cached_values[batch_idx, :, cur:cur + n_new] = new_values
        self.cache_lengths[batch_idx] = cur + n_new
        n = self.cache_lengths[batch_idx]
        return self.cached_keys[batch_idx, :, :n], self.cached_values[batch_idx, :, :n]
        """,
        """
        if batch_idx is None:
            self.cache_lengths[:] = 0
        else:
            self.cache_lengths[batch_idx] = 0
        """,
        """
        mb = (self.cached_keys.nbytes + self.cached_values.nbytes) / 1024 / 1024
        return {"total_cache_memory_mb": mb}
        """,
    ],
    "cached_attention": [
        """
        x = np.asarray(x_new)
        Q = mha.split_heads(x @ mha.w_q)      # works on (new_len, embed_dim) too
        K = mha.split_heads(x @ mha.w_k)
        V = mha.split_heads(x @ mha.w_v)
        keys, values = kv_cache.update(batch_idx, K, V)
        n_new, n_all = x.shape[0], keys.shape[1]
        past = n_all - n_new
        mask = np.arange(n_all)[None, :] <= np.arange(past, n_all)[:, None]
        out = mha.attention(Q, keys, values, mask=mask)
        return mha.merge_heads(out) @ mha.w_o
        """
    ],
}

STUDENT_ANSWERS = {
    "why_sqrt_dk": (
        "The dot product adds up d_k products, so if the entries have variance 1 the "
        "score has variance d_k. For d_k = 128 the scores are spread over +-30 or so and "
        "softmax puts almost all weight on one key, and its gradient is ~0 so training "
        "gets stuck. sqrt(d_k) is the standard deviation so dividing by it gives variance "
        "1 again; dividing by d_k would make the scores tiny and the softmax almost uniform."
    ),
    "kv_cache_memory_7b": (
        "Per token: 2 (k and v) x 32 layers x 32 heads x 128 x 2 bytes = 524288 B = 512 KiB.\n"
        "One sequence of 4096 tokens: 4096 x 512 KiB = 2 GiB. Batch of 8: 16 GiB.\n"
        "The weights are 7e9 x 2 B = 14 GB, so the cache for 8 sequences is bigger than "
        "the model. The batch size is limited by cache memory."
    ),
    "decode_cost": (
        "Each new token still has to look at all previous tokens, so step t costs t and "
        "the sum over T steps is about T^2/2. Without the cache every step redoes the "
        "projections of all tokens and the whole t x t attention, ~T^3 total. The cache "
        "costs memory: keys and values for every token, layer and head."
    ),
}

# Cells a student added, inserted after the cell with the given id.
EXTRA_CELLS: list[tuple[str, str]] = [
    ("setup", "%matplotlib inline\nimport numpy as np\nprint('setup done')"),
    ("setup", "!pip list | grep -i numpy"),
    (
        "test_scaled_dot_product",
        "# my own check\nw_demo = ScaledDotProductAttention()(np.eye(3)[None], np.eye(3)[None], "
        "np.eye(3)[None], return_attention_weights=True)[1]\nprint(w_demo.round(3))",
    ),
    (
        "test_multi_head",
        "# TODO: finish the heatmap helper\nplot_attention_heatmap(w_demo[0], title='identity')",
    ),
    ("test_cached_attention", "print('all parts done')"),
]


def _indent(body: str, indent: str) -> str:
    return "\n".join(indent + line if line else line for line in dedent(body).strip("\n").split("\n"))


def _fill_stubs(source: str, bodies: list[str]) -> str:
    lines = source.split("\n")
    out: list[str] = []
    remaining = list(bodies)
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.strip() == "# YOUR CODE HERE" and i + 1 < len(lines) and lines[i + 1].strip() == "raise NotImplementedError()":
            indent = line[: len(line) - len(line.lstrip())]
            out.append(_indent(remaining.pop(0), indent))
            i += 2
            continue
        out.append(line)
        i += 1
    assert not remaining, "more student bodies than stubs"
    return "\n".join(out)


def _run_for_outputs(nb: nbformat.NotebookNode) -> None:
    """Execute code cells like a student session, recording stdout and errors as outputs.

    Magic and shell lines are skipped (no output recorded for them); the timing demo is
    left unexecuted because its output would differ on every build.
    """
    namespace: dict = {}
    count = 0
    for cell in nb.cells:
        if cell.cell_type != "code" or "perf_counter" in cell.source:
            continue
        count += 1
        cell.execution_count = count
        code = "\n".join(
            line for line in cell.source.split("\n") if not line.lstrip().startswith(("%", "!"))
        )
        buffer = io.StringIO()
        error = None
        try:
            with contextlib.redirect_stdout(buffer):
                exec(compile(code, f"<cell {count}>", "exec"), namespace)
        except Exception as exc:  # a half-finished cell: record the error and keep going
            error = exc
        outputs = []
        if buffer.getvalue():
            outputs.append(nbformat.v4.new_output("stream", name="stdout", text=buffer.getvalue()))
        if error is not None:
            outputs.append(
                nbformat.v4.new_output(
                    "error",
                    ename=type(error).__name__,
                    evalue=str(error),
                    traceback=[f"{type(error).__name__}: {error}"],
                )
            )
        cell.outputs = outputs


def correct_notebook_text() -> str:
    nb = nbformat.read(TEMPLATE_NOTEBOOK, as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.cell_type == "code" and grade_id in STUDENT_CODE:
            cell.source = _fill_stubs(cell.source, STUDENT_CODE[grade_id])
        elif cell.cell_type == "markdown" and grade_id in STUDENT_ANSWERS:
            cell.source = STUDENT_ANSWERS[grade_id]
    # Reversed, so two cells added after the same anchor keep their listed order.
    for number, (after, source) in reversed(list(enumerate(EXTRA_CELLS))):
        index = next(i for i, c in enumerate(nb.cells) if c.get("id") == after)
        extra = nbformat.v4.new_code_cell(source)
        extra["id"] = f"student-{number}"
        nb.cells.insert(index + 1, extra)
    assert STUB not in "\n".join(c.source for c in nb.cells), "a stub was left unfilled"
    _run_for_outputs(nb)
    nb.metadata["language_info"] = {"name": "python", "version": "3.11"}
    text = nbformat.writes(nb, version=4)
    return text if text.endswith("\n") else text + "\n"


BUILT = {"correct.ipynb": correct_notebook_text}
