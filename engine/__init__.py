"""docframe's engine: YAML doctypes compiled to tables, documents, hooks, queries.

Start with :class:`Site`: ``Site(db_url, app_dir)`` loads an app, ``site.migrate()``
syncs its tables, and ``site.session(user)`` gives the document API.
"""

from engine.documents.document import Document
from engine.documents.hookspecs import hookimpl
from engine.documents.lifecycle import LIFECYCLE
from engine.documents.printing import print_format
from engine.documents.reports import Chart, ReportResult, report
from engine.documents.whitelist import whitelist
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
from engine.site.session import Session
from engine.site.site import Site

__all__ = [
    "LIFECYCLE",
    "Chart",
    "DocframeError",
    "Document",
    "DoesNotExistError",
    "DuplicateEntryError",
    "FieldError",
    "LinkExistsError",
    "LinkValidationError",
    "MandatoryError",
    "ReportResult",
    "Session",
    "Site",
    "ValidationError",
    "hookimpl",
    "print_format",
    "report",
    "whitelist",
]
