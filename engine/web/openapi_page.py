"""The context of the API docs page (``templates/api_docs.html``), read from the OpenAPI document.

The template only renders these dataclasses; everything it shows comes from the
document served at ``/api/openapi.json``, so the page and the document cannot disagree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from engine.web.openapi_schemas import JSON

SITE = "$SITE"  # placeholder in the example commands, e.g. SITE=http://127.0.0.1:8000
_VERBS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Param:
    name: str
    where: str  # query, path or body
    required: bool
    type: str
    description: str


@dataclass(frozen=True)
class Operation:
    method: str  # GET, POST, ...
    path: str
    summary: str
    params: tuple[Param, ...]
    guest: bool  # callable without logging in
    anchor: str


@dataclass(frozen=True)
class FieldRow:
    """One field of a doctype, as the fields table shows it."""

    name: str
    label: str
    fieldtype: str
    required: bool
    link_target: str
    options: str
    description: str


@dataclass(frozen=True)
class Group:
    """The operations of one tag (a doctype, or a family of methods), with a doctype's fields."""

    name: str
    description: str
    anchor: str
    operations: tuple[Operation, ...]
    fields: tuple[FieldRow, ...]
    example: str  # a curl command


@dataclass(frozen=True)
class AuthScheme:
    name: str
    kind: str
    description: str


@dataclass(frozen=True)
class DocsPage:
    """Everything ``api_docs.html`` renders."""

    title: str
    version: str
    description: str
    auth: tuple[AuthScheme, ...]
    groups: tuple[Group, ...]
    example: str


def _anchor(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


def _resolve(document: JSON, node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        node = document["components"][node["$ref"].split("/")[2]][node["$ref"].split("/")[3]]
    return node


def _type_of(document: JSON, schema: JSON) -> str:
    schema = _resolve(document, schema)
    if "enum" in schema:
        return "one of " + ", ".join(json.dumps(v) for v in schema["enum"] if v not in ("", None))
    if "anyOf" in schema:
        return " or ".join(dict.fromkeys(_type_of(document, branch) for branch in schema["anyOf"]))
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = "/".join(k for k in kind if k != "null")
    return " ".join(str(p) for p in (kind or "any", schema.get("format")) if p)


def _params(document: JSON, op: JSON, path_params: list[JSON]) -> tuple[Param, ...]:
    out = []
    for p in [*path_params, *op.get("parameters", [])]:
        schema = p.get("schema") or next(iter(p.get("content", {}).values()), {}).get("schema", {})
        kind = "JSON " + _type_of(document, schema) if "content" in p else _type_of(document, schema)
        out.append(Param(p["name"], p["in"], bool(p.get("required")), kind, p.get("description", "")))
    body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if body is not None:
        body = _resolve(document, body)
        required = set(body.get("required", ()))
        if "properties" in body and not body.get("title"):  # a method's arguments, not a document
            for name, prop in body["properties"].items():
                out.append(Param(name, "body", name in required, _type_of(document, prop),
                                 prop.get("description", "")))
        else:
            out.append(Param("(body)", "body", True, body.get("title", "object"), "A JSON object; see the fields."))
    return tuple(out)


def _fields(document: JSON, key: str) -> tuple[FieldRow, ...]:
    schemas = document["components"]["schemas"]
    read, create = schemas[key]["properties"], schemas[key + ".create"]
    required = set(create.get("required", ()))
    rows = []
    for name, prop in read.items():
        if "x-fieldtype" not in prop:
            continue  # standard fields
        options = ""
        if "enum" in prop:
            options = ", ".join(str(v) for v in prop["enum"] if v not in ("", None))
        rows.append(FieldRow(name, prop.get("title", name), prop["x-fieldtype"], name in required,
                             prop.get("x-link-target", "") or prop.get("x-link-doctype-field", ""),
                             options, prop.get("description", "")))
    return tuple(rows)


def _curl(op: Operation | None) -> str:
    if op is None:
        return ""
    url = SITE + op.path.replace("{name}", "NAME")
    auth = "" if op.guest else ' -H "Authorization: token $KEY:$SECRET"'
    if op.method == "GET":
        return f"curl -s{auth} '{url}'"
    return f"curl -s -X {op.method}{auth} -H 'Content-Type: application/json' -d '{{}}' '{url}'"


def docs_page(document: JSON) -> DocsPage:
    """The docs page's context from an OpenAPI document."""
    by_tag: dict[str, list[Operation]] = {t["name"]: [] for t in document.get("tags", [])}
    for path, item in document["paths"].items():
        for verb in _VERBS:
            op = item.get(verb)
            if op is None:
                continue
            guest = {} in op.get("security", document.get("security", []))
            operation = Operation(verb.upper(), path, op.get("summary", ""),
                                  _params(document, op, item.get("parameters", [])), guest,
                                  _anchor(op.get("operationId", path)))
            for tag in op.get("tags", ["Other"]):
                by_tag.setdefault(tag, []).append(operation)
    tags = {t["name"]: t for t in document.get("tags", [])}
    groups = []
    for name, operations in by_tag.items():
        if not operations:
            continue
        tag = tags.get(name, {})
        key = tag.get("x-schema")
        fields = _fields(document, key) if key else ()
        groups.append(Group(name, tag.get("description", ""), "tag-" + _anchor(name), tuple(operations), fields,
                            _curl(operations[0] if operations else None)))
    info = document["info"]
    schemes = document.get("components", {}).get("securitySchemes", {})
    auth = tuple(AuthScheme(name, s.get("scheme") or f"{s['type']} in {s.get('in')}: {s.get('name')}",
                            s.get("description", "")) for name, s in schemes.items())
    example = "\n".join([
        "SITE=http://127.0.0.1:8000",
        "curl -s $SITE/api/method/ping",
        "curl -s -c cookies.txt -X POST -H 'Content-Type: application/json' "
        "-d '{\"usr\": \"Administrator\", \"pwd\": \"...\"}' $SITE/api/method/login",
        "curl -s -b cookies.txt $SITE/api/method/frappe.auth.get_logged_user",
        "curl -s -H \"Authorization: token $KEY:$SECRET\" $SITE/api/method/frappe.auth.get_logged_user",
    ])
    return DocsPage(info["title"], info["version"], info.get("description", ""), auth, tuple(groups), example)
