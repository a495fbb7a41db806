"""Doctype YAML to typed, immutable metadata.

Loading checks every file against the JSON Schema shipped with the engine, then
the cross-references between doctypes, and reports every problem found (file,
doctype, field, message) in one :class:`~engine.errors.MetaError`. Nothing here
touches a database.
"""

from __future__ import annotations

import json
import keyword
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from engine.errors import MetaError, MetaProblem
from engine.expressions import ExpressionError, compile_expression
from engine.fieldtypes import FIELD_TYPES, LINK_TYPES, FieldType

STANDARD_COLUMNS = ("name", "owner", "creation", "modified", "modified_by", "docstatus", "idx")
CHILD_COLUMNS = ("parent", "parenttype", "parentfield")
TREE_PATH_COLUMN = "tree_path"
RESERVED_NAMES = frozenset(
    STANDARD_COLUMNS + CHILD_COLUMNS + (TREE_PATH_COLUMN, "doctype", "meta", "flags")
) | frozenset(keyword.kwlist)
DATA_FORMATS = ("Email", "Phone", "URL")
VIRTUAL_DOCTYPES = frozenset({"DocType"})  # Link targets that are metadata, not tables


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
    """A doctype's metadata. Built once per Site; never mutated."""

    name: str
    fields: tuple[Field, ...]
    module: str | None = None
    description: str | None = None
    naming: Naming = field(default_factory=Naming)
    title_field: str | None = None
    search_fields: tuple[str, ...] = ()
    sort_field: str = "modified"
    sort_order: str = "desc"
    track_changes: bool = False
    is_tree: bool = False
    parent_field: str | None = None
    is_child: bool = False
    is_submittable: bool = False
    permissions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    source: str = ""

    @cached_property
    def table_name(self) -> str:
        return table_name(self.name)

    @cached_property
    def fields_by_name(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}

    @cached_property
    def data_fields(self) -> tuple[Field, ...]:
        """Fields stored in this doctype's own table, in order."""
        return tuple(f for f in self.fields if f.has_column)

    @cached_property
    def table_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.type == "Table")

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


# ------------------------------------------------------------------ loading

def _schema() -> dict[str, Any]:
    text = resources.files("engine").joinpath("doctype.schema.json").read_text("utf-8")
    return json.loads(text)


def default_label(fieldname: str) -> str:
    return " ".join(w.capitalize() if w not in ("of", "to", "and") else w for w in fieldname.split("_"))


