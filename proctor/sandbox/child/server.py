"""The request loop of one sandboxed child: load a submission, then answer calls.

Runs inside the sandbox, after the zygote forked it and applied the limits. Student
objects live here in a handle table; only plain values and handle numbers go back.
"""

from __future__ import annotations

import inspect
import os
import resource
import socket
import sys
import time
import tracemalloc
import types
from typing import Any

import numpy as np

import loader
import trusted
import wire

MAX_REQUEST_BYTES = 1 << 30
CHILD_DIR = os.path.dirname(os.path.abspath(__file__))
_TENSOR_NAMES = ("tensor", "parameter", "variable", "array")


class _Handles:
    """Student objects the trusted side refers to by number."""

    def __init__(self) -> None:
        self.objects: dict[int, Any] = {}
        self.next_id = 1

    def add(self, obj: Any) -> dict:
        ref = self.next_id
        self.next_id += 1
        self.objects[ref] = obj
        return {"__ref__": ref, "type": _type_name(obj), "callable": callable(obj)}

    def get(self, ref: dict) -> Any:
        try:
            return self.objects[int(ref["__ref__"])]
        except (KeyError, TypeError, ValueError):
            raise LookupError("that object no longer exists in the sandbox") from None


def _type_name(obj: Any) -> str:
    try:
        return type(obj).__name__
    except Exception:  # noqa: BLE001
        return "object"


def unwrap_tensor(value: Any) -> Any:
    """A Tensor-like (an object whose ``.data`` is an ndarray) stands for that ndarray.

    Only objects that look like tensors are unwrapped, so a student's KV cache that
    happens to keep a ``.data`` attribute still comes back as an object.
    """
    if isinstance(value, (np.ndarray, np.generic, int, float, bool, str, type(None))):
        return value
    try:
        data = getattr(value, "data", None)
        looks_like_tensor = hasattr(value, "shape") or any(
            n in type(value).__name__.lower() for n in _TENSOR_NAMES)
    except Exception:  # noqa: BLE001 - a hostile __getattr__
        return value
    if isinstance(data, np.ndarray) and looks_like_tensor:
        return data
    return value


