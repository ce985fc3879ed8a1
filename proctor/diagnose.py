"""Turn "your array is wrong" into a sentence a student can act on.

Two steps, both generic (this module knows nothing about any assignment):

1. *Known mistakes.* The suite computes, on the same inputs, what each known-wrong variant of
   the reference would have returned (``variants``: name -> (array, hint)). If the student's
   output matches one of them, that variant's hint names the misconception, which is far
   more useful than any numeric description.
2. *Localisation.* Otherwise describe the error's shape: transposed, rows permuted, off by a
   constant factor or offset, wrong only in the upper triangle / one row / one batch element,
   rows that should sum to 1 but do not, or wrong everywhere.

Everything is pure NumPy and deterministic: the same arrays always give the same sentence.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Union

import numpy as np

DEFAULT_RTOL = 1e-4
DEFAULT_ATOL = 1e-5

MATCH_FACTOR = 10.0
"""A variant "matches" when the student is within this many tolerances of it: a student who
made the same mistake in float32, or in another order of operations, still matches."""

VariantValue = Union[np.ndarray, Callable[[], Any], Any]
Variants = Mapping[str, tuple[VariantValue, str]]


# ----------------------------------------------------------------------------- arrays


def as_numeric(x: Any) -> np.ndarray | None:
    """``x`` (ndarray, Tensor-like with ``.data``, number, nested list) as a float64 array.

    Returns None when ``x`` is not numeric (None, strings, objects, complex numbers), so
    callers can say so plainly instead of crashing inside NumPy.
    """
    if x is None:
        return None
    if not isinstance(x, np.ndarray) and hasattr(x, "data") and not isinstance(x, memoryview):
        inner = x.data
        if not isinstance(inner, (memoryview, bytes)):
            x = inner
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError):  # ragged nested lists
        return None
    if arr.dtype.kind not in "biuf":
        return None
    return arr.astype(np.float64, copy=False)


def _bound(expected: np.ndarray, rtol: float, atol: float) -> np.ndarray:
    """Allowed absolute error per entry: ``atol + rtol * |expected|``."""
    return atol + rtol * np.abs(expected)


def mismatch_mask(
    actual: np.ndarray, expected: np.ndarray, rtol: float, atol: float
) -> np.ndarray:
    """True where ``|actual - expected| > atol + rtol * |expected|``.

    A non-finite actual is a mismatch unless the expected value is the same non-finite value
    (NaN against NaN, +inf against +inf). Shapes must broadcast.
    """
    with np.errstate(invalid="ignore", over="ignore"):
        ok = np.abs(actual - expected) <= _bound(expected, rtol, atol)
    same_special = (np.isnan(actual) & np.isnan(expected)) | (
        np.isinf(actual) & (actual == expected)
    )
    return ~(ok | same_special)


def distance(actual: np.ndarray, candidate: np.ndarray, rtol: float, atol: float) -> float:
    """How many tolerances ``actual`` is from ``candidate`` at its worst entry (0 = equal).

    Entries non-finite in exactly one of the two count as infinitely far; entries with the
    same non-finite value in both count as equal.
    """
    if actual.size == 0:
        return 0.0
    both_special = (np.isnan(actual) & np.isnan(candidate)) | (
        np.isinf(actual) & (actual == candidate)
    )
    with np.errstate(invalid="ignore", over="ignore"):
        ratio = np.abs(actual - candidate) / _bound(candidate, rtol, atol)
    ratio = np.where(both_special, 0.0, ratio)
    ratio = np.where(np.isnan(ratio), np.inf, ratio)
    return float(ratio.max())


def _close(a: np.ndarray, b: np.ndarray, rtol: float, atol: float) -> bool:
    return a.shape == b.shape and distance(a, b, rtol, atol) <= 1.0


# ----------------------------------------------------------------------------- variants


def _evaluate(value: VariantValue) -> np.ndarray | None:
    """A variant's array; callables are evaluated lazily and may fail (then: no match)."""
    try:
        if callable(value) and not isinstance(value, np.ndarray):
            value = value()
        return as_numeric(value)
    except Exception:  # a variant that cannot handle these inputs is simply not a match
        return None


