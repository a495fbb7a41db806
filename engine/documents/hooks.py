"""Loading the application's hook modules and dispatching lifecycle events.

``hooks/all_doctypes.py`` applies to every doctype; ``hooks/<snake_name>.py``
(``customer_group.py`` for "Customer Group") to one. Modules whose name starts
with ``_`` are private helpers. Each doctype gets its own pluggy PluginManager
holding the every-doctype plugins and its own, so a call dispatches both.
Pluggy validates every implementation against :mod:`engine.documents.hookspecs`.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.machinery
import importlib.util
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy

from engine.documents import hookspecs, printing, reports
from engine.documents.whitelist import WhitelistedMethod, collect
from engine.errors import HookError
from engine.metadata.doctype import snake

ALL_DOCTYPES_MODULE = "all_doctypes"


class HookRegistry:
    """The hook implementations of one Site; owns the per-doctype plugin managers."""

    def __init__(self, doctypes: Iterable[str]):
        self._global: list[object] = []
        self._managers: dict[str, pluggy.PluginManager] = {}
        self._callers: dict[tuple[str, str], Callable[..., Any] | None] = {}
        self._doctypes = list(doctypes)
        self._by_module = {snake(d): d for d in self._doctypes}
        # Whitelisted methods (engine.documents.whitelist): plain ones by dotted name, document ones by (doctype, name).
        self.methods: dict[str, WhitelistedMethod] = {}
        self.doc_methods: dict[tuple[str, str], WhitelistedMethod] = {}
        self.reports: dict[str, reports.Report] = {}  # by name (engine.documents.reports)
        self.print_formats: dict[tuple[str, str], printing.PrintFormat] = {}  # by (doctype, name)
        for name in self._doctypes:
            pm = pluggy.PluginManager(hookspecs.PROJECT)
            pm.add_hookspecs(hookspecs)
            self._managers[name] = pm

    # ---------------------------------------------------------------- loading
    def load_folder(self, folder: Path | None) -> None:
        """Import every hook module of an app's ``hooks/`` folder and register it."""
        if folder is None or not folder.is_dir():
            return
        package = _import_package(folder)
        for path in sorted(folder.glob("*.py")):
            stem = path.stem
            if stem.startswith("_"):
                continue
            if stem != ALL_DOCTYPES_MODULE and stem not in self._by_module:
                raise HookError(
                    f"{path}: hook module {stem!r} matches no doctype "
                    f"(expected {ALL_DOCTYPES_MODULE}.py or one of: {', '.join(sorted(self._by_module))})"
                )
            try:
                module = importlib.import_module(f"{package}.{stem}")
            except HookError:
                raise
            except Exception as exc:
                raise HookError(f"{path}: cannot import hook module: {type(exc).__name__}: {exc}") from exc
            doctype = None if stem == ALL_DOCTYPES_MODULE else self._by_module[stem]
            self.register(doctype, module, str(path))
            self.add_methods(collect(module, f"{folder.name}.{stem}", doctype, str(path)))
            self.add_reports(reports.collect(module, self._doctypes, str(path)))
            self.add_print_formats(printing.collect(module, self._doctypes, str(path)))

    def add_methods(self, methods: Iterable[WhitelistedMethod]) -> None:
        """Make whitelisted methods callable (see :mod:`engine.documents.whitelist`)."""
        for m in methods:
            if m.doctype is None:
                self.methods[m.name] = m
            else:
                self.doc_methods[(m.doctype, m.name)] = m

    def add_reports(self, found: Iterable[reports.Report]) -> None:
        for r in found:
            if r.name in self.reports:
                raise HookError(f"{r.where}: report {r.name!r} is also defined in {self.reports[r.name].where}")
            self.reports[r.name] = r

    def add_print_formats(self, found: Iterable[printing.PrintFormat]) -> None:
        for pf in found:
            key = (pf.doctype, pf.name)
            if key in self.print_formats:
                raise HookError(f"{pf.where}: print format {pf.name!r} of {pf.doctype} is also defined in "
                                f"{self.print_formats[key].where}")
            self.print_formats[key] = pf

    def register(self, doctype: str | None, plugin: object, source: str | None = None) -> None:
        """Register a plugin (module or object with ``@hookimpl`` methods).

        ``doctype`` None means every doctype. Raises HookError for a misspelled hook
        or argument, or a hook-named function missing its ``@hookimpl``.
        """
        where = source or getattr(plugin, "__file__", None) or repr(plugin)
        _check_undecorated(plugin, where)
        targets = self._doctypes if doctype is None else [doctype]
        if doctype is not None and doctype not in self._managers:
            raise HookError(f"{where}: unknown doctype {doctype!r}")
        registered: list[pluggy.PluginManager] = []
        try:
            for name in targets:
                pm = self._managers[name]
                pm.register(plugin, name=f"{id(plugin)}")
                registered.append(pm)
                pm.check_pending()
        except (pluggy.PluginValidationError, ValueError) as exc:
            for pm in registered:
                pm.unregister(plugin)
            raise HookError(f"{where}: {_explain(exc)}") from exc
        if doctype is None:
            self._global.append(plugin)
        self._callers.clear()

    def unregister(self, plugin: object) -> None:
        for pm in self._managers.values():
            if pm.is_registered(plugin):
                pm.unregister(plugin)
        if plugin in self._global:
            self._global.remove(plugin)
        self._callers.clear()

    # ------------------------------------------------------------- dispatch
    def caller(self, doctype: str, event: str) -> Callable[..., Any] | None:
        """The hook caller for an event, or None when no plugin implements it (fast path)."""
        key = (doctype, event)
        try:
            return self._callers[key]
        except KeyError:
            pass
        pm = self._managers.get(doctype)
        hook = getattr(pm.hook, event) if pm is not None else None
        found = hook if hook is not None and hook.get_hookimpls() else None
        self._callers[key] = found
        return found

    def batch_callers(self, doctype: str, event: str) -> tuple[Callable[..., Any] | None, Callable[..., Any] | None]:
        """For a batch: (``event`` of the plugins without ``<event>_many``, ``<event>_many``); None where none."""
        key = (doctype, event + "[batch]")
        if key in self._callers:
            return self._callers[key]  # type: ignore[return-value]
        many_name = event + "_many"
        many = self.caller(doctype, many_name) if many_name in hookspecs.HOOK_NAMES else None
        per_doc = self.caller(doctype, event)
        if many is not None and per_doc is not None:
            pm = self._managers[doctype]
            batched = [impl.plugin for impl in getattr(pm.hook, many_name).get_hookimpls()]
            subset = pm.subset_hook_caller(event, remove_plugins=batched)
            per_doc = subset if subset.get_hookimpls() else None
        found = (per_doc, many)
        self._callers[key] = found  # type: ignore[assignment]
        return found

    def implemented(self, doctype: str) -> list[str]:
        return [e for e in hookspecs.HOOK_NAMES if self.caller(doctype, e) is not None]


