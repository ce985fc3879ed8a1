"""Known-wrong versions of the attention reference: the mistakes students really make.

Hidden course content (never released, never mounted in the sandbox). A grader suite
computes, on its own inputs, what each mistake would have produced and passes the results
to ``proctor.asserts.assert_close(variants=...)``; when the student's output matches one,
the feedback names the misconception instead of only saying "wrong numbers".

Each ``*_variants`` function returns ``{name: (zero-argument callable, hint)}``. The
callables are lazy (evaluated only when a check fails) and may raise for inputs where the
mistake cannot even run (e.g. a transposed mask on a non-square shape); diagnose then
ignores them. Hints describe the misconception, never the inputs.

The functions here are deliberately written out (not built on the reference's private
helpers) so that each mistake is visible in one place; every one of them, with no bug
switched on, equals the reference (``tests/test_suites_reference.py`` checks that).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

Variants = dict[str, tuple[Callable[[], np.ndarray], str]]
Weights = Mapping[str, np.ndarray]  # "w_q", "w_k", "w_v", "w_o"

FILL = -1e9


def _f(x: Any) -> np.ndarray:
    return np.asarray(getattr(x, "data", x) if not isinstance(x, np.ndarray) else x,
                      dtype=np.float64)


# ----------------------------------------------------------------------------- 1. mask

MASK_HINTS = {
    "upper": "Your mask is the upper triangle: it lets a token see the future and hides its "
             "past. Query i may attend to key j only when j <= i (np.tril, not np.triu).",
    "strict": "Your mask leaves out the diagonal: a token must be able to attend to itself "
              "(j <= i, not j < i).",
    "inverted": "Your mask marks blocked positions with 1. In this assignment 1/True means "
                "'may attend' and 0/False means 'blocked'.",
    "additive": "You returned an additive mask (0 where allowed, a large negative number "
                "where blocked). create_causal_mask must return 1/True where attention is "
                "allowed and 0/False elsewhere; the masking itself happens in attention.",
    "ones": "Your mask allows everything: the future must be blocked (j > i).",
    "flipped": "Your triangle is mirrored left-to-right: the diagonal runs from the top-left "
               "to the bottom-right (entry [i, j] with j <= i).",
}


def causal_mask_variants(seq_len: int) -> Variants:
    """Wrong ``create_causal_mask(seq_len)`` results."""
    lower = np.tril(np.ones((seq_len, seq_len)))
    return {
        "upper": (lambda: lower.T.copy(), MASK_HINTS["upper"]),
        "strict": (lambda: np.tril(np.ones((seq_len, seq_len)), -1), MASK_HINTS["strict"]),
        "inverted": (lambda: 1 - lower, MASK_HINTS["inverted"]),
        "inverted_strict_upper": (lambda: np.triu(np.ones((seq_len, seq_len)), 1),
                                  MASK_HINTS["inverted"]),
        "additive": (lambda: np.where(lower > 0, 0.0, FILL), MASK_HINTS["additive"]),
        "additive_inf": (lambda: np.where(lower > 0, 0.0, -np.inf), MASK_HINTS["additive"]),
        "ones": (lambda: np.ones((seq_len, seq_len)), MASK_HINTS["ones"]),
        "flipped": (lambda: lower[:, ::-1].copy(), MASK_HINTS["flipped"]),
    }


# ----------------------------------------------------------------------------- 2. SDPA


def attention(
    q: Any,
    k: Any,
    v: Any,
    mask: Any = None,
    *,
    temperature: float = 1.0,
    scale: str | float = "sqrt_dk",
    temp: str = "divide",
    softmax_axis: int = -1,
    stable: bool = True,
    mask_mode: str = "fill",
    weights_out: str = "softmax",
) -> tuple[np.ndarray, np.ndarray]:
    """Scaled dot-product attention with optional bugs; returns ``(output, weights)``.

    With the defaults this is exactly the contract's computation. Works on any leading
    dims. ``scale``: "sqrt_dk" | "dk" | "none" | "sqrt_dv" | "times_sqrt_dk" | a divisor.
    ``temp``: "divide" | "multiply" | "ignore". ``mask_mode``: "fill" | "inverted" |
    "after_softmax" | "wrong_sign" | "bias" | "multiply" | "neg_inf" | "transposed" |
    "ignored" (the mask has no effect).
    ``weights_out``: "softmax" | "scores" | "transposed".
    """
    q, k, v = _f(q), _f(k), _f(v)
    d_k, d_v = q.shape[-1], v.shape[-1]
    scores = q @ np.swapaxes(k, -1, -2)
    if scale == "sqrt_dk":
        scores = scores / np.sqrt(d_k)
    elif scale == "dk":
        scores = scores / d_k
    elif scale == "sqrt_dv":
        scores = scores / np.sqrt(d_v)
    elif scale == "times_sqrt_dk":
        scores = scores * np.sqrt(d_k)
    elif scale != "none":
        scores = scores / float(scale)
    if temp == "divide":
        scores = scores / temperature
    elif temp == "multiply":
        scores = scores * temperature

    allowed = None
    if mask is not None:
        m = _f(mask)
        if mask_mode == "transposed":
            m = np.swapaxes(m, -1, -2)
        allowed = m != 0
        if mask_mode in ("fill", "transposed"):
            scores = np.where(allowed, scores, FILL)
        elif mask_mode == "inverted":
            scores = np.where(allowed, FILL, scores)
        elif mask_mode == "wrong_sign":
            scores = scores + (1.0 - allowed) * 1e9
        elif mask_mode == "bias":
            scores = scores + m
        elif mask_mode == "multiply":
            scores = scores * m
        elif mask_mode == "neg_inf":
            scores = np.where(allowed, scores, -np.inf)
    raw_scores = scores

    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if stable:
            scores = scores - scores.max(axis=softmax_axis, keepdims=True)
        e = np.exp(scores)
        weights = e / e.sum(axis=softmax_axis, keepdims=True)
    if allowed is not None and mask_mode == "after_softmax":
        weights = weights * allowed
    output = weights @ v
    if weights_out == "scores":
        weights = raw_scores
    elif weights_out == "transposed":
        weights = np.swapaxes(weights, -1, -2)
    return output, weights


SDPA_HINTS = {
    "scale_dk": "You divide the scores by d_k; the scale is 1/sqrt(d_k).",
    "no_scale": "The scores are not scaled: divide query @ key^T by sqrt(d_k), the size of "
                "the query/key vectors.",
    "scale_dv": "You scale by the size of the value vectors; the scale uses d_k, the size of "
                "the query/key vectors (they differ when d_v != d_k).",
    "times_sqrt": "You multiply the scores by sqrt(d_k); they must be divided by it.",
    "temp_multiply": "You multiply the scores by the temperature; divide by it (a higher "
                     "temperature must flatten the distribution).",
    "temp_ignored": "The temperature is ignored: the scores must also be divided by it.",
    "softmax_axis": "The softmax runs over the wrong axis: each query's weights over the keys "
                    "(the last axis) must sum to 1.",
    "unstable": "Your softmax overflows when the scores are large (hundreds): subtract each "
                "row's maximum score before np.exp (it does not change the result).",
    "mask_inverted": "Your mask is applied the wrong way round: nonzero/True means 'may "
                     "attend', zero/False means 'blocked'.",
    "mask_after_softmax": "You zero the blocked weights after the softmax, so the remaining "
                          "weights no longer sum to 1. Mask the scores before the softmax.",
    "mask_wrong_sign": "Your additive mask has the wrong sign: blocked scores must become very "
                       "negative (e.g. -1e9), not very positive.",
    "mask_bias": "You add the mask to the scores. The mask is 1 where attention is allowed "
                 "and 0 where it is blocked; replace blocked scores with a large negative "
                 "number instead (np.where(mask, scores, -1e9)).",
    "mask_multiply": "Multiplying the scores by the mask makes blocked scores 0, and a score "
                     "of 0 still gets weight after the softmax. Replace blocked scores with "
                     "a large negative number (e.g. -1e9).",
    "mask_neg_inf": "Filling blocked scores with -inf gives NaN in a row whose keys are all "
                    "blocked (exp(-inf - (-inf))). Use a large finite negative number such "
                    "as -1e9.",
    "mask_transposed": "Your mask is transposed: entry [i, j] says whether query i may attend "
                       "to key j.",
    "mask_ignored": "Your output is what attention gives with no mask at all: the mask has no "
                    "effect. Check that the masked scores are the ones you pass to the softmax "
                    "(e.g. scores = np.where(mask, scores, -1e9), assigned back, not "
                    "computed and dropped).",
    "weights_scores": "The weights you return are the raw scores; return the softmax weights "
                      "(each row sums to 1).",
    "weights_transposed": "The weights you return are transposed: (batch, seq_q, seq_k), "
                          "row i = query i's weights over the keys.",
}


def sdpa_variants(
    q: Any, k: Any, v: Any, mask: Any = None, temperature: float = 1.0,
    *, part: str = "output",
) -> Variants:
    """Wrong ``ScaledDotProductAttention(temperature=...)(q, k, v, mask)`` results.

    ``part`` chooses what the suite compares: "output" or "weights".
    """
    index = 0 if part == "output" else 1

    def make(**bug: Any) -> Callable[[], np.ndarray]:
        return lambda: attention(q, k, v, mask, temperature=temperature, **bug)[index]

    table: list[tuple[str, dict[str, Any]]] = [
        ("scale_dk", {"scale": "dk"}),
        ("no_scale", {"scale": "none"}),
        ("scale_dv", {"scale": "sqrt_dv"}),
        ("times_sqrt", {"scale": "times_sqrt_dk"}),
        ("temp_multiply", {"temp": "multiply"}),
        ("temp_ignored", {"temp": "ignore"}),
        ("softmax_axis", {"softmax_axis": -2}),
        ("unstable", {"stable": False}),
        ("mask_inverted", {"mask_mode": "inverted"}),
        ("mask_after_softmax", {"mask_mode": "after_softmax"}),
        ("mask_wrong_sign", {"mask_mode": "wrong_sign"}),
        ("mask_bias", {"mask_mode": "bias"}),
        ("mask_multiply", {"mask_mode": "multiply"}),
        ("mask_neg_inf", {"mask_mode": "neg_inf"}),
        ("mask_transposed", {"mask_mode": "transposed"}),
        ("mask_ignored", {"mask_mode": "ignored"}),
    ]
    if part == "weights":
        table += [("weights_scores", {"weights_out": "scores"}),
                  ("weights_transposed", {"weights_out": "transposed"})]
    return {name: (make(**bug), SDPA_HINTS[name]) for name, bug in table}


# ----------------------------------------------------------------------------- 3. MHA


def split_heads(x: np.ndarray, num_heads: int, mode: str = "correct") -> np.ndarray:
    """``(batch, seq, E) -> (batch, heads, seq, head_dim)``; mode "no_transpose" reshapes
    straight to the target shape, "interleaved" gives head h the columns h::num_heads."""
    b, s, e = x.shape
    hd = e // num_heads
    if mode == "no_transpose":
        return x.reshape(b, num_heads, s, hd)
    if mode == "interleaved":
        return x.reshape(b, s, hd, num_heads).transpose(0, 3, 1, 2)
    return x.reshape(b, s, num_heads, hd).transpose(0, 2, 1, 3)


def merge_heads(x: np.ndarray, mode: str = "correct") -> np.ndarray:
    """``(batch, heads, seq, head_dim) -> (batch, seq, E)``; "no_transpose" reshapes only."""
    b, h, s, hd = x.shape
    if mode == "no_transpose":
        return x.reshape(b, s, h * hd)
    if mode == "interleaved":
        return x.transpose(0, 2, 3, 1).reshape(b, s, h * hd)
    return x.transpose(0, 2, 1, 3).reshape(b, s, h * hd)


def mha(
    query: Any,
    key: Any,
    value: Any,
    weights: Weights,
    num_heads: int,
    mask: Any = None,
    *,
    split: str = "correct",
    merge: str = "correct",
    divisor: str = "sqrt_head_dim",
    proj: tuple[str, str, str] = ("w_q", "w_k", "w_v"),
    multiply: str = "right",
    out_proj: str = "w_o",
    mask3d: str = "per_batch",
    weights_out: str = "per_head",
    self_only: bool = False,
    attention_bug: Mapping[str, Any] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Multi-head attention with optional bugs; returns ``(output, per-head weights)``.

    Defaults are the contract. ``multiply``: "right" (x @ W) | "transposed" (x @ W.T, what
    ``W @ x`` amounts to). ``out_proj``: "w_o" | "none" | "transposed". ``divisor``:
    "sqrt_head_dim" | "sqrt_embed_dim" | "head_dim" | "none". ``mask3d``: "per_batch" |
    "per_head" (a (batch, q, k) mask broadcast against the heads axis).
    """
    xq, xk, xv = _f(query), _f(key), _f(value)
    if self_only:
        xk = xv = xq
    w = {name: _f(weights[name]) for name in ("w_q", "w_k", "w_v", "w_o")}

    def project(x: np.ndarray, name: str) -> np.ndarray:
        return x @ (w[name].T if multiply == "transposed" else w[name])

    e = xq.shape[-1]
    hd = e // num_heads
    q = split_heads(project(xq, proj[0]), num_heads, split)
    k = split_heads(project(xk, proj[1]), num_heads, split)
    v = split_heads(project(xv, proj[2]), num_heads, split)
    scale = {"sqrt_head_dim": np.sqrt(hd), "sqrt_embed_dim": np.sqrt(e),
             "head_dim": float(hd), "none": 1.0}[divisor]

    m = None
    if mask is not None:
        m = _f(mask)
        if m.ndim == 3 and mask3d == "per_batch":
            m = m[:, None]
    bug = dict(attention_bug or {})
    bug.setdefault("scale", scale)
    heads, attn = attention(q, k, v, m, **bug)
    out = merge_heads(heads, merge)
    if out_proj == "w_o":
        out = out @ w["w_o"]
    elif out_proj == "transposed":
        out = out @ w["w_o"].T
    if weights_out == "average":
        attn = attn.mean(axis=1)
    return out, attn