def match_variant(
    actual: np.ndarray,
    expected: np.ndarray | None,
    variants: Variants | None,
    *,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
) -> tuple[str, str] | None:
    """The ``(name, hint)`` of the known-wrong variant the student's output matches, if any.

    A variant indistinguishable from ``expected`` on these inputs is skipped (it says
    nothing). Among matching variants the closest wins; ties go to the first listed. When
    the student's output has NaN/inf, a variant that is non-finite in mostly the same places
    (Jaccard overlap >= 1/2) matches too: overflow patterns differ between float32 and
    float64, but the mistake is the same.
    """
    if not variants:
        return None
    actual_bad = ~np.isfinite(actual)
    best: tuple[float, int, str, str] | None = None
    for order, (name, (value, hint)) in enumerate(variants.items()):
        v = _evaluate(value)
        if v is None or v.shape != actual.shape:
            continue
        if expected is not None and _close(v, expected, rtol, atol):
            continue
        d = distance(actual, v, rtol, atol)
        if d > MATCH_FACTOR and actual_bad.any():
            v_bad = ~np.isfinite(v)
            union = (actual_bad | v_bad).sum()
            if union and (actual_bad & v_bad).sum() / union >= 0.5:
                d = MATCH_FACTOR  # a match, but weaker than any finite-value match
        if d <= MATCH_FACTOR and (best is None or (d, order) < best[:2]):
            best = (d, order, name, hint)
    if best is None:
        return None
    return best[2], best[3]


# ----------------------------------------------------------------------------- wording


def _axis_label(axis: int, ndim: int, axes: Sequence[str] | None) -> str:
    """A readable name for an axis: the caller's name, else row/column, else "axis k"."""
    if axes is not None and len(axes) == ndim:
        return str(axes[axis])
    if ndim >= 2 and axis == ndim - 2:
        return "row"
    if ndim >= 2 and axis == ndim - 1:
        return "column"
    if ndim == 1:
        return "entry"
    return f"axis {axis}"


def _describe_positions(label: str, indices: list[int], length: int) -> str:
    """E.g. "the last row", "batch element 1", "the first 2 seq_q positions"."""
    if label == "batch":
        noun_one, noun_many = "batch element", "batch elements"
    elif label == "entry":
        noun_one, noun_many = "entry", "entries"
    elif label in ("row", "column"):
        noun_one, noun_many = label, label + "s"
    elif label.startswith("axis "):
        noun_one, noun_many = f"index along {label}", f"indices along {label}"
    elif label.endswith(("position", "element", "index")):
        noun_one, noun_many = label, label + "s"
    else:
        noun_one, noun_many = f"{label} position", f"{label} positions"
    n = len(indices)
    if n == 1:
        (i,) = indices
        if label == "batch" or label.startswith("axis "):
            return f"{noun_one} {i}"
        if i == 0:
            return f"the first {noun_one} (index 0)"
        if i == length - 1:
            return f"the last {noun_one} (index {i})"
        return f"{noun_one} {i}"
    contiguous = indices == list(range(indices[0], indices[0] + n))
    if contiguous and indices[0] == 0:
        return f"the first {n} {noun_many} (indices 0-{n - 1})"
    if contiguous and indices[-1] == length - 1:
        return f"the last {n} {noun_many} (indices {indices[0]}-{indices[-1]})"
    shown = ", ".join(str(i) for i in indices[:8]) + (", ..." if n > 8 else "")
    return f"{noun_many} {shown}"


def _fmt(x: float) -> str:
    return f"{x:.3g}"


# ----------------------------------------------------------------------------- shape