class Server:
    """Answers the trusted side's requests for one loaded submission."""

    def __init__(self, sock: socket.socket, output_fd: int) -> None:
        self.sock = sock
        self.output_fd = output_fd
        self.namespace: dict[str, Any] = {"__name__": "submission", "__builtins__": __builtins__}
        self.handles = _Handles()
        self.stubbed: dict[str, tuple[Any, str, Any]] = {}  # qualname -> (owner, attribute, original)
        self.lent: set[int] = set()  # objects the trusted side lent for the current request
        self.kept: set[int] = set()  # objects it lent for as long as this process lives

    # ----------------------------------------------------------------- encoding
    def _encode_result(self, value: Any) -> tuple[Any, list[memoryview]]:
        buffers: list[memoryview] = []

        def on_object(obj: Any) -> dict:
            return self.handles.add(obj.obj if isinstance(obj, _AlwaysHandle) else obj)

        value = _unwrap_deep(value)
        return wire.encode(value, buffers, on_object), buffers

    def _decode_args(self, obj: Any, buffers: list[bytearray]) -> Any:
        return wire.decode(obj, buffers, self._on_ref)

    def _on_ref(self, ref: dict) -> Any:
        if "__callback__" not in ref:
            return self.handles.get(ref)
        number = int(ref["__callback__"])
        (self.kept if ref.get("keep") is True else self.lent).add(number)
        return trusted.TrustedProxy(self._ask, number, str(ref.get("type", "object")))

    def _ask(self, number: int, header: dict, args: tuple = (), kwargs: dict | None = None) -> Any:
        """A lent object's attribute or method: ask the trusted side, which is waiting for
        this request's reply. Only during the request the object came with."""
        if number not in self.lent and number not in self.kept:
            raise RuntimeError("this object was lent by the grader for one call only and can "
                               "no longer be used")
        buffers: list[memoryview] = []
        header = {**header, "callback": number,
                  "args": wire.encode(_unwrap_deep(list(args)), buffers),
                  "kwargs": wire.encode(_unwrap_deep(dict(kwargs or {})), buffers)}
        wire.send_msg(self.sock, header, buffers)
        reply, reply_buffers = wire.recv_msg(self.sock, MAX_REQUEST_BYTES)
        if not reply.get("ok"):
            raise trusted.error(reply.get("error") or {})
        return wire.decode(reply.get("value"), reply_buffers)

    # ----------------------------------------------------------------- requests
    def serve(self) -> None:
        while True:
            try:
                header, buffers = wire.recv_msg(self.sock, MAX_REQUEST_BYTES)
            except wire.PeerClosed:
                return
            try:
                value = self.dispatch(header, buffers)
                payload, out_buffers = self._encode_result(value)
                wire.send_msg(self.sock, {"ok": True, "value": payload}, out_buffers)
            except BaseException as exc:  # noqa: BLE001 - student code may raise anything
                wire.send_msg(self.sock, {"ok": False, "error": loader.describe_error(
                    exc, lambda fn: not fn.startswith(CHILD_DIR))})
            finally:
                self.lent.clear()

    def dispatch(self, header: dict, buffers: list[bytearray]) -> Any:
        op = header.get("op")
        self.stub_timed_out(header.get("timed_out", []))
        if op == "load":
            return self.load(header, buffers)
        if op == "ping":
            return "pong"
        if op == "has":
            return header["name"] in self.namespace
        if op == "call":
            fn = self._target(header)
            args = self._decode_args(header.get("args", []), buffers)
            kwargs = self._decode_args(header.get("kwargs", {"__map__": {}}), buffers)
            if header.get("check_inputs"):
                return self.call_checking_inputs(fn, args, kwargs)
            result = fn(*args, **kwargs)
            if isinstance(fn, type):  # constructing a student class: keep the object here
                return _Keep(result)
            return result
        if op == "getattr":
            value = getattr(self.handles.get(header["target"]), header["name"])
            if inspect.isroutine(value):  # a method or function; a callable object is a handle
                return {"__method__": True}
            return value
        if op == "assign":
            return self.assign(header, buffers)
        if op == "measure":
            return self.measure(header, buffers)
        if op == "stats":  # peak resident memory of this child, for the result and benchmarks
            return {"max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
        if op == "release":
            self.handles.objects.clear()
            return None
        if op == "output":
            return self.read_output(int(header.get("limit", 65536)))
        raise ValueError(f"unknown request {op!r}")

    def stub_timed_out(self, names: list[str]) -> None:
        """Make the callables that already ran past their time limit fail at once.

        ``names`` are qualified names (``Class.method`` or a top-level function). A call
        that reaches one of them through another (``__call__`` delegating to ``forward``)
        then fails at once too, instead of costing another call timeout. Called before
        every request with the list that applies to the current test.
        """
        wanted = set(names)
        for name in [n for n in self.stubbed if n not in wanted]:
            owner, attr, original = self.stubbed.pop(name)
            _set(owner, attr, original)
        for name in wanted - set(self.stubbed):
            owner, attr = self._owner(name)
            if owner is None:
                continue
            original = owner.get(attr, _ABSENT) if isinstance(owner, dict) else owner.__dict__.get(attr, _ABSENT)
            _set(owner, attr, _timed_out_stub(name))
            self.stubbed[name] = (owner, attr, original)

    def _owner(self, name: str) -> tuple[Any, str]:
        """Where ``name`` lives: (the namespace dict, function) or (class, method)."""
        cls_name, _, attr = name.rpartition(".")
        if not cls_name:
            value = self.namespace.get(attr)
            return (self.namespace, attr) if callable(value) and not isinstance(value, type) else (None, attr)
        cls = self.namespace.get(cls_name)
        return (cls, attr) if isinstance(cls, type) and "." not in cls_name else (None, attr)

    def _target(self, header: dict) -> Any:
        name = header.get("name")
        if header.get("target") is None:
            if name not in self.namespace:
                raise _MissingName(name)
            return self.namespace[name]
        obj = self.handles.get(header["target"])
        return obj if name is None else getattr(obj, name)

    def load(self, header: dict, buffers: list[bytearray] | None = None) -> dict:
        """Load the modules the submission imports (``modules``: another assignment's work,
        importable by name), then run the submission's code; report errors per cell (the
        modules' apart) and where each of the submission's units began."""
        module_errors = {}
        for spec in header.get("modules", []):
            module = types.ModuleType(spec["name"])
            module.__dict__["__builtins__"] = __builtins__
            if "service" in spec:  # a stand-in's link to the trusted side
                module.__dict__["service"] = self._decode_args(spec["service"], buffers or [])
            sys.modules[spec["name"]] = module
            module_errors[spec["name"]] = loader.run_units(_units(spec, spec["name"] + " "), module.__dict__,
                                                           lambda index: None)
        skip = set(header.get("skip", []))
        units = [u for u in _units(header) if u["index"] not in skip]

        def progress(index: int) -> None:
            wire.send_msg(self.sock, {"progress": index})

        errors = loader.run_units(units, self.namespace, progress)
        return {"errors": errors, "units": len(units), "module_errors": module_errors}

    def call_checking_inputs(self, fn: Any, args: list, kwargs: dict) -> tuple[Any, list[str]]:
        """Call ``fn`` and say which of its array arguments it changed in place.

        Compares raw bytes (``ndarray.tobytes`` cannot be monkeypatched by the student).
        """
        labelled = [(f"argument {i + 1}", a) for i, a in enumerate(args)] + [
            (f"keyword argument {k!r}", a) for k, a in kwargs.items()]
        before = [(label, a, a.tobytes()) for label, a in labelled if isinstance(a, np.ndarray)]
        result = fn(*args, **kwargs)
        modified = [label for label, a, raw in before if a.tobytes() != raw]
        return (_Keep(result) if isinstance(fn, type) else result), modified

    def assign(self, header: dict, buffers: list[bytearray]) -> None:
        """Write into an existing array attribute in place (``w[...] = W``), or into a list
        of numbers of the same length (``lengths[:] = [...]``)."""
        obj = self.handles.get(header["target"])
        target = unwrap_tensor(getattr(obj, header["name"]))
        value = self._decode_args(header["value"], buffers)
        if isinstance(target, list) and np.ndim(value) == 1 and len(target) == len(value):
            target[:] = np.asarray(value).tolist()  # a list of numbers, e.g. one length per slot
            return None
        if not isinstance(target, np.ndarray):
            raise TypeError(f"{header['name']} is a {type(target).__name__}, not an array "
                            "(or a Tensor whose .data is an array) that can be written in place")
        target[...] = value
        return None

    def measure(self, header: dict, buffers: list[bytearray]) -> dict:
        """Peak traced memory and wall time of a call, its result discarded."""
        fn = self._target(header)
        args = self._decode_args(header.get("args", []), buffers)
        kwargs = self._decode_args(header.get("kwargs", {"__map__": {}}), buffers)
        peaks, times = [], []
        tracemalloc.start()
        try:
            for _ in range(int(header.get("repeat", 1))):
                tracemalloc.reset_peak()
                base = tracemalloc.get_traced_memory()[0]
                t0 = time.perf_counter()
                result = fn(*args, **kwargs)
                times.append(time.perf_counter() - t0)
                peaks.append(tracemalloc.get_traced_memory()[1] - base)
                del result
        finally:
            tracemalloc.stop()
        return {"peak_bytes": max(peaks), "times": times}

    def read_output(self, limit: int) -> str:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001 - the student may have replaced or closed it
                pass
        try:
            data = os.pread(self.output_fd, limit + 1, 0)
        except OSError:
            return ""
        text = data[:limit].decode("utf-8", "replace")
        return text + ("\n[... output truncated]" if len(data) > limit else "")


_ABSENT = object()


def _units(source: dict, cell_prefix: str = "") -> list[dict[str, Any]]:
    """A module's statements (``kind`` "py") or a notebook's code cells, as units to run."""
    if source["kind"] == "py":
        return [{"index": i, "source": src, "kind": "module", "filename": source["filename"],
                 "label": f"line {line}"}
                for i, (line, src) in enumerate(loader.split_module(source["source"], source["filename"]))]
    return [{"index": c["index"], "source": c["source"], "kind": "cell",
             "filename": f"<{cell_prefix}cell {c['index']}>", "label": f"cell {c['index']}"}
            for c in source["cells"]]


class TimedOutBefore(BaseException):
    """Raised by a stub standing in for a callable that already timed out. A BaseException,
    so that the student's ``except Exception`` does not swallow it."""


def _timed_out_stub(name: str) -> Any:
    def timed_out(*args: Any, **kwargs: Any) -> Any:
        raise TimedOutBefore(name)

    return timed_out


def _set(owner: Any, attr: str, value: Any) -> None:
    try:
        if isinstance(owner, dict):
            if value is _ABSENT:
                owner.pop(attr, None)
            else:
                owner[attr] = value
        elif value is _ABSENT:
            delattr(owner, attr)
        else:
            setattr(owner, attr, value)
    except Exception:  # noqa: BLE001 - a class that refuses: calls to it just run (and time out)
        pass


class _MissingName(LookupError):
    def __init__(self, name: str | None) -> None:
        super().__init__(f"your submission does not define `{name}`")


class _Keep:
    """Marks a value that must stay in the sandbox as a handle (a constructed object)."""

    def __init__(self, obj: Any) -> None:
        self.obj = obj


def _unwrap_deep(value: Any) -> Any:
    if isinstance(value, _Keep):
        return _AlwaysHandle(value.obj)
    if isinstance(value, tuple):
        return tuple(_unwrap_deep(v) for v in value)
    if isinstance(value, list):
        return [_unwrap_deep(v) for v in value]
    if isinstance(value, dict):
        return {k: _unwrap_deep(v) for k, v in value.items()}
    return unwrap_tensor(value)


class _AlwaysHandle:
    """Wrapper that wire.encode does not recognise, so it becomes a handle."""

    def __init__(self, obj: Any) -> None:
        self.obj = obj