MHA_HINTS = {
    "scale_embed": "Each head must be scaled by 1/sqrt(head_dim); you used sqrt(embed_dim).",
    "scale_head_dim": "You divide by head_dim; the scale is 1/sqrt(head_dim).",
    "no_scale": "The heads' scores are not scaled by 1/sqrt(head_dim).",
    "split_no_transpose": "You reshape (batch, seq, embed_dim) straight to (batch, heads, seq, "
                          "head_dim). Reshape to (batch, seq, heads, head_dim) first, then "
                          "swap the seq and heads axes, so each head keeps its own columns.",
    "merge_no_transpose": "You reshape the heads' outputs (batch, heads, seq, head_dim) "
                          "straight to (batch, seq, embed_dim). Swap the heads and seq axes "
                          "first, then reshape, so each position's heads are concatenated.",
    "both_no_transpose": "You split and merge the heads with reshapes only: reshape to "
                         "(batch, seq, heads, head_dim) and transpose to (batch, heads, seq, "
                         "head_dim), and undo it the same way.",
    "interleaved": "Head h must use the contiguous columns h*head_dim:(h+1)*head_dim; your "
                   "split gives head h every num_heads-th column.",
    "no_out_proj": "The output projection is missing: multiply the concatenated heads by w_o.",
    "out_proj_transposed": "w_o is applied transposed: the output is concat(heads) @ w_o.",
    "transposed": "The projections are transposed: use right-multiplication, Q = query @ w_q "
                  "(not w_q @ query, nor query @ w_q.T).",
    "swap_kv": "The key and value projections are swapped: K = key @ w_k and V = value @ w_v.",
    "swap_qk": "The query and key projections are swapped: Q = query @ w_q and K = key @ w_k.",
    "all_wq": "All of Q, K and V use w_q; each has its own matrix (w_q, w_k, w_v).",
    "self_only": "Keys and values must come from the key and value arguments; you project "
                 "the query for all three (cross-attention needs them separate).",
    "mask3d_heads": "A (batch, seq_q, seq_k) mask must apply to every head of its batch "
                    "element: give it a heads axis (mask[:, None]) before broadcasting.",
    "weights_average": "Return the weights of every head, (batch, num_heads, seq_q, seq_k), "
                       "not their average.",
    "softmax_axis": SDPA_HINTS["softmax_axis"],
    "mask_inverted": SDPA_HINTS["mask_inverted"],
    "mask_ignored": SDPA_HINTS["mask_ignored"],
}


