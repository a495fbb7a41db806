"""The one exception hierarchy of docframe.

Every error a caller can cause is a :class:`DocframeError` carrying the HTTP status
the web layer answers with and, for document problems, the list of field errors.
Class names follow Frappe's ``exc_type`` names so Frappe clients recognise them.
Raising never has side effects: nothing is logged or queued when an error is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one field of one document (or child row)."""

    doctype: str
    field: str | None
    label: str | None
    message: str
    value: Any = None
    row: int | None = None  # 1-based child row index when the field is in a child table
    kind: type[DocframeError] | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"doctype": self.doctype, "field": self.field, "label": self.label,
                               "message": self.message}
        if self.row is not None:
            out["row"] = self.row
        return out


class DocframeError(Exception):
    """Base class; ``status`` is the HTTP status the API answers with."""

    status = 500

    def __init__(self, message: str, errors: list[FieldError] | None = None):
        super().__init__(message)
        self.message = message
        self.errors: list[FieldError] = list(errors or [])

    @property
    def exc_type(self) -> str:
        return type(self).__name__


class ValidationError(DocframeError):
    """A document or request is invalid (Frappe answers 417)."""

    status = 417

    @classmethod
    def from_errors(cls, errors: list[FieldError]) -> ValidationError:
        """One exception for all errors of a document.

        The class is the errors' common kind when they share one, so a caller can
        still ``except MandatoryError``; otherwise the plain ValidationError.
        """
        kinds = {e.kind or ValidationError for e in errors}
        exc_cls = kinds.pop() if len(kinds) == 1 else ValidationError
        message = "; ".join(e.message for e in errors)
        return exc_cls(message, errors)


class MandatoryError(ValidationError):
    """A required value is missing."""


class InvalidValueError(ValidationError):
    """Wrong type, bad format, not in the options, too long, negative, ..."""


class LinkValidationError(ValidationError):
    """A Link or Dynamic Link points at a record that does not exist."""


class UpdateAfterSubmitError(ValidationError):
    """A field that is not allowed on submit was changed on a submitted document."""


class CannotChangeConstantError(ValidationError):
    """A set-only-once field was changed after creation."""


class DocstatusTransitionError(ValidationError):
    """An illegal docstatus move (cancel a draft, edit a cancelled document, ...)."""


class LinkExistsError(ValidationError):
    """Deleting a record other documents still link to."""


class NamingError(ValidationError):
    """The document cannot be named by its rule (empty name field, name given where not allowed)."""


class FilterError(ValidationError):
    """A list query names an unknown field or operator, or has a malformed filter."""


class TreeError(ValidationError):
    """A tree rule is broken: a cycle, a child under a leaf, deleting a group with children."""


class ReadOnlyError(ValidationError):
    """A write through a session that reads a replica (a report's); Frappe's ``InReadOnlyMode``."""


class DoesNotExistError(DocframeError):
    status = 404


class DuplicateEntryError(DocframeError):
    """The ID or a unique value is already taken (HTTP 409 as in Frappe)."""

    status = 409


class UniqueValidationError(DuplicateEntryError):
    """A field declared ``unique`` already has this value in another document."""


class TimestampMismatchError(DocframeError):
    """The document changed since it was read (optimistic locking)."""

    status = 409


class PermissionError(DocframeError):
    status = 403


class AuthenticationError(DocframeError):
    status = 401


class ServiceUnavailableError(DocframeError):
    """A service the request needs is down (e.g. the Redis holding rate-limit counters): try again later."""

    status = 503


class RateLimitExceededError(DocframeError):
    """Too many attempts; ``retry_after`` is how many seconds to wait (the HTTP ``Retry-After``)."""

    status = 429

    def __init__(self, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class MetaError(DocframeError):
    """A doctype definition (YAML) is broken. Carries every problem found."""

    status = 500

    def __init__(self, problems: list[MetaProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True, slots=True)
class MetaProblem:
    """One problem in the app's metadata: where it is and what is wrong."""

    file: str
    doctype: str | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = [self.file]
        if self.doctype:
            where.append(f"doctype {self.doctype!r}")
        if self.field:
            where.append(f"field {self.field!r}")
        return f"{': '.join(where)}: {self.message}"


class HookError(DocframeError):
    """The app's hooks folder is broken: unknown hook name, wrong argument, bad module."""

    status = 500


class SchemaSyncError(DocframeError):
    """A migration step would lose data or is not supported."""

    status = 500
