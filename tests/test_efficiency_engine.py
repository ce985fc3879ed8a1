"""proctor.efficiency on synthetic series (slope fitting, noise floor, verdicts, the
conservative time rules), and end to end: the reference keeps every efficiency point and
each correct-but-inefficient submission (tests/inefficient.py) loses efficiency points
only, in the test that names its inefficiency.

(Not named tests/test_efficiency.py: pytest's importlib mode reuses any module already in
sys.modules under the same name, so a grading run inside this test process would collect
this file instead of graders/attention/test_efficiency.py.)

No test here depends on how fast this machine is: synthetic series are numbers, and the
end-to-end checks use verdicts whose margins the bench (bench/efficiency_stability.py)
shows to be far wider than the noise.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import inefficient
from proctor.asserts import CheckFailure
from proctor.efficiency import (
    NOISE_FLOOR,
    assert_growth,
    assert_within_factor,
    classify,
    fit_slope,
    judge,
    judge_time,
    measure_call,
)

ROOT = Path(__file__).resolve().parents[1]
CORRECT = ROOT / "examples" / "submissions" / "correct.py"
NOT_ADVANCED = ROOT / "examples" / "submissions" / "bug_cache_not_advanced.py"
SIZES = [64, 128, 256, 512, 1024]


class Record:
    """Stand-in for the plugin's TestRecord."""

    details: dict[str, Any] | None = None
    hint: str | None = None
    efficiency: dict[str, Any] | None = None


def series(power: float, scale: float = 100.0, constant: float = 0.0) -> list[float]:
    return [constant + scale * n**power for n in SIZES]


# ----------------------------------------------------------------------------- fitting


@pytest.mark.parametrize("power", [0.0, 0.5, 1.0, 2.0, 3.0])
def test_exact_powers_fit_exactly(power: float) -> None:
    assert fit_slope(SIZES, series(power), floor=0.0) == pytest.approx(power, abs=1e-9)


def test_costs_below_the_floor_count_as_constant() -> None:
    """200 -> 3200 bytes is n^1 on paper but all of it is below the noise floor."""
    assert fit_slope(SIZES, series(1.0, scale=200 / 64), floor=NOISE_FLOOR["peak_bytes"]) == 0.0
    assert fit_slope(SIZES, [0, 0, 0, 0, 0], floor=1.0) == 0.0


def test_floor_only_flattens_the_small_end() -> None:
    """A quadratic that starts under the floor still fits steeper than linear."""
    values = series(2.0, scale=0.5)  # 2 KiB at 64, 512 KiB at 1024
    assert fit_slope(SIZES, values, floor=4096) > 1.5


def test_constant_overhead_only_lowers_the_slope() -> None:
    """A big constant term pulls a linear fit below 1: measurement overhead can make a
    submission look better, never worse."""
    slope = fit_slope(SIZES, series(1.0, scale=10, constant=20_000), floor=0)
    assert 0 < slope < 1


def test_noisy_linear_stays_linear() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        noisy = [v * math.exp(rng.normal(0, 0.1)) for v in series(1.0)]
        assert 0.8 < fit_slope(SIZES, noisy) < 1.2


def test_noisy_quadratic_stays_quadratic() -> None:
    rng = np.random.default_rng(1)
    for _ in range(200):
        noisy = [v * math.exp(rng.normal(0, 0.1)) for v in series(2.0)]
        assert 1.8 < fit_slope(SIZES, noisy) < 2.2


@pytest.mark.parametrize(
    "sizes, values, floor",
    [([64], [1.0], 0.0), ([64, 64], [1.0, 2.0], 0.0), ([64, 128], [1.0], 0.0),
     ([0, 128], [1.0, 2.0], 0.0), ([64, 128], [0.0, 2.0], 0.0), ([64, 128], [1.0, math.nan], 0.0),
     ([64, 128], [-1.0, 2.0], 1.0)],
)
def test_bad_series_are_refused(sizes: list[int], values: list[float], floor: float) -> None:
    with pytest.raises(ValueError):
        fit_slope(sizes, values, floor=floor)


@pytest.mark.parametrize(
    "slope, verdict",
    [(0.0, "constant"), (0.49, "constant"), (0.9, "linear"), (1.49, "linear"),
     (1.97, "quadratic"), (2.6, "superquadratic")],
)
def test_classify(slope: float, verdict: str) -> None:
    assert classify(slope) == verdict


def test_judge_gives_the_result_json_fields() -> None:
    result = judge(SIZES, series(2.0), metric="peak_bytes", allowed_slope=1.3)
    assert result == {
        "metric": "peak_bytes", "sizes": SIZES, "values": series(2.0), "slope": 2.0,
        "allowed_slope": 1.3, "verdict": "quadratic", "passed": False,
    }
    assert judge(SIZES, series(1.0), metric="peak_bytes", allowed_slope=1.3)["passed"]


