"""Contacts and addresses of parties (customers and suppliers): links, primary and default flags.

Contacts and Addresses link to any number of parties through "Dynamic Link" rows
(``links``). Per party there is exactly one primary contact and at most one default
billing and one default shipping address; the flags live on the link rows, so one
contact can be primary for one customer and not for another.

All changes to other documents' link rows are direct UPDATEs of the child table on
``ctx.conn`` inside the write's transaction: they commit or roll back with it.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from engine.errors import FieldError, ValidationError

PARTY_DOCTYPES = ("Customer", "Supplier")
PARTY_TITLE_FIELD = {"Customer": "customer_name", "Supplier": "supplier_name"}

# flag on the link row -> (purpose, parent doctype)
CONTACT_FLAG = "is_primary_contact"
ADDRESS_FLAGS = {"billing": "is_default_billing", "shipping": "is_default_shipping"}


def _fail(doctype: str, field: str, label: str, message: str, value: Any = None, row: int | None = None) -> None:
    raise ValidationError.from_errors([FieldError(doctype, field, label, message, value, row)])


# ----------------------------------------------------------------- link rows
def check_links(doc: Any, ctx: Any) -> None:
    """Only Customer and Supplier links, no duplicates; fill each row's link_title."""
    errors: list[FieldError] = []
    seen: dict[tuple[str, str], int] = {}
    for row in doc.links or []:
        key = (row.link_doctype, (row.link_name or "").lower())
        if row.link_doctype not in PARTY_DOCTYPES:
            errors.append(FieldError(
                doc.doctype, "link_doctype", "Link Document Type",
                f"{doc.doctype}: row {row.idx} of Links: Link Document Type {row.link_doctype!r} is not allowed; "
                f"contacts and addresses link only to Customer or Supplier",
                row.link_doctype, row.idx))
        elif key in seen:
            errors.append(FieldError(
                doc.doctype, "link_name", "Link Name",
                f"{doc.doctype}: row {row.idx} of Links: {row.link_doctype} {row.link_name!r} is already linked "
                f"in row {seen[key]}; each party may be linked only once",
                row.link_name, row.idx))
        else:
            seen[key] = row.idx
    if errors:
        raise ValidationError.from_errors(errors)
    lock_parties(doc, ctx)
    for row in doc.links or []:
        row.link_title = ctx.get_value(row.link_doctype, row.link_name, PARTY_TITLE_FIELD[row.link_doctype])


def lock_parties(doc: Any, ctx: Any) -> None:
    """Lock the linked parties' rows (in name order) until the write commits.

    Two contacts saved at once for the same customer then decide "first contact becomes
    primary" and "site number unique per customer" one after the other, never both at
    once (SQLite already has a single writer).
    """
    if ctx.site.engine.dialect.name == "sqlite":
        return
    for doctype in PARTY_DOCTYPES:
        names = sorted({r.link_name for r in doc.links or [] if r.link_doctype == doctype and r.link_name})
        if names:
            t = ctx.site.table(doctype)
            ctx.conn.execute(sa.select(t.c.name).where(t.c.name.in_(names)).order_by(t.c.name).with_for_update())


def _links_table(ctx: Any) -> sa.Table:
    return ctx.site.table("Dynamic Link")


def _party_rows(ctx: Any, parenttype: str, link_doctype: str, link_name: str) -> sa.ColumnElement[bool]:
    t = _links_table(ctx)
    return sa.and_(t.c.parenttype == parenttype, t.c.parentfield == "links",
                   t.c.link_doctype == link_doctype, t.c.link_name == link_name)


def flag_holder(ctx: Any, parenttype: str, flag: str, link_doctype: str, link_name: str,
                exclude: str | None = None) -> str | None:
    """The contact/address whose link row to the party carries ``flag`` (other than ``exclude``)."""
    t = _links_table(ctx)
    cond = sa.and_(_party_rows(ctx, parenttype, link_doctype, link_name), t.c[flag] == 1)
    if exclude is not None:
        cond = sa.and_(cond, t.c.parent != exclude)
    return ctx.conn.execute(sa.select(t.c.parent).where(cond).order_by(t.c.parent).limit(1)).scalar()


