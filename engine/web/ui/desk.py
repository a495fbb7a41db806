"""The desk's frame: the logged-in user, the sidebar of doctypes by module, breadcrumbs and flash messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import session as flask_session

from engine.metadata.doctype import DocType
from engine.rules.permissions import has_permission, user_context
from engine.site.session import Session
from engine.site.site import Site

STATUSES = ("Draft", "Submitted", "Cancelled")  # a submittable document's docstatus 0, 1, 2


def slug(doctype: str) -> str:
    """'Customer Group' -> 'customer-group' (the doctype's URL)."""
    return doctype.lower().replace(" ", "-")


def doctype_of(site: Site, value: str) -> DocType | None:
    """The doctype a URL slug names (None for an unknown one or a child doctype)."""
    wanted = value.lower().replace("_", "-")
    for meta in site.doctypes.values():
        if slug(meta.name) == wanted and not meta.is_child:
            return meta
    return None


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    active: bool = False


@dataclass
class Frame:
    """What every desk page shows around its content."""

    user: str
    full_name: str
    csrf_token: str
    modules: list[tuple[str, list[NavItem]]]
    breadcrumbs: list[NavItem]
    flashes: list[tuple[str, str]] = field(default_factory=list)
    title: str = "docframe"
    search: str = ""


def modules(session: Session, current: str | None = None) -> list[tuple[str, list[NavItem]]]:
    """Readable, non-child doctypes grouped by module (in name order), as the sidebar lists them."""
    grouped: dict[str, list[NavItem]] = {}
    for meta in sorted(session.site.doctypes.values(), key=lambda m: ((m.module or "Other"), m.name)):
        if meta.is_child or not has_permission(session, meta.name, "read"):
            continue
        grouped.setdefault(meta.module or "Other", []).append(
            NavItem(meta.name, f"/app/{slug(meta.name)}", meta.name == current))
    reports = [NavItem(r.name, f"/app/report/{slug(r.name)}", r.name == current)
               for _, r in sorted(session.hooks.reports.items())
               if has_permission(session, r.ref_doctype, "report")]
    if reports:
        grouped["Reports"] = reports
    return sorted(grouped.items(), key=lambda kv: (kv[0] in ("Core", "Reports"), kv[0] == "Core", kv[0]))


def flash(kind: str, message: str) -> None:
    """A message shown once, on the next page (kinds: success, info, warning, error)."""
    flask_session.setdefault("_flashes", []).append((kind, message))
    flask_session.modified = True


def take_flashes() -> list[tuple[str, str]]:
    return [tuple(f) for f in flask_session.pop("_flashes", [])]  # type: ignore[misc]


def frame(session: Session, csrf_token: str, title: str, crumbs: list[NavItem], current: str | None = None,
          search: str = "", **extra: Any) -> Frame:
    full_name = user_context(session).full_name
    return Frame(session.user, full_name or session.user, csrf_token, modules(session, current), crumbs,
                 take_flashes(), title, search)
