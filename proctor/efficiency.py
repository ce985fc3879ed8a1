"""Complexity checks: how a submission's cost grows with input size, not what it computes.

A suite measures one operation over a doubling series of sizes and asks whether the cost
grows no faster than an allowed power of the size. The cost is read as a log-log slope:
``cost ~ size**slope``, fitted by least squares on ``(log size, log cost)``.

Two signals, used very differently because only one of them is reliable:

* **Peak memory** (``peak_bytes``, tracemalloc inside the sandbox; NumPy reports its array
  buffers to tracemalloc). It is deterministic: the same code on the same inputs allocates
  the same bytes on a loaded machine as on an idle one. It is the primary signal and the
  only one whose slope alone can fail a submission.
* **Time** (``time_s``, min of k runs, one BLAS thread). It is noisy on shared machines, and
  at the small sizes a grader can afford it is dominated by constant Python overhead. So a
  time measurement fails a submission only when two independent facts agree, each far from
  anything noise can produce (see ``judge_time``): its slope is far beyond the allowed one
  *and* it is many times slower than the reference at the largest size. A separate check,
  ``assert_within_factor``, compares one timing against the reference's with a generous
  factor, to catch Python loops over positions, whose memory can look perfectly linear.

Why noise cannot flip a time verdict: min-of-k is inflated only when *every* one of the k
runs was disturbed, and a busy neighbour core slows a single-threaded NumPy call by well
under 2x, while the thresholds sit at 25x (ratio) and +0.7 in the exponent (a factor of
``2**0.7 = 1.6`` per doubling, compounding over the series). Efficient submissions measure
0.5-2.5x the reference with a core saturated (``bench/efficiency_stability.py``), so noise
would have to slow all k runs of the student ~10x and none of the reference's for the ratio
to trip. On top of that, an apparent time failure is measured again (``CONFIRM_ROUNDS``
rounds in all, minima over all of them) before it is reported. The other side matters as
much: suites must pick sizes where the inefficiency they target is far past the factor
(a suite that times a T x T decode step does so at ~160x, not at a marginal ~40x).

Timings compare like with like only if both sides run the same way: the sandbox times the
student under tracemalloc, and ``measure_call`` times the reference with the very same loop.
Suites should time workloads small enough that BLAS would not use a second thread on the
trusted side either (the sandbox pins one). And in the same state: the trusted process is
long-lived, but a fresh child whose C allocator has not yet freed a large block (glibc
raises its mmap and trim thresholds only then) hands every large temporary back to the
system and page-faults it in again on the next call, which made an allocation-heavy step
3-5x slower than the same step in a warm process. So before timing, run the student's
code once on a realistic workload that allocates more than one timed call does (a
suite timing a decode step first decodes a prompt chunk through it).

This module knows nothing about any assignment; suites pass in what to measure and the
words that describe it.
"""

from __future__ import annotations

import math
import time
import tracemalloc
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from proctor.asserts import CheckFailure

__all__ = [
    "Metric",
    "NOISE_FLOOR",
    "CONFIRM_ROUNDS",
    "TIME_RATIO_FACTOR",
    "TIME_SLOPE_MARGIN",
    "assert_growth",
    "assert_within_factor",
    "classify",
    "fit_slope",
    "judge",
    "judge_time",
    "measure_call",
    "metric_value",
]

Metric = Literal["peak_bytes", "time_s"]

NOISE_FLOOR: dict[str, float] = {"peak_bytes": 4096.0, "time_s": 20e-6}
"""Costs below these count as "constant": a few KiB is what one Python call allocates for
frames, small temporaries and NumPy's descriptor caches, and 20 us is a handful of NumPy
calls' overhead. Flooring stops a growth from 300 to 600 bytes reading as "linear"."""

TIME_SLOPE_MARGIN = 0.7
"""How far past ``allowed_slope`` a time slope must be before it counts (see module doc)."""

TIME_RATIO_FACTOR = 25.0
"""How many times slower than the reference a timing must be before it counts."""

