"""Regenerates the sample result.json files the feedback/dashboard tests use (run by hand).

They are crafted, not graded: every status, a failed diagnostic, hints shared by several
students, a counterexample, efficiency data (pass and fail), a load error, timeouts, a hidden
test full of SECRET_ bait that must never reach the page, and one corrupt file.
"""
import json
from pathlib import Path

root = Path(__file__).resolve().parent
POINTS = {"causal_mask": 10.0, "scaled_dot_product": 25.0, "multi_head": 25.0, "kv_cache": 15.0, "cached_attention": 15.0, "efficiency": 10.0}

def T(id, task, status, score, mx, vis="public", message="", hint="", details=None, cx=None, eff=None, name=None):
    return {"id": id, "name": name or id.split("::")[-1].removeprefix("test_").replace("_", " "),
            "task": task, "status": status, "score": score, "max_score": mx, "visibility": vis,
            "message": message, "hint": hint, "details": details, "counterexample": cx, "efficiency": eff}

def eff(metric, sizes, values, slope, allowed, verdict):
    return {"metric": metric, "sizes": sizes, "values": values, "slope": slope, "allowed_slope": allowed, "verdict": verdict}

SIZES = [128, 256, 512, 1024, 2048]
lin_mem = [int(40000 * s / 128 * (1 + 0.02 * i)) for i, s in enumerate(SIZES)]
quad_mem = [int(40000 * (s / 128) ** 2 * (1 + 0.03 * i)) for i, s in enumerate(SIZES)]
lin_time = [2.1e-4 * s / 128 * (1 + 0.05 * i) for i, s in enumerate(SIZES)]

def all_pass(eff_mem=None, eff_time=None):
    return [
        T("test_mask.py::test_mask_shape", "causal_mask", "passed", 5.0, 5.0),
        T("test_mask.py::test_mask_values", "causal_mask", "passed", 5.0, 5.0, vis="hidden"),
        T("test_sdpa.py::test_matches_reference", "scaled_dot_product", "passed", 12.5, 12.5),
        T("test_sdpa.py::test_cross_shapes", "scaled_dot_product", "passed", 12.5, 12.5, vis="hidden"),
        T("test_mha.py::test_heads_split", "multi_head", "passed", 12.5, 12.5),
        T("test_mha.py::test_output_projection", "multi_head", "passed", 12.5, 12.5, vis="hidden"),
        T("test_cache.py::test_append", "kv_cache", "passed", 15.0, 15.0),
        T("test_cached.py::test_incremental_matches_full", "cached_attention", "passed", 15.0, 15.0),
        T("test_efficiency.py::test_cache_memory_linear", "efficiency", "passed", 5.0, 5.0,
          eff=eff_mem or eff("peak_bytes", SIZES, lin_mem, 1.01, 1.5, "linear")),
        T("test_efficiency.py::test_decode_step_time", "efficiency", "passed", 5.0, 5.0, vis="hidden",
          eff=eff_time or eff("time_s", SIZES, lin_time, 1.04, 1.5, "linear")),
    ]

def result(sub, tests, *, load=None, late=None, seed=1234, iso="bwrap", dur=3.2):
    tasks = {}
    for k, mx in POINTS.items():
        tasks[k] = {"score": sum(t["score"] for t in tests if t["task"] == k), "max_score": mx}
    score = sum(t["score"] for t in tests)
    r = {"assignment": "attention", "submission": sub, "score": score, "max_score": 100.0,
         "tasks": tasks, "tests": tests, "load": load or {"errors": [], "skipped_lines": 0},
         "isolation": iso, "proctor_version": "0.1.0", "seed": seed, "duration_s": dur}
    if late:  # the shape proctor.lms.late.apply_late writes
        raw = score
        r["score"] = round(raw * (1 - late["penalty_fraction"]), 2)
        r["late"] = {"submitted_at": late["submitted_at"], "days_late": late["days_late"],
                     "penalty_fraction": late["penalty_fraction"], "raw_score": raw,
                     "penalty": late["penalty_fraction"]}
    return r

SDPA_HINT = "Your output matches softmax(QK^T) V without the 1/sqrt(d_k) scaling. Divide the scores by sqrt(d_k) before the softmax."
MASK_HINT = "The masked positions look like they are set to 0 instead of -inf before the softmax, so they still receive weight."

# alice: every status, diagnostics, counterexample, hidden leak bait, efficiency pass+fail, late
a = all_pass(eff_mem=eff("peak_bytes", SIZES, quad_mem, 2.03, 1.5, "quadratic"))
a[2] = T("test_sdpa.py::test_matches_reference", "scaled_dot_product", "failed", 0.0, 12.5,
         message="output does not match the reference (rtol=1e-05, atol=1e-08): 75% of elements differ",
         hint=SDPA_HINT,
         details={"checked": "output", "max_abs_err": 0.4123, "max_rel_err": 2.83, "worst_index": [0, 1, 2],
                  "worst_actual": 1.1931, "worst_expected": 0.7808, "mismatch_fraction": 0.75, "shape": [2, 3, 4]},
         cx="q=array([[1., 0.]]), k=array([[0., 2.]]), v=array([[1., 1.]])")
