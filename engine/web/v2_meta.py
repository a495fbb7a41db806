"""A doctype's metadata in the shape of Frappe's ``DocType`` document (``/api/v2/doctype/<DocType>/meta``).

Frappe answers ``frappe.get_meta(doctype).as_dict(no_nulls=True)``: the DocType's
own keys (checks as 0/1, ``search_fields`` comma-separated, ``autoname`` as a rule
string), ``fields`` as DocField rows (``fieldname``, ``fieldtype``, ``label``,
``options`` newline-separated for Select, ``reqd``, ``default`` as text, ...) and
``permissions`` as DocPerm rows. Tools written for Frappe read these keys, so the
names and value forms are Frappe's, not docframe's YAML keys. Unset values are left
out, as ``no_nulls`` does.
"""

from __future__ import annotations

from typing import Any

from engine.metadata.doctype import DocType, Field, Naming
from engine.rules.permissions import ACTIONS

# docframe field key -> Frappe DocField check (0/1).
_FIELD_CHECKS = (
    ("reqd", "required"), ("unique", "unique"), ("read_only", "read_only"), ("hidden", "hidden"),
    ("set_only_once", "set_only_once"), ("non_negative", "non_negative"), ("in_list_view", "in_list_view"),
    ("in_standard_filter", "in_filter"), ("search_index", "index"), ("allow_on_submit", "allow_on_submit"),
    ("no_copy", "no_copy"),
)
_FIELD_TEXTS = (
    ("description", "description"), ("depends_on", "depends_on"),
    ("mandatory_depends_on", "mandatory_depends_on"), ("read_only_depends_on", "read_only_depends_on"),
    ("fetch_from", "fetch_from"),
)
_NAMING_RULES = {  # docframe rule -> Frappe's naming_rule label
    "field": "By fieldname", "series": "Expression (old style)", "expression": "Expression",
    "hash": "Random", "autoincrement": "Autoincrement", "prompt": "Set by user",
}


def autoname(naming: Naming) -> str:
    """Frappe's ``autoname`` for a naming rule: ``field:x``, ``format:{a}-{b}``, ``hash``, ..."""
    if naming.rule == "field":
        return f"field:{naming.field}"
    if naming.rule == "expression":
        return f"format:{naming.pattern}"
    if naming.rule == "series":
        return naming.pattern or ""
    return {"prompt": "Prompt"}.get(naming.rule, naming.rule)


def _default_text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def field_dict(f: Field, parent: str, idx: int) -> dict[str, Any]:
    """One field as a Frappe DocField row."""
    out: dict[str, Any] = {
        "doctype": "DocField", "parent": parent, "parentfield": "fields", "parenttype": "DocType", "idx": idx,
        "fieldname": f.name, "fieldtype": f.type, "label": f.label,
    }
    if f.options is not None:
        out["options"] = "\n".join(f.select_options) if isinstance(f.options, tuple) else f.options
    if f.default is not None:
        out["default"] = _default_text(f.default)
    for frappe_key, key in _FIELD_CHECKS:
        out[frappe_key] = int(bool(getattr(f, key)))
    for frappe_key, key in _FIELD_TEXTS:
        value = getattr(f, key)
        if value:
            out[frappe_key] = value
    if f.length is not None:
        out["length"] = f.length
    if f.precision is not None:
        out["precision"] = str(f.precision)  # a Select of "0".."9" in Frappe
    return out


def permission_rows(meta: DocType) -> list[dict[str, Any]]:
    """The doctype's role permissions as Frappe DocPerm rows (level 0; every action as 0/1)."""
    rows = []
    for idx, (role, actions) in enumerate(meta.permissions.items(), start=1):
        row: dict[str, Any] = {"doctype": "DocPerm", "parent": meta.name, "parentfield": "permissions",
                               "parenttype": "DocType", "idx": idx, "role": role, "permlevel": 0}
        row.update((action, int(action in actions)) for action in ACTIONS)
        rows.append(row)
    return rows


def meta_dict(meta: DocType) -> dict[str, Any]:
    """The doctype as Frappe's meta answer: DocType keys, ``fields`` and ``permissions``."""
    out: dict[str, Any] = {"doctype": "DocType", "name": meta.name}
    if meta.module:
        out["module"] = meta.module
    if meta.description:
        out["description"] = meta.description
    out.update({
        "istable": int(meta.is_child), "issingle": 0, "is_submittable": int(meta.is_submittable),
        "is_tree": int(meta.is_tree), "track_changes": int(meta.track_changes),
        "sort_field": meta.sort_field, "sort_order": meta.sort_order.upper(),
    })
    if not meta.is_child:
        out["autoname"] = autoname(meta.naming)
        out["naming_rule"] = _NAMING_RULES[meta.naming.rule]
    if meta.is_tree and meta.parent_field:
        out["nsm_parent_field"] = meta.parent_field
    if meta.title_field:
        out["title_field"] = meta.title_field
    if meta.search_fields:
        out["search_fields"] = ",".join(meta.search_fields)
    out["fields"] = [field_dict(f, meta.name, i) for i, f in enumerate(meta.fields, start=1)]
    out["permissions"] = permission_rows(meta)
    out["masked_fields"] = []
    return out


def child_doctypes(meta: DocType) -> list[str]:
    """The doctypes of the meta's Table fields, each once, sorted (Frappe's ``include=children`` order)."""
    return sorted({f.options for f in meta.table_fields if isinstance(f.options, str)})
