"""docframe's engine: YAML doctypes compiled to tables, documents, hooks, queries.

Start with :class:`Site`: ``Site(db_url, app_dir)`` loads an app, ``site.migrate()``
syncs its tables, and ``site.session(user)`` gives the document API.
"""

from engine.document import Document
from engine.errors import (
    DocframeError,
    DoesNotExistError,
    DuplicateEntryError,
    FieldError,
    LinkExistsError,
    LinkValidationError,
    MandatoryError,
    ValidationError,
)
from engine.hookspecs import hookimpl
from engine.lifecycle import LIFECYCLE
from engine.session import Session
from engine.site import Site
from engine.whitelist import whitelist

__all__ = [
    "LIFECYCLE",
    "DocframeError",
    "Document",
    "DoesNotExistError",
    "DuplicateEntryError",
    "FieldError",
    "LinkExistsError",
    "LinkValidationError",
    "MandatoryError",
    "Session",
    "Site",
    "ValidationError",
    "hookimpl",
    "whitelist",
]
