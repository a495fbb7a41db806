"""Address (and customer site): party links, site rules, default billing/shipping per party."""

from __future__ import annotations

from engine import hookimpl

from . import _parties


@hookimpl
def validate(doc, ctx):
    _parties.check_links(doc, ctx)
    _parties.address_validate(doc, ctx)


@hookimpl
def before_save(doc, ctx):
    _parties.address_before_save(doc, ctx)


@hookimpl
def on_update(doc, ctx):
    _parties.address_on_update(doc, ctx)


@hookimpl
def after_delete(doc, ctx):
    _parties.address_after_delete(doc, ctx)
