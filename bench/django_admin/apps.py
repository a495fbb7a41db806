from django.apps import AppConfig


class DeskAdminConfig(AppConfig):
    name = "bench.django_admin"
    label = "desk_admin"
    default_auto_field = "django.db.models.BigAutoField"
