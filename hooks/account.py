"""Account: named "<account name> - <company abbr>"; parent in the same company (SPEC 3.3)."""

from engine import hookimpl

from . import _accounts


@hookimpl
def before_naming(doc, ctx):
    _accounts.set_company_abbr(doc, ctx)


@hookimpl
def before_validate(doc, ctx):
    _accounts.inherit_from_parent(doc, ctx)


@hookimpl
def validate(doc, ctx):
    _accounts.validate_account(doc, ctx)
