"""Prove ``reference.transformer`` against PyTorch (CPU, float64).

The transformer graders trust this reference completely, so each part is checked against
an independent implementation with the reference's weights copied in: ``nn.LayerNorm``,
``F.gelu`` (exact, the default), ``nn.TransformerEncoderLayer(norm_first=True,
batch_first=True, dropout=0, activation="gelu")`` with and without a causal mask, and a
decoder-only model composed from those torch layers. Cached generation must equal full
recomputation token by token. Conventions mapped (as the contract says): torch computes
``x @ W.T`` where the contract computes ``x @ w``; torch's bool masks mark True as blocked
where the contract marks True as may-attend; torch's attention has biases the contract
does not (zeroed here), and ``bias=False`` would also drop LayerNorm's shift ``beta``.
Skips cleanly when torch is not installed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

COURSE_ROOT = Path(__file__).resolve().parents[1]
if str(COURSE_ROOT) not in sys.path:  # `reference` lives at the course root
    sys.path.insert(0, str(COURSE_ROOT))

from reference.attention import KVCache, create_causal_mask  # noqa: E402
from reference.transformer import (  # noqa: E402
    GPT,
    FeedForward,
    LayerNorm,
    TransformerBlock,
    gelu,
)

RTOL, ATOL = 1e-10, 1e-12  # float64 on both sides: only summation order differs
D64 = torch.float64


def assert_matches(actual: np.ndarray, expected: torch.Tensor | np.ndarray) -> None:
    if isinstance(expected, torch.Tensor):
        expected = expected.detach().numpy()
    assert isinstance(actual, np.ndarray) and actual.dtype == np.float64
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL)


def t(x: np.ndarray) -> torch.Tensor:
    """A torch copy, so nothing torch does can touch the reference's inputs."""
    return torch.from_numpy(np.array(x, dtype=np.float64))


def randomize(params: list[np.ndarray], rng: np.random.Generator) -> None:
    """Overwrite every parameter in place (as graders do), including gamma/beta and biases,
    so no default (ones, zeros) can hide a mapping mistake."""
    for p in params:
        p[...] = rng.standard_normal(p.shape) * 0.5


def blocked(allowed: np.ndarray) -> torch.Tensor:
    """The contract's may-attend mask as torch's bool mask (True = blocked)."""
    return ~torch.from_numpy(np.asarray(allowed, dtype=bool))


# ============================================================================ LayerNorm


@pytest.mark.parametrize("shape", [(5, 8), (2, 3, 6), (1, 1, 4), (7,)])
def test_layer_norm_matches_torch(shape):
    rng = np.random.default_rng(sum(shape))
    ln = LayerNorm(shape[-1])
    randomize(ln.parameters, rng)
    x = rng.standard_normal(shape) * 3 + 2
    torch_ln = torch.nn.LayerNorm(shape[-1], dtype=D64)  # eps=1e-5, elementwise affine
    with torch.no_grad():
        torch_ln.weight.copy_(t(ln.gamma))
        torch_ln.bias.copy_(t(ln.beta))
    assert ln.eps == torch_ln.eps
    assert_matches(ln(x), torch_ln(t(x)))


def test_layer_norm_defaults_and_constant_input():
    ln = LayerNorm(4)
    np.testing.assert_array_equal(ln.gamma, np.ones(4))
    np.testing.assert_array_equal(ln.beta, np.zeros(4))
    x = np.full((2, 4), 3.0)  # zero variance: eps keeps it finite
    assert_matches(ln(x), F.layer_norm(t(x), (4,)))


def test_layer_norm_without_shift_is_torch_bias_false():
    """``bias=False`` in torch drops LayerNorm's beta: that is our LayerNorm with beta = 0."""
    rng = np.random.default_rng(3)
    ln = LayerNorm(6)
    ln.gamma[...] = rng.standard_normal(6)
    x = rng.standard_normal((3, 6))
    torch_ln = torch.nn.LayerNorm(6, bias=False, dtype=D64)
    with torch.no_grad():
        torch_ln.weight.copy_(t(ln.gamma))
    assert_matches(ln(x), torch_ln(t(x)))


def test_layer_norm_does_not_modify_its_input():
    x = np.random.default_rng(0).standard_normal((2, 5))
    before = x.copy()
    LayerNorm(5)(x)
    np.testing.assert_array_equal(x, before)


# ============================================================================ GELU and FFN


def test_gelu_is_exact_not_tanh():
    x = np.linspace(-6, 6, 241)
    assert_matches(gelu(x), F.gelu(t(x)))  # approximate="none" is the default
    tanh = F.gelu(t(x), approximate="tanh").numpy()
    assert np.abs(gelu(x) - tanh).max() > 1e-4  # the two differ beyond grading tolerance


