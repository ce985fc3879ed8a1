"""Public property checks: facts about attention that hold for every input, checked on
small random inputs drawn by Hypothesis.

Students run these locally (``proctor check``) where there is no reference solution, so
nothing here uses the ``reference`` fixture: each test compares the student's code with
itself (permuted inputs give permuted outputs, ...) or with a value that follows from the
contract by arithmetic (a mean, what was appended). Like every shipped file it computes
no attention math (no causal mask, no projection): masks are built from the example, and
the causal mask is pinned down by comparing the student's masks of two sizes.

Examples are tiny (at most 2 x 4 x 3) and values are multiples of 1/4 in [-2, 2], so the
counterexample shown in feedback reads well. Each check starts with an explicit example that
the common mistakes fail, shown as it is; Hypothesis draws only sizes and seeds and NumPy
builds the arrays (``_inputs.py``), so any other failure shrinks in a few dozen steps, not
hundreds. Every input a check uses is in its one drawn ``Case``, so the counterexample shows
all of it. Every example crosses a process boundary, hence few examples per test. Runs are
derandomized: the same file always gets the same examples.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from _inputs import USES_YOUR_SDPA, Case, blocking, quarter_steps, seeds, to_float
from proctor.testing import CheckFailure, assert_close, describe_value, profile

pytestmark = [pytest.mark.visibility("public")]

EXAMPLES = settings(profile("public"))
"""Each check first runs its explicit example (``@example``): small inputs that show the
common mistakes, reported as they are when one fails (nothing to shrink, so a wrong
submission costs no more time than a right one). Then Hypothesis tries examples of its
own (``proctor-public``: two, derandomized): the simplest (sizes 1, zeros) and a random
one. Each crosses the sandbox a few times; a failure among them is shrunk."""


# ----------------------------------------------------------------------------- strategies
#
# Each example is a few drawn integers (sizes, seeds; see ``_inputs.py``) from which NumPy
# builds the arrays, so a failure shrinks quickly to small shapes and simple contents, and
# every input a check uses is part of the one drawn ``Case``, shown whole in the
# counterexample. One composite per check, drawing directly (a nested composite costs as
# much as several draws, and every example pays for it).

batches = st.integers(1, 2)
sizes = st.integers(1, 4)
dims = st.integers(1, 3)
nonzero = st.sampled_from((0.25, -0.25, 0.5, -0.5, 1.0, -1.0, 2.0, -2.0))
"""A nonzero quarter step; failures shrink toward the first."""


@functools.lru_cache(maxsize=256)
def _shuffled(seed: int, n: int) -> np.ndarray:
    return np.arange(n)[::-1].copy() if seed == 0 else np.random.default_rng(seed).permutation(n)


def shuffled(seed: int, n: int) -> np.ndarray:
    """A permutation of ``range(n)`` made from ``seed``; seed 0 reverses."""
    return _shuffled(seed, n).copy()


def draw_qkv(draw: st.DrawFn, *, self_attention: bool = False) -> Case:
    """``query (b, seq_q, d_k)``, ``key (b, seq_k, d_k)``, ``value (b, seq_k, d_v)``; with
    ``self_attention`` seq_q == seq_k. (Called inside the composites below.)"""
    batch, seq_q, d_k, d_v = draw(batches), draw(sizes), draw(dims), draw(dims)
    seq_k = seq_q if self_attention else draw(sizes)
    return Case(query=quarter_steps(draw(seeds), batch, seq_q, d_k),
                key=quarter_steps(draw(seeds), batch, seq_k, d_k),
                value=quarter_steps(draw(seeds), batch, seq_k, d_v))


@st.composite
def masked_qkv(draw: st.DrawFn) -> Case:
    """Query, key, value and a ``mask (seq_q, seq_k)`` blocking about half the keys, some
    rows entirely."""
    case = draw_qkv(draw)
    case["mask"] = blocking(draw(seeds), case["query"].shape[1], case["key"].shape[1])
    return case


@st.composite
def with_order(draw: st.DrawFn, of: str) -> Case:
    """Query, key, value and ``order``, a permutation of the positions of ``of``."""
    case = draw_qkv(draw)
    case["order"] = shuffled(draw(seeds), case[of].shape[1])
    return case


@st.composite
def with_vector(draw: st.DrawFn, name: str) -> Case:
    """Query, key, value and a ``d_k``-vector called ``name``."""
    case = draw_qkv(draw)
    case[name] = quarter_steps(draw(seeds), case["key"].shape[-1])
    return case


@st.composite
def later_change(draw: st.DrawFn) -> Case:
    """Self-attention query, key, value, a position ``p``, and nonzero amounts the check
    adds to the keys and to the values after position p."""
    case = draw_qkv(draw, self_attention=True)
    case["p"] = draw(st.integers(0, case["query"].shape[1] - 1))
    case["key_change"], case["value_change"] = draw(nonzero), draw(nonzero)
    return case


def fixed_weights(embed_dim: int) -> dict[str, np.ndarray]:
    """Four distinct ``(E, E)`` projections of quarter steps, the same for every example of
    a size. The MHA properties hold for any weights, and drawing 4 E^2 numbers would make
    Hypothesis's shrinking far slower for no clearer counterexample."""
    rng = np.random.default_rng(embed_dim)
    return {name: rng.integers(-4, 5, (embed_dim, embed_dim)) / 4
            for name in ("w_q", "w_k", "w_v", "w_o")}