def clear_flag_of_others(ctx: Any, parenttype: str, flag: str, link_doctype: str, link_name: str,
                         keep: str) -> None:
    """Take ``flag`` off every other contact/address of the party (one UPDATE)."""
    t = _links_table(ctx)
    ctx.conn.execute(sa.update(t).where(_party_rows(ctx, parenttype, link_doctype, link_name),
                                        t.c.parent != keep, t.c[flag] == 1).values({flag: 0}))


def promote(ctx: Any, parenttype: str, flag: str, link_doctype: str, link_name: str,
            eligible: sa.ColumnElement[bool] | None = None, exclude: str | None = None) -> str | None:
    """Give ``flag`` to the most recently modified remaining contact/address of the party."""
    t = _links_table(ctx)
    parent = ctx.site.table(parenttype)
    cond = _party_rows(ctx, parenttype, link_doctype, link_name)
    if eligible is not None:
        cond = sa.and_(cond, eligible)
    if exclude is not None:
        cond = sa.and_(cond, t.c.parent != exclude)
    query = (sa.select(t.c.name, t.c.parent).join(parent, parent.c.name == t.c.parent).where(cond)
             .order_by(parent.c.modified.desc(), parent.c.name.desc()).limit(1))
    row = ctx.conn.execute(query).first()
    if row is None:
        return None
    ctx.conn.execute(sa.update(t).where(t.c.name == row.name).values({flag: 1}))
    return row.parent


def _before_links(doc: Any) -> dict[tuple[str, str], Any]:
    before = doc.get_doc_before_save()
    if before is None:
        return {}
    return {(r.link_doctype, r.link_name): r for r in before.links or []}


# ------------------------------------------------------------------ contacts
def contact_before_save(doc: Any, ctx: Any) -> None:
    """The first contact linked to a party becomes its primary contact."""
    before = _before_links(doc)
    for row in doc.links or []:
        old = before.get((row.link_doctype, row.link_name))
        if row.is_primary_contact or (old is not None and old.is_primary_contact):
            continue  # already primary, or the user just took the flag off (on_update finds a successor)
        if not flag_holder(ctx, "Contact", CONTACT_FLAG, row.link_doctype, row.link_name, exclude=doc.name):
            row.is_primary_contact = 1


def contact_on_update(doc: Any, ctx: Any) -> None:
    """One primary per party: a new primary clears the old; an unlinked/unset primary is replaced."""
    current = {(r.link_doctype, r.link_name): r for r in doc.links or []}
    for (link_doctype, link_name), row in current.items():
        if row.is_primary_contact:
            clear_flag_of_others(ctx, "Contact", CONTACT_FLAG, link_doctype, link_name, keep=doc.name)
    for key, old in _before_links(doc).items():
        if not old.is_primary_contact:
            continue
        row = current.get(key)
        if row is None or not row.is_primary_contact:  # unlinked, or the flag was taken off
            if flag_holder(ctx, "Contact", CONTACT_FLAG, *key):
                continue
            if not promote(ctx, "Contact", CONTACT_FLAG, *key, exclude=doc.name) and row is not None:
                promote(ctx, "Contact", CONTACT_FLAG, *key)  # the party's only contact stays primary


def contact_after_delete(doc: Any, ctx: Any) -> None:
    for row in doc.links or []:
        if row.is_primary_contact and not flag_holder(ctx, "Contact", CONTACT_FLAG, row.link_doctype,
                                                      row.link_name):
            promote(ctx, "Contact", CONTACT_FLAG, row.link_doctype, row.link_name)