@pytest.mark.parametrize("embed_dim,hidden_dim", [(8, 32), (6, 5)])
def test_feed_forward_matches_torch(embed_dim, hidden_dim):
    rng = np.random.default_rng(embed_dim + hidden_dim)
    ffn = FeedForward(embed_dim, hidden_dim)
    randomize(ffn.parameters, rng)
    x = rng.standard_normal((2, 4, embed_dim))
    lin1 = torch.nn.Linear(embed_dim, hidden_dim, dtype=D64)
    lin2 = torch.nn.Linear(hidden_dim, embed_dim, dtype=D64)
    with torch.no_grad():
        lin1.weight.copy_(t(ffn.w1.T))
        lin1.bias.copy_(t(ffn.b1))
        lin2.weight.copy_(t(ffn.w2.T))
        lin2.bias.copy_(t(ffn.b2))
    assert_matches(ffn(x), lin2(F.gelu(lin1(t(x)))))


# ============================================================================ block


def torch_layer(block: TransformerBlock) -> torch.nn.TransformerEncoderLayer:
    """``nn.TransformerEncoderLayer`` holding the block's current weights.

    in_proj_weight stacks ``[Wq; Wk; Wv]`` in torch's ``x @ W.T`` orientation, i.e. the
    contract's ``w_q.T, w_k.T, w_v.T``; the contract's attention has no biases, so torch's
    are zeroed. The FFN and LayerNorms keep theirs.
    """
    E, H = block.embed_dim, block.num_heads
    layer = torch.nn.TransformerEncoderLayer(
        E, H, block.hidden_dim, dropout=0.0, activation="gelu", batch_first=True,
        norm_first=True, dtype=D64)
    mha = block.attention
    with torch.no_grad():
        layer.self_attn.in_proj_weight.copy_(t(np.concatenate([mha.w_q.T, mha.w_k.T, mha.w_v.T])))
        layer.self_attn.in_proj_bias.zero_()
        layer.self_attn.out_proj.weight.copy_(t(mha.w_o.T))
        layer.self_attn.out_proj.bias.zero_()
        layer.linear1.weight.copy_(t(block.ffn.w1.T))
        layer.linear1.bias.copy_(t(block.ffn.b1))
        layer.linear2.weight.copy_(t(block.ffn.w2.T))
        layer.linear2.bias.copy_(t(block.ffn.b2))
        for ours, theirs in ((block.ln1, layer.norm1), (block.ln2, layer.norm2)):
            theirs.weight.copy_(t(ours.gamma))
            theirs.bias.copy_(t(ours.beta))
    return layer.eval()


BLOCK_CASES = [(8, 2, 32, 5), (12, 3, 20, 7), (4, 1, 16, 1), (6, 6, 12, 4)]


@pytest.mark.parametrize("case", BLOCK_CASES, ids=lambda c: "E{}_H{}_F{}_T{}".format(*c))
@pytest.mark.parametrize("causal", [False, True])
def test_block_matches_torch_encoder_layer(case, causal):
    E, H, hidden, T = case
    rng = np.random.default_rng(sum(case) + causal)
    block = TransformerBlock(E, H, hidden)
    randomize(block.parameters, rng)
    x = rng.standard_normal((2, T, E))
    layer = torch_layer(block)
    with torch.no_grad():
        if causal:
            allowed = create_causal_mask(T)
            expected = layer(t(x), src_mask=blocked(allowed))
            also = layer(t(x), src_mask=torch.nn.Transformer.generate_square_subsequent_mask(
                T, dtype=D64), is_causal=True)  # torch's own causal mask agrees with ours
            assert_matches(block(x, mask=allowed), also)
        else:
            expected = layer(t(x))
    assert_matches(block(x, mask=create_causal_mask(T) if causal else None), expected)


def test_block_default_hidden_dim_is_four_times_embed_dim():
    assert TransformerBlock(8, 2).ffn.w1.shape == (8, 32)


def test_block_is_pre_norm_not_post_norm():
    """torch's post-norm layer (norm_first=False) must NOT agree: the proof is not vacuous."""
    rng = np.random.default_rng(11)
    block = TransformerBlock(8, 2, 16)
    randomize(block.parameters, rng)
    x = rng.standard_normal((1, 4, 8))
    post = torch_layer(block)
    post.norm_first = False
    with torch.no_grad():
        assert not np.allclose(block(x), post(t(x)).numpy(), atol=1e-3)


