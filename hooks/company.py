"""Company: its chart of accounts and default accounts (SPEC 3.3)."""

from engine import hookimpl

from . import _accounts, _credit, _selling


@hookimpl
def before_validate(doc):
    """The abbreviation is stored trimmed, as it is part of every account ID."""
    if isinstance(doc.abbr, str):
        doc.abbr = doc.abbr.strip()


@hookimpl
def validate(doc, ctx):
    _accounts.validate_company(doc, ctx)
    errors = []
    _credit.check_lowered_limits(doc, ctx, errors)
    _selling.raise_errors(errors)


@hookimpl
def after_insert(doc, ctx):
    _accounts.create_chart_of_accounts(doc, ctx)


@hookimpl
def on_trash(doc, ctx):
    _accounts.delete_chart_of_accounts(doc, ctx)
