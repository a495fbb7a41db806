"""The OpenAPI 3.1 document of a site's REST API, generated from its doctypes and method registries.

:func:`openapi_document` is pure: the same site gives the same document. The web layer
(:mod:`engine.web.openapi`) builds it once per app and serves it at ``/api/openapi.json``.

Paths name each doctype literally, URL-encoded (``/api/resource/Customer%20Group``), so
every doctype has its own typed operations; child doctypes are not resources of their
own, their rows appear inside their parents. Methods come from the registries:
:data:`engine.web.method.METHODS` (built-ins, with ``frappe.client.*``) and the app's
``site.hooks.methods`` and ``site.hooks.doc_methods`` (``@whitelist``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from engine.metadata.doctype import DocType, snake
from engine.web.method import METHODS
from engine.web.openapi_methods import (
    DOCTYPE_NAME,
    MethodDoc,
    app_method_doc,
    builtin_docs,
    doctype_name_schema,
    query_parameters,
    request_body,
)
from engine.web.openapi_schemas import (
    DOCTYPE_META,
    FIELD_ERROR,
    JSON,
    V1_ERROR,
    V2_ERROR,
    component_key,
    doctype_schemas,
    ref,
)
from engine.web.resource import DEFAULT_PAGE_LENGTH

if TYPE_CHECKING:
    from engine.site.site import Site

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1"
AUTH_TAG = "Authentication"
CLIENT_TAG = "frappe.client"
APP_TAG = "App methods"
# Error statuses: what each means, and which answers may carry them.
ERROR_STATUSES = {
    "401": "Not logged in, or a wrong or malformed Authorization header",
    "403": "Not permitted (role, record rule, or an HTTP method the method does not accept)",
    "404": "No such doctype, document or method",
    "409": "Duplicate ID or unique value, or a stale 'modified' (TimestampMismatchError)",
    "413": "Request body over 10 MB",
    "417": "Validation failed: the errors list names each field",
    "429": "Too many requests",
}
SECURITY = [{"token": []}, {"basic": []}, {"sid": []}]
GUEST_SECURITY = [{}, *SECURITY]
DESCRIPTION = """\
Frappe-compatible REST API (v1 and v2), generated from the site's doctypes.

Authenticate with `Authorization: token <api_key>:<api_secret>`, HTTP Basic with
`api_key:api_secret`, or the `sid` cookie set by `POST /api/method/login`. Doctype
names and IDs are URL-encoded in paths (`/api/resource/Price%20List/Standard%20Selling`);
IDs match case-insensitively; a trailing slash is accepted, and so is Frappe's legacy form
(`POST /` with `cmd=<method>`). Values: numbers as JSON numbers, dates `YYYY-MM-DD`,
datetimes `YYYY-MM-DD HH:MM:SS.ffffff`.
"""


def openapi_document(site: Site) -> dict[str, Any]:
    """The OpenAPI 3.1 document for ``site``: every doctype's schemas and operations, and every method."""
    doctypes = site.doctypes
    resources = [doctypes[n] for n in sorted(doctypes) if not doctypes[n].is_child]
    paths: dict[str, JSON] = {}
    method_docs = builtin_docs()
    for name in sorted(METHODS):
        doc = method_docs.get(name) or MethodDoc(name)
        tag = CLIENT_TAG if name.startswith("frappe.client.") else AUTH_TAG
        guest = METHODS[name].allow_guest
        paths["/api/method/" + name] = _method_item(name, doc, METHODS[name].http_methods, guest, tag, v2=False)
        paths["/api/v2/method/" + name] = _method_item(name, doc, METHODS[name].http_methods, guest, tag, v2=True)
    for name in sorted(site.hooks.methods):
        app_method = site.hooks.methods[name]
        doc = app_method_doc(app_method, _doctype_alias(site, name))
        for v2 in (False, True):
            prefix = "/api/v2/method/" if v2 else "/api/method/"
            paths[prefix + name] = _method_item(name, doc, app_method.http_methods, app_method.allow_guest,
                                                APP_TAG, v2=v2)
    for meta in resources:
        paths.update(_resource_paths(site, meta))
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "docframe REST API", "version": API_VERSION, "description": DESCRIPTION},
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "tags": _tags(resources, with_app_methods=bool(site.hooks.methods)),
        "security": SECURITY,
        "paths": paths,
        "components": {
            "schemas": {"FieldError": FIELD_ERROR, "Error": V1_ERROR, "V2Error": V2_ERROR, "DocTypeMeta": DOCTYPE_META,
                        DOCTYPE_NAME: doctype_name_schema(doctypes), **doctype_schemas(doctypes)},
            "responses": {
                **{f"Error{status}": _error_response(text, "Error") for status, text in ERROR_STATUSES.items()},
                **{f"V2Error{status}": _error_response(text, "V2Error") for status, text in ERROR_STATUSES.items()},
            },
            "securitySchemes": {
                "token": {"type": "apiKey", "in": "header", "name": "Authorization",
                          "description": "Authorization: token <api_key>:<api_secret> "
                                         "(docframe user api-key EMAIL makes a pair)"},
                "basic": {"type": "http", "scheme": "basic",
                          "description": "HTTP Basic with the API key as user name and the API secret as password"},
                "sid": {"type": "apiKey", "in": "cookie", "name": "sid",
                        "description": "The session cookie set by POST /api/method/login (HttpOnly, SameSite=Lax)"},
            },
        },
    }