@pytest.mark.parametrize("chunks", [[1, 1, 1, 1, 1], [3, 1, 1], [5]])
def test_block_cached_steps_equal_causal_forward(chunks):
    rng = np.random.default_rng(len(chunks))
    block = TransformerBlock(8, 2, 16)
    randomize(block.parameters, rng)
    T = sum(chunks)
    x = rng.standard_normal((T, 8))
    full = block(x[np.newaxis], mask=create_causal_mask(T))[0]
    cache = KVCache(1, T, 2, 4)
    steps, pos = [], 0
    for n in chunks:
        steps.append(block.forward_cached(x[pos:pos + n], cache))
        pos += n
    np.testing.assert_allclose(np.concatenate(steps), full, rtol=RTOL, atol=ATOL)
    assert cache.cache_lengths[0] == T


# ============================================================================ model


def torch_model(model: GPT):
    """The same decoder-only model composed from torch layers; returns tokens -> logits."""
    tok = torch.nn.Embedding.from_pretrained(t(model.token_embedding))
    pos = t(model.position_embedding)
    layers = [torch_layer(b) for b in model.blocks]
    ln_f = torch.nn.LayerNorm(model.embed_dim, dtype=D64)
    out = torch.nn.Linear(model.embed_dim, model.vocab_size, bias=False, dtype=D64)
    with torch.no_grad():
        ln_f.weight.copy_(t(model.ln_f.gamma))
        ln_f.bias.copy_(t(model.ln_f.beta))
        out.weight.copy_(t(model.w_out.T))

    def run(ids: np.ndarray) -> torch.Tensor:
        T = ids.shape[-1]
        with torch.no_grad():
            x = tok(torch.from_numpy(ids)) + pos[:T]
            mask = blocked(create_causal_mask(T))
            for layer in layers:
                x = layer(x, src_mask=mask)
            return out(ln_f(x))

    return run


def small_model(seed: int, **kw) -> GPT:
    spec = dict(vocab_size=11, embed_dim=8, num_layers=3, num_heads=2, max_seq_len=16,
                hidden_dim=24) | kw
    model = GPT(**spec)
    randomize(model.parameters, np.random.default_rng(seed))
    return model


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_model_forward_matches_torch_composition(seed):
    model = small_model(seed)
    ids = np.random.default_rng(seed).integers(0, 11, size=(2, 9))
    assert_matches(model(ids), torch_model(model)(ids))


def test_model_parameters_are_the_attributes():
    model = GPT(7, 8, 2, 2, 10)
    ids = {id(p) for p in model.parameters}
    for p in (model.token_embedding, model.position_embedding, model.w_out, model.ln_f.gamma,
              model.blocks[1].attention.w_o, model.blocks[0].ffn.b2, model.blocks[1].ln2.beta):
        assert id(p) in ids
    assert len(model.parameters) == 2 + 2 * (4 + 2 + 4 + 2) + 2 + 1


def test_model_blocks_have_distinct_weights():
    model = GPT(7, 8, 2, 2, 10)
    assert not np.array_equal(model.blocks[0].attention.w_q, model.blocks[1].attention.w_q)


@pytest.mark.parametrize("seed,prompt_len,new", [(0, 1, 8), (1, 4, 6), (2, 3, 12)])
def test_cached_generation_equals_full_recomputation(seed, prompt_len, new):
    """Token by token, the cached logits equal torch's full forward over the prefix."""
    model = small_model(seed)
    prompt = np.random.default_rng(seed).integers(0, 11, size=prompt_len)
    tokens, logits = model.generate(prompt, new, return_logits=True)
    assert tokens.shape == (prompt_len + new,) and tokens.dtype == np.int64
    np.testing.assert_array_equal(tokens[:prompt_len], prompt)
    full = torch_model(model)
    for step in range(new):
        prefix = tokens[np.newaxis, :prompt_len + step]
        expected = full(prefix)[0, -1].numpy()
        np.testing.assert_allclose(logits[step], expected, rtol=1e-9, atol=1e-10)
        assert tokens[prompt_len + step] == int(np.argmax(expected))
    uncached, logits_uncached = model.generate(prompt, new, use_cache=False, return_logits=True)
    np.testing.assert_array_equal(uncached, tokens)
    np.testing.assert_allclose(logits_uncached, logits, rtol=1e-9, atol=1e-10)


def test_generate_refuses_to_pass_max_seq_len():
    model = small_model(0, max_seq_len=5)
    with pytest.raises(ValueError):
        model.generate(np.array([1, 2, 3]), 3)
    assert model.generate(np.array([1, 2, 3]), 2).shape == (5,)


def test_model_rejects_out_of_range_tokens():
    with pytest.raises(ValueError):
        small_model(0)(np.array([[0, 11]]))
