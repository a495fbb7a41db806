"""Doctype YAML to :class:`~engine.metadata.doctype.DocType`, checked.

Loading checks every file against the JSON Schema shipped with the engine, then
the cross-references between doctypes, and reports every problem found (file,
doctype, field, message) in one :class:`~engine.errors.MetaError`. Nothing here
touches a database.

YAML is read with the YAML 1.2 core scalars editors use: only ``true``/``false``
are booleans (``[Yes, No]`` stays two strings), ``10:30`` and ``2024-01-31`` stay
text, and a key given twice in one mapping is an error instead of a silent override.
"""

from __future__ import annotations

import difflib
import json
import re
import string
from collections.abc import Callable, Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from engine.errors import MetaError, MetaProblem
from engine.metadata.doctype import (
    ALL_DOCTYPES_HOOKS,
    CHILD_COLUMNS,
    DATA_FORMATS,
    ENGINE_TABLES,
    MAX_FIELD_NAME,
    RESERVED_DOCTYPES,
    RESERVED_NAMES,
    STANDARD_COLUMNS,
    TREE_PATH_COLUMN,
    VIRTUAL_DOCTYPES,
    DocType,
    Field,
    IndexSpec,
    Naming,
    RecordRule,
    default_label,
    snake,
)
from engine.metadata.expressions import ExpressionError, compile_expression
from engine.metadata.fieldtypes import FIELD_TYPES
from engine.metadata.record_rules import rule_problems

_OPTION_TYPES = frozenset({"Select", "Link", "Table", "Dynamic Link", "Data"})
_PRECISION_TYPES = frozenset({"Float", "Currency", "Percent"})
_LENGTH_TYPES = frozenset({"Data", "Select", "Link", "Dynamic Link", "Read Only", "Password",
                           "Small Text", "Text", "Long Text"})
_DUPLICATE_TYPES = frozenset({"Data", "Link"})
_DEFAULT_KEYWORDS = {
    "Today": frozenset({"Date", "Datetime"}),
    "Now": frozenset({"Date", "Datetime"}),
    "__user": frozenset({"Data", "Link", "Select", "Read Only", "Small Text", "Text", "Long Text"}),
}
# Field types of other frameworks (and Frappe types docframe does not have) -> the one to use.
_TYPE_HINTS = {
    "Integer": "Int", "Boolean": "Check", "Bool": "Check", "String": "Data", "Char": "Data", "Decimal": "Float",
    "Number": "Float", "DateTime": "Datetime", "Timestamp": "Datetime", "Money": "Currency", "Text Editor": "Text",
    "HTML Editor": "Long Text", "Markdown Editor": "Long Text", "Code": "Long Text", "Autocomplete": "Data",
    "Small Int": "Int", "Duration": "Int", "Color": "Data", "Email": "Data with options: Email",
    "Phone": "Data with options: Phone", "URL": "Data with options: URL", "Table MultiSelect": "Table",
}
# Keys that shape a doctype (and the doctypes pointing at it): with one of them broken the
# doctype is not checked further, so its mistakes do not surface as others' problems.
_STRUCTURAL_KEYS = frozenset({"name", "fields", "is_child", "is_tree", "parent_field", "is_submittable"})
_DEPENDS_KEYS = ("depends_on", "mandatory_depends_on", "read_only_depends_on")
_PLAIN_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


# ------------------------------------------------------------------ YAML


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core scalars and duplicate-key detection."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
            except TypeError:
                continue  # unhashable key: SafeLoader reports it below
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        text = str(self.construct_scalar(node))
        sign = -1 if text.startswith("-") else 1
        digits = text.lstrip("+-")
        if digits.startswith("0x"):
            return sign * int(digits[2:], 16)
        if digits.startswith("0o"):
            return sign * int(digits[2:], 8)
        return sign * int(digits, 10)


_Loader.yaml_implicit_resolvers = {}
for _tag, _regexp, _first in (
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", list("-+0123456789")),
    ("tag:yaml.org,2002:float",
     r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
     list("-+.0123456789")),
    ("tag:yaml.org,2002:merge", r"^(?:<<)$", ["<"]),
):
    _Loader.add_implicit_resolver(_tag, re.compile(_regexp), _first)
_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)


def parse_yaml(text: str) -> Any:
    """Parse doctype YAML (YAML 1.2 core scalars; duplicate keys are an error)."""
    return yaml.load(text, Loader=_Loader)  # _Loader is a SafeLoader: no Python objects


