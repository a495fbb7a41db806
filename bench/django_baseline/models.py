"""Models with the same fields as the bench doctypes (ForeignKey for each Link).

The ID is a CharField primary key named like docframe's; a functional unique
constraint on Lower("name") makes IDs case-insensitively unique as in docframe,
and full_clean() checks it. Validators mirror docframe's field checks (email,
phone, non-negative currency, select options).
"""

from decimal import Decimal
from typing import Any

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Lower

PHONE = RegexValidator(r"^\+?[0-9 ().\-/]{3,30}$", "Enter a valid phone number.")


class Standard(models.Model):
    """docframe's standard columns."""

    owner = models.CharField(max_length=140, blank=True, null=True)
    creation = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True, db_index=True)
    modified_by = models.CharField(max_length=140, blank=True, null=True)
    docstatus = models.SmallIntegerField(default=0)

    class Meta:
        abstract = True


class Territory(Standard):
    name = models.CharField(max_length=140, primary_key=True)
    territory_name = models.CharField(max_length=140)


class CustomerGroup(Standard):
    name = models.CharField(max_length=140, primary_key=True)
    customer_group_name = models.CharField(max_length=140)


class Currency(Standard):
    name = models.CharField(max_length=140, primary_key=True)
    currency_code = models.CharField(max_length=3)


class Customer(Standard):
    name = models.CharField(max_length=140, primary_key=True)
    customer_name = models.CharField(max_length=140)
    customer_type = models.CharField(max_length=140, default="Company",
                                     choices=[("Company", "Company"), ("Individual", "Individual")])
    # Like docframe's in_filter Links: one (link, modified) index each instead of the FK's own.
    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, null=True, blank=True, db_index=False)
    customer_group = models.ForeignKey(CustomerGroup, on_delete=models.PROTECT, null=True, blank=True,
                                       db_index=False)
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, null=True, blank=True)
    email = models.EmailField(max_length=140, blank=True, null=True)
    phone = models.CharField(max_length=140, blank=True, null=True, validators=[PHONE])
    credit_limit = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True,
                                       validators=[MinValueValidator(Decimal(0))])
    disabled = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(Lower("name"), name="customer_name_ci")]
        indexes = [models.Index(fields=["territory", "modified"]), models.Index(fields=["customer_group", "modified"])]


class Contact(Standard):
    parent = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    idx = models.IntegerField(default=0)
    contact_name = models.CharField(max_length=140)
    email = models.EmailField(max_length=140, blank=True, null=True)
    phone = models.CharField(max_length=140, blank=True, null=True, validators=[PHONE])
    is_primary = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["parent", "idx"])]


class Account(Standard):
    name = models.CharField(max_length=140, primary_key=True)
    account_name = models.CharField(max_length=140)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT)
    account_type = models.CharField(max_length=140, default="Receivable",
                                    choices=[("Receivable", "Receivable"), ("Payable", "Payable")])


class NamingCounter(models.Model):
    """Duplicate-name suffix counters (Name-1, Name-2...), like docframe's."""

    key = models.CharField(max_length=210, primary_key=True)
    current = models.BigIntegerField(default=0)


class ExactDecimalField(models.Field):
    """Reads docframe's Currency column: scaled integers on SQLite, NUMERIC on servers."""

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Decimal | None:
        if value is None or isinstance(value, Decimal):
            return value
        return (Decimal(int(value)) / Decimal(10) ** 6).quantize(Decimal("0.000001"))


class ListCustomer(models.Model):
    """docframe's own list table (unmanaged), read for the list query: its indexes are docframe's."""

    name = models.CharField(max_length=140, primary_key=True)
    customer_name = models.CharField(max_length=140)
    territory = models.CharField(max_length=140)
    customer_group = models.CharField(max_length=140)
    currency = models.CharField(max_length=140)
    credit_limit = ExactDecimalField()
    disabled = models.SmallIntegerField()
    modified = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "tab_bench_customer"