CONFIRM_ROUNDS = 3
"""Measurement rounds an apparent time failure must survive before it is reported."""

_LABELS = {"peak_bytes": "peak memory", "time_s": "time"}


# ----------------------------------------------------------------------------- fitting


def fit_slope(sizes: Sequence[float], values: Sequence[float], *, floor: float = 0.0) -> float:
    """Least-squares slope of ``log(max(value, floor))`` against ``log(size)``.

    Values at or below ``floor`` are raised to it, so costs lost in the noise read as
    constant (slope 0) rather than as a steep climb out of nothing. With ``floor == 0`` every
    value must be positive.
    """
    if len(sizes) != len(values):
        raise ValueError(f"{len(sizes)} sizes but {len(values)} values")
    if len(sizes) < 2:
        raise ValueError("a slope needs at least two sizes")
    if any(not (s > 0 and math.isfinite(s)) for s in sizes):
        raise ValueError(f"sizes must be positive and finite: {list(sizes)}")
    if len(set(sizes)) < 2:
        raise ValueError(f"sizes must not all be equal: {list(sizes)}")
    if any(not math.isfinite(v) or v < 0 for v in values):
        raise ValueError(f"values must be finite and >= 0: {list(values)}")
    floored = [max(float(v), floor) for v in values]
    if any(v <= 0 for v in floored):
        raise ValueError("a zero cost needs a positive floor")
    xs = [math.log(s) for s in sizes]
    ys = [math.log(v) for v in floored]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    slope = sxy / sxx
    return 0.0 if abs(slope) < 1e-12 else slope


def classify(slope: float) -> str:
    """Name the nearest power: constant (< 0.5), linear (< 1.5), quadratic (< 2.5), else
    superquadratic. Descriptive only; pass/fail compares the slope itself."""
    if slope < 0.5:
        return "constant"
    if slope < 1.5:
        return "linear"
    if slope < 2.5:
        return "quadratic"
    return "superquadratic"


def metric_value(measurement: Mapping[str, Any], metric: Metric) -> float:
    """The number a ``measure`` result (``{"peak_bytes", "times"}``) gives for ``metric``:
    the peak bytes, or the minimum time (the run least disturbed by anything else)."""
    if metric == "peak_bytes":
        return float(measurement["peak_bytes"])
    if metric == "time_s":
        times = list(measurement["times"])
        if not times:
            raise ValueError("a measurement with no times")
        return float(min(times))
    raise ValueError(f"unknown metric {metric!r}")


def judge(
    sizes: Sequence[int],
    values: Sequence[float],
    *,
    metric: Metric,
    allowed_slope: float,
    floor: float | None = None,
) -> dict[str, Any]:
    """The result JSON's ``efficiency`` dict for one series: fitted slope, verdict, passed."""
    floor = NOISE_FLOOR[metric] if floor is None else floor
    slope = fit_slope(sizes, values, floor=floor)
    return {
        "metric": metric,
        "sizes": [int(s) for s in sizes],
        "values": [float(v) for v in values],
        "slope": round(slope, 3),
        "allowed_slope": float(allowed_slope),
        "verdict": classify(slope),
        "passed": slope <= allowed_slope,
    }


def judge_time(
    sizes: Sequence[int],
    times: Sequence[float],
    *,
    allowed_slope: float,
    reference_time: float | None,
    margin: float = TIME_SLOPE_MARGIN,
    factor: float = TIME_RATIO_FACTOR,
    floor: float | None = None,
) -> dict[str, Any]:
    """Judge a time series conservatively: it fails only if its slope exceeds
    ``allowed_slope + margin`` AND the largest size took more than ``factor`` times the
    reference's time there. Without a reference time, time never fails."""
    result = judge(sizes, times, metric="time_s", allowed_slope=allowed_slope, floor=floor)
    ratio = None
    if reference_time is not None:
        ratio = times[-1] / max(reference_time, NOISE_FLOOR["time_s"])
    steep = result["slope"] > allowed_slope + margin
    slow = ratio is not None and ratio > factor
    result.update(
        passed=not (steep and slow),
        slope_margin=margin,
        ratio_vs_reference=None if ratio is None else round(ratio, 2),
        ratio_factor=factor,
    )
    return result


