"""Typed, immutable doctype metadata: :class:`DocType`, :class:`Field` and their naming rule.

Built from YAML by :mod:`engine.metadata.loader`; read by every layer above. Nothing
here touches a database or a file.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any

from engine.metadata.fieldtypes import FIELD_TYPES, LINK_TYPES, FieldType

STANDARD_COLUMNS = ("name", "owner", "creation", "modified", "modified_by", "docstatus", "idx")
CHILD_COLUMNS = ("parent", "parenttype", "parentfield")
TREE_PATH_COLUMN = "tree_path"
NAMING_COUNTER_TABLE = "tab_naming_counter"
AUTH_SESSION_TABLE = "tab_auth_session"  # server-side login sessions (engine.web.sessions)
ENGINE_TABLES = frozenset({NAMING_COUNTER_TABLE, AUTH_SESSION_TABLE})
# Attribute names of engine.documents.document.Document: a field with one of these names would be
# shadowed by the method (doc.save is the method, never the field's value).
DOCUMENT_ATTRIBUTES = (
    "insert", "save", "submit", "cancel", "delete", "reload", "get", "set", "update", "append",
    "as_dict", "copy", "children", "snapshot", "is_new", "get_doc_before_save", "check_password",
    "doctype", "meta", "flags", "parent_doc", "restore_from",
)
RESERVED_NAMES = frozenset(
    STANDARD_COLUMNS + CHILD_COLUMNS + (TREE_PATH_COLUMN,) + DOCUMENT_ATTRIBUTES
) | frozenset(keyword.kwlist)
RESERVED_DOCTYPES = frozenset({"DocType"})
DATA_FORMATS = ("Email", "Phone", "URL")
VIRTUAL_DOCTYPES = frozenset({"DocType"})  # Link targets that are metadata, not tables
MAX_FIELD_NAME = 60  # column labels stay within PostgreSQL's 63-character identifiers
ALL_DOCTYPES_HOOKS = "all_doctypes"


def snake(name: str) -> str:
    """'Customer Group' -> 'customer_group' (module and table names)."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def table_name(doctype: str) -> str:
    return "tab_" + snake(doctype)


@dataclass(frozen=True, slots=True)
class Naming:
    rule: str = "hash"
    field: str | None = None
    pattern: str | None = None
    on_duplicate: str = "suffix"
    separator: str = "-"


@dataclass(frozen=True, slots=True)
class RecordRule:
    """Users with one of ``roles`` see only the records for which ``condition`` holds."""

    roles: tuple[str, ...]
    condition: str
    description: str | None = None


@dataclass(frozen=True, slots=True)
class IndexSpec:
    """A database index declared in a doctype's ``indexes``: columns in order, unique or not."""

    fields: tuple[str, ...]
    unique: bool = False


@dataclass(frozen=True)
class Field:
    """One field of a doctype, with its YAML keys and derived facts."""

    name: str
    type: str
    label: str
    options: str | tuple[str, ...] | None = None
    required: bool = False
    unique: bool = False
    default: Any = None
    read_only: bool = False
    hidden: bool = False
    set_only_once: bool = False
    non_negative: bool = False
    length: int | None = None
    precision: int | None = None
    in_list_view: bool = False
    in_filter: bool = False
    index: bool = False
    description: str | None = None
    depends_on: str | None = None
    mandatory_depends_on: str | None = None
    read_only_depends_on: str | None = None
    fetch_from: str | None = None
    allow_on_submit: bool = False
    no_copy: bool = False
    renamed_from: tuple[str, ...] = ()  # earlier names of the field: migrate renames the column

    @cached_property
    def fieldtype(self) -> FieldType:
        return FIELD_TYPES[self.type]

    @property
    def has_column(self) -> bool:
        return self.fieldtype.has_column

    @cached_property
    def select_options(self) -> tuple[str, ...]:
        opts = self.options
        if isinstance(opts, tuple):
            return tuple(str(o) for o in opts)
        if isinstance(opts, str):
            return tuple(o for o in opts.split("\n") if o)
        return ()

    @property
    def link_target(self) -> str | None:
        """Target doctype of a Link / child doctype of a Table."""
        return self.options if self.type in ("Link", "Table") and isinstance(self.options, str) else None


@dataclass(frozen=True)
class DocType:
    """A doctype's metadata. Built once per Site; never mutated (mappings are read-only views)."""

    name: str
    fields: tuple[Field, ...]
    module: str | None = None
    description: str | None = None
    naming: Naming = field(default_factory=Naming)
    title_field: str | None = None
    search_fields: tuple[str, ...] = ()
    duplicate_fields: tuple[str, ...] = ()
    sort_field: str = "modified"
    sort_order: str = "desc"
    track_changes: bool = False
    is_tree: bool = False
    parent_field: str | None = None
    is_child: bool = False
    is_submittable: bool = False
    allow_rename: bool = True  # Frappe's key; off for vouchers and ledger entries
    permissions: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    record_rules: tuple[RecordRule, ...] = ()
    indexes: tuple[IndexSpec, ...] = ()
    source: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.permissions, MappingProxyType):
            frozen = {role: tuple(actions) for role, actions in self.permissions.items()}
            object.__setattr__(self, "permissions", MappingProxyType(frozen))
        if not isinstance(self.fields, tuple):
            object.__setattr__(self, "fields", tuple(self.fields))
        if not isinstance(self.search_fields, tuple):
            object.__setattr__(self, "search_fields", tuple(self.search_fields))
        if not isinstance(self.duplicate_fields, tuple):
            object.__setattr__(self, "duplicate_fields", tuple(self.duplicate_fields))
        if not isinstance(self.record_rules, tuple):
            object.__setattr__(self, "record_rules", tuple(self.record_rules))
        if not isinstance(self.indexes, tuple):
            object.__setattr__(self, "indexes", tuple(self.indexes))

    def __hash__(self) -> int:
        return hash((self.name, self.source))

    @cached_property
    def table_name(self) -> str:
        return table_name(self.name)

    @cached_property
    def fields_by_name(self) -> Mapping[str, Field]:
        return MappingProxyType({f.name: f for f in self.fields})

    @cached_property
    def data_fields(self) -> tuple[Field, ...]:
        """Fields stored in this doctype's own table, in order."""
        return tuple(f for f in self.fields if f.has_column)

    @cached_property
    def table_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.type == "Table")

    @cached_property
    def table_field_names(self) -> frozenset[str]:
        return frozenset(f.name for f in self.table_fields)

    @cached_property
    def password_field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.data_fields if f.type == "Password")

    @cached_property
    def link_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.type in LINK_TYPES)

    @cached_property
    def column_names(self) -> tuple[str, ...]:
        cols = STANDARD_COLUMNS + (CHILD_COLUMNS if self.is_child else ())
        if self.is_tree:
            cols += (TREE_PATH_COLUMN,)
        return cols + tuple(f.name for f in self.data_fields)

    def get_field(self, name: str) -> Field | None:
        return self.fields_by_name.get(name)

    def label_of(self, name: str) -> str:
        f = self.fields_by_name.get(name)
        return f.label if f else STANDARD_LABELS.get(name, name)


STANDARD_LABELS = {
    "name": "ID", "owner": "Created By", "creation": "Created On", "modified": "Last Updated On",
    "modified_by": "Last Updated By", "docstatus": "Document Status", "idx": "Index",
    "parent": "Parent", "parenttype": "Parent Type", "parentfield": "Parent Field",
}


def default_label(fieldname: str) -> str:
    return " ".join(w.capitalize() if w not in ("of", "to", "and") else w for w in fieldname.split("_"))
