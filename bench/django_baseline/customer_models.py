"""Django models of the customer master benchmark (issue 3): the bundled app's Customer as Django writes it.

Same fields as ``doctypes/customer.yaml`` and its child doctypes; a ForeignKey for each
Link, child tables as models with a ``parent`` ForeignKey, the ledger Account as a tree
by ``parent_account``. ``clean()`` holds the checks docframe's hooks make (a customer
group must not be a group node; an account's parent belongs to the same company). A
``post_save`` receiver creates the customer's receivable Account "<ID> - ABBR" and its
per-company account row, like the app's Customer hooks. Imported after ``django.setup()``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.db.models.signals import post_save
from django.dispatch import receiver

from bench.django_baseline.models import Standard

LABEL = "django_baseline"
NON_NEGATIVE = [MinValueValidator(Decimal(0))]


def _choices(*values: str) -> list[tuple[str, str]]:
    return [(v, v) for v in values]


class CmCurrency(Standard):
    name = models.CharField(max_length=140, primary_key=True)
    currency_name = models.CharField(max_length=140, blank=True, null=True)
    symbol = models.CharField(max_length=140, blank=True, null=True)
    enabled = models.BooleanField(default=True)
    fraction_units = models.IntegerField(default=100)

    class Meta:
        app_label = LABEL


class CmCustomerGroup(Standard):
    name = models.CharField(max_length=140, primary_key=True)
    customer_group_name = models.CharField(max_length=140, unique=True)
    parent_customer_group = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True)
    is_group = models.BooleanField(default=False)

    class Meta:
        app_label = LABEL


class CmTerritory(Standard):
    name = models.CharField(max_length=140, primary_key=True)
    territory_name = models.CharField(max_length=140, unique=True)
    parent_territory = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True)
    is_group = models.BooleanField(default=False)

    class Meta:
        app_label = LABEL


class CmPriceList(Standard):
    name = models.CharField(max_length=140, primary_key=True)
    price_list_name = models.CharField(max_length=140, unique=True)
    currency = models.ForeignKey(CmCurrency, on_delete=models.PROTECT, null=True, blank=True)
    selling = models.BooleanField(default=True)
    buying = models.BooleanField(default=False)
    enabled = models.BooleanField(default=True)

    class Meta:
        app_label = LABEL


class CmCompany(Standard):
    name = models.CharField(max_length=140, primary_key=True)
    company_name = models.CharField(max_length=140)
    abbr = models.CharField(max_length=10, unique=True)
    default_currency = models.ForeignKey(CmCurrency, on_delete=models.PROTECT)
    country = models.CharField(max_length=140, blank=True, null=True)
    receivables_group = models.ForeignKey("CmAccount", on_delete=models.PROTECT, null=True, blank=True,
                                          related_name="+")
    default_cash_account = models.ForeignKey("CmAccount", on_delete=models.PROTECT, null=True, blank=True,
                                             related_name="+")
    credit_limit = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True,
                                       validators=NON_NEGATIVE)
    require_customer_association = models.BooleanField(default=False)

    class Meta:
        app_label = LABEL


class CmAccount(Standard):
    name = models.CharField(max_length=140, primary_key=True)
    account_name = models.CharField(max_length=140)
    company = models.ForeignKey(CmCompany, on_delete=models.PROTECT)
    company_abbr = models.CharField(max_length=10, blank=True, null=True)
    parent_account = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True)
    is_group = models.BooleanField(default=False)
    root_type = models.CharField(max_length=140, blank=True, null=True,
                                 choices=_choices("Asset", "Liability", "Equity", "Income", "Expense"))
    account_type = models.CharField(max_length=140, blank=True, default="", choices=_choices(
        "", "Receivable", "Payable", "Cash", "Bank", "Income Account", "Expense Account", "Tax"))
    account_currency = models.ForeignKey(CmCurrency, on_delete=models.PROTECT, null=True, blank=True)
    party_type = models.CharField(max_length=140, blank=True, null=True)
    party = models.CharField(max_length=140, blank=True, null=True)

    class Meta:
        app_label = LABEL
        indexes = [models.Index(fields=["party_type", "party"])]

    def clean(self) -> None:
        if self.parent_account_id:
            parent = CmAccount.objects.using(self._state.db).only("company").get(pk=self.parent_account_id)
            if parent.company_id != self.company_id:
                raise ValidationError({"parent_account": f"Parent Account {self.parent_account_id!r} belongs to "
                                                         f"company {parent.company_id!r}, not {self.company_id!r}"})


class CmCustomer(Standard):
    name = models.CharField(max_length=140, primary_key=True)
    customer_type = models.CharField(max_length=140, default="Company", choices=_choices("Company", "Individual"))
    customer_name = models.CharField(max_length=140)
    first_name = models.CharField(max_length=140, blank=True, null=True)
    last_name = models.CharField(max_length=140, blank=True, null=True)
    legal_form = models.CharField(max_length=140, blank=True, null=True,
                                  choices=_choices("", "LLC", "PLC", "Ltd", "GmbH", "AG", "SA", "Inc"))
    customer_number = models.CharField(max_length=40, unique=True, blank=True, null=True)
    alternate_name = models.CharField(max_length=140, blank=True, null=True)
    works_at = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True)
    customer_group = models.ForeignKey(CmCustomerGroup, on_delete=models.PROTECT, null=True, blank=True)
    territory = models.ForeignKey(CmTerritory, on_delete=models.PROTECT, null=True, blank=True)
    customer_manager = models.CharField(max_length=140, blank=True, null=True)
    field_of_activity = models.CharField(max_length=140, blank=True, null=True)
    country = models.CharField(max_length=140, blank=True, null=True)
    customer_category = models.CharField(max_length=140, blank=True, null=True, choices=_choices(
        "", "End Customer", "Trade Customer", "Consumer", "Distributor", "Reseller"))
    relationship_type = models.CharField(max_length=140, blank=True, null=True, choices=_choices(
        "", "External", "Internal", "International", "VMI", "One-time"))
    disabled = models.BooleanField(default=False)
    company = models.ForeignKey(CmCompany, on_delete=models.PROTECT, null=True, blank=True)
    is_anonymous_pos = models.BooleanField(default=False)
    disable_balance = models.BooleanField(default=False)
    default_currency = models.ForeignKey(CmCurrency, on_delete=models.PROTECT, null=True, blank=True)
    payment_terms = models.CharField(max_length=140, blank=True, null=True)
    payment_deadline = models.CharField(max_length=140, blank=True, null=True,
                                        choices=_choices("", "Fixed days", "Last day of next month"))
    credit_days = models.IntegerField(blank=True, null=True, validators=[MinValueValidator(0)])
    tax_id = models.CharField(max_length=40, blank=True, null=True)
    default_sales_partner = models.CharField(max_length=140, blank=True, null=True)
    notes = models.TextField(blank=True, null=True)

    class Meta:
        app_label = LABEL
        constraints = [models.UniqueConstraint(Lower("name"), name="cm_customer_name_ci")]

    def clean(self) -> None:
        if self.customer_group_id and self.customer_group.is_group:
            raise ValidationError({"customer_group": f"Customer Group {self.customer_group_id!r} is a group node"})


class Child(Standard):
    idx = models.IntegerField(default=0)

    class Meta:
        abstract = True


class CmCustomerCompanyAccount(Child):
    parent = models.ForeignKey(CmCustomer, on_delete=models.CASCADE, related_name="accounts")
    company = models.ForeignKey(CmCompany, on_delete=models.PROTECT)
    account = models.ForeignKey(CmAccount, on_delete=models.PROTECT, null=True, blank=True)
    cash_account = models.ForeignKey(CmAccount, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    remit_to_address = models.CharField(max_length=140, blank=True, null=True)
    receipt_bank = models.CharField(max_length=140, blank=True, null=True)

    class Meta:
        app_label = LABEL


class CmCustomerCreditLimit(Child):
    parent = models.ForeignKey(CmCustomer, on_delete=models.CASCADE, related_name="credit_limits")
    company = models.ForeignKey(CmCompany, on_delete=models.PROTECT)
    credit_limit = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True,
                                       validators=NON_NEGATIVE)
    bypass_credit_limit_check = models.BooleanField(default=False)

    class Meta:
        app_label = LABEL


class CmCustomerPriceList(Child):
    parent = models.ForeignKey(CmCustomer, on_delete=models.CASCADE, related_name="price_lists")
    price_list = models.ForeignKey(CmPriceList, on_delete=models.PROTECT)

    class Meta:
        app_label = LABEL


class CmVersion(Standard):
    """A change record per save (docframe's track_changes): who, when, the diff as JSON."""

    ref_doctype = models.CharField(max_length=140)
    docname = models.CharField(max_length=140)
    data = models.JSONField()

    class Meta:
        app_label = LABEL
        indexes = [models.Index(fields=["ref_doctype", "docname"])]


class CmNamingCounter(models.Model):
    """Duplicate-name suffix counters (Name-1, Name-2...), like docframe's."""

    key = models.CharField(max_length=210, primary_key=True)
    current = models.BigIntegerField(default=0)

    class Meta:
        app_label = LABEL


MODELS = (CmCurrency, CmCustomerGroup, CmTerritory, CmPriceList, CmAccount, CmCompany, CmCustomer,
          CmCustomerCompanyAccount, CmCustomerCreditLimit, CmCustomerPriceList, CmVersion, CmNamingCounter)


@receiver(post_save, sender=CmCustomer)
def create_receivable_account(sender: type[CmCustomer], instance: CmCustomer, created: bool, using: str,
                              **kwargs: Any) -> None:
    """A new customer with a company gets "<ID> - ABBR" under the company's receivables group and its account row."""
    if not created or not instance.company_id:
        return
    company = CmCompany.objects.using(using).only("abbr", "receivables_group", "default_currency").get(
        pk=instance.company_id)
    if not company.receivables_group_id:
        raise ValidationError({"company": f"Company {company.pk!r} has no Receivables Group"})
    std = {"owner": instance.owner, "modified_by": instance.modified_by}
    account = CmAccount(name=f"{instance.name} - {company.abbr}", account_name=instance.name, company_id=company.pk,
                        company_abbr=company.abbr, parent_account_id=company.receivables_group_id, is_group=False,
                        root_type="Asset", account_type="Receivable", account_currency_id=company.default_currency_id,
                        party_type="Customer", party=instance.name, **std)
    account._state.db = using
    account.full_clean()
    account.save(using=using, force_insert=True)
    row = CmCustomerCompanyAccount(parent=instance, idx=1, company_id=company.pk, account=account, **std)
    row._state.db = using
    row.full_clean(exclude=["parent"])
    row.save(using=using)
