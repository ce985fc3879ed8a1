"""Lending trusted objects to student code for one call: callbacks into the trusted side.

Some checks need student code to work with a correct collaborator the student did not
write (a decoding step needs a KV cache; if the student's own cache is missing or broken,
the step can still be judged with a trusted one). The collaborator stays on the trusted
side: wrapped in :class:`Trusted` and passed as an argument, it reaches the sandbox as a
stand-in whose attribute reads and method calls come back here as messages, served by
:class:`CallbackTable` while the trusted side waits for the call's reply.

What keeps this safe, whatever the student's code does with the stand-in:
* values cross as the wire's plain data (numbers, arrays, lists, dicts), copied both ways;
  a method or attribute that would return any other object is refused;
* only public names (no leading underscore) can be read or called;
* a lent object answers only during the request it was passed in: the table is cleared
  when the request ends, so a stand-in kept for later (to pass another task with the
  trusted object's help) only raises. The one exception is an object lent with
  :meth:`CallbackTable.keep`: a service a whole module in the sandbox is built on (a
  correct version of another assignment's work), answering for the process's life.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from proctor.sandbox.child import wire


class Trusted:
    """A trusted-side object to lend to student code for the duration of one call."""

    def __init__(self, obj: Any, type_name: str | None = None) -> None:
        self.obj = obj
        self.type_name = type_name or type(obj).__name__


class CallbackTable:
    """The objects lent in the current request, by number; served until :meth:`clear`."""

    def __init__(self) -> None:
        self._lent: dict[int, Trusted] = {}
        self._kept: dict[int, Trusted] = {}
        self._next = 1

    def lend(self, trusted: Trusted) -> dict[str, Any]:
        """Register ``trusted`` and return its wire form (numbers are never reused)."""
        number = self._next
        self._next += 1
        self._lent[number] = trusted
        return {"__callback__": number, "type": trusted.type_name}

    def keep(self, trusted: Trusted) -> dict[str, Any]:
        """Register ``trusted`` until this table is dropped, not just for one request."""
        number = self._next
        self._next += 1
        self._kept[number] = trusted
        return {"__callback__": number, "type": trusted.type_name, "keep": True}

    def clear(self) -> None:
        """The request is over: nothing lent in it answers any more."""
        self._lent.clear()

    def serve(self, header: dict, buffers: list[bytearray]) -> tuple[dict, list[memoryview]]:
        """Answer one callback message: ``{"callback": n, "op": "getattr" | "call", "name",
        "args", "kwargs"}``. Returns the reply header and its array buffers."""
        try:
            result = self._answer(header, buffers)
            out: list[memoryview] = []
            return {"ok": True, "value": wire.encode(result, out)}, out
        except Exception as exc:  # noqa: BLE001 - any failure goes back to the student's call
            kind = type(exc).__name__
            builtin = kind if isinstance(getattr(builtins, kind, None), type) else "RuntimeError"
            return {"ok": False, "error": {"type": builtin, "message": str(exc)}}, []

    def _answer(self, header: dict, buffers: list[bytearray]) -> Any:
        try:
            number = int(header.get("callback"))
            trusted = self._lent[number] if number in self._lent else self._kept[number]
        except (KeyError, TypeError, ValueError):
            raise RuntimeError("this object was lent by the grader for one call only and "
                               "can no longer be used") from None
        name = str(header.get("name", ""))
        if not name or name.startswith("_"):
            raise AttributeError(f"{trusted.type_name} has no public attribute {name!r}")
        value = getattr(trusted.obj, name)
        is_method = callable(value) and not isinstance(value, np.ndarray)
        if header.get("op") == "getattr":
            return {"__method__": True} if is_method else value
        if header.get("op") != "call" or not is_method:
            raise TypeError(f"{trusted.type_name}.{name} cannot be called")
        args = wire.decode(header.get("args", []), buffers)
        kwargs = wire.decode(header.get("kwargs", {"__map__": {}}), buffers)
        return value(*args, **kwargs)
