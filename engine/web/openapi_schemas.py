"""JSON Schemas (OpenAPI 3.1 components) for doctypes and error bodies, built from the metadata.

Each doctype ``X`` (component key ``X`` with spaces as ``_``, e.g. ``Customer_Group``) gets:

- ``X``: a document as the API returns it (standard fields, child tables as lists of
  rows, passwords masked). Every value may be null: lists return only the fields asked for.
- ``X.create``: the body of a create: the fields a client may send, ``required`` from the
  YAML (a required field with a default is not required of the client).
- ``X.update``: the body of an update: any of those fields, plus ``modified`` for
  optimistic locking (a stale value is a 409).
- ``X.field`` (not for child doctypes): a column name usable in ``fields``, ``filters`` and
  ``order_by``; ``X.filters``: the filter forms of engine.rules.query (an object, or a list of
  ``[field, operator, value]``).

Every property carries ``x-fieldtype`` (the docframe field type), Links ``x-link-target``
(the target doctype) and Dynamic Links ``x-link-doctype-field`` (the field naming the
target doctype), so tools and the docs page can show them.
"""

from __future__ import annotations

from typing import Any

from engine.metadata.doctype import DocType, Field
from engine.metadata.fieldtypes import CURRENCY_MAX, EMAIL_RE, PHONE_RE
from engine.rules.naming import MAX_NAME_LENGTH
from engine.rules.query import OPERATORS
from engine.rules.validation import PASSWORD_MASK

JSON = dict[str, Any]
_INT64 = 2**63 - 1
# Dates and times as the API writes them (engine.web.jsonio.to_json).
DATETIME_OUT = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$"
TIME_IN = r"^\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$"
TIME_OUT = r"^\d{2}:\d{2}:\d{2}(\.\d{6})?$"
_DEFAULT_KEYWORDS = {"Today": "today's date", "Now": "the current date and time", "__user": "the current user"}

# docframe field type -> JSON Schema of a value sent by a client. A test checks every
# value-holding type of engine.metadata.fieldtypes.FIELD_TYPES has a row.
_TEXT: JSON = {"type": "string"}
VALUE_SCHEMAS: dict[str, JSON] = {
    "Data": _TEXT,
    "Small Text": _TEXT,
    "Text": _TEXT,
    "Long Text": _TEXT,
    "Read Only": _TEXT,
    "Select": _TEXT,
    "Link": _TEXT,
    "Dynamic Link": _TEXT,
    "Password": {"type": "string", "format": "password", "writeOnly": True},
    "Int": {"type": "integer", "format": "int64", "minimum": -_INT64, "maximum": _INT64},
    "Float": {"type": "number", "format": "double"},
    "Percent": {"type": "number", "format": "double"},
    "Currency": {"type": "number", "exclusiveMinimum": -int(CURRENCY_MAX), "exclusiveMaximum": int(CURRENCY_MAX)},
    "Check": {"type": "integer", "enum": [0, 1]},
    "Date": {"type": "string", "format": "date"},
    "Datetime": {"type": "string", "format": "date-time"},
    "Time": {"type": "string", "pattern": TIME_IN},
    "JSON": {},
}
# Where the answer's form differs from what a client sends.
_READ_OVERRIDES: dict[str, JSON] = {
    "Datetime": {"type": "string", "pattern": DATETIME_OUT},
    "Time": {"type": "string", "pattern": TIME_OUT},
    "Password": {"type": "string", "description": f"Masked: {PASSWORD_MASK} when set"},
    "Int": {"type": "integer", "format": "int64"},
    "Currency": {"type": "number"},
}
_DATA_FORMATS: dict[str, JSON] = {
    "Email": {"format": "email", "pattern": EMAIL_RE.pattern},
    "Phone": {"pattern": PHONE_RE.pattern},
    "URL": {"format": "uri", "pattern": "^https?://"},
}


def component_key(doctype: str) -> str:
    """The components.schemas key of a doctype: spaces as ``_`` (doctype names hold no ``_`` or ``.``)."""
    return doctype.replace(" ", "_")


