"""What the callable methods take and answer, for the OpenAPI document.

The list of methods comes from the registries (:data:`engine.web.method.METHODS` and the
app's ``site.hooks.methods`` / ``site.hooks.doc_methods``); this module only describes
their arguments and answers. Built-in methods take a ``dict`` of arguments, so their
arguments are written down here (:func:`builtin_docs`); a built-in method without an
entry is still listed, with free-form arguments. App methods are described from their
signatures (:class:`engine.documents.whitelist.WhitelistedMethod`).
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from engine.documents.whitelist import WhitelistedMethod
from engine.web.client_methods import MAX_INSERT_MANY
from engine.web.openapi_schemas import JSON

ANY: JSON = {}
DOC: JSON = {"type": "object", "description": "A document: {doctype, name, field: value, ..., table: [rows]}"}


@dataclass(frozen=True)
class Arg:
    """One request argument of a method."""

    name: str
    schema: JSON
    required: bool = False
    description: str = ""

    @property
    def is_json(self) -> bool:
        """Lists and objects travel JSON-encoded in query strings and form fields.

        An argument that may also be plain text (an ID or a JSON filter) is sent as text.
        """
        kinds = [s.get("type") for s in self.schema.get("anyOf", [self.schema])]
        return bool(kinds) and all(k in ("array", "object") for k in kinds)

    @property
    def text_schema(self) -> JSON:
        """The argument in a query string or form field."""
        if self.is_json:
            return {"type": "string", "contentMediaType": "application/json"}
        if not self.schema or "anyOf" in self.schema:
            return {"type": "string"}
        return self.schema


@dataclass(frozen=True)
class MethodDoc:
    """The documentation of one method: its arguments and its ``message`` (or whole answer)."""

    summary: str
    args: tuple[Arg, ...] = ()
    message: JSON | None = None  # the schema of "message"; None: the method answers `answer`
    answer: JSON | None = None  # the whole body, for methods answering more than a message
    open_args: bool = True  # extra arguments are ignored (built-ins) rather than refused
    description: str = ""


DOCTYPE_NAME = "DocTypeName"  # components.schemas key of the enum of doctype names
_DOCTYPE = Arg("doctype", {"$ref": f"#/components/schemas/{DOCTYPE_NAME}"}, True, "The doctype.")


_FILTERS = Arg("filters", {"anyOf": [{"type": "object"}, {"type": "array"}]}, False,
               "{field: value}, {field: [operator, value]} or [[field, operator, value], ...].")
_FIELDS = Arg("fields", {"type": "array", "items": {"type": "string"}}, False,
              'Field names, e.g. ["name", "customer_group"]; default ["name"].')
_PAGING = (
    Arg("order_by", {"type": "string"}, False, "e.g. 'modified desc'"),
    Arg("limit_start", {"type": "integer", "minimum": 0}),
    Arg("limit_page_length", {"type": "integer", "minimum": 0}, False, "Rows per page (default 20; 0 = all)."),
)
_NAME = Arg("name", {"type": "string", "minLength": 1}, True, "The document's ID.")
_DOC_ARG = Arg("doc", {"type": "object", "required": ["doctype"], "properties": {"doctype": {"type": "string"}}},
               True, "The document, with its doctype.")


def doctype_name_schema(doctypes: Iterable[str]) -> JSON:
    return {"type": "string", "enum": sorted(doctypes), "description": "A doctype's name"}


def builtin_docs() -> dict[str, MethodDoc]:
    """Arguments and answers of the built-in methods, by method name."""
    doctype = _DOCTYPE
    return {
        "ping": MethodDoc("Health check", message={"type": "string", "const": "pong"}),
        "login": MethodDoc(
            "Log in with a password; sets the session cookie sid",
            (Arg("usr", {"type": "string", "minLength": 1}, True, "User ID or email."),
             Arg("pwd", {"type": "string", "minLength": 1, "format": "password"}, True)),
            answer={"type": "object", "required": ["message"], "properties": {
                "message": {"type": "string", "const": "Logged In"}, "home_page": {"type": "string"},
                "full_name": {"type": "string"}}}),
        "logout": MethodDoc("End the cookie session", answer={"type": "object", "maxProperties": 0}),
        "frappe.auth.get_logged_user": MethodDoc("The calling user's ID", message={"type": "string"}),
        "frappe.client.get_list": MethodDoc(
            "List documents",
            (doctype, _FIELDS, _FILTERS, Arg("or_filters", _FILTERS.schema, False, _FILTERS.description), *_PAGING,
             Arg("as_dict", {"type": "integer", "enum": [0, 1]}, False, "0: rows as lists of values."),
             Arg("parent", {"type": "string"}, False, "For a child doctype: rows of this parent doctype only.")),
            message={"type": "array", "items": {"anyOf": [{"type": "object"}, {"type": "array"}]}}),
        "frappe.client.get_count": MethodDoc("Count documents", (doctype, _FILTERS), message={"type": "integer"}),
        "frappe.client.get": MethodDoc(
            "One document by name, or the first matching filters",
            (doctype, Arg("name", {"type": "string"}, False, "The ID (or send filters)."), _FILTERS), message=DOC),
        "frappe.client.get_value": MethodDoc(
            "Values of fields of the first matching document",
            (doctype, Arg("fieldname", {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
                          True, "A field name or a JSON list of them."),
             Arg("filters", {"anyOf": [{"type": "string"}, {"type": "object"}, {"type": "array"}]}, False,
                 "An ID or filters."),
             Arg("as_dict", {"type": "integer", "enum": [0, 1]}), Arg("parent", {"type": "string"})),
            message=ANY, description="{field: value} ({} when nothing matches); with as_dict=0 the value(s)."),
        "frappe.client.set_value": MethodDoc(
            "Set fields of a document and save it",
            (doctype, _NAME,
             Arg("fieldname", {"anyOf": [{"type": "string"}, {"type": "object"}]}, True,
                 "A field name (with value), or an object of field values."),
             Arg("value", ANY, False, "The value when fieldname is a field name.")),
            message=DOC),
        "frappe.client.insert": MethodDoc("Insert a document (or a child row into its parent)", (_DOC_ARG,),
                                          message=DOC),
        "frappe.client.insert_many": MethodDoc(
            "Insert documents in one transaction",
            (Arg("docs", {"type": "array", "maxItems": MAX_INSERT_MANY, "items": _DOC_ARG.schema}, True),),
            message={"type": "array", "items": {"type": "string"}}),
        "frappe.client.save": MethodDoc("Save changes to a document (doc with its name)", (_DOC_ARG,), message=DOC),
        "frappe.client.delete": MethodDoc("Delete a document", (doctype, _NAME),
                                          answer={"type": "object", "maxProperties": 0}),
        "frappe.client.submit": MethodDoc("Submit a document (inserting it first when new)", (_DOC_ARG,),
                                          message=DOC),
        "frappe.client.cancel": MethodDoc("Cancel a submitted document", (doctype, _NAME), message=DOC),
        "frappe.client.rename_doc": MethodDoc(
            "Rename a document; links to it follow",
            (doctype, Arg("old_name", {"type": "string", "minLength": 1}, True),
             Arg("new_name", {"type": "string", "minLength": 1}, True),
             Arg("merge", {"type": "integer", "enum": [0]}, False, "Merging is not supported.")),
            message={"type": "string"}),
        "frappe.client.bulk_update": MethodDoc(
            "Save changes to many documents, each in its own transaction",
            (Arg("docs", {"type": "array", "items": {"type": "object", "required": ["doctype", "docname"],
                                                     "properties": {"doctype": {"type": "string"},
                                                                    "docname": {"type": "string"}}}}, True),),
            message={"type": "object", "properties": {"failed_docs": {"type": "array", "items": {
                "type": "object", "properties": {"doc": {"type": "object"}, "exc": {"type": "string"}}}}}}),
        "frappe.desk.query_report.run": MethodDoc(
            "Run an app report: its columns, rows and chart (on a read replica when the site has one)",
            (Arg("report_name", {"type": "string", "minLength": 1}, True, "The report's name, as the desk lists it."),
             Arg("filters", {"type": "object"}, False, "The report's filter values, by filter name.")),
            message={"type": "object", "required": ["result", "columns"], "properties": {
                "result": {"type": "array", "items": {"type": "object"}},
                "columns": {"type": "array", "items": {"type": "object", "properties": {
                    "fieldname": {"type": "string"}, "label": {"type": "string"}, "fieldtype": {"type": "string"}}}},
                "message": {"type": ["string", "null"]}, "chart": {"type": ["object", "null"]},
                "execution_time": {"type": "number"}}}),
    }


_PYTHON_TYPES: dict[Any, JSON] = {
    str: {"type": "string"},
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    dt.date: {"type": "string", "format": "date"},
    list: {"type": "array"},
    dict: {"type": "object"},
}


def app_method_doc(method: WhitelistedMethod, v2_alias: str | None = None) -> MethodDoc:
    """An app method (``@whitelist``) described from its signature.

    ``v2_alias``: the short name v2 also answers to (``Customer/get_defaults``).
    """
    args = tuple(
        Arg(p.name, _PYTHON_TYPES.get(method.arg_types.get(p.name), ANY), p.default is inspect.Parameter.empty)
        for p in method.params if p.kind is not inspect.Parameter.VAR_KEYWORD
    )
    open_args = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in method.params)
    description = f"Also at /api/v2/method/{v2_alias}." if v2_alias else ""
    return MethodDoc(method.summary or method.name, args, message=ANY, open_args=open_args, description=description)


def query_parameters(doc: MethodDoc) -> list[JSON]:
    """The arguments as query parameters (lists and objects JSON-encoded)."""
    out = []
    for arg in doc.args:
        param: JSON = {"name": arg.name, "in": "query", "required": arg.required}
        if arg.description:
            param["description"] = arg.description
        if arg.is_json:
            param["content"] = {"application/json": {"schema": arg.schema}}
        else:
            param["schema"] = arg.text_schema
        out.append(param)
    return out


def request_body(doc: MethodDoc) -> JSON:
    """The arguments as a JSON object body, or form fields (lists and objects JSON-encoded)."""
    required = [a.name for a in doc.args if a.required]

    def obj(props: JSON) -> JSON:
        out: JSON = {"type": "object", "properties": props}
        if required:
            out["required"] = required
        if not doc.open_args:
            out["additionalProperties"] = False
        return out

    as_json = obj({a.name: {**a.schema, **({"description": a.description} if a.description else {})}
                   for a in doc.args})
    as_form = obj({a.name: a.text_schema for a in doc.args})
    return {"required": bool(required), "content": {"application/json": {"schema": as_json},
                                                    "application/x-www-form-urlencoded": {"schema": as_form}}}
