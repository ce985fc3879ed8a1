"""Correct-but-inefficient attention submissions, made from the reference by small edits.

Each entry turns ``reference/attention.py`` into a submission that is right on every task
but costs too much: the efficiency suite must take its efficiency points and nothing else
(``tests/test_efficiency_engine.py``, ``bench/efficiency_stability.py``). Keeping only the
edits, each anchored on text that occurs once in the reference, means the five submissions
follow the reference instead of being five stale copies of it; an anchor that no longer
matches fails loudly. A corpus of ``proctor.audit.corpus`` (``EXAMPLES`` on ``BASE``, no
header: the edits rewrite the docstring), the project's one base-plus-patches mechanism.

* ``full_mask``: every decode step builds the full T x T causal mask.
* ``recompute_kv``: every decode step re-projects keys and values for the whole sequence.
* ``copying_cache``: ``KVCache.update`` copies everything it holds on each update.
* ``python_loop``: the decode step loops in Python over cached positions.
* ``cubic_softmax``: attention does cubic work in the sequence length.
"""

from __future__ import annotations

from pathlib import Path

BASE = "../reference/attention.py"
HEADER = ""
WHAT = {
    "full_mask": "every decode step builds the full T x T causal mask",
    "recompute_kv": "every decode step re-projects keys and values for the whole sequence",
    "copying_cache": "KVCache.update copies everything it holds on each update",
    "python_loop": "the decode step loops in Python over cached positions",
    "cubic_softmax": "attention does cubic work in the sequence length",
}