# ------------------------------------------------------------------ loading

def _schema() -> dict[str, Any]:
    text = resources.files("engine.metadata").joinpath("doctype.schema.json").read_text("utf-8")
    return json.loads(text)


def _did_you_mean(word: Any, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(str(word), [c for c in choices if c != str(word)], n=1, cutoff=0.8)
    return f" (did you mean {close[0]!r}?)" if close else ""


class MetaLoader:
    """Reads doctype folders into a registry of DocType, collecting every problem."""

    def __init__(self) -> None:
        self.problems: list[MetaProblem] = []
        self.validator = jsonschema.Draft202012Validator(_schema())
        self.doctypes: dict[str, DocType] = {}
        self.broken: set[str] = set()  # doctypes whose file has schema errors (not built)
        self.dropped: dict[str, set[str]] = {}  # doctype -> names of fields left out for schema errors
        self.reserved = RESERVED_NAMES

    def problem(self, file: str, doctype: str | None, fieldname: str | None, message: str) -> None:
        self.problems.append(MetaProblem(file, doctype, fieldname, message))

    def load_dirs(self, dirs: Iterable[Path]) -> dict[str, DocType]:
        for folder in dirs:
            if not folder.is_dir():
                self.problem(str(folder), None, None, "doctypes folder does not exist")
                continue
            for path in sorted(folder.glob("*.y*ml")):
                if path.suffix in (".yaml", ".yml") and not path.name.startswith("."):
                    self.load_file(path)
        self.check_references()
        if self.problems:
            order = {file: i for i, file in enumerate(dict.fromkeys(p.file for p in self.problems))}
            self.problems.sort(key=lambda p: order[p.file])  # stable: each file's problems together
            raise MetaError(self.problems)
        return self.doctypes

    def load_file(self, path: Path) -> None:
        file = str(path)
        try:
            raw = parse_yaml(path.read_text("utf-8"))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            self.problem(file, None, None, f"invalid YAML{where}: {problem}")
            return
        except (OSError, UnicodeDecodeError) as exc:
            self.problem(file, None, None, f"cannot read file: {exc}")
            return
        except RecursionError:
            self.problem(file, None, None, "invalid YAML: nested too deeply")
            return
        if not isinstance(raw, dict):
            self.problem(file, None, None, "a doctype file must be a mapping with 'name' and 'fields'")
            return
        name = raw.get("name") if isinstance(raw.get("name"), str) else None
        try:
            errors = sorted(self.validator.iter_errors(raw), key=lambda e: _path_key(e.absolute_path))
        except RecursionError:
            self.problem(file, name, None, "values are nested too deeply")
            return
        for err in errors:
            self.problem(file, name, _field_of(raw, err), _schema_message(err))
        if errors:
            # Check what is not broken too, so one run reports everything: a broken key of the
            # doctype is left out (its default applies), a field whose name or type is broken too.
            top = _top_keys([e for e in errors if _field_index(e) is None])
            if name is None or top is None or top & _STRUCTURAL_KEYS:
                if name:
                    self.broken.add(name)
                return
            raw = {k: v for k, v in raw.items() if k not in top}
            raw, self.dropped[name] = _without_broken_fields(raw, [e for e in errors if _field_index(e) is not None])
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
            if fname in self.reserved:
                self.problem(file, name, fname, f"{fname!r} is a reserved name; choose another field name")
            fields.append(self.build_field(spec, name, file))
        is_tree = bool(raw.get("is_tree"))
        parent_field = raw.get("parent_field")
        if is_tree:
            parent_field = parent_field or "parent_" + snake(name)
            if len(parent_field) > MAX_FIELD_NAME:
                self.problem(file, name, None, f"the tree parent field name {parent_field!r} is too long; "
                                               "set a shorter 'parent_field'")
            if parent_field in self.reserved or parent_field in (TREE_PATH_COLUMN, "is_group"):
                self.problem(file, name, parent_field, f"parent_field: {parent_field!r} is a reserved name; "
                                                       f"choose another name for the tree's parent link")
                parent_field = "parent_" + snake(name)
            if parent_field not in seen:
                fields.append(Field(parent_field, "Link", f"Parent {name}", options=name, index=True,
                                    length=FIELD_TYPES["Link"].default_length))
            if "is_group" not in seen:
                fields.append(Field("is_group", "Check", "Is Group", default=0))
        elif parent_field:
            self.problem(file, name, parent_field, "parent_field is only for is_tree doctypes")
        naming_raw = raw.get("naming") or {"rule": "hash"}
        doctype = DocType(
            name=name, fields=tuple(fields), module=raw.get("module"), description=raw.get("description"),
            naming=Naming(**naming_raw), title_field=raw.get("title_field"),
            search_fields=tuple(raw.get("search_fields") or ()),
            duplicate_fields=tuple(raw.get("duplicate_fields") or ()),
            sort_field=raw.get("sort_field", "modified"), sort_order=raw.get("sort_order", "desc"),
            track_changes=bool(raw.get("track_changes")), is_tree=is_tree, parent_field=parent_field,
            is_child=bool(raw.get("is_child")), is_submittable=bool(raw.get("is_submittable")),
            allow_rename=bool(raw.get("allow_rename", True)),
            permissions=raw.get("permissions") or {},
            record_rules=tuple(RecordRule(tuple(r["roles"]), r["condition"], r.get("description"))
                               for r in raw.get("record_rules") or ()),
            indexes=tuple(IndexSpec(tuple(i["fields"]), bool(i.get("unique"))) for i in raw.get("indexes") or ()),
            source=file,
        )
        self.check_doctype(doctype, raw)
        return doctype

    def build_field(self, spec: dict[str, Any], doctype: str, file: str) -> Field:
        ftype = FIELD_TYPES[spec["type"]]
        options = spec.get("options")
        if isinstance(options, list):
            options = tuple(str(o) for o in options)
        values = {k: v for k, v in spec.items() if k not in ("options", "search_index")}
        if spec.get("search_index"):
            values["index"] = True
        if "renamed_from" in values:
            old = values["renamed_from"]
            values["renamed_from"] = (old,) if isinstance(old, str) else tuple(old)
        for key in ("length", "precision"):  # JSON Schema accepts 5.0 as an integer
            if key in values:
                values[key] = int(values[key])
        values.setdefault("label", default_label(spec["name"]))
        if ftype.default_length and "length" not in values:
            values["length"] = ftype.default_length
        f = Field(options=options, **values)
        self.check_field(f, doctype, file, spec)
        return f

    def unknown(self, dt: DocType, name: str | None, *, with_value: bool = False) -> bool:
        """Whether ``name`` is not a field of ``dt`` (fields dropped for schema errors count as known)."""
        if name in self.dropped.get(dt.name, ()):
            return False
        f = dt.fields_by_name.get(name or "")
        return f is None or (with_value and not f.has_column)

    def check_field(self, f: Field, doctype: str, file: str, spec: Mapping[str, Any]) -> None:
        def bad(msg: str) -> None:
            self.problem(file, doctype, f.name, msg)

        t = f.type
        if t == "Select" and not f.select_options:
            bad("Select needs 'options': a list of choices")
        if t in ("Link", "Table", "Dynamic Link") and not isinstance(f.options, str):
            bad(f"{t} needs 'options' naming the {'target doctype' if t != 'Dynamic Link' else 'doctype field'}")
        if t == "Data" and f.options is not None and f.options not in DATA_FORMATS:
            bad(f"Data options must be one of {', '.join(DATA_FORMATS)}, not {f.options!r}")
        if f.options is not None and t not in _OPTION_TYPES:
            bad(f"options does not apply to {t} fields")
        if f.non_negative and not f.fieldtype.is_numeric:
            bad(f"non_negative applies only to Int, Float, Currency and Percent, not {t}")
        if "length" in spec and t not in _LENGTH_TYPES:
            bad(f"length does not apply to {t} fields")
        if f.precision is not None and t not in _PRECISION_TYPES:
            bad(f"precision applies only to Float, Currency and Percent, not {t}")
        if f.fieldtype.is_layout and (f.required or f.unique or f.default is not None):
            bad(f"{t} is layout only; it holds no value")
        if t == "Table" and (f.required or f.default is not None):
            bad("Table fields take neither 'required' nor 'default'")
        if (f.unique or f.index) and not f.fieldtype.indexable:
            key = "unique" if f.unique else "search_index" if spec.get("search_index") else "index"
            bad(f"{key} is not supported for {t} fields")
        if f.in_filter and (not f.has_column or t == "Password"):
            bad(f"in_filter is not supported for {t} fields")
        if f.default is not None:
            self.check_default(f, bad)
        for key in _DEPENDS_KEYS:
            source = getattr(f, key)
            if source:
                try:
                    compile_expression(source)
                except ExpressionError as exc:
                    bad(f"{key}: {exc}")

    def check_default(self, f: Field, bad: Callable[[str], None]) -> None:
        if t := _DEFAULT_KEYWORDS.get(f.default):
            if f.type not in t:
                bad(f"default {f.default!r} applies only to {', '.join(sorted(t))} fields, not {f.type}")
            return
        if f.type == "Password":
            bad("Password fields cannot have a default")
            return
        if f.fieldtype.coerce is None:
            return
        try:
            f.fieldtype.coerce(f.default, f)
        except (ValueError, TypeError, ArithmeticError) as exc:
            bad(f"default {f.default!r} is not valid for a {f.type} field: {exc}")

    def check_doctype(self, dt: DocType, raw: Mapping[str, Any]) -> None:
        """Checks of one doctype on its own (no other doctype needed)."""
        names = dt.fields_by_name

        def bad(fieldname: str | None, msg: str) -> None:
            self.problem(dt.source, dt.name, fieldname, msg)

        if dt.name in RESERVED_DOCTYPES:
            bad(None, f"{dt.name!r} is a reserved doctype name")
        if dt.table_name in ENGINE_TABLES or snake(dt.name) == ALL_DOCTYPES_HOOKS:
            bad(None, f"{dt.name!r} is reserved by the engine (table {dt.table_name}); choose another name")
        for key in ("title_field", "sort_field"):
            value = getattr(dt, key)
            if value and value not in STANDARD_COLUMNS and self.unknown(dt, value, with_value=True):
                bad(None, f"{key} {value!r} is not a field with a value{_did_you_mean(value, names)}")
        for s in dt.search_fields:
            if s != "name" and (self.unknown(dt, s, with_value=True) or (s in names and names[s].type == "Password")):
                bad(s if s in names else None, f"search_fields: {s!r} is not a searchable field"
                    f"{_did_you_mean(s, names)}")
        for s in dt.duplicate_fields:
            if s not in names or names[s].type not in _DUPLICATE_TYPES:
                bad(s if s in names else None, f"duplicate_fields: {s!r} is not a Data or Link field"
                    f"{_did_you_mean(s, names)}")
        if dt.is_child:
            given = [k for k in ("is_tree", "is_submittable", "track_changes") if raw.get(k)]
            given += [k for k in ("permissions", "naming", "record_rules") if k in raw]
            if given:
                bad(None, f"a child doctype cannot have {', '.join(given)} (its rows belong to the parent)")
            for f in dt.table_fields:
                bad(f.name, "child doctypes cannot have Table fields")
        else:
            self.check_naming(dt, raw.get("naming") or {})
        if dt.is_tree and dt.parent_field:
            pf = names[dt.parent_field]
            if pf.type != "Link" or pf.options != dt.name:
                bad(pf.name, f"the tree parent field must be a Link to {dt.name}")
            if names["is_group"].type != "Check":
                bad("is_group", "is_group of a tree doctype must be a Check field")
        for f in dt.fields:
            self.check_expressions(dt, f)
        if not dt.is_child:
            self.check_record_rules(dt)
        self.check_indexes(dt)
        self.check_renames(dt)

    def check_renames(self, dt: DocType) -> None:
        """``renamed_from`` names a former column: not a current field, not claimed by two fields."""
        claimed: dict[str, str] = {}
        for f in dt.fields:
            for old in f.renamed_from:
                if not f.has_column:
                    self.problem(dt.source, dt.name, f.name, f"renamed_from: a {f.type} field has no column to rename")
                elif old == f.name:
                    self.problem(dt.source, dt.name, f.name, "renamed_from: names the field itself")
                elif old in dt.fields_by_name or old in STANDARD_COLUMNS or old in CHILD_COLUMNS:
                    self.problem(dt.source, dt.name, f.name, f"renamed_from: {old!r} is still a column of {dt.name}; "
                                                             "a field can only take over a name no longer in use")
                elif old in claimed:
                    self.problem(dt.source, dt.name, f.name, f"renamed_from: {old!r} is already claimed by "
                                                             f"field {claimed[old]!r}")
                else:
                    claimed[old] = f.name

    def check_indexes(self, dt: DocType) -> None:
        """Each declared index names columns that exist and can be indexed, and no two are the same."""
        names = dt.fields_by_name
        standard = STANDARD_COLUMNS + (CHILD_COLUMNS if dt.is_child else ())
        seen: set[tuple[str, ...]] = set()
        for i, ix in enumerate(dt.indexes, 1):
            if ix.fields in seen:
                self.problem(dt.source, dt.name, ix.fields[0], f"indexes[{i}]: the same columns as an earlier index")
            seen.add(ix.fields)
            for name in ix.fields:
                f = names.get(name)
                if name in standard or name in self.dropped.get(dt.name, ()):
                    continue
                if f is None or not f.has_column:
                    self.problem(dt.source, dt.name, name, f"indexes[{i}]: {name!r} is not a field with a value"
                                                           f"{_did_you_mean(name, [*names, *standard])}")
                elif not f.fieldtype.indexable:
                    self.problem(dt.source, dt.name, name, f"indexes[{i}]: {f.type} fields cannot be indexed")

    def check_record_rules(self, dt: DocType) -> None:
        for i, rule in enumerate(dt.record_rules, 1):
            for fieldname, message in rule_problems(dt, rule.condition, self.dropped.get(dt.name, set())):
                self.problem(dt.source, dt.name, fieldname, f"record_rules[{i}] {rule.condition!r}: {message}")

    def check_expressions(self, dt: DocType, f: Field) -> None:
        for key in _DEPENDS_KEYS:
            source = getattr(f, key)
            if not source:
                continue
            try:
                unknown = {n for n in compile_expression(source).fields() if n not in dt.column_names
                           and self.unknown(dt, n)}
            except ExpressionError:
                continue  # reported by check_field
            if unknown:
                self.problem(dt.source, dt.name, f.name,
                             f"{key} refers to unknown field(s) {', '.join(sorted(unknown))}")

    def check_naming(self, dt: DocType, given: Mapping[str, Any]) -> None:
        n = dt.naming

        def bad(fieldname: str | None, msg: str) -> None:
            self.problem(dt.source, dt.name, fieldname, f"naming: {msg}")

        uses = {"field": {"field", "on_duplicate", "separator"}, "expression": {"pattern", "on_duplicate", "separator"},
                "series": {"pattern"}, "prompt": {"field"}}.get(n.rule, set())
        for key in sorted(set(given) - uses - {"rule"}):
            bad(None, f"{key!r} does not apply to rule {n.rule!r}")
        if (n.rule == "field" or (n.rule == "prompt" and n.field)) and n.field not in self.dropped.get(dt.name, ()):
            f = dt.fields_by_name.get(n.field or "")
            if f is None:
                hint = _did_you_mean(n.field, dt.fields_by_name) if n.field else ""
                bad(n.field, f"rule 'field' needs 'field' naming a field of {dt.name}{hint}")
            elif not f.has_column or f.type in ("JSON", "Password"):
                bad(n.field, f"the naming field cannot be of type {f.type}")
        if n.rule in ("series", "expression") and not n.pattern:
            bad(None, f"rule {n.rule!r} needs a 'pattern'")
        elif n.rule == "series":
            self.check_series(dt, n.pattern or "", bad)
        elif n.rule == "expression":
            self.check_expression_pattern(dt, n.pattern or "", bad)

    def check_series(self, dt: DocType, pattern: str, bad: Callable[[str | None, str], None]) -> None:
        parts = pattern.split(".")
        counters = [p for p in parts if p and set(p) == {"#"}]
        if len(counters) != 1:
            found = "none" if not counters else f"{len(counters)}"
            bad(None, f"a series pattern needs exactly one counter part of '#' between dots, "
                      f"e.g. CUST-.YYYY.-.##### (found {found} in {pattern!r})")
        for part in parts:
            if part.startswith("{") and part.endswith("}"):
                ref = part[1:-1]
                if self.unknown(dt, ref):
                    bad(ref, f"series pattern {pattern!r} refers to unknown field {ref!r}")

    def check_expression_pattern(self, dt: DocType, pattern: str, bad: Callable[[str | None, str], None]) -> None:
        try:
            parsed = list(string.Formatter().parse(pattern))
        except ValueError as exc:
            bad(None, f"invalid pattern {pattern!r}: {exc}")
            return
        refs = [(ref, spec, conv) for _, ref, spec, conv in parsed if ref is not None]
        if not refs:
            bad(None, f"an expression pattern must use at least one {{field}} (got {pattern!r}); "
                      "use rule 'series' for a counter")
        for ref, spec, conv in refs:
            if not _PLAIN_NAME.match(ref) or conv or "{" in (spec or ""):
                bad(None, f"pattern {pattern!r}: {{{ref}}} must be a plain field name "
                          "(no attributes, indexes, conversions or nested fields)")
            elif self.unknown(dt, ref):
                bad(ref, f"pattern {pattern!r} refers to unknown field {ref!r}{_did_you_mean(ref, dt.fields_by_name)}")
            elif self.unknown(dt, ref, with_value=True):
                bad(ref, f"pattern {pattern!r}: {ref!r} holds no value")

    # -------------------------------------------------- cross-references
    def check_references(self) -> None:
        tables: dict[str, DocType] = {}
        for dt in self.doctypes.values():
            other = tables.setdefault(dt.table_name, dt)
            if other is not dt:
                self.problem(dt.source, dt.name, None, f"its table {dt.table_name} is also the table of doctype "
                                                       f"{other.name!r} ({other.source}); rename one of them")
            names = dt.fields_by_name
            for f in dt.fields:
                self.check_field_refs(dt, f, names)

    def check_field_refs(self, dt: DocType, f: Field, names: Mapping[str, Field]) -> None:
        def bad(msg: str) -> None:
            self.problem(dt.source, dt.name, f.name, msg)

        target = f.options if isinstance(f.options, str) else None
        if f.type in ("Link", "Table") and target is not None and target not in self.broken:
            known = self.doctypes.get(target)
            if known is None and not (f.type == "Link" and target in VIRTUAL_DOCTYPES):
                kind = "Link to" if f.type == "Link" else "Table of"
                bad(f"{kind} unknown doctype {target!r}{_did_you_mean(target, self.doctypes)}")
            elif known is not None and f.type == "Link" and known.is_child:
                bad(f"Link to child doctype {target!r}; use a Table field")
            elif known is not None and f.type == "Table" and not known.is_child:
                bad(f"Table options {target!r} is not a child doctype (is_child: true)")
        if f.type == "Dynamic Link" and target is not None and target not in self.dropped.get(dt.name, ()):
            ref = names.get(target)
            if ref is None or not ((ref.type == "Link" and ref.options == "DocType") or ref.type == "Select"):
                bad(f"Dynamic Link options {target!r} must name a Link-to-DocType or Select field of {dt.name}")
        if f.fetch_from:
            self.check_fetch_from(dt, f, names, bad)

    def check_fetch_from(
        self, dt: DocType, f: Field, names: Mapping[str, Field], bad: Callable[[str], None]
    ) -> None:
        link_name, target_field = f.fetch_from.split(".", 1)  # type: ignore[union-attr]
        link = names.get(link_name)
        if link_name in self.dropped.get(dt.name, ()):
            return
        if not f.has_column:
            bad(f"fetch_from does not apply to {f.type} fields")
        elif link is None or link.type != "Link":
            bad(f"fetch_from {f.fetch_from!r}: {link_name!r} is not a Link field of {dt.name}")
        elif isinstance(link.options, str) and link.options in self.doctypes:
            target = self.doctypes[link.options]
            tf = target.fields_by_name.get(target_field)
            if target_field in target.column_names and (tf is None or tf.type != "Password"):
                return
            if target_field in self.dropped.get(target.name, ()):
                return
            bad(f"fetch_from {f.fetch_from!r}: {link.options} has no field {target_field!r} with a value"
                f"{_did_you_mean(target_field, target.fields_by_name)}")


def _field_index(err: jsonschema.ValidationError) -> int | None:
    """Index of the field an error is inside of, or None for an error outside any single field."""
    path = list(err.absolute_path)
    if len(path) >= 2 and path[0] == "fields" and isinstance(path[1], int) and not isinstance(path[1], bool):
        return path[1]
    return None


def _top_keys(errors: list[jsonschema.ValidationError]) -> set[str] | None:
    """The doctype's own keys these errors are about, or None when the doctype as a whole is wrong."""
    keys: set[str] = set()
    for err in errors:
        path = list(err.absolute_path)
        if path:
            keys.add(str(path[0]))
        elif err.validator == "additionalProperties" and isinstance(err.instance, dict):
            keys.update(str(k) for k in err.instance if k not in err.schema.get("properties", {}))
        else:
            return None  # not a mapping, or name or fields missing
    return keys


def _without_broken_fields(
    raw: dict[str, Any], errors: list[jsonschema.ValidationError]
) -> tuple[dict[str, Any], set[str]]:
    """``raw`` without the keys that failed the schema; a field whose name or type failed is left out.

    Returns the repaired doctype and the names of the fields left out (references to them
    are not reported again).
    """
    fields = list(raw["fields"])
    bad_keys: dict[int, set[Any]] = {}
    for err in errors:
        index = _field_index(err)
        assert index is not None
        path = list(err.absolute_path)
        keys = bad_keys.setdefault(index, set())
        if len(path) >= 3:
            keys.add(path[2])
        elif err.validator == "additionalProperties" and isinstance(err.instance, dict):
            keys.update(k for k in err.instance if k not in err.schema.get("properties", {}))
        else:
            keys.add("name")  # the item itself is wrong (not a mapping, name or type missing)
    dropped: set[str] = set()
    for index, keys in bad_keys.items():
        item = fields[index]
        if "name" in keys or "type" in keys:
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                dropped.add(item["name"])
            fields[index] = None
        else:
            fields[index] = {k: v for k, v in item.items() if k not in keys}
    return {**raw, "fields": [f for f in fields if f is not None]}, dropped


def _path_key(path: Iterable[Any]) -> list[tuple[int, int, str]]:
    return [(0, p, "") if isinstance(p, int) and not isinstance(p, bool) else (1, 0, str(p)) for p in path]


def _field_of(raw: dict[str, Any], err: jsonschema.ValidationError) -> str | None:
    path = list(err.absolute_path)
    if len(path) >= 2 and path[0] == "fields" and isinstance(path[1], int):
        fields = raw.get("fields") or []
        if path[1] < len(fields):
            item = fields[path[1]]
            name = item.get("name") if isinstance(item, dict) else None
            return name if isinstance(name, str) and name else f"fields[{path[1]}]"
    return None


def _schema_message(err: jsonschema.ValidationError) -> str:
    path = list(err.absolute_path)
    in_field = len(path) >= 2 and path[0] == "fields"
    key = ".".join(str(p) for p in (path[2:] if in_field else path))
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        known = list(err.schema.get("properties", {}))
        extra = sorted((k for k in err.instance if k not in known), key=str)
        where = f" in {key}" if key else (" of the field" if in_field else "")
        return f"unknown key(s){where}: " + ", ".join(f"{k!s}{_did_you_mean(k, known)}" for k in extra)
    if err.validator == "enum":
        allowed = ", ".join(map(repr, err.validator_value))
        hint = _did_you_mean(err.instance, map(str, err.validator_value))
        if in_field and key == "type" and str(err.instance) in _TYPE_HINTS:
            hint = f" (use {_TYPE_HINTS[str(err.instance)]!r})"
        return f"{key or 'value'}: {err.instance!r} is not one of {allowed}{hint}"
    if err.validator == "required":
        return err.message.replace("is a required property", "is required")
    if err.validator == "pattern" and key == "name":
        if in_field:
            suggestion = snake(str(err.instance))
            hint = f", e.g. {suggestion!r}" if _PLAIN_NAME.match(suggestion) else ""
            return f"field name {err.instance!r} is not valid: use lower_snake_case starting with a letter{hint}"
        return (f"doctype name {err.instance!r} is not valid: use words of letters and digits separated by "
                "single spaces, starting with a capital letter (e.g. 'Customer Group')")
    if err.validator == "oneOf" and key == "options":
        return f"options: {err.instance!r} must be text or a non-empty list of distinct choices"
    prefix = f"{key}: " if key else ""
    if path and path[0] == "permissions" and err.validator == "type":
        return (f"{prefix}{err.instance!r} is not a list of actions: write each role as Role: [read, write, ...]"
                if len(path) == 2 else f"{prefix}must map each role to its actions, e.g. {{Sales User: [read, "
                "write, create]}; Frappe's list of {role: ..., read: 1} rows is not read")
    if err.validator == "maxLength":
        return f"{prefix}{err.instance!r} is too long (at most {err.validator_value} characters)"
    return prefix + err.message


def load_doctypes(dirs: Iterable[Path]) -> dict[str, DocType]:
    """Load and cross-check every doctype in the folders; raise MetaError with all problems."""
    return MetaLoader().load_dirs(dirs)


def core_doctypes_dir() -> Path:
    return Path(str(resources.files("engine.metadata").joinpath("core_doctypes")))