def diagonals(embed_dim: int) -> dict[str, np.ndarray]:
    """Four distinct nonzero diagonals of quarter steps: weights ``diag(d)`` project by
    elementwise scaling, so a one-head check needs no matrix product."""
    rng = np.random.default_rng(embed_dim)
    return {name: rng.choice([-1.0, -0.5, 0.5, 0.75, 1.0, 1.25], embed_dim)
            for name in ("w_q", "w_k", "w_v", "w_o")}


def draw_mha_input(draw: st.DrawFn, num_heads: int | None = None) -> Case:
    """An MHA size and a self-attention input ``x (b, seq, embed_dim)``; the weights are
    ``fixed_weights(embed_dim)``."""
    heads = num_heads or draw(st.integers(1, 2))
    embed_dim = heads * draw(dims)
    x = quarter_steps(draw(seeds), draw(batches), draw(sizes), embed_dim)
    return Case(num_heads=heads, embed_dim=embed_dim, x=x)


@st.composite
def one_head(draw: st.DrawFn) -> Case:
    """A one-head MHA size and its input."""
    return draw_mha_input(draw, num_heads=1)


@st.composite
def mha_later_change(draw: st.DrawFn) -> Case:
    """An MHA size and input, a position ``p``, and a nonzero amount the check adds to the
    tokens after position p."""
    case = draw_mha_input(draw)
    case["p"] = draw(st.integers(0, case["x"].shape[1] - 1))
    case["change"] = draw(nonzero)
    return case


@st.composite
def appends(draw: st.DrawFn) -> Case:
    """A cache shape and a few ``(keys, values)`` chunks to append to one slot."""
    heads, head_dim = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    lengths = draw(st.lists(st.integers(1, 3), min_size=1, max_size=4))
    chunks = [(quarter_steps(draw(seeds), heads, n, head_dim),
               quarter_steps(draw(seeds), heads, n, head_dim)) for n in lengths]
    return Case(num_heads=heads, head_dim=head_dim, slot=draw(st.integers(0, 1)), chunks=chunks)


THREE_TOKENS = Case(query=np.array([[[1.0], [0.0], [-1.0]]]),
                    key=np.array([[[1.0], [-1.0], [0.5]]]),
                    value=np.array([[[1.0], [0.0], [-1.0]]]), order=np.array([2, 0, 1]))
"""The permutation checks' explicit example (``order`` reorders queries or keys)."""