class MetaLoader:
    """Reads doctype folders into a registry of DocType, collecting every problem."""

    def __init__(self) -> None:
        self.problems: list[MetaProblem] = []
        self.validator = jsonschema.Draft202012Validator(_schema())
        self.doctypes: dict[str, DocType] = {}

    def problem(self, file: str, doctype: str | None, fieldname: str | None, message: str) -> None:
        self.problems.append(MetaProblem(file, doctype, fieldname, message))

    def load_dirs(self, dirs: Iterable[Path]) -> dict[str, DocType]:
        for folder in dirs:
            if not folder.is_dir():
                self.problem(str(folder), None, None, "doctypes folder does not exist")
                continue
            for path in sorted(folder.glob("*.y*ml")):
                self.load_file(path)
        self.check_references()
        if self.problems:
            raise MetaError(self.problems)
        return self.doctypes

    def load_file(self, path: Path) -> None:
        file = str(path)
        try:
            raw = yaml.safe_load(path.read_text("utf-8"))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            self.problem(file, None, None, f"invalid YAML{where}: {problem}")
            return
        except (OSError, UnicodeDecodeError) as exc:
            self.problem(file, None, None, f"cannot read file: {exc}")
            return
        if not isinstance(raw, dict):
            self.problem(file, None, None, "a doctype file must be a mapping with 'name' and 'fields'")
            return
        name = raw.get("name") if isinstance(raw.get("name"), str) else None
        errors = sorted(self.validator.iter_errors(raw), key=lambda e: list(e.absolute_path))
        if errors:
            for err in errors:
                self.problem(file, name, _field_of(raw, err), _schema_message(err))
            return
        if name in self.doctypes:
            self.problem(file, name, None, f"doctype also defined in {self.doctypes[name].source}")
            return
        self.doctypes[name] = self.build(raw, file)

    def build(self, raw: dict[str, Any], file: str) -> DocType:
        name = raw["name"]
        fields: list[Field] = []
        seen: set[str] = set()
        for spec in raw.get("fields", []):
            fname = spec["name"]
            if fname in seen:
                self.problem(file, name, fname, "duplicate field name")
                continue
            seen.add(fname)
            if fname in RESERVED_NAMES:
                self.problem(file, name, fname, "is a reserved name; choose another field name")
            fields.append(self.build_field(spec, name, file))
        is_tree = bool(raw.get("is_tree"))
        parent_field = raw.get("parent_field")
        if is_tree:
            parent_field = parent_field or "parent_" + snake(name)
            if parent_field not in seen:
                fields.append(Field(parent_field, "Link", f"Parent {name}", options=name, index=True))
            if "is_group" not in seen:
                fields.append(Field("is_group", "Check", "Is Group", default=0))
        elif parent_field:
            self.problem(file, name, parent_field, "parent_field is only for is_tree doctypes")
        naming_raw = raw.get("naming") or {"rule": "hash"}
        naming = Naming(**naming_raw)
        perms = {role: tuple(actions) for role, actions in (raw.get("permissions") or {}).items()}
        return DocType(
            name=name, fields=tuple(fields), module=raw.get("module"), description=raw.get("description"),
            naming=naming, title_field=raw.get("title_field"),
            search_fields=tuple(raw.get("search_fields") or ()),
            sort_field=raw.get("sort_field", "modified"), sort_order=raw.get("sort_order", "desc"),
            track_changes=bool(raw.get("track_changes")), is_tree=is_tree, parent_field=parent_field,
            is_child=bool(raw.get("is_child")), is_submittable=bool(raw.get("is_submittable")),
            permissions=perms, source=file,
        )

    def build_field(self, spec: dict[str, Any], doctype: str, file: str) -> Field:
        ftype = FIELD_TYPES[spec["type"]]
        options = spec.get("options")
        if isinstance(options, list):
            options = tuple(str(o) for o in options)
        values = {k: v for k, v in spec.items() if k not in ("options",)}
        values.setdefault("label", default_label(spec["name"]))
        if ftype.default_length and "length" not in values and spec["type"] not in ("Password",):
            values["length"] = ftype.default_length
        f = Field(options=options, **values)
        self.check_field(f, doctype, file)
        return f

    def check_field(self, f: Field, doctype: str, file: str) -> None:
        def bad(msg: str) -> None:
            self.problem(file, doctype, f.name, msg)

        t = f.type
        if t == "Select" and not f.select_options:
            bad("Select needs 'options': a list of choices")
        if t in ("Link", "Table", "Dynamic Link") and not isinstance(f.options, str):
            bad(f"{t} needs 'options' naming the {'target doctype' if t != 'Dynamic Link' else 'doctype field'}")
        if t == "Data" and f.options is not None and f.options not in DATA_FORMATS:
            bad(f"Data options must be one of {', '.join(DATA_FORMATS)}")
        if f.non_negative and not f.fieldtype.is_numeric:
            bad("non_negative applies only to Int, Float, Currency and Percent")
        if f.length and f.type not in ("Data", "Select", "Link", "Dynamic Link", "Read Only", "Password",
                                       "Small Text", "Text", "Long Text"):
            bad(f"length does not apply to {t}")
        if f.fieldtype.is_layout and (f.required or f.unique or f.default is not None):
            bad(f"{t} is layout only; it holds no value")
        if f.unique and t in ("Table", "JSON", "Text", "Long Text", "Small Text"):
            bad(f"unique is not supported for {t}")
        if f.default is not None and f.fieldtype.coerce and f.default not in ("Today", "Now", "__user"):
            try:
                f.fieldtype.coerce(f.default, f)
            except ValueError as exc:
                bad(f"default {f.default!r} {exc}")
        for key in ("depends_on", "mandatory_depends_on", "read_only_depends_on"):
            source = getattr(f, key)
            if source:
                try:
                    compile_expression(source)
                except ExpressionError as exc:
                    bad(f"{key}: {exc}")

    def check_references(self) -> None:
        for dt in self.doctypes.values():
            names = dt.fields_by_name
            for f in dt.fields:
                self.check_field_refs(dt, f, names)
            for key in ("title_field", "sort_field"):
                value = getattr(dt, key)
                if value and value not in names and value not in STANDARD_COLUMNS:
                    self.problem(dt.source, dt.name, value, f"{key} names a field that does not exist")
            for s in dt.search_fields:
                if s not in names and s != "name":
                    self.problem(dt.source, dt.name, s, "search_fields names a field that does not exist")
            self.check_naming(dt)
            if dt.is_child and (dt.is_tree or dt.is_submittable or dt.permissions):
                self.problem(dt.source, dt.name, None,
                             "a child doctype cannot be a tree, submittable or have permissions")
            if dt.is_tree and names[dt.parent_field].options != dt.name:
                self.problem(dt.source, dt.name, dt.parent_field, f"tree parent field must Link to {dt.name}")

    def check_field_refs(self, dt: DocType, f: Field, names: Mapping[str, Field]) -> None:
        def bad(msg: str) -> None:
            self.problem(dt.source, dt.name, f.name, msg)

        if f.type == "Link" and isinstance(f.options, str):
            if f.options not in self.doctypes and f.options not in VIRTUAL_DOCTYPES:
                bad(f"Link to unknown doctype {f.options!r}")
            elif f.options in self.doctypes and self.doctypes[f.options].is_child:
                bad(f"Link to child doctype {f.options!r}; use a Table field")
        if f.type == "Table" and isinstance(f.options, str):
            target = self.doctypes.get(f.options)
            if target is None:
                bad(f"Table of unknown doctype {f.options!r}")
            elif not target.is_child:
                bad(f"Table options {f.options!r} is not a child doctype (is_child: true)")
            elif dt.is_child:
                bad("child doctypes cannot have Table fields")
        if f.type == "Dynamic Link" and isinstance(f.options, str):
            ref = names.get(f.options)
            if ref is None or not ((ref.type == "Link" and ref.options == "DocType") or ref.type == "Select"):
                bad(f"Dynamic Link options {f.options!r} must name a Link-to-DocType or Select field")
        if f.fetch_from:
            link_name, target_field = f.fetch_from.split(".", 1)
            link = names.get(link_name)
            if link is None or link.type != "Link":
                bad(f"fetch_from {f.fetch_from!r}: {link_name!r} is not a Link field of {dt.name}")
            elif link.options in self.doctypes:
                target = self.doctypes[link.options]
                if target_field not in target.fields_by_name and target_field not in STANDARD_COLUMNS:
                    bad(f"fetch_from {f.fetch_from!r}: {link.options} has no field {target_field!r}")
        for key in ("depends_on", "mandatory_depends_on", "read_only_depends_on"):
            source = getattr(f, key)
            if not source:
                continue
            try:
                unknown = compile_expression(source).fields() - set(names) - set(STANDARD_COLUMNS)
            except ExpressionError:
                continue  # reported by check_field
            if unknown:
                bad(f"{key} refers to unknown field(s) {', '.join(sorted(unknown))}")

    def check_naming(self, dt: DocType) -> None:
        n = dt.naming
        if dt.is_child:
            return
        if n.rule == "field":
            f = dt.fields_by_name.get(n.field or "")
            if f is None:
                self.problem(dt.source, dt.name, n.field, "naming: rule 'field' needs 'field' naming a field")
            elif not f.has_column or f.type in ("JSON", "Password", "Table"):
                self.problem(dt.source, dt.name, n.field, f"naming field cannot be of type {f.type}")
        elif n.field:
            self.problem(dt.source, dt.name, n.field, f"naming: 'field' is only for rule 'field', not {n.rule!r}")
        if n.rule in ("series", "expression") and not n.pattern:
            self.problem(dt.source, dt.name, None, f"naming: rule {n.rule!r} needs a 'pattern'")
        if n.rule == "series" and n.pattern and "#" not in n.pattern:
            self.problem(dt.source, dt.name, None, "naming: a series pattern needs a counter (#####)")
        if n.rule == "expression" and n.pattern:
            for ref in re.findall(r"{([^{}:!]+)", n.pattern):
                if ref not in dt.fields_by_name:
                    self.problem(dt.source, dt.name, ref, "naming pattern refers to an unknown field")


