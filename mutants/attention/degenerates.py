"""Degenerates the attention course declares, beyond the engine's generic ones.

Appended (with the engine's installer) to a copy of the course solution and run in the
sandbox; each function gets the part's original output (computed on copies or on the real
arguments) and its arguments by name, and returns what the degenerate part returns.
Declared in course.toml, ``[assignments.attention.audit.declared]``.
"""

import numpy as np


def uniform_weights(out, arguments):
    """Attention with uniform weights: every query gets the mean of the values."""
    value = np.asarray(getattr(arguments["value"], "data", arguments["value"]), dtype=float)
    key = np.asarray(getattr(arguments["key"], "data", arguments["key"]))
    query = np.asarray(getattr(arguments["query"], "data", arguments["query"]))
    seq_q, seq_k = query.shape[-2], key.shape[-2]
    output = np.broadcast_to(value.mean(axis=-2, keepdims=True),
                             (*value.shape[:-2], seq_q, value.shape[-1])).copy()
    if arguments.get("return_attention_weights"):
        return output, np.full((*query.shape[:-2], seq_q, seq_k), 1.0 / seq_k)
    return output