# ----------------------------------------------------------------------------- shared by the checks


def _pair(result: Any, what: str) -> tuple[Any, Any]:
    """``(output, weights)`` from a call made with ``return_attention_weights=True``."""
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise CheckFailure(
            f"{what} with return_attention_weights=True should return (output, weights); "
            f"it returned {describe_value(result)}.",
            {"checked": what, "returned": describe_value(result)},
        )
    return result[0], result[1]


def _blocked_after(seq: int, p: int) -> np.ndarray:
    """A ``(seq, seq)`` mask where queries 0..p may attend to keys 0..p only and later
    queries to every key: what the "ignore later tokens" checks need, and no causal mask
    (that is create_causal_mask's answer), so these checks never depend on the student's."""
    mask = np.ones((seq, seq), dtype=bool)
    mask[:p + 1, p + 1:] = False
    return mask


def _mha(student: Any, setup: dict[str, Any],
         weights: dict[str, np.ndarray] | None = None) -> Any:
    mha = student.MultiHeadAttention(setup["embed_dim"], setup["num_heads"])
    for name, w in (weights or fixed_weights(setup["embed_dim"])).items():
        mha.assign(name, w)
    return mha


# ----------------------------------------------------------------------------- causal mask


@pytest.mark.task("causal_mask")
@pytest.mark.requires("test_causal_mask_public.py::test_small_mask")
@EXAMPLES
@example(n=3)
@given(n=st.integers(1, 8))
def test_causal_mask_grows_by_a_row_and_a_column(student, tol, n):
    """create_causal_mask(n + 1) extends create_causal_mask(n) by one row and one column, as a causal mask must.

    create_causal_mask(n + 1) is create_causal_mask(n) plus a last query that may attend
    to every key and a last key that no earlier query may attend to; its top-left entry is
    allowed. Together, for every n, these say exactly "query i may attend to key j iff
    j <= i", checked on the student's own masks."""
    small = to_float(student.create_causal_mask(n)) != 0
    big = to_float(student.create_causal_mask(n + 1)) != 0
    for size, mask in ((n, small), (n + 1, big)):
        if mask.shape != (size, size):
            raise CheckFailure(
                f"create_causal_mask({size}) should have shape ({size}, {size}) (query, key); "
                f"got {mask.shape}.",
                {"checked": f"create_causal_mask({size})'s shape",
                 "expected_shape": [size, size], "actual_shape": list(mask.shape)},
            )
    assert_close(big[:1, :1], np.ones((1, 1), dtype=bool), tol=tol,
                 what=f"create_causal_mask({n + 1})[0, 0]: the first query sees the first key",
                 axes=("query", "key"))
    assert_close(big[:n, :n], small, tol=tol,
                 what=f"the top-left {n} x {n} block of create_causal_mask({n + 1}) against "
                      f"create_causal_mask({n}) (earlier queries and keys are unaffected)",
                 axes=("query", "key"))
    assert_close(big[n], np.ones(n + 1, dtype=bool), tol=tol,
                 what=f"the last row of create_causal_mask({n + 1}) (the last query may "
                      "attend to every key)", axes=("key",))
    assert_close(big[:n, n], np.zeros(n, dtype=bool), tol=tol,
                 what=f"the last column of create_causal_mask({n + 1}) above the diagonal "
                      "(no earlier query may attend to the last key)", axes=("query",))


# ----------------------------------------------------------------------------- SDPA


@pytest.mark.task("scaled_dot_product")
@pytest.mark.requires("test_scaled_dot_product_public.py::test_small_fixed_case")
@EXAMPLES
@example(case=Case(query=np.zeros((1, 2, 1)), key=np.zeros((1, 2, 1)),
                   value=np.zeros((1, 2, 1)), mask=np.array([[True, False], [False, False]])))
