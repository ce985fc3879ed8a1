"""A correct submission gets full marks whatever its style (issue: suites' "Done when").

Styles not covered by examples/submissions: TinyTorch's own Tensor class, whose ``.data``
holds the array, returned everywhere and used for the weights the graders overwrite in place.
The submission is the reference re-dressed at test time, so it stays correct by construction.
"""

from __future__ import annotations

from conftest import ROOT
from proctor.runner import grade_submission

TENSOR_STYLE = '''

class Tensor:
    """A minimal TinyTorch-style tensor: the array lives in ``.data``."""

    def __init__(self, data):
        self.data = np.asarray(data)

    @property
    def shape(self):
        return self.data.shape

    def __array__(self, dtype=None, copy=None):  # numpy interop, so the code itself can use it
        return self.data if dtype is None else self.data.astype(dtype)


def _wrap(value):
    if isinstance(value, tuple):
        return tuple(_wrap(v) for v in value)
    return Tensor(value) if isinstance(value, np.ndarray) else value


_reference_mask = create_causal_mask


def create_causal_mask(seq_len):
    return Tensor(_reference_mask(seq_len))


for _cls, _name in ((ScaledDotProductAttention, "forward"), (MultiHeadAttention, "forward"),
                    (KVCache, "update")):
    def _wrapped(self, *args, _inner=getattr(_cls, _name), **kwargs):
        return _wrap(_inner(self, *args, **kwargs))
    setattr(_cls, _name, _wrapped)
    _cls.__call__ = _wrapped


_mha_init = MultiHeadAttention.__init__


def _tensor_weights_init(self, *args, **kwargs):
    _mha_init(self, *args, **kwargs)
    self.w_q, self.w_k, self.w_v, self.w_o = (Tensor(w) for w in (self.w_q, self.w_k, self.w_v, self.w_o))
    self.parameters = [self.w_q, self.w_k, self.w_v, self.w_o]


MultiHeadAttention.__init__ = _tensor_weights_init
_reference_cached = cached_self_attention


def cached_self_attention(mha, x_new, kv_cache, batch_idx=0):
    return Tensor(_reference_cached(mha, x_new, kv_cache, batch_idx))
'''


def test_tinytorch_tensor_style_gets_full_marks(attention, tmp_path):
    source = (ROOT / "reference" / "attention.py").read_text() + TENSOR_STYLE
    path = tmp_path / "tensor_style.py"
    path.write_text(source)
    result = grade_submission(attention, path).to_dict()
    failing = [(t["id"], t["message"][:200]) for t in result["tests"] if t["status"] != "passed"]
    assert result["score"] == result["max_score"], failing
