"""Stand-ins, inside the sandbox, for objects the trusted side lends to student code for one
call (see ``proctor/sandbox/callback.py``). Reading an attribute or calling a method sends a
callback message on the request socket and waits for the answer; values cross as plain data.
A stand-in works only during the request it came with: afterwards it raises."""

from __future__ import annotations

import builtins
from typing import Any


class TrustedProxy:
    """A lent object: public attributes and methods, answered by the trusted side."""

    __slots__ = ("_ask", "_number", "_type")

    def __init__(self, ask: Any, number: int, type_name: str) -> None:
        object.__setattr__(self, "_ask", ask)
        object.__setattr__(self, "_number", number)
        object.__setattr__(self, "_type", type_name)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        value = self._ask(self._number, {"op": "getattr", "name": name})
        if isinstance(value, dict) and value.get("__method__") is True:
            return _Method(self._ask, self._number, name)
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"the grader's {self._type} cannot be modified directly; use its methods")

    def __repr__(self) -> str:
        return f"<the grader's {self._type}>"


class _Method:
    __slots__ = ("_ask", "_number", "_name")

    def __init__(self, ask: Any, number: int, name: str) -> None:
        self._ask, self._number, self._name = ask, number, name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._ask(self._number, {"op": "call", "name": self._name}, args, kwargs)


def error(info: dict) -> Exception:
    """The exception a failed callback raises in student code (a builtin type if it is one)."""
    kind = getattr(builtins, str(info.get("type", "")), None)
    message = str(info.get("message", ""))
    if isinstance(kind, type) and issubclass(kind, Exception):
        return kind(message)
    return RuntimeError(message)