# ----------------------------------------------------------------------------- time rules


def test_steep_time_alone_does_not_fail() -> None:
    """A quadratic-looking timing within 25x of the reference is treated as noise."""
    times = [1e-4 * (n / 64) ** 2.5 for n in SIZES]
    result = judge_time(SIZES, times, allowed_slope=1.3, reference_time=times[-1] / 10)
    assert result["slope"] > 2.0 and result["passed"]


def test_slow_but_not_steep_time_does_not_fail_the_growth_check() -> None:
    times = [1e-2 * n / 64 for n in SIZES]
    result = judge_time(SIZES, times, allowed_slope=1.3, reference_time=times[-1] / 100)
    assert result["ratio_vs_reference"] == pytest.approx(100) and result["passed"]


def test_steep_and_slow_time_fails() -> None:
    times = [1e-4 * (n / 64) ** 2.2 for n in SIZES]
    result = judge_time(SIZES, times, allowed_slope=1.3, reference_time=times[-1] / 30)
    assert not result["passed"]


def test_time_never_fails_without_a_reference() -> None:
    times = [1e-4 * (n / 64) ** 3 for n in SIZES]
    assert judge_time(SIZES, times, allowed_slope=1.3, reference_time=None)["passed"]


def test_within_factor_passes_and_records_the_ratio() -> None:
    record = Record()
    ratio = assert_within_factor(lambda: [3e-3, 2e-3], lambda: [1e-3, 5e-3], what="a step",
                                 record=record)
    assert ratio == pytest.approx(2.0)
    assert record.details["runtime"]["a step"]["ratio"] == pytest.approx(2.0)


def test_within_factor_fails_only_when_every_round_is_slow() -> None:
    """One slow round (a disturbed measurement) is not enough: a clean round decides."""
    rounds = iter([[0.1] * 5, [2e-3] * 5, [0.1] * 5])
    assert assert_within_factor(lambda: next(rounds), lambda: [1e-3] * 5, what="a step") == 2

    calls = []

    def slow() -> list[float]:
        calls.append(1)
        return [0.1] * 5

    with pytest.raises(CheckFailure) as failure:
        assert_within_factor(slow, lambda: [1e-3] * 5, what="one decode step", hint="loops")
    assert len(calls) == 3
    message = str(failure.value)
    assert "one decode step took 100.0 ms, 100x the reference's 1.0 ms" in message
    assert "allowed <= 25x" in message and "Hint: loops" in message
    assert failure.value.details["runtime"]["one decode step"]["ratio"] == pytest.approx(100)


def test_within_factor_floors_a_near_free_reference() -> None:
    """A 1 us reference call must not make an ordinary 300 us call look 300x slower."""
    assert assert_within_factor(lambda: [3e-4], lambda: [1e-6], what="x") == pytest.approx(15)


# ----------------------------------------------------------------------------- assert_growth


def fake_measure(power: float, scale: float = 100.0) -> Any:
    return lambda n: {"peak_bytes": int(scale * n**power), "times": [1e-4, 2e-4]}


def test_assert_growth_passes_and_records() -> None:
    record = Record()
    result = assert_growth(SIZES, fake_measure(1.0), allowed_slope=1.3, what="one step",
                           over="cached lengths", record=record)
    assert result["passed"] and result["verdict"] == "linear"
    assert record.efficiency is result
    assert record.details["checked"] == "growth of peak memory of one step"


def test_assert_growth_message_says_what_grew_how_fast() -> None:
    record = Record()
    with pytest.raises(CheckFailure) as failure:
        assert_growth(SIZES, fake_measure(2.0), allowed_slope=1.3, what="one decode step",
                      over="cached lengths", record=record, hint="a T x T mask would do this")
    message = str(failure.value)
    assert message.startswith(
        "peak memory of one decode step grew as n^2.00 over cached lengths 64..1024 "
        "(400.0 KiB -> 100.0 MiB; allowed <= n^1.3)")
    assert message.endswith("Hint: a T x T mask would do this")
    assert failure.value.hint == "a T x T mask would do this"
    assert record.efficiency["passed"] is False and record.efficiency["slope"] == 2.0


def test_assert_growth_budget_at_the_largest_size() -> None:
    with pytest.raises(CheckFailure, match=r"at 1024 was 100.0 KiB, more than 50.0 KiB \(why\)"):
        assert_growth(SIZES, fake_measure(1.0), allowed_slope=1.3, what="x", over="n",
                      max_last=(50 * 1024, "why"))


