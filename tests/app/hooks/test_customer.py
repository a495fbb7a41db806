"""Hooks of the test app's Test Customer (engine tests only)."""

from engine import hookimpl


@hookimpl
def before_validate(doc, ctx):
    """Derive the read-only display text from the name and type."""
    if doc.customer_name:
        doc.display = f"{doc.customer_name} ({doc.customer_type or 'Company'})"
