"""Documents: one record of a doctype with its child rows, and its write methods.

A Document is a thin, attribute-style view over a dict of values. Writes go
through :mod:`engine.lifecycle`, which is the only path that changes rows.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from engine.errors import InvalidValueError
from engine.meta import CHILD_COLUMNS, STANDARD_COLUMNS, TREE_PATH_COLUMN, DocType

if TYPE_CHECKING:
    from engine.session import Session

_SLOTS = frozenset({"_data", "meta", "_session", "_before", "flags", "parent_doc"})
_KNOWN_EXTRA = frozenset(STANDARD_COLUMNS + CHILD_COLUMNS + (TREE_PATH_COLUMN,))


class Flags(dict):
    """Per-document switches (``doc.flags.name_suffixed``...); missing ones are None."""

    def __getattr__(self, key: str) -> Any:
        return self.get(key)

    def __setattr__(self, key: str, value: Any) -> None:
        self[key] = value


class Document:
    """A record of a doctype. Field values are attributes: ``doc.customer_name``."""

    __slots__ = ("_before", "_data", "_session", "flags", "meta", "parent_doc")

    def __init__(self, meta: DocType, data: Mapping[str, Any] | None = None,
                 session: Session | None = None, parent_doc: Document | None = None):
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
        value = self._data.get(key, default)
        return default if value is None else value

    def set(self, key: str, value: Any) -> None:
        f = self.meta.fields_by_name.get(key)
        if f is not None and f.type == "Table":
            self._data[key] = []
            for row in value or ():
                self.append(key, row)
            return
        self._data[key] = value

    def update(self, values: Mapping[str, Any]) -> Document:
        for key, value in values.items():
            if key == "doctype":
                if value not in (None, self.meta.name):
                    raise InvalidValueError(f"{self.meta.name}: 'doctype' is {value!r}, expected {self.meta.name!r}")
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
                f"{self.meta.name}: rows of {f.label} must be objects, not {type(row).__name__}"
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
        """Plain dict with child tables as lists of dicts (passwords masked)."""
        out: dict[str, Any] = {"doctype": self.meta.name}
        for key, value in self._data.items():
            if isinstance(value, list) and value and isinstance(value[0], Document):
                out[key] = [row.as_dict(no_password=no_password) for row in value]
            else:
                out[key] = value
        if no_password:
            for f in self.meta.data_fields:
                if f.type == "Password" and out.get(f.name):
                    out[f.name] = "*" * 8
        return out

    def __repr__(self) -> str:
        return f"<{self.meta.name} {self._data.get('name')!r}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Document) and other.meta is self.meta and other._data == self._data

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
        clone = Document(self.meta, None, self._session, self.parent_doc)
        data = {}
        for key, value in self._data.items():
            if isinstance(value, list) and value and isinstance(value[0], Document):
                data[key] = [row.copy() for row in value]
            elif isinstance(value, (dict, list)):
                data[key] = copy.deepcopy(value)
            else:
                data[key] = value
        object.__setattr__(clone, "_data", data)
        return clone

    # ------------------------------------------------------- writes
    def _bound(self) -> Session:
        if self._session is None:
            raise RuntimeError("document is not bound to a session; use session.new_doc()")
        return self._session

    def insert(self) -> Document:
        self._bound().run_lifecycle("insert", self)
        return self

    def save(self) -> Document:
        """Insert a new document, or save changes (to allowed fields once submitted)."""
        if self.is_new():
            return self.insert()
        op = "update_after_submit" if (self._before and self._before.docstatus == 1) else "save"
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
        object.__setattr__(self, "_data", fresh._data)
        object.__setattr__(self, "_before", fresh._before)
        for _, rows in self.children():
            for row in rows:
                object.__setattr__(row, "parent_doc", self)
        return self