def mha_variants(
    query: Any, key: Any, value: Any, weights: Weights, num_heads: int, mask: Any = None,
    *, part: str = "output",
) -> Variants:
    """Wrong ``MultiHeadAttention`` results (``part``: "output" or "weights")."""
    index = 0 if part == "output" else 1

    def make(**bug: Any) -> Callable[[], np.ndarray]:
        return lambda: mha(query, key, value, weights, num_heads, mask, **bug)[index]

    table: list[tuple[str, dict[str, Any]]] = [
        ("scale_embed", {"divisor": "sqrt_embed_dim"}),
        ("scale_head_dim", {"divisor": "head_dim"}),
        ("no_scale", {"divisor": "none"}),
        ("split_no_transpose", {"split": "no_transpose"}),
        ("merge_no_transpose", {"merge": "no_transpose"}),
        ("both_no_transpose", {"split": "no_transpose", "merge": "no_transpose"}),
        ("interleaved", {"split": "interleaved", "merge": "interleaved"}),
        ("no_out_proj", {"out_proj": "none"}),
        ("out_proj_transposed", {"out_proj": "transposed"}),
        ("transposed", {"multiply": "transposed"}),
        ("swap_kv", {"proj": ("w_q", "w_v", "w_k")}),
        ("swap_qk", {"proj": ("w_k", "w_q", "w_v")}),
        ("all_wq", {"proj": ("w_q", "w_q", "w_q")}),
        ("self_only", {"self_only": True}),
        ("mask3d_heads", {"mask3d": "per_head"}),
        ("softmax_axis", {"attention_bug": {"softmax_axis": -2}}),
        ("mask_inverted", {"attention_bug": {"mask_mode": "inverted"}}),
        ("mask_ignored", {"attention_bug": {"mask_mode": "ignored"}}),
    ]
    if part == "weights":  # bugs after the attention cannot show in the weights
        after = {"merge_no_transpose", "no_out_proj", "out_proj_transposed"}
        table = [row for row in table if row[0] not in after]
        table.append(("weights_average", {"weights_out": "average"}))
    return {name: (make(**bug), MHA_HINTS[name]) for name, bug in table}


