"""Documents: one record of a doctype with its child rows, and its write methods.

A Document is a thin, attribute-style view over a dict of values. Writes go
through :mod:`engine.documents.lifecycle`, which is the only path that changes rows.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from engine.errors import FieldError, InvalidValueError
from engine.metadata.doctype import CHILD_COLUMNS, STANDARD_COLUMNS, TREE_PATH_COLUMN, DocType
from engine.rules.validation import PASSWORD_MASK, comparable, verify_password
from engine.storage.unit import Flags, UnitOfWork

_SLOTS = frozenset({"_data", "meta", "_session", "_before", "flags", "parent_doc"})
_KNOWN_EXTRA = frozenset(STANDARD_COLUMNS + CHILD_COLUMNS + (TREE_PATH_COLUMN,))


class DocumentSession(UnitOfWork, ABC):
    """The unit of work a Document is bound to, as this layer calls back into it.

    :class:`engine.site.session.Session` implements it: a document's write methods and
    the lifecycle steps reach the permission-checked document API and the app's hooks
    through these methods, without importing the layer above.
    """

    @abstractmethod
    def run_lifecycle(self, op: str, doc: Document) -> None:
        """Run operation ``op`` (a key of ``LIFECYCLE``) on ``doc`` in one transaction."""

    @abstractmethod
    def get_doc(self, doctype: str, name: Any, *, for_update: bool = False) -> Document:
        """Load a document and its child rows."""

    @abstractmethod
    def hook_caller(self, doctype: str, event: str) -> Callable[..., Any] | None:
        """The app's hook caller for ``event`` on ``doctype``, or None when no hook implements it."""

    @abstractmethod
    def batch_hook_callers(self, doctype: str, event: str) -> tuple[Callable[..., Any] | None,
                                                                     Callable[..., Any] | None]:
        """For a batch insert: (``event`` of the modules without ``<event>_many``, ``<event>_many``)."""


