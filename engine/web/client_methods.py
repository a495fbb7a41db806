"""Frappe's ``frappe.client.*`` whitelisted methods at ``/api/method/frappe.client.<name>``.

Arguments come from the query string, form fields (lists and dicts JSON-encoded inside
them) or a JSON body; each method answers ``{"message": ...}`` as Frappe does (a method
returning nothing answers ``{}``). Everything goes through the request's Session, so
role permissions, record rules and the document lifecycle apply. Reads accept GET and
POST; writes only POST.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa

from engine.documents.document import Document
from engine.errors import DocframeError, DoesNotExistError, PermissionError, ValidationError
from engine.rules.permissions import check_permission
from engine.web.context import db_session

MAX_INSERT_MANY = 200
DEFAULT_PAGE_LENGTH = 20
# Set by the server, never by a client's document body.
_SERVER_FIELDS = ("owner", "creation", "modified_by", "flags")
# Frappe's set_value refuses these.
_STANDARD_FIELDS = frozenset({"name", "owner", "creation", "modified", "modified_by", "docstatus",
                              "parent", "parentfield", "parenttype", "doctype"})


# ------------------------------------------------------------------ argument parsing

def json_arg(value: Any, arg: str) -> Any:
    """A list/dict argument that may have come JSON-encoded in a string."""
    if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise ValidationError(f"Argument {arg!r} is not valid JSON: {exc}") from None
    return value


def _required(args: Mapping[str, Any], arg: str) -> Any:
    value = args.get(arg)
    if value is None or value == "":
        raise ValidationError(f"Missing argument {arg!r}")
    return value


def text_arg(args: Mapping[str, Any], arg: str) -> str:
    value = _required(args, arg)
    if not isinstance(value, str):
        raise ValidationError(f"Argument {arg!r} must be a string, not {type(value).__name__}")
    return value


def _flag(value: Any, default: bool = False) -> bool:
    """Frappe-style truthiness of a flag that may arrive as "0"/"1"/"true"/"false"."""
    if value is None or value == "":
        return default
    if isinstance(value, str):
        return value.strip().lower() not in ("0", "false", "no", "off")
    return bool(value)


def _doc_arg(args: Mapping[str, Any], arg: str = "doc") -> dict[str, Any]:
    doc = json_arg(_required(args, arg), arg)
    if not isinstance(doc, dict):
        raise ValidationError(f"Argument {arg!r} must be a JSON object of fields, not {type(doc).__name__}")
    if not isinstance(doc.get("doctype"), str) or not doc["doctype"]:
        raise ValidationError(f"Argument {arg!r} needs a 'doctype'")
    return dict(doc)


def _docs_arg(args: Mapping[str, Any]) -> list[Any]:
    docs = json_arg(_required(args, "docs"), "docs")
    if not isinstance(docs, list):
        raise ValidationError(f"Argument 'docs' must be a JSON list of documents, not {type(docs).__name__}")
    return docs


def _filters(value: Any, arg: str = "filters") -> Any:
    """Filters as Frappe's ``get_safe_filters`` reads them: JSON when the text is JSON, else the text.

    frappe-client JSON-encodes every filters argument, so a name arrives as ``"Acme"``
    (quotes included) and a number as ``5``; both mean that ID. Text that is not JSON,
    or JSON ``true``/``null``, is taken as it is (an ID).
    """
    if isinstance(value, str) and value.strip()[:1] not in ("[", "{"):
        try:
            decoded = json.loads(value)
        except ValueError:
            decoded = value
        if isinstance(decoded, str):
            value = decoded
        elif isinstance(decoded, (int, float)) and not isinstance(decoded, bool):
            value = value.strip()
    value = json_arg(value, arg)
    return value or None


def _client_values(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in _SERVER_FIELDS and k != "doctype"}


# ------------------------------------------------------------------ reads

def _with_parent(doctype: str, filters: Any, parent: Any) -> Any:
    """Child-table rows of one parent doctype only (Frappe's ``parent`` argument), which the user must read."""
    if not parent:
        return filters
    s = db_session()
    meta = s.site.get_meta(doctype)
    if not meta.is_child:
        return filters
    if not isinstance(parent, str) or parent not in s.site.doctypes or not any(
            f.options == doctype for f in s.site.get_meta(parent).table_fields):
        raise PermissionError(f"{parent!r} is not a parent doctype of {doctype}")
    check_permission(s, parent, "read")
    condition = ["parenttype", "=", parent]
    if filters is None:
        return [condition]
    if isinstance(filters, dict):
        return [*([k, "=", v] if not isinstance(v, list) else [k, *v] for k, v in filters.items()), condition]
    if isinstance(filters, list):
        return [*filters, condition]
    return filters


def get_list(args: dict[str, Any]) -> list[Any]:
    doctype = text_arg(args, "doctype")
    fields = json_arg(args.get("fields"), "fields") or None
    page_length = args.get("limit_page_length", args.get("limit", DEFAULT_PAGE_LENGTH))
    if page_length in (0, "0", "", None):
        page_length = None  # Frappe: 0 means every row
    filters = _with_parent(doctype, _filters(args.get("filters")), args.get("parent"))
    rows = db_session().get_list(
        doctype, fields=fields, filters=filters,
        or_filters=_filters(args.get("or_filters"), "or_filters"), order_by=args.get("order_by") or None,
        group_by=args.get("group_by") or None, limit=page_length, offset=args.get("limit_start") or 0,
    )
    if not _flag(args.get("as_dict"), True):
        return [list(row.values()) for row in rows]
    return rows


def get_count(args: dict[str, Any]) -> int:
    return db_session().get_count(text_arg(args, "doctype"), filters=_filters(args.get("filters")))


def _row_and_parent(doctype: str, name: Any) -> tuple[Document, Document] | None:
    """For a child doctype: the row ``name`` and its parent document (read with the caller's permission),
    as Frappe addresses a child row by its own name; None for any other doctype."""
    s = db_session()
    site = s.site
    if not site.get_meta(doctype).is_child:
        return None
    if not isinstance(name, str) or not name:
        raise ValidationError(f"{doctype} rows are addressed by their 'name'")
    table = site.table(doctype)
    with s.reading() as conn:
        found = conn.execute(sa.select(table.c.parent, table.c.parenttype)
                             .where(site.name_match(table, name))).first()
    if found is None or not found.parenttype:
        raise DoesNotExistError(f"{doctype} {name!r} not found")
    parent = s.get_doc(found.parenttype, found.parent)
    for _, rows in parent.children():
        for row in rows:
            if row.doctype == site.get_meta(doctype).name and str(row.name).lower() == name.lower():
                return row, parent
    raise DoesNotExistError(f"{doctype} {name!r} not found")


def get(args: dict[str, Any]) -> dict[str, Any]:
    doctype = text_arg(args, "doctype")
    name = args.get("name")
    s = db_session()
    if name and (child := _row_and_parent(doctype, name)) is not None:
        return child[0].as_dict()  # a row, with its parent, parenttype and parentfield
    if not name:
        filters = _filters(args.get("filters"))
        if filters is None:
            raise ValidationError("Send a document 'name' or 'filters'")
        if isinstance(filters, str):
            filters = {"name": filters}
        name = s.get_value(doctype, filters, "name")
        if not name:
            raise DoesNotExistError(f"No {doctype} found for the given filters")
    return s.get_doc(doctype, name).as_dict()


def get_value(args: dict[str, Any]) -> Any:
    doctype = text_arg(args, "doctype")
    fieldname = json_arg(_required(args, "fieldname"), "fieldname")
    fields = [fieldname] if isinstance(fieldname, str) else fieldname
    if not isinstance(fields, list) or not fields or not all(isinstance(f, str) for f in fields):
        raise ValidationError("Argument 'fieldname' must be a field name or a JSON list of field names")
    filters = _filters(args.get("filters"))
    if isinstance(filters, str):
        filters = {"name": filters}
    filters = _with_parent(doctype, filters, args.get("parent"))
    rows = db_session().get_list(doctype, fields=fields, filters=filters, limit=1)
    if _flag(args.get("as_dict"), True):
        return rows[0] if rows else {}
    if not rows:
        return None
    values = list(rows[0].values())
    return values if len(fields) > 1 else values[0]


# ------------------------------------------------------------------ writes

def set_value(args: dict[str, Any]) -> dict[str, Any]:
    doctype, name = text_arg(args, "doctype"), text_arg(args, "name")
    fieldname = json_arg(_required(args, "fieldname"), "fieldname")
    value = args.get("value")
    if isinstance(fieldname, dict):
        values = fieldname
    elif isinstance(fieldname, str):
        values = {fieldname: value if value is not None else ""}
    else:
        raise ValidationError("Argument 'fieldname' must be a field name or a JSON object of field values")
    refused = sorted(set(values) & _STANDARD_FIELDS)
    if refused:
        raise ValidationError(f"Cannot edit standard fields of {doctype}: {', '.join(refused)}")
    child = _row_and_parent(doctype, name)
    if child is not None:  # as Frappe: the row changes and its parent is saved (and answered)
        row, parent = child
        row.update(values)
        return parent.save().as_dict()
    return db_session().set_value(doctype, name, values).as_dict()


def _insert(doc: dict[str, Any]) -> Document:
    """Insert a document, or (with parent/parenttype/parentfield) a child row into its parent."""
    s = db_session()
    if doc.get("parent") and doc.get("parenttype"):
        parent = s.get_doc(doc["parenttype"], doc["parent"])
        row = {k: v for k, v in _client_values(doc).items() if k not in ("parent", "parenttype", "parentfield")}
        parent.append(doc.get("parentfield") or "", row)
        return parent.save()
    return s.insert(doc["doctype"], _client_values(doc))


def insert(args: dict[str, Any]) -> dict[str, Any]:
    return _insert(_doc_arg(args)).as_dict()


def insert_many(args: dict[str, Any]) -> list[str]:
    docs = _docs_arg(args)
    if len(docs) > MAX_INSERT_MANY:
        raise ValidationError(f"Only {MAX_INSERT_MANY} inserts allowed in one request, not {len(docs)}")
    checked = [_doc_arg({"doc": d}) for d in docs]
    with db_session().atomic():
        return [_insert(doc).name for doc in checked]


def save(args: dict[str, Any]) -> dict[str, Any]:
    doc = _doc_arg(args)
    name = doc.get("name")
    if not name:
        raise ValidationError("Argument 'doc' needs the 'name' of the document to save; use insert for a new one")
    existing = db_session().get_doc(doc["doctype"], name)
    values = _client_values(doc)
    values.pop("name", None)
    if values.get("docstatus") in (None, existing.docstatus):
        values.pop("docstatus", None)
    existing.update(values)  # a stale "modified" is a 409 (optimistic locking)
    return existing.save().as_dict()


def delete(args: dict[str, Any]) -> None:
    db_session().delete_doc(text_arg(args, "doctype"), text_arg(args, "name"))


def submit(args: dict[str, Any]) -> dict[str, Any]:
    doc = _doc_arg(args)
    s = db_session()
    values = _client_values(doc)
    values.pop("docstatus", None)
    with s.atomic():
        if doc.get("name") and s.exists(doc["doctype"], doc["name"]):
            target = s.get_doc(doc["doctype"], values.pop("name"))
            target.update(values)
        else:
            target = s.insert(doc["doctype"], values)
        return target.submit().as_dict()


def cancel(args: dict[str, Any]) -> dict[str, Any]:
    return db_session().get_doc(text_arg(args, "doctype"), text_arg(args, "name")).cancel().as_dict()


def rename_doc(args: dict[str, Any]) -> str:
    doctype, old, new = text_arg(args, "doctype"), text_arg(args, "old_name"), text_arg(args, "new_name")
    if _flag(args.get("merge")):
        raise ValidationError(f"Merging {doctype} {old!r} into {new!r} is not supported: rename to a free name")
    return str(db_session().rename_doc(doctype, old, new).name)


def bulk_update(args: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    s = db_session()
    failed: list[dict[str, Any]] = []
    for doc in _docs_arg(args):
        try:
            if not isinstance(doc, dict) or not doc.get("doctype") or not doc.get("docname"):
                raise ValidationError("Each document needs 'doctype' and 'docname'")
            values = {k: v for k, v in _client_values(doc).items() if k not in ("docname", "name")}
            with s.atomic():
                target = s.get_doc(doc["doctype"], doc["docname"])
                target.update(values)
                target.save()
        except DocframeError as exc:
            failed.append({"doc": doc, "exc": f"frappe.exceptions.{exc.exc_type}: {exc.message}"})
        except sa.exc.DataError:
            failed.append({"doc": doc, "exc": "frappe.exceptions.ValidationError: A value is invalid for its field"})
    return {"failed_docs": failed}


READS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "get_list": get_list, "get_count": get_count, "get": get, "get_value": get_value,
}
WRITES: dict[str, Callable[[dict[str, Any]], Any]] = {
    "set_value": set_value, "insert": insert, "insert_many": insert_many, "save": save, "delete": delete,
    "submit": submit, "cancel": cancel, "rename_doc": rename_doc, "bulk_update": bulk_update,
}