def _import_package(folder: Path) -> str:
    """Import the hooks folder as a package under a name unique to its path."""
    folder = folder.resolve()
    name = "_docframe_hooks_" + hashlib.sha1(str(folder).encode()).hexdigest()[:10]
    if name in sys.modules:
        return name
    init = folder / "__init__.py"
    if init.exists():
        spec = importlib.util.spec_from_file_location(name, init, submodule_search_locations=[str(folder)])
    else:  # a hooks folder without __init__.py: a namespace-like package over the folder
        spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
        spec.submodule_search_locations = [str(folder)]
    if spec is None:
        raise HookError(f"{folder}: cannot load hooks package")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    if spec.loader is not None and init.exists():
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            del sys.modules[name]
            raise HookError(f"{init}: cannot import: {type(exc).__name__}: {exc}") from exc
    return name


def _check_undecorated(plugin: object, where: str) -> None:
    marker = hookspecs.PROJECT + "_impl"
    for attr in dir(plugin):
        if attr in hookspecs.HOOK_NAMES:
            obj = getattr(plugin, attr, None)
            if callable(obj) and not hasattr(obj, marker):
                raise HookError(f"{where}: function {attr!r} is a hook name but lacks @hookimpl")


def _explain(exc: Exception) -> str:
    text = str(exc)
    if "unknown hook" in text.lower():
        return text + f" (known hooks: {', '.join(hookspecs.HOOK_NAMES)})"
    return text


def is_module_plugin(plugin: object) -> bool:
    return isinstance(plugin, ModuleType)