# ----------------------------------------------------------------------------- 4. KV cache


class BuggyKVCache:
    """A KV cache with one switchable mistake, for replaying a suite's sequence of updates.

    ``bug``: None (correct) | "no_advance" (length never grows) | "write_at_zero" (always
    writes at position 0 but counts the length) | "padded" (returns all max_seq_length
    positions) | "only_new" (returns just the new keys/values) | "ignore_slot" (everything
    goes to slot 0) | "off_by_one" (writes one position too far, leaving a zero gap) |
    "swap" (keys and values exchanged in what update returns) | "reset_keeps_length"
    (reset(slot) leaves the slot's length as it was).
    """

    def __init__(self, max_batch: int, max_len: int, heads: int, head_dim: int,
                 bug: str | None = None) -> None:
        self.bug = bug
        self.max_len = max_len
        self.keys = np.zeros((max_batch, heads, max_len, head_dim))
        self.values = np.zeros((max_batch, heads, max_len, head_dim))
        self.lengths = np.zeros(max_batch, dtype=int)

    def update(self, b: int, k: Any, v: Any) -> tuple[np.ndarray, np.ndarray]:
        k, v = _f(k), _f(v)
        if self.bug == "ignore_slot":
            b = 0
        n = k.shape[1]
        start = int(self.lengths[b])
        if self.bug == "off_by_one":
            start += 1 if start else 0
        if self.bug in ("no_advance", "write_at_zero"):
            start = 0
        end = start + n
        if end > self.max_len:
            raise ValueError("overflow")
        self.keys[b, :, start:end] = k
        self.values[b, :, start:end] = v
        if self.bug != "no_advance":
            self.lengths[b] = end if self.bug != "write_at_zero" else self.lengths[b] + n
        length = int(self.lengths[b]) if self.bug != "no_advance" else n
        if self.bug == "padded":
            length = self.max_len
        if self.bug == "only_new":
            return k.copy(), v.copy()
        keys, values = self.keys[b, :, :length].copy(), self.values[b, :, :length].copy()
        if self.bug == "swap":
            keys, values = values, keys
        return keys, values

    def reset(self, b: int | None = None) -> None:
        slots = slice(None) if b is None else b
        self.keys[slots] = 0.0  # zeroed as the reference does (and most students)
        self.values[slots] = 0.0
        if b is None:
            self.lengths[:] = 0
        elif self.bug != "reset_keeps_length":
            self.lengths[b] = 0


