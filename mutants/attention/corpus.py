"""The attention assignment's mutant corpus: one realistic bug per entry.

Course content for ``proctor audit attention`` (declared in course.toml as
``[assignments.attention.audit] mutants``), never released: its base, ``_base.py``, is a
complete solution. Each mutant is ``_base.py`` with its patches applied (each ``old`` must
occur exactly once), built by ``proctor.audit.corpus`` at audit time; ``proctor audit
attention --keep DIR`` writes them out to read.

``MUTANTS``: name -> (tasks, hint words, what the bug is, [(old, new), ...]). ``tasks`` is
the mutant's own task, then (comma-separated) any task it may also lose because the bug
sits in a helper both tasks' code calls. Grading it must cost points in its own task, in
no task outside ``tasks``, and some failing test of those tasks must have a hint
containing the hint words (case-insensitive).
"""

from __future__ import annotations

BASE = "_base.py"

MUTANTS: dict[str, tuple[str, str, str, list[tuple[str, str]]]] = {
    # ------------------------------------------------------------------ causal mask
    "mask_upper": ("causal_mask", "np.tril, not np.triu", "upper triangle",
                   [("mask = np.tril(np.ones((seq_len, seq_len)))",
                     "mask = np.triu(np.ones((seq_len, seq_len)))")]),
    "mask_strict": ("causal_mask", "attend to itself", "diagonal left out",
                    [("mask = np.tril(np.ones((seq_len, seq_len)))",
                      "mask = np.tril(np.ones((seq_len, seq_len)), k=-1)")]),
    "mask_inverted": ("causal_mask", "blocked positions with 1", "1 marks blocked",
                      [("mask = np.tril(np.ones((seq_len, seq_len)))",
                        "mask = 1 - np.tril(np.ones((seq_len, seq_len)))")]),
    "mask_additive": ("causal_mask", "additive mask", "returns 0 / -1e9",
                      [("mask = np.tril(np.ones((seq_len, seq_len)))",
                        "mask = np.where(np.tril(np.ones((seq_len, seq_len))) > 0, 0.0, -1e9)")]),
    # ------------------------------------------------------------------ SDPA
    "sdpa_scale_dk": ("scaled_dot_product", "sqrt(d_k)", "divides by d_k",
                      [("/ np.sqrt(d_k)", "/ d_k")]),
    "sdpa_no_scale": ("scaled_dot_product", "not scaled", "no scaling",
                      [("/ np.sqrt(d_k)", "")]),
    "sdpa_scale_dv": ("scaled_dot_product", "value vectors", "scales by sqrt(d_v)",
                      [("d_k = query.shape[-1]", "d_k = value.shape[-1]")]),
    "sdpa_softmax_axis": ("scaled_dot_product", "wrong axis", "softmax over queries",
                          [("scores = scores - np.max(scores, axis=-1, keepdims=True)",
                            "scores = scores - np.max(scores, axis=-2, keepdims=True)"),
                           ("exp_scores / np.sum(exp_scores, axis=-1, keepdims=True)",
                            "exp_scores / np.sum(exp_scores, axis=-2, keepdims=True)")]),
    "sdpa_unstable": ("scaled_dot_product", "overflow", "no max subtraction",
                      [("        scores = scores - np.max(scores, axis=-1, keepdims=True)\n",
                        "")]),
    "sdpa_mask_inverted": ("scaled_dot_product", "wrong way round", "mask == 0 attends",
                           [("np.where(mask != 0, scores, -1e9)",
                             "np.where(mask == 0, scores, -1e9)")]),
    "sdpa_mask_after_softmax": (
        "scaled_dot_product", "after the softmax", "zeroes weights, no renormalising",
        [("        if mask is not None:\n            scores = np.where(mask != 0, scores, -1e9)\n",
          ""),
         ("        output = np.matmul(weights, value)",
          "        if mask is not None:\n"
          "            weights = weights * (mask != 0)\n"
          "        output = np.matmul(weights, value)")]),
    "sdpa_mask_multiply": ("scaled_dot_product", "multiplying the scores", "scores * mask",
                           [("np.where(mask != 0, scores, -1e9)", "scores * mask")]),
    "sdpa_mask_neg_inf": ("scaled_dot_product", "-inf", "fills -inf (NaN rows)",
                          [("np.where(mask != 0, scores, -1e9)",
                            "np.where(mask != 0, scores, -np.inf)")]),
    "sdpa_temperature_multiply": ("scaled_dot_product", "temperature", "multiplies",
                                  [("scores = scores / self.temperature",
                                    "scores = scores * self.temperature")]),
    "sdpa_weights_are_scores": (
        "scaled_dot_product", "raw scores", "returns pre-softmax scores",
        [("        if return_attention_weights:\n            return output, weights\n"
          "        return output\n\n    def __call__(self, *args, **kwargs):\n"
          "        return self.forward(*args, **kwargs)\n\n\nclass MultiHeadAttention",
          "        if return_attention_weights:\n            return output, raw\n"
          "        return output\n\n    def __call__(self, *args, **kwargs):\n"
          "        return self.forward(*args, **kwargs)\n\n\nclass MultiHeadAttention"),
         ("        scores = scores - np.max(scores, axis=-1, keepdims=True)",
          "        raw = scores\n        scores = scores - np.max(scores, axis=-1, keepdims=True)")]),
    # ------------------------------------------------------------------ MHA
    "mha_scale_embed": (
        "multi_head", "sqrt(embed_dim)", "scales each head by sqrt(embed_dim)",
        [("heads, weights = self.attention.forward(Q, K, V, mask=mask, "
          "return_attention_weights=True)",
          "Q = Q * np.sqrt(self.head_dim) / np.sqrt(self.embed_dim)  # 'scale by model size'\n"
          "        heads, weights = self.attention.forward(Q, K, V, mask=mask, "
          "return_attention_weights=True)")]),
    "mha_merge_no_transpose": (
        "multi_head", "swap the heads and seq axes", "merge with a bare reshape in forward",
        [("output = self._merge_heads(heads) @ self.w_o",
          "output = heads.reshape(heads.shape[0], heads.shape[2], self.embed_dim) @ self.w_o")]),
    "mha_split_no_transpose": (
        "multi_head,cached_attention", "swap the", "shared split helper without transpose",
        [("        x = x.reshape(batch, seq, self.num_heads, self.head_dim)\n"
          "        return x.transpose(0, 2, 1, 3)",
          "        return x.reshape(batch, self.num_heads, seq, self.head_dim)")]),
    "mha_no_out_proj": ("multi_head", "output projection is missing", "forgets w_o",
                        [("output = self._merge_heads(heads) @ self.w_o",
                          "output = self._merge_heads(heads)")]),
    "mha_swap_kv": ("multi_head", "swapped", "K from w_v, V from w_k",
                    [("K = self._split_heads(key @ self.w_k)",
                      "K = self._split_heads(key @ self.w_v)"),
                     ("V = self._split_heads(value @ self.w_v)",
                      "V = self._split_heads(value @ self.w_k)")]),
    "mha_transposed_weights": (
        "multi_head", "right-multiplication", "w @ x, i.e. x @ w.T",
        [("Q = self._split_heads(query @ self.w_q)", "Q = self._split_heads(query @ self.w_q.T)"),
         ("K = self._split_heads(key @ self.w_k)", "K = self._split_heads(key @ self.w_k.T)"),
         ("V = self._split_heads(value @ self.w_v)", "V = self._split_heads(value @ self.w_v.T)")]),
    "mha_self_only": ("multi_head", "cross-attention", "projects query for K and V",
                      [("K = self._split_heads(key @ self.w_k)",
                        "K = self._split_heads(query @ self.w_k)"),
                       ("V = self._split_heads(value @ self.w_v)",
                        "V = self._split_heads(query @ self.w_v)")]),
    "mha_mask3d_no_head_axis": ("multi_head", "heads axis", "3-D mask not given a head axis",
                                [("                mask = mask[:, None, :, :]\n",
                                  "                pass\n")]),
    "mha_weights_averaged": ("multi_head", "average", "returns head-averaged weights",
                             [("            return output, weights\n        return output\n\n"
                               "    def __call__(self, *args, **kwargs):\n"
                               "        return self.forward(*args, **kwargs)\n\n\nclass KVCache",
                               "            return output, weights.mean(axis=1)\n"
                               "        return output\n\n"
                               "    def __call__(self, *args, **kwargs):\n"
                               "        return self.forward(*args, **kwargs)\n\n\nclass KVCache")]),
    # ------------------------------------------------------------------ KV cache
    "kv_no_advance": ("kv_cache", "never advances", "length never recorded",
                      [("        self.cache_lengths[batch_idx] = end\n", "")]),
    "kv_write_at_zero": ("kv_cache", "position 0", "always writes at 0",
                         [("self.cached_keys[batch_idx, :, start:end, :] = new_keys",
                           "self.cached_keys[batch_idx, :, 0:new_len, :] = new_keys"),
                          ("self.cached_values[batch_idx, :, start:end, :] = new_values",
                           "self.cached_values[batch_idx, :, 0:new_len, :] = new_values")]),
    "kv_padded": ("kv_cache", "padding", "returns all max_seq_length positions",
                  [("keys = self.cached_keys[batch_idx, :, :end, :]",
                    "keys = self.cached_keys[batch_idx]"),
                   ("values = self.cached_values[batch_idx, :, :end, :]",
                    "values = self.cached_values[batch_idx]")]),
    "kv_only_new": ("kv_cache,efficiency", "only the new", "returns just the new entries",
                    [("        return keys, values\n\n    def reset",
                      "        return new_keys, new_values\n\n    def reset")]),
    "kv_ignore_slot": ("kv_cache", "same slot", "everything in slot 0",
                       [("        new_len = new_keys.shape[1]\n",
                         "        new_len = new_keys.shape[1]\n        batch_idx = 0\n")]),
    "kv_length_before_check": (
        "kv_cache", "check first", "records the new length before refusing",
        [("        if end > self.max_seq_length:\n            raise ValueError(\"cache is full\")\n",
          "        self.cache_lengths[batch_idx] = end\n"
          "        if end > self.max_seq_length:\n            raise ValueError(\"cache is full\")\n")]),
    "kv_reset_keeps_length": (
        "kv_cache", "reset", "reset(slot) clears the arrays but not the length",
        [("            self.cache_lengths[batch_idx] = 0\n", "")]),
    "kv_swap": ("kv_cache", "(values, keys)", "returns (values, keys)",
                [("        return keys, values\n\n    def reset",
                  "        return values, keys\n\n    def reset")]),
    # ------------------------------------------------------------------ cached decoding
    "decode_past_after_update": (
        "cached_attention", "future", "reads the slot's length after appending",
        [("    past = int(kv_cache.cache_lengths[batch_idx])\n"
          "    keys, values = kv_cache.update(batch_idx, k, v)\n",
          "    keys, values = kv_cache.update(batch_idx, k, v)\n"
          "    past = int(kv_cache.cache_lengths[batch_idx])\n")]),
    "decode_scale_embed": (
        "cached_attention", "sqrt(embed_dim)", "scales by the model width while decoding",
        [("    out = mha.attention.forward(q, keys, values, mask=mask)",
          "    q = q * np.sqrt(mha.head_dim) / np.sqrt(mha.embed_dim)\n"
          "    out = mha.attention.forward(q, keys, values, mask=mask)")]),
    "decode_top_left": ("cached_attention", "top-left", "mask not end-aligned",
                        [("<= (past + np.arange(new_len))[:, None]",
                          "<= np.arange(new_len)[:, None]")]),
    "decode_no_mask": ("cached_attention", "future", "no mask for a prompt",
                       [("out = mha.attention.forward(q, keys, values, mask=mask)",
                         "out = mha.attention.forward(q, keys, values)")]),
    "decode_before_append": (
        "cached_attention", "cannot see itself", "attends to the past, then appends",
        [("    keys, values = kv_cache.update(batch_idx, k, v)\n",
          "    keys = kv_cache.cached_keys[batch_idx, :, :past]\n"
          "    values = kv_cache.cached_values[batch_idx, :, :past]\n"),
         ("    out = mha.attention.forward(q, keys, values, mask=mask)\n",
          "    out = mha.attention.forward(q, keys, values)\n"
          "    kv_cache.update(batch_idx, k, v)\n")]),
    "decode_no_cache": ("cached_attention,efficiency", "only to its own new tokens",
                        "attends to the new tokens only",
                        [("    keys, values = kv_cache.update(batch_idx, k, v)\n",
                          "    kv_cache.update(batch_idx, k, v)\n    keys, values = k, v\n"),
                         ("(past + np.arange(new_len))", "np.arange(new_len)")]),
    "decode_no_out_proj": ("cached_attention", "output projection", "forgets w_o",
                           [("return (mha._merge_heads(out[None]) @ mha.w_o)[0]",
                             "return mha._merge_heads(out[None])[0]")]),
    # ------------------------------------------------------------------ hint fixes (issue 12)
    "sdpa_mask_ignored": ("scaled_dot_product", "no effect", "masked scores computed and dropped",
                          [("            scores = np.where(mask != 0, scores, -1e9)\n",
                            "            np.where(mask != 0, scores, -1e9)\n")]),
    "sdpa_softmax_eps": ("scaled_dot_product", "epsilon", "softmax denominator + 1e-3",
                         [("np.sum(exp_scores, axis=-1, keepdims=True)",
                           "(np.sum(exp_scores, axis=-1, keepdims=True) + 1e-3)")]),
    "mha_assert_divisible": ("multi_head", "raise ValueError", "assert instead of ValueError",
                             [("        if embed_dim % num_heads != 0:\n"
                               "            raise ValueError(\"embed_dim must be divisible by num_heads\")\n",
                               "        assert embed_dim % num_heads == 0, \"embed_dim must be divisible\"\n")]),
    "mha_parameters_method": ("multi_head", "self.parameters =", "parameters() is a method",
                              [("        self.parameters = [self.w_q, self.w_k, self.w_v, self.w_o]\n", ""),
                               ("    def _split_heads(self, x):",
                                "    def parameters(self):\n"
                                "        return [self.w_q, self.w_k, self.w_v, self.w_o]\n\n"
                                "    def _split_heads(self, x):")]),
    "kv_assert_overflow": ("kv_cache", "raise ValueError", "assert instead of ValueError",
                           [("        if end > self.max_seq_length:\n"
                             "            raise ValueError(\"cache is full\")\n",
                             "        assert end <= self.max_seq_length, \"cache is full\"\n")]),
}