class Document:
    """A record of a doctype. Field values are attributes: ``doc.customer_name``."""

    __slots__ = ("_before", "_data", "_session", "flags", "meta", "parent_doc")

    def __init__(self, meta: DocType, data: Mapping[str, Any] | None = None,
                 session: DocumentSession | None = None, parent_doc: Document | None = None):
        object.__setattr__(self, "meta", meta)
        object.__setattr__(self, "_session", session)
        object.__setattr__(self, "_data", {})
        object.__setattr__(self, "_before", None)
        object.__setattr__(self, "flags", Flags())
        object.__setattr__(self, "parent_doc", parent_doc)
        if data:
            self.update(data)

    # ------------------------------------------------------------ values
    @property
    def doctype(self) -> str:
        return self.meta.name

    def __getattr__(self, key: str) -> Any:
        data = object.__getattribute__(self, "_data")
        try:
            return data[key]
        except KeyError:
            meta = object.__getattribute__(self, "meta")
            if key in meta.fields_by_name:
                return [] if meta.fields_by_name[key].type == "Table" else None
            if key in _KNOWN_EXTRA:
                return None
            raise AttributeError(f"{meta.name} has no field {key!r}") from None

    def __setattr__(self, key: str, value: Any) -> None:
        if key in _SLOTS:
            object.__setattr__(self, key, value)
        else:
            self.set(key, value)

    def get(self, key: str, default: Any = None) -> Any:
        """A field's value, or ``default`` when unset or None (a Table field gives [] then)."""
        value = self._data.get(key)
        if value is not None:
            return value
        if default is None:
            f = self.meta.fields_by_name.get(key)
            if f is not None and f.type == "Table":
                return []
        return default

    def set(self, key: str, value: Any) -> None:
        if key == "doctype":
            if value not in (None, self.meta.name):
                raise InvalidValueError(f"{self.meta.name}: 'doctype' is {value!r}, expected {self.meta.name!r}")
            return
        f = self.meta.fields_by_name.get(key)
        if f is not None and f.type == "Table":
            if value is not None and not isinstance(value, (list, tuple)):
                raise InvalidValueError(
                    f"{self.meta.name}: {f.label} must be a list of rows, not {type(value).__name__}",
                    [FieldError(self.meta.name, key, f.label,
                                f"{self.meta.name}: {f.label} must be a list of rows", value, None,
                                InvalidValueError)],
                )
            rows = list(value or ())
            self._data[key] = []
            for row in rows:
                self.append(key, row)
            return
        self._data[key] = value

    def update(self, values: Mapping[str, Any]) -> Document:
        if not isinstance(values, Mapping):
            raise InvalidValueError(
                f"{self.meta.name}: values must be an object of fields, not {type(values).__name__}"
            )
        for key, value in values.items():
            if isinstance(key, str) and key.startswith("__"):  # a client's own state (Frappe's __islocal, ...)
                continue
            self.set(key, value)
        return self

    def append(self, tablefield: str, row: Mapping[str, Any] | Document | None = None) -> Document:
        """Add a child row to a Table field and return it."""
        f = self.meta.fields_by_name.get(tablefield)
        if f is None or f.type != "Table":
            raise InvalidValueError(f"{self.meta.name} has no table field {tablefield!r}", [])
        child_meta = self._child_meta(f.options)  # type: ignore[arg-type]
        if isinstance(row, Document):
            child = row
            object.__setattr__(child, "parent_doc", self)
        elif row is None or isinstance(row, Mapping):
            child = Document(child_meta, None, self._session, self)
            if row:
                child.update(row)
        else:
            raise InvalidValueError(
                f"{self.meta.name}: rows of {f.label} must be objects, not {type(row).__name__}",
                [FieldError(self.meta.name, tablefield, f.label,
                            f"{self.meta.name}: rows of {f.label} must be objects", row, None, InvalidValueError)],
            )
        rows = self._data.setdefault(tablefield, [])
        child._data["parentfield"] = tablefield
        child._data["parenttype"] = self.meta.name
        rows.append(child)
        child._data["idx"] = len(rows)
        return child

    def _child_meta(self, doctype: str) -> DocType:
        if self._session is None:
            raise RuntimeError("document is not bound to a session")
        return self._session.site.get_meta(doctype)

    def children(self) -> Iterator[tuple[str, list[Document]]]:
        for f in self.meta.table_fields:
            yield f.name, self._data.get(f.name) or []

    def as_dict(self, *, no_password: bool = True) -> dict[str, Any]:
        """Plain dict with every child table as a list of dicts (passwords masked).

        The dict is the caller's: changing it (or its JSON values) leaves the document alone.
        """
        meta = self.meta
        out: dict[str, Any] = {"doctype": meta.name, **self._data}
        tables = meta.table_field_names
        for key, value in out.items():
            if key in tables:
                out[key] = [row.as_dict(no_password=no_password) for row in value or ()]
            elif isinstance(value, (dict, list)):
                out[key] = copy.deepcopy(value)
        for f in meta.table_fields:
            out.setdefault(f.name, [])
        if no_password:
            for name in meta.password_field_names:
                if out.get(name):
                    out[name] = PASSWORD_MASK
        return out

    def check_password(self, fieldname: str, plain: str) -> bool:
        """Whether ``plain`` is the saved value of Password field ``fieldname``."""
        f = self.meta.fields_by_name.get(fieldname)
        if f is None or f.type != "Password":
            raise InvalidValueError(f"{self.meta.name} has no password field {fieldname!r}")
        return verify_password(self._data.get(fieldname), plain)

    def __repr__(self) -> str:
        return f"<{self.meta.name} {self._data.get('name')!r}>"

    def __eq__(self, other: object) -> bool:
        """Same doctype and the same stored values (unset and None alike), rows included."""
        if not isinstance(other, Document) or other.meta is not self.meta:
            return NotImplemented if not isinstance(other, Document) else False
        if any(comparable(self._data.get(c)) != comparable(other._data.get(c)) for c in self.meta.column_names):
            return False
        return all(list(self._data.get(f.name) or ()) == list(other._data.get(f.name) or ())
                   for f in self.meta.table_fields)

    __hash__ = None  # type: ignore[assignment]

    # --------------------------------------------------------- state
    def is_new(self) -> bool:
        return self._before is None

    def get_doc_before_save(self) -> Document | None:
        """The document as it was read, before this save's changes (None when new)."""
        return self._before

    def snapshot(self) -> None:
        """Remember the current state as the saved one (after load or write)."""
        object.__setattr__(self, "_before", self.copy())

    def copy(self) -> Document:
        """A deep copy: rows and JSON values are copies too, rows point at the new parent."""
        return self._copy(None)

    def _copy(self, parent: Document | None) -> Document:
        # Runs for every document read (its snapshot): scalars are shared, only containers are copied.
        clone = Document(self.meta, None, self._session, parent if parent is not None else self.parent_doc)
        data = dict(self._data)
        tables = self.meta.table_field_names
        for key, value in data.items():
            if key in tables:
                data[key] = [row._copy(clone) for row in value or ()]
            elif isinstance(value, (dict, list)):
                data[key] = copy.deepcopy(value)
        object.__setattr__(clone, "_data", data)
        return clone

    def restore_from(self, other: Document, before: Document | None) -> None:
        """Take over ``other``'s values and rows and ``before`` as the saved state."""
        object.__setattr__(self, "_data", other._data)
        object.__setattr__(self, "_before", before)
        for _, rows in self.children():
            for row in rows:
                object.__setattr__(row, "parent_doc", self)

    def __copy__(self) -> Document:
        return self.copy()

    def __deepcopy__(self, memo: dict[int, Any]) -> Document:
        return self.copy()

    # ------------------------------------------------------- writes
    def _bound(self) -> DocumentSession:
        if self._session is None:
            raise RuntimeError("document is not bound to a session; use session.new_doc()")
        return self._session

    def insert(self) -> Document:
        """Insert a new document; with docstatus 1, as Frappe's insert, a submittable one is
        inserted and submitted, in one transaction (on failure it is left as it was given)."""
        session = self._bound()
        if sent_docstatus(self) != 1 or not self.meta.is_submittable:
            session.run_lifecycle("insert", self)
            return self
        pristine = self.copy()
        try:
            with session.atomic():
                self.docstatus = 0
                session.run_lifecycle("insert", self)
                session.run_lifecycle("submit", self)
        except BaseException:
            self.restore_from(pristine, None)
            raise
        return self

    def save(self) -> Document:
        """Insert a new document, or save changes (to allowed fields once submitted).

        As Frappe's save, the docstatus the caller set decides: 1 on a draft submits it
        (with the changes), 2 on a submitted document cancels it.
        """
        if self.is_new():
            return self.insert()
        before = self._before.docstatus if self._before else 0
        sent = sent_docstatus(self)
        if before == 0 and sent == 1:
            op = "submit"
        elif before == 1:
            op = "cancel" if sent == 2 else "update_after_submit"
        else:
            op = "save"
        self._bound().run_lifecycle(op, self)
        return self

    def submit(self) -> Document:
        self._bound().run_lifecycle("submit", self)
        return self

    def cancel(self) -> Document:
        self._bound().run_lifecycle("cancel", self)
        return self

    def delete(self) -> None:
        self._bound().run_lifecycle("delete", self)

    def reload(self) -> Document:
        fresh = self._bound().get_doc(self.doctype, self.name)
        self.restore_from(fresh, fresh._before)
        return self


def sent_docstatus(doc: Document) -> Any:
    """The docstatus as set on ``doc``, a number also when a form sent it as text."""
    value = doc.get("docstatus")
    if isinstance(value, str) and value.strip() in ("0", "1", "2"):
        return int(value)
    return value
