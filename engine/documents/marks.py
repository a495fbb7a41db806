"""Functions a decorator marked in a hook module (reports, print formats): found by their marker attribute."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def marker(attribute: str, spec: tuple[Any, ...]) -> Callable[[F], F]:
    """A decorator that stores ``spec`` on the function under ``attribute``."""

    def mark(fn: F) -> F:
        setattr(fn, attribute, spec)
        return fn

    return mark


def marked(module: ModuleType, attribute: str) -> Iterator[tuple[Callable[..., Any], tuple[Any, ...]]]:
    """(function, spec) for each function of ``module`` carrying ``attribute``, by name."""
    for name in sorted(vars(module)):
        fn = getattr(module, name)
        spec = getattr(fn, attribute, None)
        if spec is not None and callable(fn):
            yield fn, spec
