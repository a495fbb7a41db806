"""Django baseline: the same customer flow with Django's ORM, full_clean() and a post_save signal.

Configured standalone in-process by :func:`bench.django_baseline.settings.configure`;
tables are created with the schema editor (no migrations, no project files).
"""
