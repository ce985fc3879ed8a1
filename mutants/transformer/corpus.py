"""The transformer assignment's mutant corpus: one realistic bug per entry.

Course content for ``proctor audit transformer`` (course.toml's
``[assignments.transformer.audit] mutants``), never released. Its
base, ``_base.py``, is a complete solution that imports the student's own attention as
``attention``; each mutant is ``_base.py`` with its patches applied (each ``old`` must occur
exactly once), built by ``proctor.audit.corpus``.

``MUTANTS``: name -> (tasks, hint words, what the bug is, [(old, new), ...]). ``tasks`` is the
mutant's own task only: a LayerNorm bug reaches every block, the model and generate, but
their suites also accept the contract's wiring around the student's own parts (no double
jeopardy), so the audit holds every mutant to losing points in its own task alone. The hint words are taken from
``reference/transformer_variants.py``, whose variant of the same name reproduces each bug's
numbers (``tests/test_transformer_corpus.py`` checks that mapping on the reference attention).
"""

from __future__ import annotations

BASE = "_base.py"

_LN = "layer_norm"  # own task only: block, model and generate lose nothing (see above)
_FFN = "feed_forward"
_BLOCK = "block"

MUTANTS: dict[str, tuple[str, str, str, list[tuple[str, str]]]] = {
    # ------------------------------------------------------------------ LayerNorm
    "ln_unbiased": (_LN, "unbiased variance", "np.var with ddof=1",
                    [("var = np.var(x, axis=-1, keepdims=True)",
                      "var = np.var(x, axis=-1, keepdims=True, ddof=1)")]),
    "ln_wrong_axis": (_LN, "wrong axis", "normalises over axis 0",
                      [("mean = np.mean(x, axis=-1, keepdims=True)",
                        "mean = np.mean(x, axis=0, keepdims=True)"),
                       ("var = np.var(x, axis=-1, keepdims=True)",
                        "var = np.var(x, axis=0, keepdims=True)")]),
    "ln_eps_outside": (_LN, "inside the square root", "/ (sqrt(var) + eps)",
                       [("x_hat = (x - mean) / np.sqrt(var + self.eps)",
                         "x_hat = (x - mean) / (np.sqrt(var) + self.eps)")]),
    "ln_no_affine": (_LN, "scale and shift", "gamma and beta never applied",
                     [("return x_hat * self.gamma + self.beta", "return x_hat")]),
    # ------------------------------------------------------------------ GELU / FFN
    "gelu_tanh": (_FFN, "tanh approximation", "tanh GELU instead of exact",
                  [("return 0.5 * x * (1.0 + _erf(x / np.sqrt(2.0)))",
                    "return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) "
                    "* (x + 0.044715 * x ** 3)))")]),
    "gelu_sigmoid": (_FFN, "sigmoid approximation", "x * sigmoid(1.702 x)",
                     [("return 0.5 * x * (1.0 + _erf(x / np.sqrt(2.0)))",
                       "return x / (1.0 + np.exp(-1.702 * x))")]),
    "ffn_no_bias": (_FFN, "biases are missing", "b1 and b2 never added",
                    [("hidden = gelu(x @ self.w1 + self.b1)", "hidden = gelu(x @ self.w1)"),
                     ("return hidden @ self.w2 + self.b2", "return hidden @ self.w2")]),
    # ------------------------------------------------------------------ block
    "block_post_norm": (_BLOCK, "post-norm", "LN(x + sublayer(x))",
                        [("        x = x + attend(self.ln1(x))\n"
                          "        x = x + self.ffn(self.ln2(x))\n",
                          "        x = self.ln1(x + attend(x))\n"
                          "        x = self.ln2(x + self.ffn(x))\n")]),
    "block_residual_twice": (_BLOCK, "added twice", "x + (x + sublayer)",
                             [("        x = x + attend(self.ln1(x))\n"
                               "        x = x + self.ffn(self.ln2(x))\n",
                               "        x = x + (x + attend(self.ln1(x)))\n"
                               "        x = x + (x + self.ffn(self.ln2(x)))\n")]),
    "block_residual_from_norm": (
        _BLOCK, "normalised input", "LN(x) + sublayer(LN(x))",
        [("        x = x + attend(self.ln1(x))\n        x = x + self.ffn(self.ln2(x))\n",
          "        h = self.ln1(x)\n        x = h + attend(h)\n"
          "        h = self.ln2(x)\n        x = h + self.ffn(h)\n")]),
    "block_shared_ln": (_BLOCK, "same LayerNorm", "ln1 used for the FFN too",
                        [("x = x + self.ffn(self.ln2(x))", "x = x + self.ffn(self.ln1(x))")]),
    "block_no_mask": (_BLOCK, "ignores its mask", "mask never passed on",
                      [("self.attention(h, h, h, mask=mask)", "self.attention(h, h, h)")]),
    # ------------------------------------------------------------------ model
    "model_no_positions": ("model", "position embeddings", "tokens only",
                           [("return self.token_embedding[tokens] + "
                             "self.position_embedding[start:end]",
                             "return self.token_embedding[tokens]")]),
    "model_no_final_ln": ("model", "final LayerNorm", "ln_f skipped",
                          [("return self.ln_f(x) @ self.w_out", "return x @ self.w_out"),
                           ("logits = self.ln_f(x[-1]) @ self.w_out",
                            "logits = x[-1] @ self.w_out")]),
    # ------------------------------------------------------------------ generate
    "gen_shared_cache": ("generate", "its own KVCache", "one cache for every block",
                         [("        caches = [KVCache(1, self.max_seq_len, self.num_heads, "
                           "head_dim)\n                  for _ in self.blocks]\n",
                           "        shared = KVCache(1, self.max_seq_len, self.num_heads, "
                           "head_dim)\n        caches = [shared for _ in self.blocks]\n")]),
    "gen_positions_restart": ("generate", "positions at 0 again", "embed(new, 0) every step",
                              [("x = self.embed(new, len(tokens) - len(new))",
                                "x = self.embed(new, 0)")]),
    "gen_prefill_last_only": ("generate", "prefill the whole prompt",
                              "only the prompt's last token enters the caches",
                              [("new = np.array(tokens)\n", "new = np.array(tokens[-1:])\n")]),
    "gen_fresh_caches": ("generate", "keep the caches across steps",
                         "new empty caches on every step",
                         [("            if use_cache:\n",
                           "            if use_cache:\n"
                           "                caches = [KVCache(1, self.max_seq_len, "
                           "self.num_heads, head_dim)\n"
                           "                          for _ in self.blocks]\n")]),
    # ------------------------------------------------------------------ efficiency
    "eff_always_recompute": ("efficiency", "linear", "ignores use_cache: recomputes forward",
                             [("            if use_cache:\n", "            if False:\n")]),
}

