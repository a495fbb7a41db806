"""The post_save receiver: a new customer gets its receivable account (validated like docframe's)."""

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from bench import workload
from bench.django_baseline.models import Account, Customer


@receiver(post_save, sender=Customer)
def create_account(sender: type[Customer], instance: Customer, created: bool, using: str, **kwargs: Any) -> None:
    if not created:
        return
    name = instance.name + workload.ACCOUNT_SUFFIX
    account = Account(name=name, account_name=name, customer=instance, account_type="Receivable",
                      owner=instance.owner, modified_by=instance.modified_by)
    account._state.db = using
    account.full_clean()
    account.save(using=using, force_insert=True)
