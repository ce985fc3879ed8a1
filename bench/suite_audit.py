"""Quick audit of the attention suites until `proctor audit` exists: prints, per task, the
points the suite gives degenerate code, and the mutant corpus's kill rate, hint rate and
collateral (points lost outside a mutant's declared tasks, efficiency included).

Degenerates are ``examples/submissions/correct.py`` with one part overridden at the end
of the file (zeros, a constant, NaN, an echo of an input, random output, uniform
weights), with and without the original's side effects. Run:
``PYTHONPATH=. python bench/suite_audit.py [--only degenerates|mutants] [--json OUT]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from proctor.config import load_course
from proctor.runner import grade_submission
from proctor.sandbox.client import Sandbox

ROOT = Path(__file__).resolve().parents[1]
CORRECT = (ROOT / "examples" / "submissions" / "correct.py").read_text()
TASKS = ("causal_mask", "scaled_dot_product", "multi_head", "kv_cache", "cached_attention",
         "efficiency")

EFFICIENCY_OF = {  # efficiency tests that call each part (what a degenerate must not earn)
    "scaled_dot_product": {"test_attention_grows_at_most_quadratically",
                           "test_attention_runtime_near_reference"},
    "cached_attention": {"test_decode_step_grows_linearly",
                         "test_decode_step_runtime_near_reference",
                         "test_decode_reads_keys_and_values_from_cache"},
    "kv_cache": {"test_cache_update_does_not_copy"},
}
SDPA = """
def _deg_sdpa(self, query, key, value, mask=None, return_attention_weights=False):
    q, k, v = np.asarray(query), np.asarray(key), np.asarray(value)
    shape = q.shape[:-1] + v.shape[-1:]
    wshape = q.shape[:-1] + k.shape[-2:-1]
    {body}
    return (out, w) if return_attention_weights else out
ScaledDotProductAttention.forward = _deg_sdpa
"""
SDPA_BODIES = {
    "zeros": "out = np.zeros(shape); w = np.zeros(wshape)",
    "const": "out = np.full(shape, 0.5); w = np.full(wshape, 0.5)",
    "nan": "out = np.full(shape, np.nan); w = np.full(wshape, np.nan)",
    "echo": "out = q.copy(); w = np.zeros(wshape)",
    "random": "out = np.random.default_rng(0).standard_normal(shape); w = np.random.default_rng(1).random(wshape)",
    "uniform": "w = np.full(wshape, 1.0 / k.shape[-2]); out = w @ v",
}
MHA = """
_orig_mha = MultiHeadAttention.forward
def _deg_mha(self, query, key, value, mask=None, return_attention_weights=False):
    q, k, v = np.asarray(query), np.asarray(key), np.asarray(value)
    shape = q.shape
    wshape = q.shape[:1] + (self.num_heads,) + q.shape[1:2] + k.shape[1:2]
    {body}
    return (out, w) if return_attention_weights else out
MultiHeadAttention.forward = _deg_mha
"""
MHA_BODIES = {
    "zeros": "out = np.zeros(shape); w = np.zeros(wshape)",
    "const": "out = np.full(shape, 0.5); w = np.full(wshape, 0.5)",
    "nan": "out = np.full(shape, np.nan); w = np.full(wshape, np.nan)",
    "echo": "out = q.copy(); w = np.zeros(wshape)",
    "random": "out = np.random.default_rng(0).standard_normal(shape); w = np.random.default_rng(1).random(wshape)",
    "uniform": "w = np.full(wshape, 1.0 / k.shape[1]); out = np.broadcast_to((v @ self.w_v).mean(axis=1, keepdims=True), shape) @ self.w_o",
}
MASK = """
def create_causal_mask(seq_len):
    return {body}