# ----------------------------------------------------------------- addresses
def _eligible_sql(ctx: Any, purpose: str) -> sa.ColumnElement[bool]:
    """Addresses that become a party's default for ``purpose`` by themselves."""
    a = ctx.site.table("Address")
    address_type, site = ("Billing", "Bill-To") if purpose == "billing" else ("Shipping", "Ship-To")
    return sa.or_(a.c.address_type == address_type, a.c.site_purpose.in_([site, "Bill-To and Ship-To"]))


def eligible(doc: Any, purpose: str) -> bool:
    address_type, site = ("Billing", "Bill-To") if purpose == "billing" else ("Shipping", "Ship-To")
    return doc.address_type == address_type or doc.site_purpose in (site, "Bill-To and Ship-To")


def allowed(doc: Any, purpose: str) -> bool:
    """A Ship-To-only site cannot be the default billing address, and a Bill-To-only site not shipping."""
    return doc.site_purpose != ("Ship-To" if purpose == "billing" else "Bill-To")


def address_validate(doc: Any, ctx: Any) -> None:
    errors: list[FieldError] = []
    for row in doc.links or []:
        for purpose, flag in ADDRESS_FLAGS.items():
            if row.get(flag) and not allowed(doc, purpose):
                label = "Is Default Billing Address" if purpose == "billing" else "Is Default Shipping Address"
                errors.append(FieldError(
                    "Address", flag, label,
                    f"Address: row {row.idx} of Links: {label} cannot be set for {row.link_doctype} "
                    f"{row.link_name!r}: a site with Site Purpose {doc.site_purpose!r} cannot be the default "
                    f"{purpose} address", doc.site_purpose, row.idx))
    if errors:
        raise ValidationError.from_errors(errors)
    _check_site_number(doc, ctx)


def _check_site_number(doc: Any, ctx: Any) -> None:
    """site_number is unique among the addresses of each linked customer (case-insensitive)."""
    if not doc.site_number:
        return
    t, a = _links_table(ctx), ctx.site.table("Address")
    for row in doc.links or []:
        if row.link_doctype != "Customer":
            continue
        query = (sa.select(a.c.name).join(t, t.c.parent == a.c.name)
                 .where(_party_rows(ctx, "Address", "Customer", row.link_name),
                        sa.func.lower(a.c.site_number) == doc.site_number.lower(),
                        a.c.name != (doc.name or ""))
                 .limit(1))
        other = ctx.conn.execute(query).scalar()
        if other:
            _fail("Address", "site_number", "Site Number",
                  f"Address: Site Number {doc.site_number!r} is already used by address {other!r} of customer "
                  f"{row.link_name!r}; site numbers are unique per customer", doc.site_number)


def address_before_save(doc: Any, ctx: Any) -> None:
    """An eligible address becomes the party's default billing/shipping address when it has none."""
    before = _before_links(doc)
    for row in doc.links or []:
        old = before.get((row.link_doctype, row.link_name))
        for purpose, flag in ADDRESS_FLAGS.items():
            if row.get(flag) or not eligible(doc, purpose) or not allowed(doc, purpose):
                continue
            if old is not None and old.get(flag):
                continue  # the user just took the flag off
            if not flag_holder(ctx, "Address", flag, row.link_doctype, row.link_name, exclude=doc.name):
                row.set(flag, 1)


def address_on_update(doc: Any, ctx: Any) -> None:
    current = {(r.link_doctype, r.link_name): r for r in doc.links or []}
    before = _before_links(doc)
    for purpose, flag in ADDRESS_FLAGS.items():
        for key, row in current.items():
            if row.get(flag):
                clear_flag_of_others(ctx, "Address", flag, *key, keep=doc.name)
        for key, old in before.items():
            row = current.get(key)
            if old.get(flag) and (row is None or not row.get(flag)) and not flag_holder(ctx, "Address", flag, *key):
                promote(ctx, "Address", flag, *key, eligible=_eligible_sql(ctx, purpose), exclude=doc.name)


