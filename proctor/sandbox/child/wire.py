"""The wire format between the trusted side and the sandbox: JSON plus raw array bytes.

Shared by both sides, so it imports only the standard library and numpy. Nothing here
unpickles: a message is a JSON header followed by the bytes of each array it mentions,
and the decoder accepts only numeric and boolean dtypes. Anything else a student object
returns stays inside the sandbox and crosses as an integer handle.

Frame: ``!IIQ`` (header length, number of buffers, total buffer bytes), the UTF-8 JSON
header, then each buffer as ``!Q`` length + bytes.
"""

from __future__ import annotations

import json
import math
import socket
import struct
from typing import Any, Callable

import numpy as np

_FRAME = struct.Struct("!IIQ")
_LEN = struct.Struct("!Q")

#: numpy dtype kinds that may cross the boundary: bool, signed, unsigned, float.
ALLOWED_KINDS = frozenset("biuf")
MAX_HEADER_BYTES = 16 * 1024 * 1024


class WireError(Exception):
    """A message broke the protocol: too large, malformed, or a value that may not cross."""


class PeerClosed(WireError):
    """The other side closed the connection (usually: the process died)."""


def _recv_exact(sock: socket.socket, n: int) -> bytearray:
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = sock.recv_into(view[got:], n - got)
        if k == 0:
            raise PeerClosed("connection closed")
        got += k
    return buf


def send_msg(sock: socket.socket, header: dict, buffers: list[memoryview] | None = None) -> None:
    """Send one message: a JSON-able header and the raw bytes of the arrays it refers to."""
    buffers = buffers or []
    head = json.dumps(header, separators=(",", ":"), allow_nan=True).encode()
    total = sum(b.nbytes for b in buffers)
    parts = [_FRAME.pack(len(head), len(buffers), total), head]
    for b in buffers:
        parts.append(_LEN.pack(b.nbytes))
        parts.append(b)
    # sendmsg writes the parts without joining them into one big copy.
    pending = [memoryview(p).cast("B") for p in parts]
    while pending:
        sent = sock.sendmsg(pending)
        while pending and sent >= pending[0].nbytes:
            sent -= pending[0].nbytes
            pending.pop(0)
        if pending and sent:
            pending[0] = pending[0][sent:]


def recv_msg(sock: socket.socket, max_bytes: int) -> tuple[dict, list[bytearray]]:
    """Receive one message, refusing anything larger than ``max_bytes`` in all."""
    head_len, n_buffers, total = _FRAME.unpack(_recv_exact(sock, _FRAME.size))
    if head_len > MAX_HEADER_BYTES or total > max_bytes or n_buffers > 100_000:
        raise WireError(f"message of {total + head_len} bytes exceeds the limit of {max_bytes}")
    try:
        header = json.loads(_recv_exact(sock, head_len))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WireError(f"malformed message header: {exc}") from None
    if not isinstance(header, dict):
        raise WireError("malformed message header: not an object")
    buffers = []
    remaining = total
    for _ in range(n_buffers):
        (n,) = _LEN.unpack(_recv_exact(sock, _LEN.size))
        if n > remaining:
            raise WireError("buffer lengths exceed the announced total")
        remaining -= n
        buffers.append(_recv_exact(sock, n))
    return header, buffers


# --------------------------------------------------------------------------- values

def encode(value: Any, buffers: list[memoryview], on_object: Callable[[Any], dict] | None = None) -> Any:
    """Turn a value into JSON-able form, appending array bytes to ``buffers``.

    ``on_object`` handles anything that is not plain data (the sandbox registers it and
    returns a handle); without it such values are a :class:`WireError`.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**63 else float(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, np.ndarray):
        arr = np.asarray(value).view(np.ndarray)  # drops subclasses and their overrides
        if not arr.flags.c_contiguous:
            arr = arr.copy(order="C")
        if arr.dtype.kind not in ALLOWED_KINDS:
            if on_object is not None:
                return on_object(value)
            raise WireError(f"arrays of dtype {arr.dtype} cannot be sent (numbers and booleans only)")
        buffers.append(memoryview(arr.reshape(-1).view(np.uint8)))
        return {"__nd__": len(buffers) - 1, "dtype": arr.dtype.str, "shape": list(arr.shape)}
    if isinstance(value, np.generic) and value.dtype.kind in ALLOWED_KINDS:
        return encode(value.item(), buffers, on_object)
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v, buffers, on_object) for v in value]}
    if isinstance(value, list):
        return [encode(v, buffers, on_object) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"__map__": {k: encode(v, buffers, on_object) for k, v in value.items()}}
    if on_object is not None:
        return on_object(value)
    raise WireError(f"a value of type {type(value).__name__} cannot be sent")


def decode(obj: Any, buffers: list[bytearray], on_ref: Callable[[dict], Any] | None = None) -> Any:
    """Inverse of :func:`encode`. Arrays come back writable and owning their memory."""
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, list):
        return [decode(v, buffers, on_ref) for v in obj]
    if not isinstance(obj, dict):
        raise WireError(f"unexpected value in message: {type(obj).__name__}")
    if "__nd__" in obj:
        return _decode_array(obj, buffers)
    if "__tuple__" in obj:
        return tuple(decode(v, buffers, on_ref) for v in obj["__tuple__"])
    if "__map__" in obj:
        return {str(k): decode(v, buffers, on_ref) for k, v in obj["__map__"].items()}
    if "__float__" in obj:
        return float(obj["__float__"])
    if ("__ref__" in obj or "__callback__" in obj) and on_ref is not None:
        return on_ref(obj)  # a sandbox handle, or an object the trusted side lends
    raise WireError("unexpected object in message")


def _decode_array(obj: dict, buffers: list[bytearray]) -> np.ndarray:
    try:
        dtype = np.dtype(str(obj["dtype"]))
        shape = tuple(int(s) for s in obj["shape"])
        buf = buffers[int(obj["__nd__"])]
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise WireError(f"malformed array description: {exc}") from None
    if dtype.kind not in ALLOWED_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise WireError(f"arrays of dtype {dtype} are not accepted (numbers and booleans only)")
    if any(s < 0 for s in shape) or math.prod(shape) * dtype.itemsize != len(buf):
        raise WireError(f"array bytes do not match shape {shape} and dtype {dtype}")
    return np.frombuffer(buf, dtype=dtype).reshape(shape)