def _shape_hint(
    actual: np.ndarray, expected: np.ndarray, rtol: float, atol: float,
    axes: Sequence[str] | None,
) -> str | None:
    """Explain a shape mismatch when the values are right but arranged differently."""
    if actual.ndim == expected.ndim and sorted(actual.shape) == sorted(expected.shape):
        for perm in itertools.permutations(range(expected.ndim)):
            if perm == tuple(range(expected.ndim)):
                continue
            moved = np.transpose(expected, perm)
            if moved.shape == actual.shape and _close(actual, moved, rtol, atol):
                names = [_axis_label(p, expected.ndim, axes) for p in perm]
                return (
                    "Your values are right but the axes are in a different order: you "
                    f"returned axes in the order ({', '.join(names)})."
                )
    if actual.size == expected.size and actual.size > 0:
        if np.squeeze(actual).shape == np.squeeze(expected).shape and _close(
            np.squeeze(actual), np.squeeze(expected), rtol, atol
        ):
            return (
                "Your values are right, but an axis of length 1 is missing or extra; "
                f"return shape {expected.shape}."
            )
        if _close(actual.reshape(expected.shape), expected, rtol, atol):
            return (
                f"Your values are right and in the right order, but reshaped: return "
                f"shape {expected.shape}."
            )
        return (
            "Your result has the right number of entries but a different shape; a reshape "
            "where a transpose was needed (or the other way round) often causes this."
        )
    return None


# ----------------------------------------------------------------------------- structure


def _is_transposed(a: np.ndarray, e: np.ndarray, rtol: float, atol: float) -> bool:
    return (
        a.ndim >= 2
        and a.shape[-1] == a.shape[-2]
        and a.shape[-1] > 1
        and _close(a, np.swapaxes(e, -1, -2), rtol, atol)
    )


def _rows_permuted(a: np.ndarray, e: np.ndarray, rtol: float, atol: float) -> bool:
    """Every row (along axis -2) is a right row, but in the wrong place within its matrix."""
    if a.ndim < 2 or a.shape[-2] < 2:
        return False
    a2 = a.reshape(-1, a.shape[-2], a.shape[-1])
    e2 = e.reshape(-1, e.shape[-2], e.shape[-1])
    moved = False
    for am, em in zip(a2, e2):
        used = np.zeros(len(em), dtype=bool)
        for i, row in enumerate(am):
            hits = [
                j for j in range(len(em))
                if not used[j] and not mismatch_mask(row, em[j], rtol, atol).any()
            ]
            if not hits:
                return False
            j = i if i in hits else hits[0]
            used[j] = True
            moved |= j != i
    return moved


def _constant_factor(a: np.ndarray, e: np.ndarray, rtol: float, atol: float) -> float | None:
    """``c`` with ``a ~= c * e`` everywhere (c clearly not 1, not 0), else None."""
    scale = np.abs(e).max() if e.size else 0.0
    significant = np.abs(e) > 1e-3 * scale
    if scale == 0 or significant.sum() < 3:
        return None
    c = float(np.median(a[significant] / e[significant]))
    if not np.isfinite(c) or abs(c) < 1e-12 or abs(c - 1) < 1e-3:
        return None
    # allow the factor's own rounding: compare with a tolerance a little looser than usual
    return c if distance(a, c * e, rtol * 10, atol * 10) <= 1.0 else None


def _constant_offset(a: np.ndarray, e: np.ndarray, rtol: float, atol: float) -> float | None:
    """``c`` with ``a ~= e + c`` everywhere (c clearly not 0), else None."""
    if e.size < 3:  # "everywhere" means nothing for one or two numbers
        return None
    c = float(np.median(a - e))
    if not np.isfinite(c) or abs(c) <= atol + rtol * np.abs(e).max():
        return None
    return c if distance(a, e + c, rtol * 10, atol * 10) <= 1.0 else None