@given(case=masked_qkv())
def test_weight_rows_sum_to_one(student, tol, case):
    """Attention weights are finite, non-negative, zero where blocked, rows sum to 1.

    Rows whose keys are all blocked only need to be finite."""
    q, k, v, mask = case["query"], case["key"], case["value"], case["mask"]
    _, weights = _pair(student.ScaledDotProductAttention(dropout=0.0).forward(
        q, k, v, mask=mask, return_attention_weights=True), "forward")
    w = to_float(weights)
    shape = (q.shape[0], q.shape[1], k.shape[1])
    if w.shape != shape:
        raise CheckFailure(
            f"attention weights should have shape {shape} (batch, seq_q, seq_k); got {w.shape}.",
            {"checked": "attention weights' shape", "expected_shape": list(shape),
             "actual_shape": list(w.shape)},
        )
    if not np.isfinite(w).all():
        where = np.argwhere(~np.isfinite(w))[0]
        all_blocked = not mask[where[1]].any()
        raise CheckFailure(
            f"attention weights contain {int((~np.isfinite(w)).sum())} NaN/inf entries, "
            f"e.g. at {list(map(int, where))}"
            + (", in a query row whose keys are all blocked. Such a row has no agreed "
               "answer but must stay finite: fill blocked scores with a large negative "
               "number (like -1e9) rather than -inf, and subtract each row's maximum "
               "before exp (else every exp underflows to 0 and the row is 0/0)"
               if all_blocked else "")
            + ".",
            {"checked": "attention weights are finite", "nonfinite": int((~np.isfinite(w)).sum()),
             "all_keys_blocked": all_blocked},
        )
    open_rows = np.broadcast_to(mask.any(axis=-1), shape[:-1])
    blocked = ~mask & open_rows[..., None]
    assert_close(w.sum(axis=-1), np.ones(shape[:-1]), tol=tol, where=open_rows,
                 what="each query's attention weights summed over the keys",
                 axes=("batch", "seq_q"))
    assert_close(np.where(blocked, w, 0.0), np.zeros(shape), tol=tol,
                 what="attention weights of blocked keys (must be 0)",
                 axes=("batch", "seq_q", "seq_k"))
    assert_close(np.minimum(w, 0.0), np.zeros(shape), tol=tol,
                 what="negative attention weights (there must be none)",
                 axes=("batch", "seq_q", "seq_k"))


@pytest.mark.task("scaled_dot_product")
@pytest.mark.requires("test_scaled_dot_product_public.py::test_small_fixed_case")
@EXAMPLES
@example(case=Case(query=np.array([[[1.0], [1.0]]]), key=np.zeros((1, 2, 1)),
                   value=np.array([[[1.0], [0.0]]]), p=0, key_change=0.25, value_change=0.25))
@given(case=later_change())
def test_causal_outputs_ignore_future_tokens(student, tol, case):
    """Outputs do not depend on keys and values their queries may not attend to.

    When queries 0..p may attend to keys 0..p only, changing keys and values after position
    p leaves outputs 0..p unchanged."""
    q, k, v, p = case["query"], case["key"], case["value"], case["p"]
    seq = q.shape[1]
    later_k, later_v = k.copy(), v.copy()
    later_k[:, p + 1:] += case["key_change"]
    later_v[:, p + 1:] += case["value_change"]
    sdpa = student.ScaledDotProductAttention(dropout=0.0)
    mask = _blocked_after(seq, p)
    before = to_float(sdpa.forward(q, k, v, mask=mask))
    after = to_float(sdpa.forward(q, later_k, later_v, mask=mask))
    assert_close(after[:, :p + 1], before[:, :p + 1], tol=tol,
                 what=f"outputs at positions 0..{p}, masked from keys after {p}, after "
                      "changing those later keys/values",
                 axes=("batch", "seq_q", "d_v"))