def _field_of(raw: dict[str, Any], err: jsonschema.ValidationError) -> str | None:
    path = list(err.absolute_path)
    if len(path) >= 2 and path[0] == "fields" and isinstance(path[1], int):
        fields = raw.get("fields") or []
        if path[1] < len(fields) and isinstance(fields[path[1]], dict):
            name = fields[path[1]].get("name")
            return name if isinstance(name, str) else f"fields[{path[1]}]"
    return None


def _schema_message(err: jsonschema.ValidationError) -> str:
    path = list(err.absolute_path)
    key = ".".join(str(p) for p in (path[2:] if path[:1] == ["fields"] else path))
    if err.validator == "additionalProperties":
        extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
        where = f" in {key}" if key else ""
        return f"unknown key(s){where}: {', '.join(map(str, extra))}"
    if err.validator == "enum":
        allowed = ", ".join(map(repr, err.validator_value))
        return f"{key or 'value'}: {err.instance!r} is not one of {allowed}"
    if err.validator == "required":
        return err.message.replace("is a required property", "is required")
    prefix = f"{key}: " if key else ""
    return prefix + err.message


def load_doctypes(dirs: Iterable[Path]) -> dict[str, DocType]:
    """Load and cross-check every doctype in the folders; raise MetaError with all problems."""
    return MetaLoader().load_dirs(dirs)


def core_doctypes_dir() -> Path:
    return Path(str(resources.files("engine").joinpath("core_doctypes")))