# name of the matching variant in reference/transformer_variants.py, and the function whose
# variants contain it ("ln", "ffn", "block", "model" or "generate"); None: no variant (the
# efficiency mutant is correct in value).
VARIANT_OF: dict[str, tuple[str, str] | None] = {
    "ln_unbiased": ("ln", "unbiased"),
    "ln_wrong_axis": ("ln", "wrong_axis"),
    "ln_eps_outside": ("ln", "eps_outside"),
    "ln_no_affine": ("ln", "no_affine"),
    "gelu_tanh": ("ffn", "tanh"),
    "gelu_sigmoid": ("ffn", "sigmoid"),
    "ffn_no_bias": ("ffn", "no_bias"),
    "block_post_norm": ("block", "post_norm"),
    "block_residual_twice": ("block", "residual_twice"),
    "block_residual_from_norm": ("block", "residual_from_norm"),
    "block_shared_ln": ("block", "shared_ln"),
    "block_no_mask": ("block", "no_mask"),
    "model_no_positions": ("model", "no_positions"),
    "model_no_final_ln": ("model", "no_final_ln"),
    "gen_shared_cache": ("generate", "shared_cache"),
    "gen_positions_restart": ("generate", "positions_restart"),
    "gen_prefill_last_only": ("generate", "prefill_last_only"),
    "gen_fresh_caches": ("generate", "no_cache"),
    "eff_always_recompute": None,
}