def test_assert_growth_time_needs_memory_or_reference_to_agree() -> None:
    """Memory linear, time n^2.5 and 40x the reference (after confirmation): fails on time.
    The same timing with a reference only 2x faster passes."""

    def measure(n: int) -> dict:
        return {"peak_bytes": 100 * n, "times": [1e-4 * (n / 64) ** 2.5]}

    last = 1e-4 * 16**2.5
    with pytest.raises(CheckFailure, match=r"time of x grew as n\^2.50 .* 40x"):
        assert_growth(SIZES, measure, allowed_slope=1.3, what="x", over="n",
                      reference_time=lambda n: last / 40)
    result = assert_growth(SIZES, measure, allowed_slope=1.3, what="x", over="n",
                           reference_time=lambda n: last / 2)
    assert result["passed"]


def test_measure_call_reports_numpy_allocations() -> None:
    small = measure_call(np.ones, 1_000, repeat=3)
    big = measure_call(np.ones, 1_000_000, repeat=3)
    assert len(big["times"]) == 3
    assert big["peak_bytes"] >= 8_000_000 > small["peak_bytes"]


# ----------------------------------------------------------------------------- end to end


def efficiency_failures(result: dict) -> dict[str, str]:
    return {t["id"].split("::")[1]: t["message"] for t in result["tests"]
            if t["task"] == "efficiency" and t["status"] != "passed"}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Grade the reference, the correct example, the example whose cache never grows and
    every inefficient submission once, with ``proctor grade`` in a child process (as an
    instructor would), so no module this pytest process has imported can stand in for a
    suite module of the same name."""
    out = tmp_path_factory.mktemp("graded")
    paths = [ROOT / "reference" / "attention.py", CORRECT, NOT_ADVANCED,
             *inefficient.write_all(out / "submissions")]
    subprocess.run(
        [sys.executable, "-c", "import sys; from proctor.cli import main; sys.exit(main())",
         "grade", "--out", str(out), "attention", *map(str, paths)],
        cwd=ROOT, check=True, capture_output=True, timeout=1200,
    )

    def grade(path: Path) -> dict:
        return json.loads((out / path.stem / "result.json").read_text())

    return grade


@pytest.mark.slow
@pytest.mark.parametrize("path", [ROOT / "reference" / "attention.py", CORRECT],
                         ids=["reference", "correct.py"])
def test_efficient_submissions_keep_every_efficiency_point(graded: Any, path: Path) -> None:
    result = graded(path)
    assert efficiency_failures(result) == {}
    assert result["tasks"]["efficiency"]["score"] == result["tasks"]["efficiency"]["max_score"]
    growth = {t["id"].split("::")[1]: t["efficiency"] for t in result["tests"] if t["efficiency"]}
    assert growth["test_decode_step_grows_linearly"]["verdict"] == "linear"
    assert growth["test_cache_update_does_not_copy"]["verdict"] == "constant"
    assert growth["test_attention_grows_at_most_quadratically"]["verdict"] == "quadratic"


@pytest.mark.slow
@pytest.mark.parametrize(
    "name, failing, words",
    [
        ("full_mask.py", {"test_decode_step_grows_linearly", "test_decode_step_runtime_near_reference"},
         r"peak memory of one decode step grew as n\^(1\.9|2\.0)"),
        ("recompute_kv.py", {"test_decode_reads_keys_and_values_from_cache"},
         "does not read earlier keys and values from the cache"),
        ("copying_cache.py", {"test_cache_update_does_not_copy"},
         r"peak memory of one KVCache\.update of one token grew as n\^(0\.9|1\.0)"),
        ("python_loop.py", {"test_decode_step_runtime_near_reference"},
         "one decode step at cached length 4096 took"),
        ("cubic_softmax.py", {"test_attention_grows_at_most_quadratically",
                              "test_attention_runtime_near_reference"},
         r"peak memory of ScaledDotProductAttention\.forward grew as n\^(2\.9|3\.0)"),
    ],
)
def test_inefficient_submissions_lose_efficiency_points_only(
    graded: Any, name: str, failing: set[str], words: str
) -> None:
    """``words`` is a regular expression one failure message must match: the growth ones
    pin the slope to its first decimal, either side of a round number (the copying cache's
    update measures n^0.996, printed as n^1.00)."""
    result = graded(Path(name))
    lost = {task: t for task, t in result["tasks"].items() if t["score"] < t["max_score"]}
    assert set(lost) == {"efficiency"}, lost
    failures = efficiency_failures(result)
    assert set(failures) == failing
    assert any(re.search(words, message) for message in failures.values()), failures


@pytest.mark.slow
def test_a_cache_that_never_grows_costs_no_efficiency_points(graded: Any) -> None:
    """The suite fills caches through the contract's attributes (``cached_keys``,
    ``cached_values``, ``cache_lengths``), not ``KVCache.update``: a cache whose length
    never advances is kv_cache's fault, counted there, and its decode step and update are
    still measured (issue 12: no double jeopardy)."""
    assert efficiency_failures(graded(NOT_ADVANCED)) == {}