a[3] = T("test_sdpa.py::test_cross_shapes", "scaled_dot_product", "failed", 0.0, 12.5, vis="hidden",
         message="output has the wrong shape", hint="Check which sequence length the output takes.",
         details={"checked": "SECRET_DETAIL_7781", "max_abs_err": 987654.321, "shape": [7, 7, 7781],
                  "worst_index": [7781, 7781]},
         cx="SECRET_COUNTEREXAMPLE_q=array([[7781.]])")
a[4] = T("test_mha.py::test_heads_split", "multi_head", "error", 0.0, 12.5,
         message="ValueError: cannot reshape array of size 24 into shape (2,3,5) <script>alert('xss')</script>",
         hint="Your code raised an exception; the shape split into heads should be (batch, heads, seq, d_head).")
a[6] = T("test_cache.py::test_append", "kv_cache", "timeout", 0.0, 15.0,
         message="the call did not finish within 10 s", hint="Look for an infinite loop when the cache is full.")
a[9] = T("test_efficiency.py::test_decode_step_time", "efficiency", "failed", 0.0, 5.0, vis="hidden",
         message="decode time grows faster than allowed", hint="Do not recompute attention over the whole prefix.",
         eff=eff("time_s", SIZES, [1e-3 * (s / 128) ** 2 for s in SIZES], 2.0, 1.5, "quadratic"))
a[7]["name"] = "CachedMultiHeadAttention.decode_step_matches_full_forward_pass (long names must wrap on phones)"
a[8]["status"] = "failed"; a[8]["score"] = 0.0
a[8]["message"] = "peak memory grows like n^2.03; allowed slope is 1.5"
a[8]["hint"] = "The cache seems to copy all previous keys on every step. Preallocate and write in place."
a[8]["message"] += "\nHint: " + a[8]["hint"]  # the plugin repeats the hint in the message
a[8]["details"] = {"checked": "growth of peak memory of one decode step",
                   "problem": "peak memory grows like n^2.03",
                   "time": eff("time_s", SIZES, lin_time, 1.0, 1.3, "linear"),
                   "limit_at_largest": 4194304.0}
alice = result("alice.ipynb", a, late={"days_late": 2, "penalty_fraction": 0.1,
                                                 "submitted_at": "2026-10-03T23:10:00+00:00"}, seed=1234)

# bob: a notebook that failed to load; most tests error
b = []
for t in all_pass():
    if t["task"] in ("multi_head", "kv_cache", "cached_attention", "efficiency"):
        t.update(status="error", score=0.0, message="NameError: name 'MultiHeadAttention' is not defined",
                 hint="A name the tests need is missing; see the notebook load errors above.", efficiency=None)
    b.append(t)
b[0].update(status="failed", score=0.0, message="mask has the wrong values", hint=MASK_HINT)
# the shape proctor.runner writes for load problems: proctor.result.LoadNote dicts, cells
# named by their execution count as Jupyter shows it
bob_load = {
    "problem": None,
    "errors": [
        {"kind": "error", "where": "cell [7]", "message": "name 'np' is not defined", "type": "NameError",
         "unit": 7, "line": 2,
         "traceback": '  File "cell 7", line 2, in <module>\nNameError: name \'np\' is not defined\n'},
        {"kind": "error", "where": "cell [12]", "message": "invalid syntax", "type": "SyntaxError",
         "unit": 12, "line": 4, "traceback": ""},
    ],
    "notes": [{"kind": "note", "where": "", "message": "cell [15] is an nbgrader test cell: the graders' "
               "own tests run instead", "type": "", "unit": None, "line": None, "traceback": ""}],
    "restarts": 1,
}
bob = result("bob.ipynb", b, load=bob_load, iso="unshare", dur=5.9)

# carol: everything passes
carol = result("carol.ipynb", all_pass(), iso="bwrap", dur=2.4)

# dave: timeouts
d = all_pass()
for i in (6, 7):
    d[i].update(status="timeout", score=0.0, message="the submission did not finish within 30 s",
                hint="Look for an infinite loop when the cache is full.")
d[2].update(status="failed", score=0.0, message="output does not match the reference", hint=SDPA_HINT)
dave = result("dave.py", d, iso="rlimits", dur=61.0)

# erin: same misconception as alice and bob
e = all_pass()
e[2].update(status="failed", score=0.0, message="output does not match the reference", hint=SDPA_HINT)
e[0].update(status="failed", score=0.0, message="mask has the wrong values", hint=MASK_HINT)
erin = result("erin.ipynb", e)

for name, r in [("alice", alice), ("bob", bob), ("carol", carol), ("dave", dave), ("erin", erin)]:
    p = root / name / "result.json"
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(r, indent=2, ensure_ascii=False) + "\n")
    print(name, r["score"])
(root / "corrupt").mkdir(exist_ok=True)
(root / "corrupt" / "result.json").write_text('{"assignment": "attention", "score": 12.5, "tests": [')
