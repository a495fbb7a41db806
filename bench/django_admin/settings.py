"""Django configured in-process for the desk benchmark: admin and what it needs, on the given database."""

from __future__ import annotations

from typing import Any

import django
from django.conf import settings


def configure(database: dict[str, Any]) -> None:
    if settings.configured:
        return
    settings.configure(
        DEBUG=False, USE_TZ=False, SECRET_KEY="bench", ALLOWED_HOSTS=["*"],
        DATABASES={"default": database},
        INSTALLED_APPS=["django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
                        "django.contrib.sessions", "django.contrib.messages",
                        "bench.django_admin.apps.DeskAdminConfig"],
        MIDDLEWARE=["django.contrib.sessions.middleware.SessionMiddleware",
                    "django.middleware.common.CommonMiddleware", "django.middleware.csrf.CsrfViewMiddleware",
                    "django.contrib.auth.middleware.AuthenticationMiddleware",
                    "django.contrib.messages.middleware.MessageMiddleware"],
        ROOT_URLCONF="bench.django_admin.urls",
        TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
                    "OPTIONS": {"context_processors": ["django.template.context_processors.request",
                                                       "django.contrib.auth.context_processors.auth",
                                                       "django.contrib.messages.context_processors.messages"]}}],
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],  # set-up speed only
        STATIC_URL="/static/",
    )
    django.setup()