# ----------------------------------------------------------------------------- measuring


def measure_call(fn: Callable[..., Any], *args: Any, repeat: int = 5, **kwargs: Any) -> dict:
    """Measure ``fn(*args, **kwargs)`` in this process exactly as the sandbox measures
    student calls (``proctor/sandbox/child/server.py``): ``repeat`` runs under tracemalloc,
    each timed and each peak taken above what was traced before it. Returns
    ``{"peak_bytes": max over runs, "times": [one per run]}``.

    Used for the reference on the trusted side so that student/reference ratios compare
    like with like: tracemalloc slows allocation-heavy code, so timing one side with it and
    the other without would skew every ratio. Keep this loop in step with the sandbox's.
    """
    if repeat < 1:
        raise ValueError("repeat must be >= 1")
    times: list[float] = []
    peaks: list[int] = []
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        for _ in range(repeat):
            tracemalloc.reset_peak()
            base = tracemalloc.get_traced_memory()[0]
            start = time.perf_counter()
            result = fn(*args, **kwargs)
            times.append(time.perf_counter() - start)
            peaks.append(tracemalloc.get_traced_memory()[1] - base)
            del result
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return {"peak_bytes": int(max(peaks)), "times": times}


# ----------------------------------------------------------------------------- asserting


def _amount(value: float, metric: str) -> str:
    """Human units: bytes as B/KiB/MiB, seconds as us/ms/s."""
    if metric == "peak_bytes":
        for unit, size in (("MiB", 2**20), ("KiB", 2**10)):
            if value >= size:
                return f"{value / size:.1f} {unit}"
        return f"{value:.0f} B"
    if value >= 1:
        return f"{value:.2f} s"
    if value >= 1e-3:
        return f"{value * 1e3:.1f} ms"
    return f"{value * 1e6:.0f} us"


def _record(record: Any, efficiency: dict[str, Any], extra: dict[str, Any]) -> None:
    """Put the efficiency dict and extra details on the plugin's ``record`` (if given)."""
    if record is None:
        return
    record.efficiency = efficiency
    details = getattr(record, "details", None)
    if isinstance(details, dict):
        details.update(extra)
    else:
        record.details = dict(extra)


