"""The Django side of the benchmark: insert, get and list as a Django developer writes them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connections, transaction
from django.db.models import F

from bench import workload
from bench.django_baseline.models import (
    Account,
    Contact,
    Currency,
    Customer,
    CustomerGroup,
    ListCustomer,
    NamingCounter,
    Territory,
)
from bench.django_baseline.settings import Router

MODELS = (Territory, CustomerGroup, Currency, Customer, Contact, Account, NamingCounter)


class DjangoSide:
    name = "django"

    def __init__(self, alias: str):
        self.alias = alias
        Router.alias = alias
        with connections[alias].schema_editor() as editor:
            for model in MODELS:
                editor.create_model(model)
        now = dt.datetime.now()
        std = {"owner": workload.USER, "modified_by": workload.USER, "creation": now, "modified": now}
        Territory.objects.using(alias).bulk_create(
            Territory(name=t, territory_name=t, **std) for t in workload.TERRITORIES)
        CustomerGroup.objects.using(alias).bulk_create(
            CustomerGroup(name=g, customer_group_name=g, **std) for g in workload.GROUPS)
        Currency.objects.using(alias).bulk_create(
            Currency(name=c, currency_code=c, **std) for c in workload.CURRENCIES)
        self.names: list[str] = []
        self.queries: list[str] = []

    def _next_suffix(self, base: str) -> int:
        key = f"Bench Customer::{base.lower()}"
        counters = NamingCounter.objects.using(self.alias)
        if not counters.filter(key=key).update(current=F("current") + 1):
            counters.create(key=key, current=1)
            return 1
        return counters.get(key=key).current

    def insert(self, v: dict[str, Any]) -> str:
        alias = self.alias
        with transaction.atomic(using=alias):
            base = v["customer_name"]
            name = base
            if Customer.objects.using(alias).filter(name__lower=base.lower()).exists():
                name = f"{base}{workload.SUFFIX_SEPARATOR}{self._next_suffix(base)}"
            customer = Customer(
                name=name, customer_name=base, customer_type=v["customer_type"], territory_id=v.get("territory"),
                customer_group_id=v.get("customer_group"), currency_id=v.get("currency"), email=v["email"],
                phone=v["phone"], credit_limit=v["credit_limit"], disabled=bool(v["disabled"]),
                owner=workload.USER, modified_by=workload.USER,
            )
            customer._state.db = alias
            customer.full_clean()
            customer.save(using=alias, force_insert=True)  # post_save creates the account
            for idx, row in enumerate(v["contacts"], 1):
                contact = Contact(parent=customer, idx=idx, owner=workload.USER, modified_by=workload.USER,
                                  contact_name=row["contact_name"], email=row["email"], phone=row["phone"],
                                  is_primary=bool(row["is_primary"]))
                contact._state.db = alias
                contact.full_clean(exclude=["parent"])  # as an inline formset does
                contact.save(using=alias)
        self.names.append(name)
        return name

    def get(self, name: str) -> tuple[Customer, list[Contact]]:
        customer = Customer.objects.using(self.alias).get(pk=name)
        return customer, list(customer.contacts.order_by("idx"))

    def list(self, filters: dict[str, Any]) -> list[dict[str, Any]]:
        qs = (ListCustomer.objects.using(f"{self.alias}_list").filter(**filters)
              .order_by("-modified").values(*workload.LIST_FIELDS))
        return list(qs[: workload.LIST_LIMIT])

    def count_insert(self, values: dict[str, Any]) -> list[str]:
        with statement_kinds(self.alias) as seen:
            self.insert(values)
        return seen

    def close(self) -> None:
        connections[self.alias].close()
        connections[f"{self.alias}_list"].close()


@contextmanager
def statement_kinds(alias: str) -> Iterator[list[str]]:
    """The kind (INSERT, SELECT, ...) of every statement Django sends on ``alias`` in the block."""
    seen: list[str] = []

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        kind = sql.split(None, 1)[0].upper()
        if kind != "BEGIN":
            seen.append(kind)
        return execute(sql, params, many, context)

    with connections[alias].execute_wrapper(wrapper):
        yield seen
