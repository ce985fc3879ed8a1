"""The transformer's mutant corpus and example submissions are what they say they are.

On the reference attention (importable as ``attention``, as the student's own would be):
the corpus base and ``examples/transformer/correct.py`` equal the reference on every part;
each mutant differs from the reference in the part its variant names, reproduces that
variant's numbers (so a suite comparing against ``transformer_variants`` will give its hint),
and its declared hint words are in that hint. The generated ``bug_*.py`` examples are in sync.
The grader suites' verdicts on these files are checked in ``tests/test_transformer_suites.py``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from proctor.audit.corpus import load_corpus  # noqa: E402
from reference import attention as ref_attention  # noqa: E402
from reference import transformer as ref  # noqa: E402
from reference import transformer_variants as tv  # noqa: E402

CORPUS_DIR = ROOT / "mutants" / "transformer"
EXAMPLES = ROOT / "examples" / "transformer"
RTOL, ATOL = 1e-4, 1e-5  # the contract's grading tolerance

_corpus = load_corpus(CORPUS_DIR)
_spec = importlib.util.spec_from_file_location("_transformer_corpus", CORPUS_DIR / "corpus.py")
corpus_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(corpus_module)


def load_submission(text: str, name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """Import a submission's text with the reference attention as its ``attention``."""
    monkeypatch.setitem(sys.modules, "attention", ref_attention)
    module = ModuleType(name)
    exec(compile(text, f"<{name}>", "exec"), module.__dict__)
    return module


def same_weights(student, reference, seed: int) -> None:
    """Random weights in the reference, copied into the student's object in place."""
    rng = np.random.default_rng(seed)
    assert len(student.parameters) == len(reference.parameters)
    for theirs, ours in zip(student.parameters, reference.parameters):
        ours[...] = rng.standard_normal(ours.shape) * 0.5
        theirs[...] = ours


def close(a, b) -> bool:
    a = np.asarray(a, dtype=float)
    return a.shape == np.shape(b) and bool(np.allclose(a, b, rtol=RTOL, atol=ATOL))


def run_part(module: ModuleType, part: str) -> tuple[np.ndarray, np.ndarray, tv.Variants]:
    """(student output, reference output, variants) for one part on fixed inputs."""
    rng = np.random.default_rng(42)
    if part == "ln":
        x = rng.standard_normal((3, 4, 6)) * 2 + 1
        x[0] *= 1e-3  # near-zero variance rows: where eps placement shows
        theirs, ours = module.LayerNorm(6), ref.LayerNorm(6)
        same_weights(theirs, ours, 1)
        return theirs(x), ours(x), tv.layer_norm_variants(x, ours.gamma, ours.beta)
    if part == "ffn":
        x = rng.standard_normal((2, 5, 6)) * 2
        theirs, ours = module.FeedForward(6, 10), ref.FeedForward(6, 10)
        same_weights(theirs, ours, 2)
        return theirs(x), ours(x), tv.ffn_variants(x, ours)
    if part == "block":
        x = rng.standard_normal((2, 5, 8))
        mask = ref_attention.create_causal_mask(5)
        theirs, ours = module.TransformerBlock(8, 2, 16), ref.TransformerBlock(8, 2, 16)
        same_weights(theirs, ours, 3)
        return theirs(x, mask=mask), ours(x, mask=mask), tv.block_variants(x, ours, mask)
    theirs = module.GPT(13, 8, 2, 2, 16, hidden_dim=16)
    ours = ref.GPT(13, 8, 2, 2, 16, hidden_dim=16)
    same_weights(theirs, ours, 4)
    if part == "model":
        ids = rng.integers(0, 13, size=(2, 7))
        return theirs(ids), ours(ids), tv.model_variants(ours, ids)
    prompt = np.array([3, 1, 4])
    _, got = theirs.generate(prompt, 4, return_logits=True)
    _, want = ours.generate(prompt, 4, return_logits=True)
    return got, want, tv.generate_variants(ours, prompt, 4)


PARTS = ["ln", "ffn", "block", "model", "generate"]


@pytest.mark.parametrize("part", PARTS)
def test_base_equals_reference(part, monkeypatch):
    base = load_submission(_corpus.base.read_text(), "base", monkeypatch)
    got, want, _ = run_part(base, part)
    assert close(got, want)


@pytest.mark.parametrize("part", PARTS)
def test_correct_example_equals_reference(part, monkeypatch):
    correct = load_submission((EXAMPLES / "correct.py").read_text(), "correct", monkeypatch)
    got, want, _ = run_part(correct, part)
    assert close(got, want)


def test_correct_example_generates_the_same_without_cache(monkeypatch):
    correct = load_submission((EXAMPLES / "correct.py").read_text(), "correct", monkeypatch)
    model = correct.GPT(13, 8, 2, 2, 16)
    with_cache = model.generate(np.array([5, 2]), 6)
    np.testing.assert_array_equal(model.generate(np.array([5, 2]), 6, use_cache=False),
                                  with_cache)
    with pytest.raises(ValueError):
        model.generate(np.array([5, 2]), 15)


def test_every_mutant_has_a_variant_entry():
    assert set(corpus_module.VARIANT_OF) == set(corpus_module.MUTANTS)


MUTANTS = [e for e in _corpus.entries if e.task is not None]


@pytest.mark.parametrize("entry", MUTANTS, ids=lambda e: e.name)
def test_mutant_reproduces_its_variant_and_hint(entry, monkeypatch):
    module = load_submission(entry.text, entry.name, monkeypatch)
    mapping = corpus_module.VARIANT_OF[entry.name]
    if mapping is None:  # correct values, wrong cost: every part equals the reference
        for part in PARTS:
            got, want, _ = run_part(module, part)
            assert close(got, want), part
        return
    part, variant = mapping
    got, want, variants = run_part(module, part)
    assert not close(got, want), f"{entry.name} equals the reference on {part}"
    make, hint = variants[variant]
    assert close(got, make()), f"{entry.name} does not reproduce variant {variant}"
    assert entry.hint.lower() in hint.lower()


@pytest.mark.parametrize("name", ["ln_unbiased", "block_post_norm", "gen_shared_cache",
                                  "gen_positions_restart"])
def test_bug_examples_are_in_sync_with_the_corpus(name):
    spec = importlib.util.spec_from_file_location("_tf_examples", EXAMPLES / "build_examples.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    files = build.bug_files()
    path = EXAMPLES / f"bug_{name}.py"
    assert path in files
    assert path.read_text() == files[path], "run python examples/transformer/build_examples.py"