KV_HINTS = {
    "only_new": "update returns only the new keys and values; it must return everything the "
                "slot holds so far, new positions included.",
    "no_advance": "Your cache never advances: every update writes at position 0 and the "
                  "slot's length is not increased, so earlier tokens are lost.",
    "write_at_zero": "Every update writes at position 0 instead of after what the slot "
                     "already holds (cache_lengths[batch_idx]).",
    "padded": "update returns all max_seq_length positions; return only the filled part "
              "[:length] (no padding).",
    "ignore_slot": "Every update goes to the same slot: write into slot batch_idx.",
    "off_by_one": "New entries are written one position too far, leaving a gap: write at "
                  "[length : length + new_len].",
    "swap": "update returns (values, keys); return (keys, values).",
    "reset_keeps_length": "reset(batch_idx) must set that slot's length back to 0, so the "
                          "next update writes at position 0 again.",
}


def kv_variants(
    shape: tuple[int, int, int, int],
    ops: Sequence[tuple[str, tuple[Any, ...]]],
    *,
    pick: Callable[[list[Any]], np.ndarray] | None = None,
    lengths: bool = False,
) -> Variants:
    """Replay ``ops`` (("update", (b, k, v)) or ("reset", (b,))) on each buggy cache.

    ``pick`` turns the list of every op's return value into the array the suite compares
    (e.g. the concatenated keys of the last update), or, when ``lengths`` is true, the
    cache's lengths after the ops are picked instead. Where two mistakes return the same
    keys ("only_new" and "no_advance"), the first listed wins; a suite that checks
    ``cache_lengths`` first tells them apart.
    """

    def make(bug: str) -> Callable[[], np.ndarray]:
        def run() -> np.ndarray:
            cache = BuggyKVCache(*shape, bug=bug)
            results = [getattr(cache, name)(*args) for name, args in ops]
            if lengths:
                return cache.lengths.astype(np.float64)
            assert pick is not None
            return pick(results)
        return run

    return {bug: (make(bug), hint) for bug, hint in KV_HINTS.items()}


