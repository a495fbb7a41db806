"""The Django app of the baseline: registers the Lower lookup and the post_save signal."""

from django.apps import AppConfig


class BaselineConfig(AppConfig):
    name = "bench.django_baseline"
    label = "django_baseline"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models import CharField
        from django.db.models.functions import Lower

        from bench.django_baseline import signals  # noqa: F401  (connects the receivers)

        CharField.register_lookup(Lower)
