"""``docframe check``'s index warnings: the list pages of an app that no index serves.

The shapes come from the metadata (each ``in_filter`` field with the default sort)
and from the app's ``default_filters`` hooks, which need a session: they are
called as Administrator on a throwaway in-memory database of the app, so a hook
that reads records finds none and a hook that fails is reported, not fatal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.metadata.doctype import DocType
from engine.site.site import Site
from engine.storage.indexes import list_index_gaps


def list_warnings(app_dir: Path, doctypes: dict[str, DocType], own: set[str]) -> list[str]:
    """One message per list shape of the ``own`` doctypes that no index serves."""
    filters = _default_filters(app_dir, own)
    out: list[str] = []
    for name in sorted(own):
        defaults = filters.get(name, ())
        if isinstance(defaults, str):  # the hook failed: say so, check the rest without it
            out.append(defaults)
            defaults = ()
        out += [gap.message for gap in list_index_gaps(doctypes[name], defaults)]
    return out


def _default_filters(app_dir: Path, own: set[str]) -> dict[str, Any]:
    """Doctype -> its default list filters, or the message of the hook's error."""
    site = Site("sqlite://", app_dir, cache_url="")  # a scratch site: it tells no Redis about its users
    try:
        with_hook = [name for name in sorted(own) if site.hooks.caller(name, "default_filters") is not None]
        if not with_hook:
            return {}
        site.migrate()
        out: dict[str, Any] = {}
        with site.session() as session:
            for name in with_hook:
                try:
                    out[name] = session.default_filters(name)
                except Exception as exc:
                    out[name] = f"{name}: could not read its default_filters hook to check the list's index: {exc}"
        return out
    finally:
        site.dispose()