def ref(key: str) -> JSON:
    return {"$ref": f"#/components/schemas/{key}"}


def _nullable(schema: JSON) -> JSON:
    """The schema with null allowed too (JSON Schema 2020-12 type lists)."""
    out = dict(schema)
    kind = out.get("type")
    if isinstance(kind, str):
        out["type"] = [kind, "null"]
    if "enum" in out and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]
    return out


def _annotations(f: Field) -> JSON:
    out: JSON = {"title": f.label, "x-fieldtype": f.type}
    notes = [f.description] if f.description else []
    if f.type == "Link" and f.link_target:
        out["x-link-target"] = f.link_target
        notes.append(f"The ID of a {f.link_target}.")
    elif f.type == "Dynamic Link" and isinstance(f.options, str):
        out["x-link-doctype-field"] = f.options
        notes.append(f"The ID of a document of the doctype named in {f.options!r}.")
    if f.type == "Currency":
        notes.append("An exact decimal; at most 12 digits before the point.")
    if f.default is not None:
        if isinstance(f.default, str) and f.default in _DEFAULT_KEYWORDS:
            notes.append(f"Defaults to {_DEFAULT_KEYWORDS[f.default]}.")
        else:
            out["default"] = f.default
    if f.mandatory_depends_on:
        notes.append(f"Required when {f.mandatory_depends_on}.")
    if f.set_only_once:
        notes.append("Cannot be changed once set.")
    if f.unique:
        notes.append("Unique.")
    if notes:
        out["description"] = " ".join(notes)
    if f.read_only or f.type == "Read Only":
        out["readOnly"] = True
    return out


def field_schema(f: Field, *, read: bool) -> JSON:
    """The JSON Schema of one field's value: as sent in a create/update, or as answered (``read``)."""
    if f.type == "Table":
        row = component_key(f.options) if read else component_key(f.options) + ".create"  # type: ignore[arg-type]
        return {"type": "array", "items": ref(row), **_annotations(f), "x-link-target": f.options}
    base = dict(_READ_OVERRIDES.get(f.type, VALUE_SCHEMAS[f.type]) if read else VALUE_SCHEMAS[f.type])
    if f.type == "Select":  # empty means unset: refused for a required field
        empty = () if f.required and not read else ("",)
        base["enum"] = list(dict.fromkeys((*empty, *f.select_options)))
    if f.type == "Data" and isinstance(f.options, str) and not read:
        base = {**base, **_DATA_FORMATS.get(f.options, {})}
        if "pattern" in base:  # an empty value is accepted: it means unset
            base["pattern"] = f"^$|{base['pattern']}"
    if f.length and base.get("type") == "string" and "enum" not in base and (not read or f.type != "Password"):
        base["maxLength"] = f.length
    if f.non_negative and base.get("type") in ("integer", "number"):
        base.pop("exclusiveMinimum", None)
        base["minimum"] = 0
    description = base.pop("description", None)
    schema = {**base, **_annotations(f)}
    if description:
        schema["description"] = f"{schema['description']} {description}" if "description" in schema else description
    if read or not f.required:
        schema = _nullable(schema) if schema.get("type") or "enum" in schema else schema
    return schema


def _standard_read(meta: DocType) -> JSON:
    """The standard fields every answered document (or child row) has."""
    props: JSON = {
        "doctype": {"type": "string", "const": meta.name, "description": "Only in single documents, not in lists."},
        "name": {"type": "string", "title": "ID"},
        "owner": {"type": "string", "title": "Created By", "x-link-target": "User"},
        "creation": {"type": "string", "pattern": DATETIME_OUT, "title": "Created On"},
        "modified": {"type": "string", "pattern": DATETIME_OUT, "title": "Last Updated On",
                     "description": "Send it back with an update: a stale value is a 409."},
        "modified_by": {"type": "string", "title": "Last Updated By", "x-link-target": "User"},
        "docstatus": {"type": "integer", "enum": [0, 1, 2], "title": "Document Status",
                      "description": "0 draft, 1 submitted, 2 cancelled."},
        "idx": {"type": "integer", "title": "Index"},
    }
    if meta.is_child:
        props.update({
            "parent": {"type": "string", "title": "Parent", "description": "The parent document's ID."},
            "parenttype": {"type": "string", "title": "Parent Type"},
            "parentfield": {"type": "string", "title": "Parent Field"},
        })
    return {k: (v if k == "doctype" else _nullable(v)) for k, v in props.items()}