"""
MASK_BODIES = {
    "zeros": "np.zeros((seq_len, seq_len))",
    "ones": "np.ones((seq_len, seq_len))",
    "const": "np.full((seq_len, seq_len), 0.5)",
    "nan": "np.full((seq_len, seq_len), np.nan)",
    "random": "np.random.default_rng(0).random((seq_len, seq_len)) < 0.5",
    "eye": "np.eye(seq_len)",
}
KV = """
_orig_update = KVCache.update
def _deg_update(self, batch_idx, new_keys, new_values):
    {effect}
    nk, nv = np.asarray(new_keys), np.asarray(new_values)
    shape = nk.shape
    {body}
KVCache.update = _deg_update
"""
KV_BODIES = {
    "zeros": "return np.zeros(shape), np.zeros(shape)",
    "nan": "return np.full(shape, np.nan), np.full(shape, np.nan)",
    "echo": "return nk, nv",
    "random": "r = np.random.default_rng(0); return r.standard_normal(shape), r.standard_normal(shape)",
}
DECODE = """
_orig_decode = cached_self_attention
def cached_self_attention(mha, x_new, kv_cache, batch_idx=0):
    {effect}
    x = np.asarray(x_new)
    shape = x.shape
    {body}
"""
DECODE_BODIES = {
    "zeros": "return np.zeros(shape)",
    "const": "return np.full(shape, 0.5)",
    "nan": "return np.full(shape, np.nan)",
    "echo": "return x.copy()",
    "random": "return np.random.default_rng(0).standard_normal(shape)",
    "uniform": ("K = kv_cache.cached_keys[batch_idx]; V = kv_cache.cached_values[batch_idx]\n"
                "    n = int(np.asarray(kv_cache.cache_lengths)[batch_idx])\n"
                "    v = np.asarray(V)[:, :max(n, 1)].mean(axis=1)  # (H, D)\n"
                "    return np.broadcast_to(v.reshape(1, -1) @ mha.w_o, shape).copy()"),
}
DECODE_EFFECT = ("H, D = mha.num_heads, mha.head_dim; _x = np.asarray(x_new); n = _x.shape[0]\n"
                 "    kv_cache.update(batch_idx, (_x @ mha.w_k).reshape(n, H, D).transpose(1, 0, 2),"
                 " (_x @ mha.w_v).reshape(n, H, D).transpose(1, 0, 2))")


def degenerates() -> dict[str, tuple[str, str]]:
    """name -> (task, source)."""
    out: dict[str, tuple[str, str]] = {}
    for name, body in SDPA_BODIES.items():
        out[f"sdpa_{name}"] = ("scaled_dot_product", CORRECT + SDPA.format(body=body))
    for name, body in MHA_BODIES.items():
        out[f"mha_{name}"] = ("multi_head", CORRECT + MHA.format(body=body))
    for name, body in MASK_BODIES.items():
        out[f"mask_{name}"] = ("causal_mask", CORRECT + MASK.format(body=body))
    for name, body in KV_BODIES.items():
        for eff, code in (("", "pass"), ("+effect", "_orig_update(self, batch_idx, new_keys, new_values)")):
            out[f"kv_{name}{eff}"] = ("kv_cache", CORRECT + KV.format(body=body, effect=code))
    for name, body in DECODE_BODIES.items():
        for eff, code in (("", "pass"), ("+effect", DECODE_EFFECT)):
            if name == "uniform" and not eff:
                continue
            out[f"decode_{name}{eff}"] = ("cached_attention",
                                          CORRECT + DECODE.format(body=body, effect=code))
    return out


def load_mutants(tmp: Path) -> dict[str, tuple[set[str], str, Path]]:
    spec = importlib.util.spec_from_file_location("build_mutants",
                                                  ROOT / "tests" / "mutants" / "build_mutants.py")
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    extra_spec = importlib.util.spec_from_file_location(
        "hint_mutants", ROOT / "tests" / "mutants" / "hint_mutants.py")
    extra = importlib.util.module_from_spec(extra_spec)
    extra_spec.loader.exec_module(extra)
    builder.MUTANTS.update(extra.MUTANTS)
    paths = builder.write_all(tmp)
    return {name: (set(m[0].split(",")), m[1], paths[name]) for name, m in builder.MUTANTS.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", choices=("degenerates", "mutants"))
    ap.add_argument("--match", default="")
    ap.add_argument("--json")
    args = ap.parse_args()
    assignment = load_course(ROOT / "course.toml").assignments["attention"]
    report: dict = {"degenerates": {}, "mutants": {}}
    with tempfile.TemporaryDirectory() as tmpdir, Sandbox() as box:
        tmp = Path(tmpdir)
        if args.only != "mutants":
            print(f"{'degenerate':24} {'task':20} pts  eff = efficiency points from tests "
                  "that call the part; paying tests")
            for name, (task, src) in degenerates().items():
                if args.match not in name:
                    continue
                path = tmp / f"{name.replace('+', '_')}.py"
                path.write_text(src)
                res = grade_submission(assignment, path, sandbox=box).to_dict()
                paying = [(t["id"].split("::")[-1], t["score"]) for t in res["tests"]
                          if t["task"] == task and t["status"] == "passed" and t["score"] > 0]
                eff = sum(t["score"] for t in res["tests"] if t["task"] == "efficiency"
                          and t["id"].split("::")[-1] in EFFICIENCY_OF.get(task, ()))
                pts = res["tasks"][task]["score"]
                report["degenerates"][name] = {"task": task, "points": pts, "efficiency": eff,
                                               "paying": paying}
                print(f"{name:24} {task:20} {pts:4.1f} eff={eff:4.1f} {paying}", flush=True)
        if args.only != "degenerates":
            mutants = load_mutants(tmp / "mutants")
            print(f"\n{'mutant':28} killed hint collateral")
            for name, (tasks, keyword, path) in mutants.items():
                if args.match not in name:
                    continue
                res = grade_submission(assignment, path, sandbox=box).to_dict()
                lost = {t: res["tasks"][t]["max_score"] - res["tasks"][t]["score"] for t in TASKS}
                killed = all(lost[t] > 0 for t in tasks)
                hints = [t["hint"] or "" for t in res["tests"]
                         if t["task"] in tasks and t["status"] != "passed"]
                hinted = any(keyword.lower() in h.lower() for h in hints)
                collateral = {t: round(v, 2) for t, v in lost.items() if t not in tasks and v > 0}
                report["mutants"][name] = {"tasks": sorted(tasks), "killed": killed,
                                           "hinted": hinted, "collateral": collateral,
                                           "hints": sorted(set(hints))[:5]}
                print(f"{name:28} {killed!s:6} {hinted!s:5} {collateral}", flush=True)
    summarize(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))


def summarize(report: dict) -> None:
    rows: dict[str, dict] = defaultdict(lambda: {"n": 0, "killed": 0, "hinted": 0,
                                                 "collateral": 0.0, "degenerate": 0.0})
    for m in report["mutants"].values():
        for t in m["tasks"]:
            r = rows[t]
            r["n"] += 1
            r["killed"] += m["killed"]
            r["hinted"] += m["hinted"]
        for t, v in m["collateral"].items():
            rows[m["tasks"][0]]["collateral"] += v
    for d in report["degenerates"].values():
        rows[d["task"]]["degenerate"] = max(rows[d["task"]]["degenerate"], d["points"])
        rows["efficiency"]["degenerate"] = max(rows["efficiency"]["degenerate"], d["efficiency"])
    print(f"\n{'task':20} {'kill':>8} {'hint':>8} {'collateral':>11} {'degenerate max pts':>19}")
    for t in TASKS:
        r = rows[t]
        n = r["n"] or 1
        print(f"{t:20} {r['killed']:>3}/{r['n']:<4} {r['hinted']:>3}/{r['n']:<4} "
              f"{r['collateral']:>11.2f} {r['degenerate']:>19.2f}")


if __name__ == "__main__":
    sys.exit(main())
