"""The customer list's data as a Django developer models it: groups, territories, customers, their contacts."""

from __future__ import annotations

from django.db import models


class CustomerGroup(models.Model):
    name = models.CharField(max_length=140, primary_key=True)
    is_group = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.name


class Territory(models.Model):
    name = models.CharField(max_length=140, primary_key=True)

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    name = models.CharField(max_length=140, primary_key=True)
    customer_name = models.CharField(max_length=140)
    customer_type = models.CharField(max_length=20, choices=[("Company", "Company"), ("Individual", "Individual")])
    # Like docframe's in_filter Links (issue 12): one (link, modified) index each, not the FK's own.
    customer_group = models.ForeignKey(CustomerGroup, on_delete=models.PROTECT, db_index=False)
    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, db_index=False)
    notes = models.TextField(blank=True, default="")
    modified = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [models.Index(fields=["customer_group", "modified"]), models.Index(fields=["territory", "modified"])]

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    first_name = models.CharField(max_length=140)
    last_name = models.CharField(max_length=140, blank=True, default="")
    email_id = models.EmailField(blank=True, default="")
    is_primary_contact = models.BooleanField(default=False)


class Account(models.Model):
    """A ledger account, as the import benchmark's Django side writes one per customer."""

    name = models.CharField(max_length=140, primary_key=True)
    account_name = models.CharField(max_length=140)
    company = models.CharField(max_length=140)
    parent_account = models.CharField(max_length=140)
    account_type = models.CharField(max_length=40, blank=True, default="")