def _value_fields(meta: DocType) -> list[Field]:
    return [f for f in meta.fields if f.has_column or f.type == "Table"]


def read_schema(meta: DocType) -> JSON:
    props = _standard_read(meta)
    props.update({f.name: field_schema(f, read=True) for f in _value_fields(meta)})
    out: JSON = {"type": "object", "title": meta.name, "properties": props}
    if meta.description:
        out["description"] = meta.description
    return out


def _name_property(meta: DocType) -> JSON:
    if meta.naming.rule == "prompt":
        description = "Required: this doctype is named by the caller."
    else:
        description = f"Optional: without it the ID comes from the naming rule {meta.naming.rule!r}."
    return {"type": "string", "maxLength": MAX_NAME_LENGTH, "title": "ID", "description": description}


def create_schema(meta: DocType) -> JSON:
    """What a client sends to create a document (or a child row inside its parent's create)."""
    props: JSON = {"doctype": {"type": "string", "const": meta.name}, "name": _name_property(meta)}
    if meta.is_child:
        props["name"] = {"type": "string", "description": "The row's ID: send it back to keep the row on update."}
        props["idx"] = {"type": "integer", "minimum": 0, "description": "Position; rows are renumbered in order."}
    props.update({f.name: field_schema(f, read=False) for f in _value_fields(meta)})
    required = [f.name for f in meta.data_fields if f.required and f.default is None and not f.fetch_from]
    if meta.naming.rule == "prompt" and not meta.is_child:
        required.insert(0, "name")
    out: JSON = {"type": "object", "title": f"New {meta.name}", "properties": props,
                 "additionalProperties": False}
    if required:
        out["required"] = required
    return out


def update_schema(meta: DocType) -> JSON:
    """What a client sends to change a document: only the fields sent change."""
    props: JSON = {"doctype": {"type": "string", "const": meta.name},
                   "modified": {"type": "string", "description": "The 'modified' value read; a stale one is a 409."}}
    for f in _value_fields(meta):
        schema = field_schema(f, read=False)
        props[f.name] = _nullable(schema) if f.required and "type" in schema and f.type != "Table" else schema
    return {"type": "object", "title": f"Changes to a {meta.name}", "properties": props,
            "additionalProperties": False}


def field_name_schema(meta: DocType) -> JSON:
    """A column of the doctype as ``fields``/``filters``/``order_by`` name it."""
    columns = list(meta.column_names)
    children = ", ".join(f"{f.name}.<field>" for f in meta.table_fields)
    child_note = f" A child table's field as {children}." if children else ""
    return {"title": f"{meta.name} field",
            "description": f"A column of {meta.name}.{child_note}",
            "anyOf": [{"type": "string", "enum": columns}, {"type": "string", "pattern": r"^[a-z_][a-z0-9_]*\.[a-z_]"
                                                                                         r"[a-z0-9_]*$"}]}


