# proctor audit: everything below replaces one part of the solution above by degenerate code.
# This file's text is appended to a copy of the course's solution and runs in the sandbox
# like any submission; it is never imported by proctor itself.


def _proctor_audit_install(target, kind, keep_effects, declared=None, namespace=None):
    """Replace ``target`` ("name" or "Class.method") in this module by a degenerate."""
    import copy
    import functools
    import inspect

    import numpy as np

    g = globals() if namespace is None else namespace
    owner_name, _, attr = target.rpartition(".")
    owner = g[owner_name] if owner_name else None
    original = getattr(owner, attr) if owner is not None else g[attr]
    rng = np.random.default_rng(0)

    def as_array(x):
        if isinstance(x, np.ndarray):
            return x
        data = getattr(x, "data", None)
        return data if isinstance(data, np.ndarray) else None

    def fake(value, inputs, numbers):
        if isinstance(value, tuple):
            return tuple(fake(v, inputs, numbers) for v in value)
        if isinstance(value, list):
            return [fake(v, inputs, numbers) for v in value]
        if isinstance(value, dict):
            return {k: fake(v, inputs, numbers) for k, v in value.items()}
        arr = as_array(value)
        if arr is not None and not isinstance(value, np.ndarray):  # a Tensor-like: same type
            out = copy.copy(value)
            out.data = fake(arr, inputs, numbers)
            return out
        if arr is None:
            if isinstance(value, (bool, np.bool_, str)) or value is None:
                return value
            if not isinstance(value, (int, float, np.number)):
                return value
            arr = np.asarray(value)
        shape = arr.shape
        if kind == "zeros":
            out = np.zeros(shape)
        elif kind == "constant":
            out = np.ones(shape)
        elif kind == "nan":
            out = np.full(shape, np.nan)
        elif kind == "random":
            out = rng.standard_normal(shape)
        elif kind == "echo":
            same = [a for a in inputs if a.shape == shape]
            if same:
                return same[0]
            out = inputs[0] if inputs else np.full(shape, float(numbers[0]) if numbers else 0.0)
        else:
            raise ValueError(f"unknown degenerate kind {kind!r}")
        return out.item() if not shape and not isinstance(value, np.ndarray) else out

    @functools.wraps(original)
    def degenerate(*args, **kwargs):
        if kind == "probe":
            raise NotImplementedError("proctor audit probe: " + target)
        if kind == "noop":
            return None
        try:
            if keep_effects:
                out = original(*args, **kwargs)
            else:  # the original runs on copies: its output's shape, none of its effects
                copied_args, copied_kwargs = copy.deepcopy((args, kwargs))
                out = original(*copied_args, **copied_kwargs)
        except Exception:
            return None  # degenerate code checks nothing either
        if declared is not None:
            bound = inspect.signature(original).bind(*args, **kwargs)
            bound.apply_defaults()
            return declared(out, dict(bound.arguments))
        values = [*args[1 if owner is not None else 0:], *kwargs.values()]
        inputs = [a for a in map(as_array, values) if a is not None]
        numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
        return fake(out, inputs, numbers)

    if owner is None:
        g[attr] = degenerate
    else:
        setattr(owner, attr, degenerate)
    return degenerate