def _doctype_alias(site: Site, name: str) -> str | None:
    """``Customer/get_defaults``: v2's short name of a method in a doctype's hook module."""
    package, _, rest = name.partition(".")
    module, _, short = rest.rpartition(".")
    by_module = {snake(d): d for d in site.doctypes}
    if package != site.app.hooks_dir.name or module not in by_module:
        return None
    return f"{by_module[module]}/{short}"


def _tags(resources: list[DocType], *, with_app_methods: bool) -> list[JSON]:
    tags = [
        {"name": AUTH_TAG, "description": "Health check, log in and out, who am I."},
        {"name": CLIENT_TAG, "description": "Frappe's frappe.client methods; the doctype is an argument."},
    ]
    if with_app_methods:
        tags.append({"name": APP_TAG, "description": "The app's whitelisted methods (@whitelist in hooks/)."})
    for meta in resources:
        tag: JSON = {"name": meta.name, "x-schema": component_key(meta.name)}
        notes = [meta.description or ""]
        if meta.module:
            notes.append(f"(module {meta.module})")
        if any(notes):
            tag["description"] = " ".join(n for n in notes if n)
        tags.append(tag)
    return tags


def _error_response(description: str, schema: str) -> JSON:
    return {"description": description, "content": {"application/json": {"schema": ref(schema)}}}


def _errors(statuses: str, v2: bool) -> JSON:
    prefix = "V2Error" if v2 else "Error"
    return {s: {"$ref": f"#/components/responses/{prefix}{s}"} for s in statuses.split()}


def _ok(description: str, schema: JSON) -> JSON:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _object(**props: JSON) -> JSON:
    return {"type": "object", "properties": props, "required": list(props)}


# ------------------------------------------------------------------ methods

def _method_item(name: str, doc: MethodDoc, http_methods: frozenset[str], allow_guest: bool, tag: str,
                 *, v2: bool) -> JSON:
    """The path item of a method: GET with query arguments, other verbs with a body, as it accepts.

    v1 routes take GET and POST only; v2 routes every verb the method accepts.
    """
    if doc.answer is not None:  # login, logout, methods returning nothing: the same body in v1 and v2
        answer = doc.answer
    elif v2:
        answer = {"type": "object", "properties": {"data": doc.message or {}}}
        if doc.message:
            answer["required"] = ["data"]
    else:
        answer = {"type": "object", "properties": {"message": doc.message or {}}}
    if doc.message == {}:
        answer["description"] = "{} when the method returns nothing"
    item: JSON = {}
    for verb in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        if verb not in http_methods or (not v2 and verb not in ("GET", "POST")):
            continue
        op: JSON = {
            "tags": [tag],
            "summary": doc.summary,
            "operationId": f"{'v2' if v2 else 'v1'}_{verb.lower()}_{name}",
            "responses": {"200": _ok("The method's answer", answer), **_errors("401 403 404 409 413 417 429", v2)},
        }
        if doc.description:
            op["description"] = doc.description
        if allow_guest:
            op["security"] = GUEST_SECURITY
        if verb == "GET":
            if doc.args:
                op["parameters"] = query_parameters(doc)
        elif doc.args:
            op["requestBody"] = request_body(doc)
        item[verb.lower()] = op
    return item