@pytest.mark.task("scaled_dot_product")
@pytest.mark.requires("test_scaled_dot_product_public.py::test_small_fixed_case")
@EXAMPLES
@example(case=THREE_TOKENS)
@given(case=with_order("query"))
def test_permuting_queries_permutes_outputs(student, tol, case):
    """Queries are independent: reordering them reorders the output rows the same way."""
    q, k, v, order = case["query"], case["key"], case["value"], case["order"]
    sdpa = student.ScaledDotProductAttention(dropout=0.0)
    out = to_float(sdpa.forward(q, k, v))
    assert_close(sdpa.forward(q[:, order], k, v), out[:, order], tol=tol,
                 what="output for reordered queries vs. the reordered output",
                 axes=("batch", "seq_q", "d_v"))


@pytest.mark.task("scaled_dot_product")
@pytest.mark.requires("test_scaled_dot_product_public.py::test_small_fixed_case")
@EXAMPLES
@example(case=THREE_TOKENS)
@given(case=with_order("key"))
def test_permuting_keys_and_values_together_changes_nothing(student, tol, case):
    """Attention is a weighted sum over key/value pairs: their order does not matter."""
    q, k, v, order = case["query"], case["key"], case["value"], case["order"]
    sdpa = student.ScaledDotProductAttention(dropout=0.0)
    assert_close(sdpa.forward(q, k[:, order], v[:, order]), sdpa.forward(q, k, v), tol=tol,
                 what="output after reordering keys and values together",
                 axes=("batch", "seq_q", "d_v"))


@pytest.mark.task("scaled_dot_product")
@pytest.mark.requires("test_scaled_dot_product_public.py::test_small_fixed_case")
@EXAMPLES
@example(case=Case(query=np.array([[[1.0], [-1.0]]]), key=np.zeros((1, 1, 1)),
                   value=np.ones((1, 1, 1)), shift=np.ones(1)))
@given(case=with_vector("shift"))
def test_adding_a_vector_to_every_key_changes_nothing(student, tol, case):
    """Adding c to every key adds q.c to a whole row of scores, which softmax ignores."""
    q, k, v, shift = case["query"], case["key"], case["value"], case["shift"]
    sdpa = student.ScaledDotProductAttention(dropout=0.0)
    assert_close(sdpa.forward(q, k + shift, v), sdpa.forward(q, k, v), tol=tol,
                 what="output after adding the same vector to every key",
                 axes=("batch", "seq_q", "d_v"))


@pytest.mark.task("scaled_dot_product")
@pytest.mark.requires("test_scaled_dot_product_public.py::test_small_fixed_case")
@EXAMPLES
@example(case=Case(query=np.ones((1, 1, 1)), key=np.zeros((1, 2, 1)),
                   value=np.array([[[1.0], [0.0]]]), every_key=np.ones(1)))
@given(case=with_vector("every_key"))
def test_identical_keys_give_the_mean_of_values(student, tol, case):
    """When every key is the same, every query weighs all values equally."""
    q, k, v = case["query"], case["key"], case["value"]
    same = np.broadcast_to(case["every_key"], k.shape).copy()
    out = student.ScaledDotProductAttention(dropout=0.0).forward(q, same, v)
    expected = np.broadcast_to(v.mean(axis=1, keepdims=True), (q.shape[0], q.shape[1],
                                                                v.shape[-1]))
    assert_close(out, expected, tol=tol, what="output when all keys are identical",
                 axes=("batch", "seq_q", "d_v"))


# ----------------------------------------------------------------------------- MHA