# ----------------------------------------------------------------------------- 5. decoding


def decode(
    weights: Weights,
    num_heads: int,
    x: Any,
    chunks: Sequence[int],
    *,
    prefix: int = 0,
    bug: str | None = None,
) -> np.ndarray:
    """Cached decoding of ``x (T, E)`` in ``chunks`` (lengths summing to ``T - prefix``),
    after ``prefix`` positions were put into the cache directly; returns the concatenated
    ``(T - prefix, E)`` outputs.

    ``bug``: None | "top_left" (new token i may see keys j <= i, not past + i) |
    "no_mask" (a prompt's tokens see each other's future) | "before_append" (attend to the
    past only, then append: a token cannot see itself) | "no_cache" (attend to the new
    tokens only) | "no_out_proj" | "scale_embed" | "full_mask" (mask built for the whole
    cache as if every token were new).
    """
    x = _f(x)
    w = {name: _f(weights[name]) for name in ("w_q", "w_k", "w_v", "w_o")}
    e = x.shape[1]
    hd = e // num_heads

    def heads(m: np.ndarray) -> np.ndarray:  # (n, E) -> (H, n, hd)
        if bug == "split_no_transpose":
            return m.reshape(num_heads, m.shape[0], hd)
        return m.reshape(m.shape[0], num_heads, hd).transpose(1, 0, 2)

    def merge(m: np.ndarray) -> np.ndarray:  # (H, n, hd) -> (n, E)
        if bug == "split_no_transpose":
            return m.reshape(m.shape[1], e)
        return m.transpose(1, 0, 2).reshape(m.shape[1], e)

    keys = heads(x[:prefix] @ w["w_k"])
    values = heads(x[:prefix] @ w["w_v"])
    outputs = []
    pos = prefix
    for n in chunks:
        xn = x[pos:pos + n]
        q, k, v = heads(xn @ w["w_q"]), heads(xn @ w["w_k"]), heads(xn @ w["w_v"])
        past = keys.shape[1]
        if bug == "before_append":
            ks, vs = keys, values
        elif bug == "no_cache":
            ks, vs = k, v
        else:
            ks, vs = np.concatenate([keys, k], axis=1), np.concatenate([values, v], axis=1)
        keys, values = np.concatenate([keys, k], axis=1), np.concatenate([values, v], axis=1)
        qpos = np.arange(n)[:, None] + (0 if bug in ("top_left", "no_cache") else past)
        allowed = np.arange(ks.shape[1])[None, :] <= qpos
        if bug == "no_mask":
            allowed = np.ones_like(allowed)
        if bug == "before_append":
            allowed = np.ones((n, ks.shape[1]), dtype=bool)
        scale = np.sqrt(e) if bug == "scale_embed" else np.sqrt(hd)
        out, _ = attention(q, ks, vs, allowed, scale=scale)
        out = merge(out)
        outputs.append(out if bug == "no_out_proj" else out @ w["w_o"])
        pos += n
    return np.concatenate(outputs, axis=0)


