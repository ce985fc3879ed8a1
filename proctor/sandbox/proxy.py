"""What grader suites hold instead of student objects.

:class:`StudentSession` keeps one submission loaded in a sandboxed child and reloads it
in a fresh child after a crash or timeout. :class:`StudentModule` and
:class:`RemoteObject` turn attribute access and calls into requests; values come back as
arrays and plain data, student objects as handles. Student exceptions are re-raised as
:class:`StudentError`, which also derives from the matching builtin exception so that
``pytest.raises(ValueError)`` works.

A callable that runs past the call timeout is remembered by its qualified name
(``Model.forward``): later calls to it fail at once with the same message, so
one part that never returns costs one call timeout, not every test's, and the tests of the
other parts still get their turn within the submission's budget. A timeout while a test
measures cost (``measuring_cost``: inputs sized for efficiency checks) is remembered only
for other cost tests, so a slow but correct part still runs on correctness tests' inputs.
"""

from __future__ import annotations

import builtins
import functools
import time
from typing import Any

from proctor.sandbox.callback import CallbackTable, Trusted
from proctor.sandbox.child import wire
from proctor.sandbox.client import Child, ChildRlimits, Sandbox, SandboxCrashed, SandboxTimeout
from proctor.submission import Submission

_MAX_LOAD_RETRIES = 8


