"""Whitelisted methods: the app functions HTTP clients may call by name.

Frappe exposes a function to ``/api/method/<dotted.path>`` when it is decorated with
``@frappe.whitelist()``. docframe does the same for the public hook modules of an app
(``hooks/<module>.py``)::

    from engine import whitelist

    @whitelist()
    def get_defaults(ctx: Session, customer: str, company: str | None = None) -> dict:
        ...                       # /api/method/hooks.customer.get_defaults?customer=...

    @whitelist(methods=["POST"])
    def add_note(doc: Document, ctx: Session, note: str) -> str:
        ...                       # POST /api/v2/document/Customer/<name>/method/add_note

A function whose parameters start ``ctx`` is a plain method, called with the request's
Session (so permissions and record rules apply to everything it reads and writes).
One whose parameters start ``doc, ctx`` is a *document method* of the module's doctype,
called on a document the caller may read (GET) or write (POST). The remaining
parameters are the request's arguments; annotations ``int``, ``float``, ``bool``,
``date``, ``list`` and ``dict`` are coerced from their text forms, and a missing,
unknown or ill-typed argument is a 417 that names the method and the argument.
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any, TypeVar

from engine.errors import FieldError, HookError, ValidationError

F = TypeVar("F", bound=Callable[..., Any])
MARKER = "__docframe_whitelist__"
HTTP_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
# Arguments every Frappe client may send along; never passed to a method.
IGNORED_ARGS = frozenset({"cmd", "_", "csrf_token", "_type"})


@dataclass(frozen=True)
class WhitelistSpec:
    http_methods: frozenset[str]
    allow_guest: bool


def whitelist(methods: Iterable[str] = ("GET", "POST"), allow_guest: bool = False) -> Callable[[F], F]:
    """Mark a hook-module function as callable over HTTP (see the module docstring).

    ``methods``: the HTTP methods it answers (a method that writes should say
    ``["POST"]``; a GET then answers 403, as in Frappe). ``allow_guest``: callable
    without logging in.
    """
    verbs = frozenset(m.upper() for m in methods)
    if not verbs or not verbs <= HTTP_METHODS:
        raise ValueError(f"whitelist(methods=...) takes some of {sorted(HTTP_METHODS)}, not {sorted(methods)}")

    def mark(fn: F) -> F:
        setattr(fn, MARKER, WhitelistSpec(verbs, allow_guest))
        return fn

    return mark


@dataclass(frozen=True)
class WhitelistedMethod:
    """One callable method, as the registry (``site.hooks.methods``) holds it."""

    name: str  # what clients call: "hooks.customer.get_defaults", or "add_note" for a document method
    fn: Callable[..., Any]
    http_methods: frozenset[str]
    allow_guest: bool
    doctype: str | None  # the doctype of a document method; None for a plain method
    params: tuple[inspect.Parameter, ...]  # the request arguments (after ctx, or doc and ctx)
    summary: str
    arg_types: Mapping[str, Any]  # parameter -> int, float, bool, date, list, dict, str or Any (from the hints)

    @property
    def is_doc_method(self) -> bool:
        return self.doctype is not None

    def call(self, ctx: Any, args: Mapping[str, Any], doc: Any = None) -> Any:
        """Call with request arguments, checked and coerced against the signature."""
        kwargs = bind_arguments(self, args)
        if self.is_doc_method:
            return self.fn(doc, ctx, **kwargs)
        return self.fn(ctx, **kwargs)


def collect(module: ModuleType, public_name: str, doctype: str | None, where: str) -> list[WhitelistedMethod]:
    """The whitelisted functions of a hook module.

    ``public_name`` is the dotted prefix clients use ("hooks.customer"); ``doctype``
    the module's doctype (None for every-doctype modules, which may hold plain methods only).
    """
    found = []
    for attr in sorted(vars(module)):
        fn = getattr(module, attr)
        spec = getattr(fn, MARKER, None)
        if not isinstance(spec, WhitelistSpec) or not callable(fn):
            continue
        params = list(inspect.signature(fn).parameters.values())
        names = [p.name for p in params]
        if names[:1] == ["ctx"]:
            method_doctype, rest, name = None, params[1:], f"{public_name}.{fn.__name__}"
        elif names[:2] == ["doc", "ctx"]:
            if doctype is None:
                raise HookError(f"{where}: document method {fn.__name__!r} must live in its doctype's hook module")
            method_doctype, rest, name = doctype, params[2:], fn.__name__
        else:
            raise HookError(f"{where}: whitelisted {fn.__name__!r} must take (ctx, ...) or (doc, ctx, ...)")
        if any(p.kind is p.VAR_POSITIONAL or p.kind is p.POSITIONAL_ONLY for p in rest):
            raise HookError(f"{where}: whitelisted {fn.__name__!r} cannot take positional-only or *args parameters")
        summary = (inspect.getdoc(fn) or "").strip().splitlines()
        hints = _hints(fn)
        arg_types = {p.name: base_type(hints.get(p.name, Any)) for p in rest}
        found.append(WhitelistedMethod(name, fn, spec.http_methods, spec.allow_guest, method_doctype,
                                       tuple(rest), summary[0] if summary else "", arg_types))
    return found


# ------------------------------------------------------------------ arguments

def _hints(fn: Callable[..., Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(fn)
    except Exception:  # unresolvable annotations: pass values through unchanged
        return {}


def base_type(annotation: Any) -> Any:
    """``int`` for ``int``, ``int | None`` or ``Optional[int]``; else the annotation itself."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return base_type(args[0]) if len(args) == 1 else annotation
    return typing.get_origin(annotation) or annotation