# ------------------------------------------------------------------ documents

def _name_param(meta: DocType) -> JSON:
    return {"name": "name", "in": "path", "required": True, "description": f"The {meta.name}'s ID (URL-encoded)",
            "schema": {"type": "string", "minLength": 1}}


def _list_params(key: str, v2: bool) -> list[JSON]:
    def json_param(name: str, schema: JSON, description: str) -> JSON:
        return {"name": name, "in": "query", "description": description,
                "content": {"application/json": {"schema": schema}}}

    page = [
        {"name": "start", "in": "query", "schema": {"type": "integer", "minimum": 0}, "description": "Rows to skip"},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 0},
         "description": f"Rows per page (default {DEFAULT_PAGE_LENGTH})"},
        {"name": "group_by", "in": "query", "schema": {"type": "string"}, "description": "e.g. 'territory'"},
        {"name": "as_dict", "in": "query", "schema": {"type": "integer", "enum": [0, 1]},
         "description": "0: rows as lists of values (default 1)"},
    ] if v2 else [
        {"name": "limit_start", "in": "query", "schema": {"type": "integer", "minimum": 0},
         "description": "Rows to skip"},
        {"name": "limit_page_length", "in": "query", "schema": {"type": "integer", "minimum": 0},
         "description": f"Rows per page (default {DEFAULT_PAGE_LENGTH}; 0 = all; 'limit' is an alias)"},
    ]
    return [
        json_param("fields", {"type": "array", "items": ref(key + ".field"), "maxItems": 20},
                   'JSON list of fields, default ["name"]; also "*", child fields as table.field, '
                   "and count(name) / sum(field) ... with 'as alias'"),
        json_param("filters", ref(key + ".filters"), "Filters (all must hold)"),
        json_param("or_filters", ref(key + ".filters"), "Filters of which one must hold"),
        {"name": "order_by", "in": "query", "schema": {"type": "string"},
         "description": "e.g. 'modified desc, name asc'", "examples": {"recent": {"value": "modified desc"}}},
        *page,
    ]


def _doc_body(key: str, suffix: str, v2: bool) -> JSON:
    content: JSON = {"application/json": {"schema": ref(key + suffix)}}
    if not v2:
        content["application/x-www-form-urlencoded"] = {"schema": {
            "type": "object", "properties": {"data": {"type": "string", "contentMediaType": "application/json",
                                                      "description": "The document as JSON"}}}}
    return {"required": True, "content": content}


