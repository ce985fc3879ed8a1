"""Mutants added with issue 12's hint fixes, in the format of ``build_mutants.MUTANTS``
(kept apart so the corpus can move into course content without merge trouble; the lead
merges them into it). Each is ``_base.py`` with one patch; its hint keyword is the fixed
hint's."""

from __future__ import annotations

MUTANTS: dict[str, tuple[str, str, str, list[tuple[str, str]]]] = {
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