def filters_schema(field: JSON) -> JSON:
    """Filter forms (SPEC 1.7): ``{field: value}``, ``{field: [op, value]}`` or ``[[field, op, value], ...]``."""
    scalar: JSON = {"type": ["string", "number", "boolean", "null"]}
    value: JSON = {"anyOf": [scalar, {"type": "array", "items": scalar, "maxItems": 20}]}
    operator: JSON = {"type": "string", "enum": sorted(OPERATORS)}
    return {
        "description": "{field: value}, {field: [operator, value]} or [[field, operator, value], ...]. "
                       "Operators: " + ", ".join(sorted(OPERATORS)) + ".",
        "anyOf": [
            {"type": "object", "propertyNames": field,
             "additionalProperties": {"anyOf": [scalar, {"type": "array", "prefixItems": [operator, value],
                                                         "minItems": 2, "maxItems": 2}]}},
            {"type": "array", "maxItems": 10,
             "items": {"type": "array", "prefixItems": [field, operator, value], "minItems": 3, "maxItems": 3}},
        ],
    }


def doctype_schemas(doctypes: dict[str, DocType]) -> dict[str, JSON]:
    """The components.schemas entries of every doctype."""
    out: dict[str, JSON] = {}
    for name in sorted(doctypes):
        meta = doctypes[name]
        key = component_key(name)
        out[key] = read_schema(meta)
        out[key + ".create"] = create_schema(meta)
        if not meta.is_child:
            out[key + ".update"] = update_schema(meta)
            out[key + ".field"] = field_name_schema(meta)
            out[key + ".filters"] = filters_schema(ref(key + ".field"))
    return out


FIELD_ERROR: JSON = {
    "type": "object",
    "description": "One problem with one field (or the request as a whole when field is null).",
    "properties": {
        "field": {"type": ["string", "null"]},
        "message": {"type": "string"},
        "doctype": {"type": "string"},
        "label": {"type": ["string", "null"]},
        "row": {"type": "integer", "description": "1-based row of the child table the field is in."},
    },
    "required": ["field", "message"],
}
V1_ERROR: JSON = {
    "type": "object",
    "title": "Frappe error",
    "description": "Frappe's error body (v1 and /api/method), plus a structured errors list.",
    "properties": {
        "exc_type": {"type": "string", "examples": ["ValidationError", "MandatoryError", "DoesNotExistError"]},
        "exception": {"type": "string", "description": "frappe.exceptions.<exc_type>: <message>"},
        "exc": {"type": "string", "description": "A JSON list holding the exception line (a message, never a "
                                                 "traceback)."},
        "_server_messages": {"type": "string", "description": "A JSON string of a list of JSON strings, each "
                                                              "{message, title, indicator, raise_exception}."},
        "errors": {"type": "array", "items": ref("FieldError")},
    },
    "required": ["exc_type", "exception", "exc", "_server_messages", "errors"],
}
V2_ERROR: JSON = {
    "type": "object",
    "title": "v2 error",
    "description": "Frappe's v2 error body: one entry per problem, with the field when known.",
    "properties": {
        "errors": {"type": "array", "items": {
            "type": "object",
            "properties": {"type": {"type": "string", "examples": ["ValidationError"]},
                           "message": {"type": "string"},
                           "title": {"type": "string"},
                           "indicator": {"type": "string"},
                           "field": {"type": "string"},
                           "doctype": {"type": "string"},
                           "label": {"type": "string"},
                           "row": {"type": "integer"}},
            "required": ["type", "message"],
        }},
    },
    "required": ["errors"],
}
DOCTYPE_META: JSON = {
    "type": "object",
    "title": "DocType metadata",
    "description": "Frappe's DocType document: its own keys, fields as DocField rows, permissions as DocPerm rows.",
    "properties": {
        "name": {"type": "string"},
        "module": {"type": "string"},
        "istable": {"type": "integer", "enum": [0, 1]},
        "is_submittable": {"type": "integer", "enum": [0, 1]},
        "autoname": {"type": "string"},
        "fields": {"type": "array", "items": {"type": "object", "properties": {
            "fieldname": {"type": "string"}, "fieldtype": {"type": "string"}, "label": {"type": "string"},
            "options": {"type": "string"}, "reqd": {"type": "integer", "enum": [0, 1]},
            "default": {"type": "string"}}, "required": ["fieldname", "fieldtype"]}},
        "permissions": {"type": "array", "items": {"type": "object"}},
    },
    "required": ["name", "fields"],
}