def _sum_sentence(
    a: np.ndarray, e: np.ndarray, axes: Sequence[str] | None
) -> str | None:
    """When the expected rows are probability distributions, say how the student's are not."""
    if e.ndim < 2 or e.shape[-1] < 2 or (e < -1e-12).any():
        return None
    if not np.allclose(e.sum(axis=-1), 1.0, rtol=0, atol=1e-6):
        return None
    sums = a.sum(axis=-1)
    if np.allclose(sums, 1.0, rtol=0, atol=1e-4):
        return "Every row sums to 1, as it should, but the values differ."
    last = _axis_label(e.ndim - 1, e.ndim, axes)
    for ax in range(e.ndim - 1):
        if e.shape[ax] > 1 and np.allclose(a.sum(axis=ax), 1.0, rtol=0, atol=1e-4):
            which = _axis_label(ax, e.ndim, axes)
            return (
                f"Your values sum to 1 along the {which} axis instead of along the last "
                f"({last}) axis."
            )
    return (
        f"Each row should sum to 1, but yours sum to between {_fmt(sums.min())} and "
        f"{_fmt(sums.max())}."
    )


def _small_error_everywhere(a: np.ndarray, e: np.ndarray) -> str | None:
    """A sentence for an error that is tiny against the values yet present in most entries.

    Such an error comes from how everything is computed (lower precision, an epsilon, a
    rounded constant), not from one region; the entries that happen to exceed the
    tolerance (usually the ones near zero) would be the wrong thing to point at.
    """
    err = np.abs(a - e)
    scale = float(np.abs(e).max()) if e.size else 0.0
    largest = float(err.max()) if err.size else 0.0
    if e.size < 3 or scale == 0 or largest == 0 or largest > 1e-2 * scale:
        return None
    if (err > 1e-2 * largest).mean() < 0.5:  # most entries exact: the error has a place
        return None
    return (
        f"Your result is within about {_fmt(largest)} of the expected values everywhere "
        f"(at most {_fmt(100 * largest / scale)}% of their size), but that small error is "
        "in almost every entry: it comes from how everything is computed, not from one "
        "place. Look for lower precision (float16, or float32 where the rest is float64), "
        "an epsilon added somewhere (e.g. to a softmax's denominator), or a rounded "
        "constant."
    )


# ----------------------------------------------------------------------------- location


def _triangle_sentence(bad: np.ndarray) -> str | None:
    """Errors filling (at least half of) one side of the diagonal, and nothing else.

    For a non-square matrix both the diagonal through the top-left corner and the one
    ending at the bottom-right corner are tried (causal masks can be aligned either way).
    """
    if bad.ndim < 2:
        return None
    n_q, n_k = bad.shape[-2:]
    if n_q < 2 or n_k < 2:
        return None
    i = np.arange(n_q)[:, None]
    j = np.arange(n_k)[None, :]
    flat = bad.reshape(-1, n_q, n_k).any(axis=0)
    rows, cols = flat.any(axis=1), flat.any(axis=0)
    if rows.sum() < 2 or cols.sum() < 2 or (flat == np.outer(rows, cols)).all():
        return None  # a block of rows/columns: the axis sentence says it better
    offsets = [0] if n_q == n_k else [0, n_k - n_q]
    for off in offsets:
        diagonal = "the diagonal" if n_q == n_k else (
            "the diagonal through the top-left corner" if off == 0
            else "the diagonal ending at the bottom-right corner"
        )
        regions = [
            (j > i + off, f"Only entries above {diagonal} (the upper triangle) are wrong."),
            (j < i + off, f"Only entries below {diagonal} (the lower triangle) are wrong."),
            (j == i + off, f"Only {diagonal} is wrong."),
        ]
        for region, sentence in regions:
            inside = (flat & region).sum()
            if not (flat & ~region).any() and inside >= 0.5 * region.sum():
                return sentence
    return None