def address_after_delete(doc: Any, ctx: Any) -> None:
    for row in doc.links or []:
        for purpose, flag in ADDRESS_FLAGS.items():
            if row.get(flag) and not flag_holder(ctx, "Address", flag, row.link_doctype, row.link_name):
                promote(ctx, "Address", flag, row.link_doctype, row.link_name, eligible=_eligible_sql(ctx, purpose))


# ------------------------------------------------------------ public lookups
def primary_contact(ctx: Any, doctype: str, name: str) -> str | None:
    """The party's primary contact, or None."""
    return flag_holder(ctx, "Contact", CONTACT_FLAG, doctype, name)


def default_address(ctx: Any, doctype: str, name: str, purpose: str) -> str | None:
    """The party's default ``purpose`` ("billing" or "shipping") address, or None."""
    if purpose not in ADDRESS_FLAGS:
        raise ValueError(f"purpose must be 'billing' or 'shipping', not {purpose!r}")
    return flag_holder(ctx, "Address", ADDRESS_FLAGS[purpose], doctype, name)


def contacts_of(ctx: Any, doctype: str, name: str) -> list[str]:
    """Every contact linked to the party, primary first."""
    t = _links_table(ctx)
    query = (sa.select(t.c.parent).where(_party_rows(ctx, "Contact", doctype, name))
             .order_by(t.c.is_primary_contact.desc(), t.c.parent))
    return list(ctx.conn.execute(query).scalars())


def customers_for_user(ctx: Any, user: str) -> list[str]:
    """Customers linked from the contacts whose User is ``user`` (the portal user's customers)."""
    rows = ctx.get_list("Contact", fields=["links.link_doctype as link_doctype", "links.link_name as link_name"],
                        filters={"user": user})
    return sorted({r["link_name"] for r in rows if r["link_doctype"] == "Customer"})


def contact_persons(ctx: Any, company_customer: str) -> list[str]:
    """Individual customers who work at the Company customer (listed on its card, selectable as contact)."""
    return ctx.get_list("Customer", filters={"works_at": company_customer, "customer_type": "Individual"},
                        order_by="name asc", pluck="name")


# ----------------------------------------------------------- party changes
def unlink_party(ctx: Any, doctype: str, name: str) -> None:
    """Before a party is deleted: drop its link rows from contacts and addresses.

    As in ERPNext, a contact or address left linked to nothing is deleted with the
    party; one still linked elsewhere is saved without the row (its primary/default
    flags move as usual). All in the deleting transaction.
    """
    key = name.lower()
    for parent_doctype in ("Contact", "Address"):
        linked = ctx.get_list(parent_doctype, ["name"], [
            ["Dynamic Link", "link_doctype", "=", doctype], ["Dynamic Link", "link_name", "=", name],
        ], pluck="name")
        for parent_name in linked:
            parent = ctx.get_doc(parent_doctype, parent_name)
            keep = [r for r in parent.links if not (r.link_doctype == doctype and (r.link_name or "").lower() == key)]
            if keep:
                parent.links = keep
                parent.save()
            else:
                parent.delete()


def party_updated(doc: Any, ctx: Any) -> None:
    """Party on_update: when its name (title) changed, contacts and addresses show the new one."""
    before = doc.get_doc_before_save()
    title_field = PARTY_TITLE_FIELD[doc.doctype]
    if before is not None and before.get(title_field) != doc.get(title_field):
        refresh_link_titles(ctx, doc.doctype, doc.name, doc.get(title_field))


def refresh_link_titles(ctx: Any, doctype: str, name: str, title: str | None) -> None:
    """Keep the ``link_title`` shown on contacts and addresses in step with the party's name."""
    t = ctx.site.table("Dynamic Link")
    ctx.conn.execute(
        t.update().where(t.c.link_doctype == doctype, t.c.link_name == name, t.c.link_title != title)
        .values(link_title=title)
    )
