"""The customer master application: its hook modules and its public functions.

``hooks/<doctype>.py`` modules hold the lifecycle hooks (see engine/documents/hookspecs.py);
``hooks/_*.py`` modules hold the rules they share. The functions a transaction,
report or script needs are re-exported here, e.g.::

    from hooks import resolve_defaults
    with site.session() as s:
        resolve_defaults(s, "Globex", "Docframe Inc", date.today())
"""

from ._accounts import association_for, require_association
from ._defaults import resolve_defaults
from ._parties import contact_persons, customers_for_user, default_address, primary_contact
from ._selling import (
    credit_limit,
    customer_picker_filters,
    due_date,
    is_invoiceable,
    price_list_chain,
    price_list_for_item,
)

__all__ = [
    "association_for",
    "contact_persons",
    "credit_limit",
    "customer_picker_filters",
    "customers_for_user",
    "default_address",
    "due_date",
    "is_invoiceable",
    "price_list_chain",
    "price_list_for_item",
    "primary_contact",
    "require_association",
    "resolve_defaults",
]