DECODE_HINTS = {
    "top_left": "Your causal mask is aligned to the top-left corner. With a cache, new token "
                "i sits at absolute position past + i, so it may see keys j <= past + i.",
    "no_mask": "The new tokens of a multi-token step (a prompt) see each other's future: "
               "mask key j for new token i when j > past + i.",
    "before_append": "You attend before appending the new keys and values, so a new token "
                     "cannot see itself: call kv_cache.update first and attend to what it "
                     "returns.",
    "no_cache": "Each step attends only to its own new tokens: attend to all cached keys and "
                "values returned by kv_cache.update.",
    "no_out_proj": "The output projection is missing: multiply the concatenated heads by "
                   "w_o.",
    "scale_embed": MHA_HINTS["scale_embed"],
    "split_no_transpose": "The new tokens' heads are split (and merged) with a bare reshape "
                          "of (new_len, embed_dim) to (heads, new_len, head_dim): reshape to "
                          "(new_len, heads, head_dim) and swap the first two axes.",
}


def decode_variants(
    weights: Weights, num_heads: int, x: Any, chunks: Sequence[int], *, prefix: int = 0,
) -> Variants:
    """Wrong cached-decoding results for the schedule ``chunks`` after ``prefix``."""

    def make(bug: str) -> Callable[[], np.ndarray]:
        return lambda: decode(weights, num_heads, x, chunks, prefix=prefix, bug=bug)

    return {bug: (make(bug), hint) for bug, hint in DECODE_HINTS.items()}
