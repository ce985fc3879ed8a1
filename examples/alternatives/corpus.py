"""Correct alternatives: one per freedom the attention contract allows.

``proctor audit attention`` grades each and requires full marks (course.toml,
``[assignments.attention.audit] alternatives``). Each is the mutant corpus's correct base
(``mutants/attention/_base.py``: matmul, a float 0/1 mask, -1e9 fill, a float64 cache,
heads split by reshape) with one freedom exercised; ``correct.py`` beside the submissions
combines several of them by hand. ``proctor audit attention --keep DIR`` writes them out.

``ALTERNATIVES``: name -> (the freedom, [(old, new), ...]), each ``old`` found exactly once.
"""

from __future__ import annotations

BASE = "../../mutants/attention/_base.py"

_TENSOR = '''import numpy as np


class Tensor:
    """TinyTorch's Tensor, reduced to what the contract needs: an ndarray in .data."""

    def __init__(self, data):
        self.data = np.asarray(data)

    @property
    def shape(self):
        return self.data.shape
'''

ALTERNATIVES: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "tensor_data": (
        "Tensor-like values: the mask, the outputs and the projection matrices are objects "
        "whose .data is an ndarray",
        [("import numpy as np\n", _TENSOR),
         ("    return mask\n", "    return Tensor(mask)\n"),
         *[(f"self.w_{m} = np.random.randn(embed_dim, embed_dim) * scale",
            f"self.w_{m} = Tensor(np.random.randn(embed_dim, embed_dim) * scale)") for m in "qkvo"],
         *[(f"self._split_heads({x} @ self.w_{m})", f"self._split_heads({x} @ self.w_{m}.data)")
           for x, m in (("query", "q"), ("key", "k"), ("value", "v"))],
         ("output = self._merge_heads(heads) @ self.w_o",
          "output = Tensor(self._merge_heads(heads) @ self.w_o.data)"),
         *[(f"mha._split_heads(x @ mha.w_{m})", f"mha._split_heads(x @ mha.w_{m}.data)") for m in "qkv"],
         ("return (mha._merge_heads(out[None]) @ mha.w_o)[0]",
          "return Tensor((mha._merge_heads(out[None]) @ mha.w_o.data)[0])")]),
    "float32_cache": (
        "a KV cache that stores float32 (half the memory)",
        [("self.cached_keys = np.zeros(shape)", "self.cached_keys = np.zeros(shape, dtype=np.float32)"),
         ("self.cached_values = np.zeros(shape)", "self.cached_values = np.zeros(shape, dtype=np.float32)")]),
    "neg_inf_fill": (
        "blocked scores filled with -inf; a fully blocked row gives zeros, as PyTorch does",
        [("np.where(mask != 0, scores, -1e9)", "np.where(mask != 0, scores, -np.inf)"),
         ("scores = scores - np.max(scores, axis=-1, keepdims=True)",
          "row_max = np.max(scores, axis=-1, keepdims=True)\n"
          "        scores = scores - np.where(np.isfinite(row_max), row_max, 0.0)"),
         ("weights = exp_scores / np.sum(exp_scores, axis=-1, keepdims=True)",
          "weights = exp_scores / np.maximum(np.sum(exp_scores, axis=-1, keepdims=True), 1e-300)")]),
    "int_mask": (
        "an integer 0/1 causal mask",
        [("np.tril(np.ones((seq_len, seq_len)))", "np.tril(np.ones((seq_len, seq_len), dtype=int))")]),
    "bool_mask": (
        "a boolean causal mask",
        [("np.tril(np.ones((seq_len, seq_len)))", "np.tril(np.ones((seq_len, seq_len), dtype=bool))")]),
    "head_loop": (
        "a Python loop over heads, one scaled dot-product attention call each",
        [("        heads, weights = self.attention.forward(Q, K, V, mask=mask, "
          "return_attention_weights=True)\n",
          "        per_head = None if mask is None else (mask[:, 0] if mask.ndim == 4 else mask)\n"
          "        pairs = [self.attention.forward(Q[:, h], K[:, h], V[:, h], mask=per_head,\n"
          "                                        return_attention_weights=True)\n"
          "                 for h in range(self.num_heads)]\n"
          "        heads = np.stack([o for o, _ in pairs], axis=1)\n"
          "        weights = np.stack([w for _, w in pairs], axis=1)\n")]),
    "einsum": (
        "np.einsum for both products of attention",
        [("np.matmul(query, np.swapaxes(key, -1, -2))", 'np.einsum("...qd,...kd->...qk", query, key)'),
         ("np.matmul(weights, value)", 'np.einsum("...qk,...kd->...qd", weights, value)')]),
}