class StudentError(Exception):
    """An exception raised by the student's code, described on the trusted side."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.type_name = str(info.get("type", "Exception"))
        self.student_message = str(info.get("message", ""))
        self.student_traceback = str(info.get("traceback", ""))
        self.line = info.get("line")
        super().__init__(f"{self.type_name}: {self.student_message}" if self.student_message else self.type_name)


class MissingName(StudentError):
    """The submission does not define a name the suite needs."""


@functools.cache
def _student_error_class(builtin_name: str | None) -> type[StudentError]:
    base = getattr(builtins, builtin_name or "", None)
    if not (isinstance(base, type) and issubclass(base, Exception)) or base is Exception:
        return StudentError
    # Derive from the builtin too, without running its __init__ (StudentError's sets args).
    return type(f"Student{base.__name__}", (StudentError, base), {"__init__": StudentError.__init__,
                                                                   "__str__": StudentError.__str__})


def student_error(info: dict[str, Any]) -> StudentError:
    if info.get("type") == "_MissingName":
        return MissingName({**info, "type": "NameError"})
    return _student_error_class(info.get("builtin"))(info)


class StudentSession:
    """One submission, loaded in a sandboxed child; reloaded after the child dies."""

    def __init__(self, sandbox: Sandbox, submission: Submission, *, call_timeout_s: float,
                 submission_timeout_s: float, limits: ChildRlimits | None = None,
                 modules: list[dict[str, Any]] | None = None) -> None:
        self.sandbox = sandbox
        self.submission = submission
        #: Modules the submission imports, loaded before it: ``Submission.code()`` plus
        #: ``name``, and for a stand-in ``service``, a :class:`Trusted` lent for good.
        self.modules = list(modules or [])
        #: Per module name: the errors its code raised while loading (never the submission's).
        self.module_errors: dict[str, list[dict[str, Any]]] = {}
        self.call_timeout_s = call_timeout_s
        self.budget_s = submission_timeout_s
        self.deadline = time.monotonic() + submission_timeout_s
        self.limits = limits or ChildRlimits(cpu_s=int(submission_timeout_s) + 10)
        self.child: Child | None = None
        self.generation = 0
        self.load_errors: list[dict[str, Any]] = []
        self.skipped_units: dict[int, str] = {}
        self.restarts = 0
        #: Callables that timed out, by qualified name, with the message they failed with:
        #: on a correctness test's input, and on a cost test's (efficiency-sized) input.
        self.timed_out: dict[str, str] = {}
        self.timed_out_measuring: dict[str, str] = {}
        #: Set by the plugin while a cost test runs (see the module docstring).
        self.measuring_cost = False
        self.lent = CallbackTable()  # trusted objects passed in the current request

    # ------------------------------------------------------------------ lifecycle
    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def ensure_loaded(self) -> None:
        """Make sure a live child holds the submission, loading it again if needed."""
        if self.submission.problem or (self.child is not None and self.child.alive):
            return
        if self.remaining() <= 0:
            raise SandboxTimeout(self._budget_spent())
        if self.child is not None:
            self.restarts += 1
        for _ in range(_MAX_LOAD_RETRIES):
            self.generation += 1
            self.child = self.sandbox.spawn(self.limits)
            current: dict[str, int] = {}
            header, buffers = self._load_request()
            try:
                reply, _ = self.child.request(
                    header, buffers, timeout=min(self.call_timeout_s, self.remaining()),
                    on_progress=lambda msg: current.update(unit=int(msg["progress"])),
                    on_callback=self.lent.serve)
            except (SandboxTimeout, SandboxCrashed) as exc:
                unit = current.get("unit")
                if unit is None or unit in self.skipped_units:
                    raise
                what = "did not finish in time" if isinstance(exc, SandboxTimeout) else "killed its process"
                self.skipped_units[unit] = what
                continue
            if not reply.get("ok"):
                raise SandboxCrashed(f"loading failed inside the sandbox: {reply.get('error')}")
            loaded = wire.decode(reply.get("value"), [])
            self.load_errors = self._skipped_as_errors() + list(loaded["errors"])
            self.module_errors = dict(loaded.get("module_errors") or {})
            return
        raise SandboxCrashed("the submission could not be loaded: too many of its parts hung or crashed")

    def _load_request(self) -> tuple[dict, list[memoryview]]:
        """The ``load`` request: the modules first (a stand-in's service lent for good), then
        the submission, without the units that hung or crashed before."""
        header = self.submission.load_request(sorted(self.skipped_units))
        buffers: list[memoryview] = []
        modules = []
        for spec in self.modules:
            spec = dict(spec)
            if "service" in spec:
                spec["service"] = wire.encode(spec["service"], buffers, self.lent.keep)
            modules.append(spec)
        if modules:
            header["modules"] = modules
        return header, buffers

    def _budget_spent(self) -> str:
        return (f"the whole submission used up its time budget of {self.budget_s:g} s, so the "
                "remaining checks could not run")

    def _skipped_as_errors(self) -> list[dict[str, Any]]:
        where = "cell" if self.submission.kind == "ipynb" else "statement"
        return [{"unit": unit, "where": f"{where} {unit}", "type": "Skipped",
                 "message": f"this {where} {why}, so it was skipped and the rest loaded without it"}
                for unit, why in sorted(self.skipped_units.items())]

    def close(self) -> None:
        if self.child is not None:
            self.child.kill("grading finished")
            self.child = None

    # ------------------------------------------------------------------ requests
    def request(self, header: dict, payload: dict[str, Any] | None = None, *,
                callable_name: str | None = None) -> Any:
        """Send ``header`` (+ ``payload`` values encoded into it) and decode the reply.

        ``callable_name`` (``Class.method``) names the student code the request runs, for
        the timeout memory described in the module docstring.
        """
        if self.submission.problem:
            raise MissingName({"type": "NameError", "message": self.submission.problem})
        earlier = self._timed_out_before(callable_name)
        if earlier is not None:
            raise SandboxTimeout(earlier)
        self.ensure_loaded()
        assert self.child is not None
        buffers: list[memoryview] = []
        self.lent.clear()  # lent only with this request (an earlier one may have failed to encode)
        for key, value in (payload or {}).items():
            header[key] = wire.encode(value, buffers, self._encode_object)
        header["timed_out"] = sorted(self.timed_out) + (sorted(self.timed_out_measuring) if self.measuring_cost else [])
        timeout = min(self.call_timeout_s, self.remaining())
        if timeout <= 0:
            raise SandboxTimeout(self._budget_spent())
        try:
            reply, reply_buffers = self.child.request(header, buffers, timeout=timeout,
                                                      on_callback=self.lent.serve)
        except SandboxTimeout as exc:
            if timeout < self.call_timeout_s:
                raise SandboxTimeout(self._budget_spent()) from None
            if callable_name is None:
                raise
            message = f"{callable_name} ran for more than {timeout:.3g} s and was stopped"
            (self.timed_out_measuring if self.measuring_cost else self.timed_out)[callable_name] = message
            raise SandboxTimeout(message) from None
        finally:
            self.lent.clear()
        if not reply.get("ok"):
            error = reply.get("error") or {}
            if error.get("type") == "TimedOutBefore":  # it reached a callable that timed out before
                message = self._timed_out_before(str(error.get("message"))) or self._budget_spent()
                if callable_name is not None:
                    (self.timed_out_measuring if self.measuring_cost else self.timed_out)[callable_name] = message
                raise SandboxTimeout(message)
            raise student_error(error)
        try:
            return wire.decode(reply.get("value"), reply_buffers, self._decode_ref)
        except wire.WireError as exc:
            raise SandboxCrashed(f"the submission returned something that cannot be checked: {exc}") from None

    def _timed_out_before(self, callable_name: str | None) -> str | None:
        """The message ``callable_name`` timed out with earlier, if it counts for this test."""
        if callable_name is None:
            return None
        if callable_name in self.timed_out:
            return self.timed_out[callable_name]
        return self.timed_out_measuring.get(callable_name) if self.measuring_cost else None

    def _encode_object(self, value: Any) -> dict:
        if isinstance(value, Trusted):
            return self.lent.lend(value)
        if isinstance(value, RemoteObject):
            if value._generation != self.generation:
                raise SandboxCrashed("this object belonged to a submission process that has since been restarted")
            return {"__ref__": value._ref}
        raise TypeError(f"cannot send a {type(value).__name__} to the sandbox")

    def _decode_ref(self, obj: dict) -> "RemoteObject":
        return RemoteObject(self, int(obj["__ref__"]), str(obj.get("type", "object")), self.generation)

    def output(self, limit: int = 65536) -> str:
        """What the submission printed (stdout and stderr), truncated to ``limit``."""
        if self.child is None or not self.child.alive:
            return ""
        try:
            return self.request({"op": "output", "limit": limit})
        except Exception:  # noqa: BLE001 - output is best effort
            return ""

    def peak_memory_mb(self) -> float | None:
        """Peak resident memory of the current child, or None if it is not running."""
        if self.child is None or not self.child.alive:
            return None
        try:
            return round(self.request({"op": "stats"})["max_rss_kb"] / 1024, 1)
        except Exception:  # noqa: BLE001 - best effort
            return None

    def release(self) -> None:
        """Drop the handles of the last test's objects."""
        if self.child is not None and self.child.alive:
            try:
                self.request({"op": "release"})
            except Exception:  # noqa: BLE001
                pass


class RemoteMethod(functools.partial):
    """A student object's method, called in the sandbox. Messages describe it as "a method"
    (``proctor.asserts.describe_value``), never as the partial it is built from."""

    _student_description = staticmethod(lambda value: "a method")


def _call_payload(args: tuple, kwargs: dict) -> dict[str, Any]:
    return {"args": list(args), "kwargs": kwargs}


class StudentModule:
    """The submission's top-level namespace: ``student.NAME(...)`` calls remotely."""

    def __init__(self, session: StudentSession) -> None:
        self._session = session

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # private and protocol names (_repr_pretty_, __array__) stay local
            raise AttributeError(name)
        session = self._session

        def call(*args: Any, **kwargs: Any) -> Any:
            return session.request({"op": "call", "target": None, "name": name},
                                   _call_payload(args, kwargs), callable_name=name)

        call.__name__ = name
        return call

    def call_checking_inputs(self, name: str, *args: Any, **kwargs: Any) -> tuple[Any, list[str]]:
        """Call ``name`` and also return which array arguments it modified in place,
        e.g. ``["argument 1"]`` (the sandbox holds copies, so this is the only way to see)."""
        return tuple(self._session.request({"op": "call", "target": None, "name": name, "check_inputs": True},
                                           _call_payload(args, kwargs), callable_name=name))

    def has(self, name: str) -> bool:
        """Whether the submission defines ``name`` at top level."""
        return bool(self._session.request({"op": "has", "name": name}))

    def measure(self, name: str, *args: Any, repeat: int = 1, **kwargs: Any) -> dict[str, Any]:
        """Peak traced memory and times of calling ``name`` inside the sandbox."""
        return self._session.request({"op": "measure", "target": None, "name": name, "repeat": repeat},
                                     _call_payload(args, kwargs), callable_name=name)

    def __repr__(self) -> str:
        return f"<student submission {self._session.submission.name}>"


class RemoteObject:
    """A student object that lives in the sandbox."""

    __slots__ = ("_session", "_ref", "_type", "_generation", "_methods")
    _student_description = staticmethod(lambda value: f"a {value._type} object")

    def __init__(self, session: StudentSession, ref: int, type_name: str, generation: int) -> None:
        self._session = session
        self._ref = ref
        self._type = type_name
        self._generation = generation
        self._methods: set[str] = set()

    def _target(self) -> dict:
        if self._generation != self._session.generation:
            raise SandboxCrashed("this object belonged to a submission process that has since been restarted")
        return {"__ref__": self._ref}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # private and protocol names (_repr_pretty_, __array__) stay local
            raise AttributeError(name)
        if name not in self._methods:
            value = self._session.request({"op": "getattr", "target": self._target(), "name": name},
                                          callable_name=self._qualname(name))
            if not (isinstance(value, dict) and value.get("__method__") is True):
                return value
            self._methods.add(name)
        return RemoteMethod(self._call, name)

    def _call(self, name: str | None, *args: Any, **kwargs: Any) -> Any:
        return self._session.request({"op": "call", "target": self._target(), "name": name},
                                     _call_payload(args, kwargs), callable_name=self._qualname(name))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._call(None, *args, **kwargs)

    def _qualname(self, name: str | None) -> str:
        """``Class.method`` (``Class.__call__`` for the object itself), for timeouts."""
        return f"{self._type}.{name or '__call__'}"

    def call_checking_inputs(self, name: str | None, *args: Any, **kwargs: Any) -> tuple[Any, list[str]]:
        """Call method ``name`` (None: the object itself) and also return which array
        arguments it modified in place."""
        return tuple(self._session.request(
            {"op": "call", "target": self._target(), "name": name, "check_inputs": True}, _call_payload(args, kwargs),
            callable_name=self._qualname(name)))

    def assign(self, name: str, value: Any) -> None:
        """Write ``value`` into the existing array attribute ``name`` in place."""
        self._session.request({"op": "assign", "target": self._target(), "name": name}, {"value": value},
                              callable_name=self._qualname(name))

    def measure(self, name: str, *args: Any, repeat: int = 1, **kwargs: Any) -> dict[str, Any]:
        """Peak traced memory and times of calling method ``name`` inside the sandbox."""
        return self._session.request({"op": "measure", "target": self._target(), "name": name, "repeat": repeat},
                                     _call_payload(args, kwargs), callable_name=self._qualname(name))

    def __repr__(self) -> str:
        return f"<student {self._type} object>"