def _axis_sentence(
    bad: np.ndarray, axes: Sequence[str] | None, single_only: bool
) -> str | None:
    """Errors confined to some indices of one axis: the most specific such axis wins."""
    best: tuple[float, int, list[int]] | None = None
    for ax in range(bad.ndim):
        length = bad.shape[ax]
        if length < 2:
            continue
        others = tuple(k for k in range(bad.ndim) if k != ax)
        hit = np.flatnonzero(bad.any(axis=others) if others else bad).tolist()
        if not hit or len(hit) == length or (single_only and len(hit) != 1):
            continue
        key = (len(hit) / length, ax, hit)
        if best is None or key[:2] < best[:2]:
            best = key
    if best is None:
        return None
    _, ax, hit = best
    where = _describe_positions(_axis_label(ax, bad.ndim, axes), hit, bad.shape[ax])
    return f"Only {where} {'is' if len(hit) == 1 else 'are'} wrong; the rest is right."


def localise(
    actual: np.ndarray,
    expected: np.ndarray,
    *,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    axes: Sequence[str] | None = None,
) -> str | None:
    """Describe where and how ``actual`` departs from ``expected``; None if it does not."""
    if actual.shape != expected.shape:
        return _shape_hint(actual, expected, rtol, atol, axes)
    bad = mismatch_mask(actual, expected, rtol, atol)
    if not bad.any() or bad.size < 2:  # one number: nothing to localise
        return None

    finite = bool(np.isfinite(actual).all() and np.isfinite(expected).all())
    if finite:
        if _is_transposed(actual, expected, rtol, atol):
            return "Your result is the expected one transposed (its last two axes swapped)."
        if _rows_permuted(actual, expected, rtol, atol):
            return (
                "Every row is right but some are in the wrong place: the rows are permuted."
            )
        factor = _constant_factor(actual, expected, rtol, atol)
        if factor is not None:
            inverse = f" (1/{_fmt(1 / factor)})" if abs(factor) < 1 else ""
            return (
                f"Your result is off by a constant factor of about {_fmt(factor)}{inverse} "
                "everywhere: a scale applied wrongly, missing, or twice."
            )
        offset = _constant_offset(actual, expected, rtol, atol)
        if offset is not None:
            return f"Your result is off by a constant offset of about {_fmt(offset)} everywhere."
        small = _small_error_everywhere(actual, expected)
        if small is not None:
            return small

    sentences: list[str] = []
    located = (
        _axis_sentence(bad, axes, single_only=True)
        or _triangle_sentence(bad)
        or _axis_sentence(bad, axes, single_only=False)
    )
    if located:
        sentences.append(located)
    if finite:
        sums = _sum_sentence(actual, expected, axes)
        if sums:
            sentences.append(sums)
    if not located:
        fraction = bad.mean()
        if fraction > 0.9:
            sentences.insert(0, "The values are wrong everywhere, not in one region.")
        else:
            sentences.insert(
                0, f"{100 * fraction:.0f}% of the entries are wrong, with no simple pattern."
            )
    return " ".join(sentences)


# ----------------------------------------------------------------------------- entry point


def diagnose(
    actual: Any,
    expected: Any,
    variants: Variants | None = None,
    *,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    axes: Sequence[str] | None = None,
) -> str | None:
    """A hint for a wrong ``actual``: a matching known-wrong variant's hint, else where and
    how it is wrong. None when there is nothing useful to say (including when it is right).

    ``variants`` maps a name to ``(array or zero-argument callable, hint)``; callables are
    only evaluated here, so a suite can offer many variants at no cost on passing tests.
    """
    a = as_numeric(actual)
    e = as_numeric(expected)
    if a is None or e is None:
        return None
    matched = match_variant(a, e, variants, rtol=rtol, atol=atol)
    if matched is not None:
        return matched[1]
    return localise(a, e, rtol=rtol, atol=atol, axes=axes)