def _coerce(value: Any, kind: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, str):
        return _coerce_json_value(value, kind)
    text = value.strip()
    if kind is bool:
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off", ""):
            return False
        raise ValueError("expected a boolean (0/1, true/false)")
    if kind is int:
        return int(text)
    if kind is float:
        return float(text)
    if kind is dt.date:
        return dt.date.fromisoformat(text)
    if kind in (list, dict):
        parsed = json.loads(text)
        if not isinstance(parsed, kind):
            raise ValueError(f"expected a JSON {kind.__name__}")
        return parsed
    return value


_JSON_NAMES = {bool: "true or false", int: "a whole number", float: "a number", list: "a list", dict: "an object"}


def _coerce_json_value(value: Any, kind: Any) -> Any:
    """A value that came as JSON (a number, true/false, a list, an object) for a parameter of type ``kind``."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is str and number:
        return str(value)
    if kind is float and number:
        return float(value)
    if kind is int and number and float(value).is_integer():
        return int(value)
    if kind is bool and (isinstance(value, bool) or value in (0, 1)):
        return bool(value)
    if kind in (list, dict) and isinstance(value, kind):
        return value
    if kind in (str, int, float, bool, list, dict, dt.date):
        expected = "text" if kind is str else "a date (YYYY-MM-DD)" if kind is dt.date else _JSON_NAMES[kind]
        raise ValueError(f"expected {expected}, not {type(value).__name__} {value!r:.40}")
    return value


def bind_arguments(method: WhitelistedMethod, args: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments for ``method`` from request arguments; a 417 lists every problem."""
    label = f"Method {method.name!r}"
    params = {p.name: p for p in method.params}
    takes_any = any(p.kind is p.VAR_KEYWORD for p in method.params)
    errors: list[FieldError] = []
    kwargs: dict[str, Any] = {}
    for key, value in args.items():
        if key in IGNORED_ARGS:
            continue
        param = params.get(key)
        if param is None or param.kind is param.VAR_KEYWORD:
            if takes_any:
                kwargs[key] = value
            else:
                errors.append(FieldError(method.name, key, None, f"{label} takes no argument {key!r}", value=value))
            continue
        kind = method.arg_types.get(key, Any)
        try:
            kwargs[key] = _coerce(value, kind)
        except ValueError as exc:
            name = getattr(kind, "__name__", str(kind))
            errors.append(FieldError(method.name, key, None, f"{label}: argument {key!r} must be {name}: {exc}",
                                     value=value))
    for name, param in params.items():
        if param.kind is param.VAR_KEYWORD:
            continue
        if param.default is param.empty and (kwargs.get(name) is None or kwargs.get(name) == ""):
            errors.append(FieldError(method.name, name, None, f"{label} needs the argument {name!r}"))
    if errors:
        raise ValidationError("; ".join(e.message for e in errors), errors=errors)
    return kwargs