def _resource_paths(site: Site, meta: DocType) -> dict[str, JSON]:
    """The v1 and v2 operations of one doctype."""
    key, quoted, tags = component_key(meta.name), quote(meta.name, safe=""), [meta.name]
    one = {"type": "object", "properties": {"data": ref(key)}, "required": ["data"]}
    many = {"type": "array", "items": ref(key)}
    errors_read = "401 403 404 413 417 429"
    errors_write = "401 403 404 409 413 417 429"

    def op(verb: str, version: str, summary: str, responses: JSON, **extra: Any) -> JSON:
        v2 = version == "v2"
        return {"tags": tags, "summary": summary, "operationId": f"{version}_{verb}_{key}",
                "responses": {**responses, **_errors(errors_write if verb in ("create", "update", "replace",
                                                                             "delete", "patch") else errors_read,
                                                     v2)}, **extra}

    paths: dict[str, JSON] = {
        f"/api/resource/{quoted}": {
            "get": op("list", "v1", f"List {meta.name}", {"200": _ok("The rows", _object(data=many))},
                      parameters=_list_params(key, v2=False)),
            "post": op("create", "v1", f"Create a {meta.name}", {"200": _ok("The saved document", one)},
                       requestBody=_doc_body(key, ".create", v2=False)),
        },
        f"/api/resource/{quoted}/{{name}}": {
            "parameters": [_name_param(meta)],
            "get": op("get", "v1", f"Get a {meta.name}", {"200": _ok("The document", one)}),
            "put": op("update", "v1", f"Update a {meta.name} (only the fields sent)",
                      {"200": _ok("The saved document", one)}, requestBody=_doc_body(key, ".update", v2=False)),
            "delete": op("delete", "v1", f"Delete a {meta.name}",
                         {"202": _ok("Deleted", _object(message={"type": "string", "const": "ok"}))}),
        },
        f"/api/v2/document/{quoted}": {
            "get": op("list", "v2", f"List {meta.name}", {"200": _ok("A page of rows", _object(
                data={"type": "array", "items": {"anyOf": [ref(key), {"type": "array"}]}},
                has_next_page={"type": "boolean"}))}, parameters=_list_params(key, v2=True)),
            "post": op("create", "v2", f"Create a {meta.name}", {"200": _ok("The saved document", one)},
                       requestBody=_doc_body(key, ".create", v2=True)),
        },
        f"/api/v2/document/{quoted}/{{name}}": {
            "parameters": [_name_param(meta)],
            "get": op("get", "v2", f"Get a {meta.name}", {"200": _ok("The document", one)}),
            "patch": op("patch", "v2", f"Update a {meta.name} (only the fields sent)",
                        {"200": _ok("The saved document", one)}, requestBody=_doc_body(key, ".update", v2=True)),
            "put": op("replace", "v2", f"Update a {meta.name} (as PATCH)",
                      {"200": _ok("The saved document", one)}, requestBody=_doc_body(key, ".update", v2=True)),
            "delete": op("delete", "v2", f"Delete a {meta.name}",
                         {"202": _ok("Deleted", _object(data={"type": "string", "const": "ok"}))}),
        },
        f"/api/v2/document/{quoted}/{{name}}/copy": {
            "parameters": [_name_param(meta)],
            "get": op("copy", "v2", f"A copy of a {meta.name} to create a new one (no ID, owner, timestamps)",
                      {"200": _ok("The copy", {"type": "object", "properties": {"data": ref(key + ".create")},
                                               "required": ["data"]})}),
        },
        f"/api/v2/doctype/{quoted}/meta": {
            "get": op("meta", "v2", f"Metadata of {meta.name} (Frappe's DocType shape)", {"200": _ok(
                "The metadata", {**_object(data=ref("DocTypeMeta")), "properties": {
                    "data": ref("DocTypeMeta"), "children": {"type": "array", "items": ref("DocTypeMeta")}}})},
                      parameters=[{"name": "include", "in": "query", "schema": {"type": "string", "enum": ["children"]},
                                   "description": "children: also the child doctypes' metadata"}]),
        },
        f"/api/v2/doctype/{quoted}/count": {
            "get": op("count", "v2", f"Count {meta.name}", {"200": _ok("The count", _object(data={"type": "integer"}))},
                      parameters=[*(p for p in _list_params(key, v2=True) if p["name"] in ("filters", "or_filters")),
                                  {"name": "distinct", "in": "query", "schema": {"type": "integer", "enum": [0, 1]},
                                   "description": "1: count distinct rows"}]),
        },
    }
    for (doctype, method_name), method in sorted(site.hooks.doc_methods.items()):
        if doctype == meta.name:  # the route takes GET and POST
            verbs = method.http_methods & {"GET", "POST"}
            item = _method_item(method_name, app_method_doc(method), verbs, method.allow_guest, meta.name, v2=True)
            for verb, operation in item.items():
                operation["operationId"] = f"v2_{verb}_{key}_{method_name}"
                operation["parameters"] = [_name_param(meta), *operation.get("parameters", [])]
            paths[f"/api/v2/document/{quoted}/{{name}}/method/{method_name}"] = item
    return paths