@pytest.mark.task("multi_head")
@pytest.mark.points(0)  # it runs the student's SDPA too: feedback only (no double jeopardy)
@EXAMPLES
@example(setup=Case(num_heads=1, embed_dim=1, x=np.array([[[1.0], [-1.0]]])))
@given(setup=one_head())
def test_one_head_is_single_head_attention(student, tol, setup):
    """With one head and diagonal weights, MultiHeadAttention is ScaledDotProductAttention on the scaled inputs.

    With num_heads=1 and diagonal weights diag(d), MHA is ScaledDotProductAttention on
    the scaled inputs, output scaled by d_o (x @ diag(d) is x * d: no projection here)."""
    x, d = setup["x"], diagonals(setup["embed_dim"])
    weights = {name: np.diag(v) for name, v in d.items()}
    out = _mha(student, setup, weights).forward(x, x, x)
    heads = student.ScaledDotProductAttention(dropout=0.0).forward(
        x * d["w_q"], x * d["w_k"], x * d["w_v"])
    assert_close(out, to_float(heads) * d["w_o"], tol=tol,
                 what="one-head MultiHeadAttention with diagonal weights diag(d_q), ... vs. "
                 "your ScaledDotProductAttention on (x * d_q, x * d_k, x * d_v), times d_o",
                 axes=("batch", "seq", "embed_dim"), hint=USES_YOUR_SDPA)


@pytest.mark.task("multi_head")
@pytest.mark.points(0)  # it runs the student's SDPA too: feedback only (no double jeopardy)
@EXAMPLES
@example(setup=Case(num_heads=2, embed_dim=2,
                    x=np.array([[[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]]]), p=0, change=0.25))
@given(setup=mha_later_change())
def test_mha_causal_outputs_ignore_future_tokens(student, tol, setup):
    """Multi-head outputs do not depend on tokens their queries may not attend to.

    When queries 0..p may attend to tokens 0..p only, changing tokens after p leaves
    outputs 0..p alone."""
    x, p = setup["x"], setup["p"]
    seq = x.shape[1]
    later = x.copy()
    later[:, p + 1:] += setup["change"]
    mha = _mha(student, setup)
    mask = _blocked_after(seq, p)
    before = to_float(mha.forward(x, x, x, mask=mask))
    after = to_float(mha.forward(later, later, later, mask=mask))
    assert_close(after[:, :p + 1], before[:, :p + 1], tol=tol,
                 what=f"outputs at positions 0..{p}, masked from tokens after {p}, after "
                      "changing those later tokens",
                 axes=("batch", "seq", "embed_dim"), hint=USES_YOUR_SDPA)


# ----------------------------------------------------------------------------- KV cache


@pytest.mark.task("kv_cache")
@pytest.mark.requires("test_kv_cache_public.py::test_updates_append")
@EXAMPLES
@example(plan=Case(num_heads=1, head_dim=1, slot=1,
                   chunks=[(np.array([[[1.0]]]), np.array([[[-1.0]]])),
                           (np.array([[[0.5]]]), np.array([[[-0.5]]]))]))
@given(plan=appends())
def test_cache_returns_exactly_what_was_appended(student, tol, plan):
    """The cache returns exactly what was appended, and leaves the other slot alone.

    After each update the slot's keys/values are every appended one in order, no more."""
    heads, head_dim, slot = plan["num_heads"], plan["head_dim"], plan["slot"]
    total = sum(k.shape[1] for k, _ in plan["chunks"])
    cache = student.KVCache(2, total, heads, head_dim)
    other = 1 - slot
    other_before = to_float(cache.cached_keys)[other].copy()
    keys_so_far = np.zeros((heads, 0, head_dim))
    values_so_far = np.zeros((heads, 0, head_dim))
    for i, (k, v) in enumerate(plan["chunks"]):
        keys_so_far = np.concatenate([keys_so_far, k], axis=1)
        values_so_far = np.concatenate([values_so_far, v], axis=1)
        got_k, got_v = _pair(cache.update(slot, k, v), "KVCache.update")
        assert_close(got_k, keys_so_far, tol=tol, axes=("head", "position", "head_dim"),
                     what=f"keys returned by update number {i + 1} (all appended so far)")
        assert_close(got_v, values_so_far, tol=tol, axes=("head", "position", "head_dim"),
                     what=f"values returned by update number {i + 1} (all appended so far)")
    assert_close(to_float(cache.cached_keys)[other], other_before, tol=tol,
                 what=f"cached_keys of slot {other}, which was never updated",
                 axes=("head", "position", "head_dim"))