EDITS: dict[str, list[tuple[str, str]]] = {
    'copying_cache': [
        ('"""Reference solution for the attention assignment (TinyTorch Module 13), in float64 NumPy.\n',
         '"""Correct but inefficient submission: KVCache.update concatenates copies of everything the\nslot already holds and returns them, so one update costs memory linear in the cached\nlength instead of constant.\n'),
        ('The graders compare every submission against this module, so it follows\n``attention_contract.md`` line by line and favours being obviously right over being clever.\nIt is proven against PyTorch in ``tests/test_reference_torch.py``.\n\nPublic names (exactly the five of the contract):\n``create_causal_mask``, ``ScaledDotProductAttention``, ``MultiHeadAttention``, ``KVCache``,\n``cached_self_attention``.\n\nConventions used throughout:\n* Every input may be an ndarray or a Tensor-like with a ``.data`` ndarray; it is read as\n  float64 and never written to.\n* A mask entry that is nonzero/True means "may attend"; zero/False means "blocked".\n* Blocked scores are filled with ``MASK_FILL`` (-1e9) as the seed does. In float64 that makes\n  a blocked key\'s weight exactly 0 whenever its row has any allowed key, and keeps a fully\n  blocked row finite (it becomes the mean of ``value``; the contract only asks for finite).\n* Dropout is not applied: the reference is the deterministic (eval-mode) computation.\n',
         "Everything else is the course reference's code. Used by tests/test_efficiency_engine.py and\nbench/efficiency_stability.py: it must get full marks on every task but `efficiency`.\n"),
        ('    """Preallocated keys and values of every sequence being decoded, one slot per sequence.\n\n    ``cached_keys``/``cached_values`` are ``(max_batch_size, num_heads, max_seq_length,\n    head_dim)``, allocated once, so appending a token writes ``num_heads * head_dim`` numbers\n    instead of copying the whole history. ``cache_lengths[b]`` is how many positions slot\n    ``b`` holds; everything past it is unused.\n    """\n',
         '    """Preallocated keys and values per slot, but ``update`` returns freshly concatenated\n    copies of everything the slot holds: correct, and O(cached length) memory and time on\n    every single update (INEFFICIENT)."""\n'),
        ('    def _check_slot(self, batch_idx: int) -> int:\n        """Reject slots outside ``[0, max_batch_size)``; NumPy would wrap negative ones."""\n        if not 0 <= batch_idx < self.max_batch_size:\n            raise IndexError(f"batch_idx {batch_idx} outside [0, {self.max_batch_size})")\n        return int(batch_idx)\n\n',
         ''),
        ('        """Append ``(num_heads, new_len, head_dim)`` keys and values to slot ``batch_idx``.\n\n        Returns that slot\'s ``(keys, values)``, each ``(num_heads, total_len, head_dim)``:\n        read-only views of the filled part (no padding, no copy). Everything is validated\n        before anything is written, so a failing update leaves the cache as it was.\n        """\n        b = self._check_slot(batch_idx)\n',
         '        if not 0 <= batch_idx < self.max_batch_size:\n            raise IndexError(f"batch_idx {batch_idx} outside [0, {self.max_batch_size})")\n'),
        ('        well_formed = k.ndim == 3 and k.shape[0] == self.num_heads and k.shape[2] == self.head_dim\n        if not well_formed or v.shape != k.shape:\n            raise ValueError(\n                f"new keys/values must both be (num_heads={self.num_heads}, new_len, "\n                f"head_dim={self.head_dim}); got {k.shape} and {v.shape}"\n            )\n        start = int(self.cache_lengths[b])\n',
         '        expected = (self.num_heads, k.shape[1] if k.ndim == 3 else -1, self.head_dim)\n        if k.shape != expected or v.shape != expected:\n            raise ValueError(f"new keys/values must be {expected}; got {k.shape}, {v.shape}")\n        start = int(self.cache_lengths[batch_idx])\n'),
        ('            raise ValueError(\n                f"slot {b} holds {start} positions; adding {k.shape[1]} would pass "\n                f"max_seq_length={self.max_seq_length}"\n            )\n\n        self.cached_keys[b, :, start:end] = k\n        self.cached_values[b, :, start:end] = v\n        self.cache_lengths[b] = end\n\n        keys = self.cached_keys[b, :, :end]\n        values = self.cached_values[b, :, :end]\n        keys.flags.writeable = False  # the views are for reading; writes go through update\n        values.flags.writeable = False\n',
         '            raise ValueError(f"slot {batch_idx} would pass max_seq_length={self.max_seq_length}")\n        old_k = self.cached_keys[batch_idx, :, :start].copy()\n        old_v = self.cached_values[batch_idx, :, :start].copy()\n        keys = np.concatenate([old_k, k], axis=1)  # the whole history, copied again\n        values = np.concatenate([old_v, v], axis=1)\n        self.cached_keys[batch_idx, :, :end] = keys\n        self.cached_values[batch_idx, :, :end] = values\n        self.cache_lengths[batch_idx] = end\n'),
        ('        """Empty one slot, or every slot when ``batch_idx`` is None."""\n        slots = slice(None) if batch_idx is None else self._check_slot(batch_idx)\n        self.cache_lengths[slots] = 0\n        self.cached_keys[slots] = 0.0  # not needed for correctness (lengths decide what is\n        self.cached_values[slots] = 0.0  # read) but keeps stale data out of debugging views\n',
         '        if batch_idx is None:\n            self.cache_lengths[:] = 0\n        else:\n            self.cache_lengths[batch_idx] = 0\n'),
        ('        """Memory held by the preallocated buffers, and how much of it is in use."""\n',
         ''),
        ('        capacity = self.max_batch_size * self.max_seq_length\n        return {\n            "total_cache_memory_mb": total_bytes / 2**20,\n            "keys_memory_mb": self.cached_keys.nbytes / 2**20,\n            "values_memory_mb": self.cached_values.nbytes / 2**20,\n            "cached_positions": int(self.cache_lengths.sum()),\n            "utilization": float(self.cache_lengths.sum() / capacity) if capacity else 0.0,\n        }\n',
         '        return {"total_cache_memory_mb": total_bytes / 2**20}\n'),
    ],
    'cubic_softmax': [
        ('"""Reference solution for the attention assignment (TinyTorch Module 13), in float64 NumPy.\n',
         '"""Correct but inefficient submission: ScaledDotProductAttention computes its softmax from\nevery pair of scores in a row, building a (batch, seq_q, seq_k, seq_k) array, so attention\'s\nmemory grows cubically in the sequence length. The decode step does its own ordinary\nsoftmax and is efficient.\n'),
        ('The graders compare every submission against this module, so it follows\n``attention_contract.md`` line by line and favours being obviously right over being clever.\nIt is proven against PyTorch in ``tests/test_reference_torch.py``.\n\nPublic names (exactly the five of the contract):\n``create_causal_mask``, ``ScaledDotProductAttention``, ``MultiHeadAttention``, ``KVCache``,\n``cached_self_attention``.\n\nConventions used throughout:\n* Every input may be an ndarray or a Tensor-like with a ``.data`` ndarray; it is read as\n  float64 and never written to.\n* A mask entry that is nonzero/True means "may attend"; zero/False means "blocked".\n* Blocked scores are filled with ``MASK_FILL`` (-1e9) as the seed does. In float64 that makes\n  a blocked key\'s weight exactly 0 whenever its row has any allowed key, and keeps a fully\n  blocked row finite (it becomes the mean of ``value``; the contract only asks for finite).\n* Dropout is not applied: the reference is the deterministic (eval-mode) computation.\n',
         "Everything else is the course reference's code. Used by tests/test_efficiency_engine.py and\nbench/efficiency_stability.py: it must get full marks on every task but `efficiency`.\n"),
        ('    """``softmax(query @ key^T / sqrt(d_k) / temperature) @ value``, with an optional mask.\n\n    Works on any leading dimensions ``(..., seq, d)``; the contract uses ``(batch, seq, d)``\n    and ``MultiHeadAttention`` reuses it with ``(batch, heads, seq, head_dim)``.\n    Dividing by ``sqrt(d_k)`` keeps the scores\' variance near 1 whatever the head size, so\n    the softmax does not saturate as ``d_k`` grows; ``temperature`` sharpens (< 1) or\n    flattens (> 1) the distribution on top of that.\n    """\n',
         '    """Correct but INEFFICIENT: the softmax is computed from every pair of scores in a row,\n    ``w_ij = 1 / sum_k exp(s_ik - s_ij)``, which never overflows but builds a\n    ``(batch, seq_q, seq_k, seq_k)`` array: memory cubic in the sequence length."""\n'),
        ('        """Attend from each query to every allowed key.\n\n        Shapes: ``query (batch, seq_q, d_k)``, ``key (batch, seq_k, d_k)``,\n        ``value (batch, seq_k, d_v)``; ``mask`` broadcastable to ``(batch, seq_q, seq_k)``.\n        Returns ``output (batch, seq_q, d_v)``, plus ``weights (batch, seq_q, seq_k)`` when\n        ``return_attention_weights`` is true.\n        """\n',
         ''),
        ('\n        d_k = q.shape[-1]\n',
         '        d_k = q.shape[-1]\n'),
        ('        weights = _softmax(scores)\n',
         '        pairwise = scores[..., np.newaxis, :] - scores[..., :, np.newaxis]  # s_ik - s_ij\n        weights = 1.0 / np.exp(np.minimum(pairwise, 700.0)).sum(axis=-1)\n'),
        ('    heads = ScaledDotProductAttention()(q, keys, values, mask=allowed)\n    return mha.merge_heads(heads) @ _as_array(mha.w_o)\n',
         '    # The decode step does its own (ordinary) softmax: one query row per new token.\n    scores = (q @ np.swapaxes(keys, -1, -2)) / np.sqrt(mha.head_dim)\n    weights = _softmax(np.where(allowed, scores, MASK_FILL))\n    return mha.merge_heads(weights @ values) @ _as_array(mha.w_o)\n'),
    ],
    'full_mask': [
        ('"""Reference solution for the attention assignment (TinyTorch Module 13), in float64 NumPy.\n',
         '"""Correct but inefficient submission: every decode step builds the full T x T causal mask\n(float64) and slices out the new rows, so one step costs memory and time quadratic in the\ncached length.\n'),
        ('The graders compare every submission against this module, so it follows\n``attention_contract.md`` line by line and favours being obviously right over being clever.\nIt is proven against PyTorch in ``tests/test_reference_torch.py``.\n\nPublic names (exactly the five of the contract):\n``create_causal_mask``, ``ScaledDotProductAttention``, ``MultiHeadAttention``, ``KVCache``,\n``cached_self_attention``.\n\nConventions used throughout:\n* Every input may be an ndarray or a Tensor-like with a ``.data`` ndarray; it is read as\n  float64 and never written to.\n* A mask entry that is nonzero/True means "may attend"; zero/False means "blocked".\n* Blocked scores are filled with ``MASK_FILL`` (-1e9) as the seed does. In float64 that makes\n  a blocked key\'s weight exactly 0 whenever its row has any allowed key, and keeps a fully\n  blocked row finite (it becomes the mean of ``value``; the contract only asks for finite).\n* Dropout is not applied: the reference is the deterministic (eval-mode) computation.\n',
         "Everything else is the course reference's code. Used by tests/test_efficiency_engine.py and\nbench/efficiency_stability.py: it must get full marks on every task but `efficiency`.\n"),
        ('    """One autoregressive step for sequence slot ``batch_idx``: ``x_new (new_len, embed_dim)``.\n\n    Only the new tokens are projected; their keys and values are appended to the cache and\n    each new token attends to every cached position up to and including its own. New token\n    ``i`` sits at absolute position ``past + i``, so it may see keys ``j <= past + i``. The\n    mask is ``(new_len, total_len)``, so a one-token step costs time and memory linear in the\n    cached length. Returns ``(new_len, embed_dim)``, equal row for row to full causal\n    ``mha.forward`` over the whole sequence.\n    """\n',
         '    """One decoding step, correct but INEFFICIENT: it builds the causal mask of the whole\n    sequence, ``(total_len, total_len)`` in float64, and keeps only the new tokens\' rows.\n    Per step that is quadratic memory and time in the cached length."""\n'),
        ('    q = mha.split_heads(x @ _as_array(mha.w_q))  # (num_heads, new_len, head_dim)\n',
         '    q = mha.split_heads(x @ _as_array(mha.w_q))\n'),
        ('    keys, values = kv_cache.update(batch_idx, k, v)  # (num_heads, past + new_len, head_dim)\n',
         '    keys, values = kv_cache.update(batch_idx, k, v)\n    total = keys.shape[1]\n'),
        ('    query_positions = past + np.arange(new_len)\n    key_positions = np.arange(keys.shape[1])\n    allowed = key_positions[np.newaxis, :] <= query_positions[:, np.newaxis]\n',
         '    full_mask = np.tril(np.ones((total, total)))  # every position of the whole sequence\n    mask = full_mask[past:past + new_len]  # ... of which only the new rows are used\n'),
        ('    heads = ScaledDotProductAttention()(q, keys, values, mask=allowed)\n',
         '    heads = ScaledDotProductAttention()(q, keys, values, mask=mask)\n'),
    ],
    'python_loop': [
        ('"""Reference solution for the attention assignment (TinyTorch Module 13), in float64 NumPy.\n',
         '"""Correct but inefficient submission: the decode step loops in Python over every cached\nposition (for the scores and for the weighted sum of values). Its memory grows linearly,\nbut it is tens of times slower than a vectorised step.\n'),
        ('The graders compare every submission against this module, so it follows\n``attention_contract.md`` line by line and favours being obviously right over being clever.\nIt is proven against PyTorch in ``tests/test_reference_torch.py``.\n\nPublic names (exactly the five of the contract):\n``create_causal_mask``, ``ScaledDotProductAttention``, ``MultiHeadAttention``, ``KVCache``,\n``cached_self_attention``.\n\nConventions used throughout:\n* Every input may be an ndarray or a Tensor-like with a ``.data`` ndarray; it is read as\n  float64 and never written to.\n* A mask entry that is nonzero/True means "may attend"; zero/False means "blocked".\n* Blocked scores are filled with ``MASK_FILL`` (-1e9) as the seed does. In float64 that makes\n  a blocked key\'s weight exactly 0 whenever its row has any allowed key, and keeps a fully\n  blocked row finite (it becomes the mean of ``value``; the contract only asks for finite).\n* Dropout is not applied: the reference is the deterministic (eval-mode) computation.\n',
         "Everything else is the course reference's code. Used by tests/test_efficiency_engine.py and\nbench/efficiency_stability.py: it must get full marks on every task but `efficiency`.\n"),
        ('    """One autoregressive step for sequence slot ``batch_idx``: ``x_new (new_len, embed_dim)``.\n\n    Only the new tokens are projected; their keys and values are appended to the cache and\n    each new token attends to every cached position up to and including its own. New token\n    ``i`` sits at absolute position ``past + i``, so it may see keys ``j <= past + i``. The\n    mask is ``(new_len, total_len)``, so a one-token step costs time and memory linear in the\n    cached length. Returns ``(new_len, embed_dim)``, equal row for row to full causal\n    ``mha.forward`` over the whole sequence.\n    """\n',
         '    """One decoding step, correct but SLOW: scores and the weighted sum are computed with a\n    Python loop over every cached position instead of one matrix product each."""\n'),
        ('    q = mha.split_heads(x @ _as_array(mha.w_q))  # (num_heads, new_len, head_dim)\n',
         '    q = mha.split_heads(x @ _as_array(mha.w_q))  # (heads, new_len, head_dim)\n'),
        ('    keys, values = kv_cache.update(batch_idx, k, v)  # (num_heads, past + new_len, head_dim)\n',
         '    keys, values = kv_cache.update(batch_idx, k, v)\n    total = keys.shape[1]\n'),
        ('    query_positions = past + np.arange(new_len)\n    key_positions = np.arange(keys.shape[1])\n    allowed = key_positions[np.newaxis, :] <= query_positions[:, np.newaxis]\n',
         '    scores = np.empty((mha.num_heads, new_len, total))\n    for j in range(total):  # one key position at a time\n        scores[:, :, j] = (q * keys[:, j:j + 1, :]).sum(axis=-1) / np.sqrt(mha.head_dim)\n    for i in range(new_len):\n        scores[:, i, past + i + 1:] = MASK_FILL\n    weights = _softmax(scores)\n'),
        ('    heads = ScaledDotProductAttention()(q, keys, values, mask=allowed)\n',
         '    heads = np.zeros((mha.num_heads, new_len, mha.head_dim))\n    for j in range(total):\n        heads += weights[:, :, j:j + 1] * values[:, j:j + 1, :]\n'),
    ],
    'recompute_kv': [
        ('"""Reference solution for the attention assignment (TinyTorch Module 13), in float64 NumPy.\n',
         '"""Correct but inefficient submission: every decode step projects the whole sequence\'s\ninputs to keys and values again instead of reading them from the KV cache.\n'),
        ('The graders compare every submission against this module, so it follows\n``attention_contract.md`` line by line and favours being obviously right over being clever.\nIt is proven against PyTorch in ``tests/test_reference_torch.py``.\n\nPublic names (exactly the five of the contract):\n``create_causal_mask``, ``ScaledDotProductAttention``, ``MultiHeadAttention``, ``KVCache``,\n``cached_self_attention``.\n\nConventions used throughout:\n* Every input may be an ndarray or a Tensor-like with a ``.data`` ndarray; it is read as\n  float64 and never written to.\n* A mask entry that is nonzero/True means "may attend"; zero/False means "blocked".\n* Blocked scores are filled with ``MASK_FILL`` (-1e9) as the seed does. In float64 that makes\n  a blocked key\'s weight exactly 0 whenever its row has any allowed key, and keeps a fully\n  blocked row finite (it becomes the mean of ``value``; the contract only asks for finite).\n* Dropout is not applied: the reference is the deterministic (eval-mode) computation.\n',
         "Everything else is the course reference's code. Used by tests/test_efficiency_engine.py and\nbench/efficiency_stability.py: it must get full marks on every task but `efficiency`.\n"),
        ('    """Preallocated keys and values of every sequence being decoded, one slot per sequence.\n\n    ``cached_keys``/``cached_values`` are ``(max_batch_size, num_heads, max_seq_length,\n    head_dim)``, allocated once, so appending a token writes ``num_heads * head_dim`` numbers\n    instead of copying the whole history. ``cache_lengths[b]`` is how many positions slot\n    ``b`` holds; everything past it is unused.\n    """\n',
         '    """Preallocated keys and values per slot; also remembers every slot\'s input tokens,\n    which ``cached_self_attention`` below (wastefully) projects again on every step."""\n'),
        ('        self.cache_lengths = np.zeros(max_batch_size, dtype=np.int64)\n',
         '        self.cache_lengths = np.zeros(max_batch_size, dtype=np.int64)\n        self.inputs: dict[int, list[np.ndarray]] = {}  # slot -> the tokens decoded so far\n'),
        ('        """Reject slots outside ``[0, max_batch_size)``; NumPy would wrap negative ones."""\n',
         ''),
        ('        """Append ``(num_heads, new_len, head_dim)`` keys and values to slot ``batch_idx``.\n\n        Returns that slot\'s ``(keys, values)``, each ``(num_heads, total_len, head_dim)``:\n        read-only views of the filled part (no padding, no copy). Everything is validated\n        before anything is written, so a failing update leaves the cache as it was.\n        """\n',
         ''),
        ('        well_formed = k.ndim == 3 and k.shape[0] == self.num_heads and k.shape[2] == self.head_dim\n        if not well_formed or v.shape != k.shape:\n            raise ValueError(\n                f"new keys/values must both be (num_heads={self.num_heads}, new_len, "\n                f"head_dim={self.head_dim}); got {k.shape} and {v.shape}"\n            )\n',
         '        expected = (self.num_heads, k.shape[1] if k.ndim == 3 else -1, self.head_dim)\n        if k.shape != expected or v.shape != expected:\n            raise ValueError(f"new keys/values must be {expected}; got {k.shape}, {v.shape}")\n'),
        ('            raise ValueError(\n                f"slot {b} holds {start} positions; adding {k.shape[1]} would pass "\n                f"max_seq_length={self.max_seq_length}"\n            )\n\n',
         '            raise ValueError(f"slot {b} would pass max_seq_length={self.max_seq_length}")\n'),
        ('\n        keys = self.cached_keys[b, :, :end]\n        values = self.cached_values[b, :, :end]\n        keys.flags.writeable = False  # the views are for reading; writes go through update\n        values.flags.writeable = False\n        return keys, values\n',
         '        return self.cached_keys[b, :, :end], self.cached_values[b, :, :end]\n'),
        ('        """Empty one slot, or every slot when ``batch_idx`` is None."""\n        slots = slice(None) if batch_idx is None else self._check_slot(batch_idx)\n        self.cache_lengths[slots] = 0\n        self.cached_keys[slots] = 0.0  # not needed for correctness (lengths decide what is\n        self.cached_values[slots] = 0.0  # read) but keeps stale data out of debugging views\n',
         '        slots = range(self.max_batch_size) if batch_idx is None else [self._check_slot(batch_idx)]\n        for b in slots:\n            self.cache_lengths[b] = 0\n            self.cached_keys[b] = 0.0\n            self.cached_values[b] = 0.0\n            self.inputs.pop(b, None)\n'),
        ('        """Memory held by the preallocated buffers, and how much of it is in use."""\n',
         ''),
        ('        capacity = self.max_batch_size * self.max_seq_length\n        return {\n            "total_cache_memory_mb": total_bytes / 2**20,\n            "keys_memory_mb": self.cached_keys.nbytes / 2**20,\n            "values_memory_mb": self.cached_values.nbytes / 2**20,\n            "cached_positions": int(self.cache_lengths.sum()),\n            "utilization": float(self.cache_lengths.sum() / capacity) if capacity else 0.0,\n        }\n',
         '        return {"total_cache_memory_mb": total_bytes / 2**20}\n'),
        ('    """One autoregressive step for sequence slot ``batch_idx``: ``x_new (new_len, embed_dim)``.\n\n    Only the new tokens are projected; their keys and values are appended to the cache and\n    each new token attends to every cached position up to and including its own. New token\n    ``i`` sits at absolute position ``past + i``, so it may see keys ``j <= past + i``. The\n    mask is ``(new_len, total_len)``, so a one-token step costs time and memory linear in the\n    cached length. Returns ``(new_len, embed_dim)``, equal row for row to full causal\n    ``mha.forward`` over the whole sequence.\n    """\n',
         '    """One decoding step, correct but INEFFICIENT: it keeps every input token and projects\n    the WHOLE sequence to keys and values again on each step, using the cache only for\n    positions it has no inputs for (ones written with ``kv_cache.update`` directly)."""\n'),
        ('    q = mha.split_heads(x @ _as_array(mha.w_q))  # (num_heads, new_len, head_dim)\n',
         '    q = mha.split_heads(x @ _as_array(mha.w_q))\n'),
        ('    keys, values = kv_cache.update(batch_idx, k, v)  # (num_heads, past + new_len, head_dim)\n',
         '    cached_k, cached_v = kv_cache.update(batch_idx, k, v)  # keeps the cache in step\n    history = kv_cache.inputs.setdefault(int(batch_idx), [])\n    history.append(x.copy())\n\n    everything = np.concatenate(history)  # (tokens seen here, embed_dim)\n    keys = mha.split_heads(everything @ _as_array(mha.w_k))  # recomputed from scratch\n    values = mha.split_heads(everything @ _as_array(mha.w_v))\n    missing = cached_k.shape[1] - keys.shape[1]\n    if missing > 0:  # positions that came in through update() alone\n        keys = np.concatenate([cached_k[:, :missing], keys], axis=1)\n        values = np.concatenate([cached_v[:, :missing], values], axis=1)\n'),
        ('    key_positions = np.arange(keys.shape[1])\n    allowed = key_positions[np.newaxis, :] <= query_positions[:, np.newaxis]\n\n',
         '    allowed = np.arange(keys.shape[1])[np.newaxis, :] <= query_positions[:, np.newaxis]\n'),
    ],
}


EXAMPLES = {name: (WHAT[name], edits) for name, edits in EDITS.items()}


def write_all(directory: Path) -> list[Path]:
    """Write every submission as ``directory/<name>.py``; returns their paths, sorted."""
    from proctor.audit.corpus import load_corpus, write_all as write_corpus

    return sorted(write_corpus(load_corpus(Path(__file__)), directory).values())
