"""Hooks of the benchmark's Bench Customer."""

from engine import hookimpl


@hookimpl
def on_update(doc, ctx):
    """A new customer gets its receivable account, written through the same pipeline and transaction."""
    if doc.get_doc_before_save() is None:
        ctx.insert("Bench Account", account_name=f"{doc.name} - Receivable", customer=doc.name)
