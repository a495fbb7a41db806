"""Contact: full name, party links, one primary contact per party."""

from __future__ import annotations

from engine import hookimpl

from . import _parties


def _full_name(doc) -> str:
    """First and last name; a value that is not text is left for the field check to report."""
    parts = (doc.first_name, doc.last_name)
    return " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())


@hookimpl
def before_naming(doc, ctx):
    doc.full_name = _full_name(doc)


@hookimpl
def before_validate(doc, ctx):
    doc.full_name = _full_name(doc)
    if doc.email_id and isinstance(doc.email_id, str):
        doc.email_id = doc.email_id.strip().lower()


@hookimpl
def validate(doc, ctx):
    _parties.check_links(doc, ctx)


@hookimpl
def before_save(doc, ctx):
    _parties.contact_before_save(doc, ctx)


@hookimpl
def on_update(doc, ctx):
    _parties.contact_on_update(doc, ctx)


@hookimpl
def after_delete(doc, ctx):
    _parties.contact_after_delete(doc, ctx)
