"""ModelAdmins as the Django docs show them: the same columns and filter as docframe's customer list."""

from __future__ import annotations

from django.contrib import admin

from bench.django_admin.models import Contact, Customer


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("name", "customer_type", "customer_name", "customer_group", "territory")
    list_filter = ("customer_group",)
    search_fields = ("name", "customer_name")
    ordering = ("-modified",)
    list_per_page = 20
    inlines = [ContactInline]