def assert_growth(
    sizes: Sequence[int],
    measure: Callable[[int], Mapping[str, Any]],
    *,
    allowed_slope: float,
    what: str,
    over: str,
    record: Any = None,
    metric: Metric = "peak_bytes",
    hint: str | None = None,
    floor: float | None = None,
    max_last: tuple[float, str] | None = None,
    reference_time: Callable[[int], float] | None = None,
) -> dict[str, Any]:
    """Measure ``measure(size)`` for each size (in order) and fail if the cost grows faster
    than ``size**allowed_slope``.

    ``what`` names the measured operation ("one decode step"), ``over`` the size ("cached
    lengths"); they and ``hint`` (a likely cause) make the message. ``max_last`` is an
    absolute budget ``(limit, why)`` for the largest size, for growth too slow to show in a
    short series. ``reference_time(size)`` (the reference's best time) enables the
    conservative time check (``judge_time``); an apparent time failure is confirmed by
    calling ``measure`` and ``reference_time`` again at the largest size, so ``measure``
    must tolerate being called twice with the same size. Returns the efficiency dict, which is also
    recorded on ``record`` (the plugin's fixture) whether the check passes or fails.
    """
    if list(sizes) != sorted(sizes):
        raise ValueError(f"sizes must be increasing: {list(sizes)}")
    measurements = [measure(n) for n in sizes]
    values = [metric_value(m, metric) for m in measurements]
    efficiency = judge(sizes, values, metric=metric, allowed_slope=allowed_slope, floor=floor)
    extra: dict[str, Any] = {"checked": f"growth of {_LABELS[metric]} of {what}"}

    time_result = None
    if reference_time is not None and metric != "time_s":
        times = [metric_value(m, "time_s") for m in measurements]
        ref_best = reference_time(sizes[-1])
        time_result = judge_time(
            sizes, times, allowed_slope=allowed_slope, reference_time=ref_best
        )
        for _ in range(CONFIRM_ROUNDS - 1):  # an apparent time failure must repeat
            if time_result["passed"]:
                break
            times[-1] = min(times[-1], metric_value(measure(sizes[-1]), "time_s"))
            ref_best = min(ref_best, reference_time(sizes[-1]))
            time_result = judge_time(
                sizes, times, allowed_slope=allowed_slope, reference_time=ref_best
            )
        extra["time"] = time_result

    problems: list[str] = []
    first, last = sizes[0], sizes[-1]
    if not efficiency["passed"]:
        problems.append(
            f"{_LABELS[metric]} of {what} grew as n^{efficiency['slope']:.2f} over {over} "
            f"{first}..{last} ({_amount(values[0], metric)} -> {_amount(values[-1], metric)}; "
            f"allowed <= n^{allowed_slope:g})"
        )
    if max_last is not None:
        limit, why = max_last
        extra["limit_at_largest"] = float(limit)
        if values[-1] > limit:
            efficiency["passed"] = False
            problems.append(
                f"{_LABELS[metric]} of {what} at {last} was {_amount(values[-1], metric)}, "
                f"more than {_amount(limit, metric)} ({why})"
            )
    if time_result is not None and not time_result["passed"]:
        efficiency["passed"] = False
        problems.append(
            f"time of {what} grew as n^{time_result['slope']:.2f} over {over} "
            f"{first}..{last} and took {time_result['ratio_vs_reference']:.0f}x the "
            f"reference's time at {last} ({_amount(times[-1], 'time_s')})"
        )

    _record(record, efficiency, extra)
    if problems:
        message = "; ".join(problems) + "."
        if hint:
            message += f"\nHint: {hint}"
        raise CheckFailure(message, dict(extra), hint)  # the dict itself is on record
    return efficiency


def assert_within_factor(
    measure_student: Callable[[], Sequence[float]],
    measure_reference: Callable[[], Sequence[float]],
    *,
    what: str,
    factor: float = TIME_RATIO_FACTOR,
    rounds: int = CONFIRM_ROUNDS,
    record: Any = None,
    hint: str | None = None,
) -> float:
    """Fail if the student's best time is more than ``factor`` times the reference's best.

    Each callable runs its code k times and returns the k times. Best = minimum (the least
    disturbed run). An apparent failure is confirmed by measuring both again, up to
    ``rounds`` rounds in all, with the minima taken over every round: noise must then slow
    every one of the student's runs in every round, while the genuinely slow code this is
    for (a Python loop over positions) is slow in all of them. The reference's time is
    floored at ``NOISE_FLOOR["time_s"]`` so a near-free call cannot make an ordinary one
    look slow. Returns the ratio; it is also put in ``record.details["runtime"]``.
    """
    student: list[float] = []
    reference: list[float] = []
    for _ in range(max(1, rounds)):
        student.extend(measure_student())
        reference.extend(measure_reference())
        ratio = min(student) / max(min(reference), NOISE_FLOOR["time_s"])
        if ratio <= factor:
            break
    entry = {
        "student_s": min(student),
        "reference_s": min(reference),
        "ratio": round(ratio, 2),
        "allowed_ratio": factor,
        "runs": len(student),
    }
    if record is not None:
        details = getattr(record, "details", None)
        if not isinstance(details, dict):
            details = record.details = {}
        details.setdefault("runtime", {})[what] = entry
    if ratio > factor:
        message = (
            f"{what} took {_amount(min(student), 'time_s')}, {ratio:.0f}x the reference's "
            f"{_amount(min(reference), 'time_s')} (allowed <= {factor:g}x; best of "
            f"{len(student)} runs each)."
        )
        if hint:
            message += f"\nHint: {hint}"
        raise CheckFailure(
            message, {"checked": f"runtime of {what}", "runtime": {what: entry}}, hint
        )
    return ratio
