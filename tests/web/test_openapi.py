"""/api/openapi.json and /api/docs: the generated OpenAPI 3.1 document and the page rendered from it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from flask import Flask
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from engine import Site
from engine.metadata.fieldtypes import FIELD_TYPES
from engine.web import create_app
from engine.web.method import METHODS
from engine.web.openapi import DOCS_KEY
from engine.web.openapi_schemas import VALUE_SCHEMAS
from tests.web.conftest import APP_CONFIG, WebEnv

HOSTILE = '<script>alert("x")</script>'

# One doctype with a field of every value type, and a child doctype, to check each mapping.
KITCHEN_SINK = f"""
name: Sink
description: 'Everything {HOSTILE}'
naming: {{rule: prompt}}
fields:
  - {{name: title, type: Data, required: true, length: 40, label: 'Title {HOSTILE}'}}
  - {{name: email, type: Data, options: Email}}
  - {{name: notes, type: Small Text}}
  - {{name: body, type: Text}}
  - {{name: essay, type: Long Text}}
  - {{name: count, type: Int, non_negative: true}}
  - {{name: ratio, type: Float}}
  - {{name: share, type: Percent}}
  - {{name: amount, type: Currency}}
  - {{name: active, type: Check, default: 1}}
  - {{name: day, type: Date}}
  - {{name: moment, type: Datetime}}
  - {{name: at, type: Time}}
  - {{name: status, type: Select, options: [Open, Closed], required: true}}
  - {{name: kind, type: Select, options: [A, B], required: true, default: A}}
  - {{name: owner_user, type: Link, options: User}}
  - {{name: ref_type, type: Link, options: DocType}}
  - {{name: ref_name, type: Dynamic Link, options: ref_type}}
  - {{name: secret, type: Password}}
  - {{name: data, type: JSON}}
  - {{name: computed, type: Read Only}}
  - {{name: section, type: Section Break}}
  - {{name: lines, type: Table, options: Sink Line}}
"""
SINK_LINE = """
name: Sink Line
is_child: true
fields:
  - {name: item, type: Data, required: true}
  - {name: qty, type: Int}
"""


@pytest.fixture
def sink_app(tmp_path: Path) -> Flask:
    """An app of the kitchen-sink doctypes (metadata only: the document needs no tables)."""
    app_dir = tmp_path / "sinkapp"
    (app_dir / "doctypes").mkdir(parents=True)
    (app_dir / "doctypes" / "sink.yaml").write_text(KITCHEN_SINK)
    (app_dir / "doctypes" / "sink_line.yaml").write_text(SINK_LINE)
    return create_app(Site(f"sqlite:///{tmp_path / 'sink.db'}", app_dir), APP_CONFIG)


def _document(app: Flask) -> dict[str, Any]:
    r = app.test_client().get("/api/openapi.json")
    assert r.status_code == 200 and r.mimetype == "application/json"
    return r.get_json()  # type: ignore[no-any-return]


def _validator(document: dict[str, Any], ref: str) -> jsonschema.Draft202012Validator:
    """A validator for a component of the document ($refs resolve inside it)."""
    return jsonschema.Draft202012Validator({"$ref": ref, "components": document["components"]},
                                           format_checker=jsonschema.FormatChecker())


def _response_schema(document: dict[str, Any], path: str, verb: str, status: str) -> dict[str, Any]:
    response = document["paths"][path][verb]["responses"][status]
    if "$ref" in response:
        response = document["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    return response["content"]["application/json"]["schema"]  # type: ignore[no-any-return]


# ------------------------------------------------------------------ the document

def test_document_is_valid_openapi_31_served_without_login(web: WebEnv) -> None:
    r = web.anon().get("/api/openapi.json")
    assert r.status_code == 200
    document = r.get_json()
    assert document["openapi"].startswith("3.1.")
    validate(document)  # raises on an invalid document
    broken = {**document, "paths": {"/x": {"get": {"responses": {"200": {"description": 1}}}}}}
    with pytest.raises(OpenAPIValidationError):
        validate(broken)


def test_every_field_type_with_a_value_has_a_json_schema() -> None:
    value_types = {name for name, ft in FIELD_TYPES.items() if ft.has_column}
    assert value_types <= set(VALUE_SCHEMAS)


def test_field_types_map_to_json_types_formats_and_annotations(sink_app: Flask) -> None:
    document = _document(sink_app)
    validate(document)
    schemas = document["components"]["schemas"]
    new, read = schemas["Sink.create"], schemas["Sink"]
    props = new["properties"]
    assert new["required"] == ["name", "title", "status"]  # prompt naming; 'kind' has a default
    assert new["additionalProperties"] is False
    assert props["title"]["type"] == "string" and props["title"]["maxLength"] == 40
    assert props["email"]["format"] == "email"
    assert props["count"]["type"] == ["integer", "null"] and props["count"]["minimum"] == 0
    assert props["ratio"]["type"] == props["share"]["type"] == ["number", "null"]
    assert props["amount"]["type"] == ["number", "null"] and props["amount"]["exclusiveMaximum"] == 10**12
    assert props["active"]["enum"] == [0, 1, None] and props["active"]["default"] == 1
    assert props["day"]["format"] == "date" and props["moment"]["format"] == "date-time"
    assert "pattern" in props["at"]
    assert props["status"]["enum"] == ["Open", "Closed"]  # required: neither empty nor null
    assert read["properties"]["status"]["enum"] == ["", "Open", "Closed", None]
    assert props["owner_user"]["x-link-target"] == "User" and "User" in props["owner_user"]["description"]
    assert props["ref_name"]["x-link-doctype-field"] == "ref_type"
    assert props["secret"]["writeOnly"] is True
    assert props["data"]["x-fieldtype"] == "JSON" and "type" not in props["data"]
    assert props["computed"]["readOnly"] is True
    assert "section" not in props and "section" not in read["properties"]
    assert props["lines"] == {**props["lines"], "type": "array",
                              "items": {"$ref": "#/components/schemas/Sink_Line.create"}}
    assert read["properties"]["lines"]["items"] == {"$ref": "#/components/schemas/Sink_Line"}
    assert read["properties"]["title"]["title"] == f"Title {HOSTILE}"
    assert {"name", "owner", "creation", "modified", "modified_by", "docstatus", "idx"} <= set(read["properties"])
    assert {"parent", "parenttype", "parentfield"} <= set(schemas["Sink_Line"]["properties"])
    assert schemas["Sink_Line.create"]["required"] == ["item"]
    assert "required" not in schemas["Sink.update"] and "modified" in schemas["Sink.update"]["properties"]


def test_values_are_checked_against_the_schemas(sink_app: Flask) -> None:
    new = _validator(_document(sink_app), "#/components/schemas/Sink.create")
    good = {"name": "S1", "title": "T", "status": "Open", "count": 3, "amount": 12.5, "day": "2024-02-29",
            "moment": "2024-02-29T10:00:00Z", "at": "10:30:00", "data": {"any": ["json"]},
            "lines": [{"item": "pen", "qty": 2}]}
    assert list(new.iter_errors(good)) == []
    for bad in ({**good, "status": "Pending"}, {**good, "count": -1}, {**good, "active": 2},
                {**good, "title": "x" * 41}, {**good, "lines": [{"qty": 1}]}, {**good, "unknown": 1},
                {k: v for k, v in good.items() if k != "title"}):
        assert list(new.iter_errors(bad)), bad


def test_only_top_level_doctypes_are_resources(web: WebEnv) -> None:
    paths = _document(web.app)["paths"]
    for name, meta in web.site.doctypes.items():
        quoted = name.replace(" ", "%20")
        documented = {f"/api/resource/{quoted}", f"/api/resource/{quoted}/{{name}}", f"/api/v2/document/{quoted}",
                      f"/api/v2/document/{quoted}/{{name}}", f"/api/v2/doctype/{quoted}/meta",
                      f"/api/v2/doctype/{quoted}/count"}
        if meta.is_child:
            assert not documented & set(paths), name
        else:
            assert documented <= set(paths), name
    item = paths["/api/resource/Customer%20Group/{name}"]
    assert set(item) == {"parameters", "get", "put", "delete"}
    assert set(paths["/api/v2/document/Customer%20Group/{name}"]) == {"parameters", "get", "patch", "put", "delete"}


def test_every_registered_method_is_documented_with_its_http_methods(web: WebEnv) -> None:
    paths = _document(web.app)["paths"]
    app_methods = web.site.hooks.methods
    assert app_methods, "the bundled app whitelists methods"
    for name, verbs in [*((n, m.http_methods) for n, m in METHODS.items()),
                        *((n, m.http_methods) for n, m in app_methods.items())]:
        assert {v.lower() for v in verbs & {"GET", "POST"}} == set(paths[f"/api/method/{name}"]), name
        assert {v.lower() for v in verbs} == set(paths[f"/api/v2/method/{name}"]), name
    for (doctype, name), method in web.site.hooks.doc_methods.items():
        item = paths[f"/api/v2/document/{doctype.replace(' ', '%20')}/{{name}}/method/{name}"]
        assert {v.lower() for v in method.http_methods} == set(item)
    credit = paths["/api/method/hooks.customer.get_credit_limit"]["get"]
    assert [(p["name"], p["required"]) for p in credit["parameters"]] == [("customer", True), ("company", True)]
    defaults = {p["name"]: p for p in paths["/api/method/hooks.customer.get_defaults"]["get"]["parameters"]}
    assert defaults["posting_date"]["schema"] == {"type": "string", "format": "date"}
    assert not defaults["posting_date"]["required"]
    ping = paths["/api/method/ping"]["get"]
    assert {} in ping["security"]  # no login needed
    assert "security" not in paths["/api/method/frappe.client.get_list"]["get"]  # the document's: a login
    get_list = {p["name"]: p for p in paths["/api/method/frappe.client.get_list"]["get"]["parameters"]}
    assert get_list["doctype"]["required"] and "content" in get_list["filters"]  # JSON-encoded in the query


def test_security_schemes_and_error_bodies(web: WebEnv) -> None:
    document = _document(web.app)
    schemes = document["components"]["securitySchemes"]
    assert schemes["token"] == {**schemes["token"], "type": "apiKey", "in": "header", "name": "Authorization"}
    assert schemes["basic"]["scheme"] == "basic"
    assert schemes["sid"] == {**schemes["sid"], "type": "apiKey", "in": "cookie", "name": "sid"}
    for path, verb, body, schema_status in [
        ("/api/resource/Customer", "post", {"customer_type": "Company"}, "417"),
        ("/api/v2/document/Customer", "post", {"customer_type": "Company"}, "417"),
    ]:
        r = web.client.post(path, json=body)
        assert r.status_code == 417
        schema = _response_schema(document, path, verb, schema_status)
        assert list(_validator(document, schema["$ref"]).iter_errors(r.get_json())) == []
    assert {"401", "403", "404", "409", "413", "417", "429"} <= set(
        document["paths"]["/api/resource/Customer/{name}"]["put"]["responses"])


def test_real_answers_match_the_documented_schemas(web: WebEnv) -> None:
    document = _document(web.app)
    created = web.client.post("/api/resource/Customer", json={
        "customer_name": "Acme", "customer_group": "Default Customer Group", "credit_days": 30,
        "price_lists": [{"price_list": "Standard Selling"}]})
    assert created.status_code == 200, created.get_json()
    for path, verb, url, status in [
        ("/api/resource/Customer", "post", None, "200"),
        ("/api/resource/Customer/{name}", "get", "/api/resource/Customer/Acme", "200"),
        ("/api/resource/Customer", "get", '/api/resource/Customer?fields=["*"]', "200"),
        ("/api/v2/document/Customer", "get", '/api/v2/document/Customer?fields=["name","credit_days"]', "200"),
        ("/api/v2/doctype/Customer/meta", "get", "/api/v2/doctype/Customer/meta", "200"),
        ("/api/method/frappe.client.get_count", "get", "/api/method/frappe.client.get_count?doctype=Customer",
         "200"),
    ]:
        answer = created if url is None else web.client.get(url)
        assert answer.status_code == int(status), (url, answer.get_json())
        schema = {**_response_schema(document, path, verb, status), "components": document["components"]}
        errors = list(jsonschema.Draft202012Validator(schema).iter_errors(answer.get_json()))
        assert errors == [], (path, [e.message for e in errors])
    deleted = web.client.delete("/api/v2/document/Customer/Acme")
    assert deleted.status_code == 202
    assert "202" in document["paths"]["/api/v2/document/Customer/{name}"]["delete"]["responses"]


def test_document_is_built_once_per_app_and_revalidated_by_etag(web: WebEnv) -> None:
    client = web.anon()
    first = client.get("/api/openapi.json")
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "no-cache"
    built = web.app.extensions[DOCS_KEY].document
    again = client.get("/api/openapi.json")
    assert again.data == first.data and again.headers["ETag"] == etag
    assert web.app.extensions[DOCS_KEY].document is built
    not_modified = client.get("/api/openapi.json", headers={"If-None-Match": etag})
    assert not_modified.status_code == 304 and not_modified.data == b""
    assert client.get("/api/openapi.json", headers={"If-None-Match": '"other"'}).status_code == 200


# ------------------------------------------------------------------ the docs page

def test_docs_page_shows_endpoints_by_tag_fields_and_auth(web: WebEnv) -> None:
    r = web.anon().get("/api/docs")
    assert r.status_code == 200 and r.mimetype == "text/html"
    assert "script-src" not in r.headers["Content-Security-Policy"]
    page = r.get_data(as_text=True)
    assert "<script" not in page and "http://" not in page.split("<body>")[0]  # no CDN, no scripts
    assert 'id="tag-customer-group"' in page and 'id="tag-frappe-client"' in page
    assert "/api/resource/Customer%20Group/{name}" in page and "/api/method/frappe.client.get_list" in page
    customer = page.split('id="tag-customer"', 1)[1].split("<section>", 1)[0]
    assert "<code>customer_group</code>" in customer and ">Customer Group</td>" in customer  # a Link's target
    assert "Company, Individual" in customer  # Select options
    assert "Authorization: token" in page and "<code>sid</code>" in page and "curl -s" in page
    assert 'id="tag-customer-contact"' not in page  # child doctypes only inside their parents


def test_docs_page_escapes_metadata(sink_app: Flask) -> None:
    page = sink_app.test_client().get("/api/docs").get_data(as_text=True)
    assert HOSTILE not in page
    assert "Title &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "Everything &lt;script&gt;" in page


def test_an_app_template_overrides_the_default_page(tmp_path: Path) -> None:
    app_dir = tmp_path / "ownapp"
    (app_dir / "doctypes").mkdir(parents=True)
    (app_dir / "doctypes" / "note.yaml").write_text("name: Note\nfields:\n  - {name: text, type: Data}\n")
    (app_dir / "templates").mkdir()
    (app_dir / "templates" / "api_docs.html").write_text("{{ page.title }}: {{ page.groups | length }} groups")
    app = create_app(Site(f"sqlite:///{tmp_path / 'own.db'}", app_dir), APP_CONFIG)
    document = json.loads(app.test_client().get("/api/openapi.json").data)
    tags = [t["name"] for t in document["tags"]]
    # no app methods: the app's doctype and the engine's own
    assert tags == ["Authentication", "frappe.client", "Import Job", "Note", "Role", "User", "Version"]
    assert app.test_client().get("/api/docs").get_data(as_text=True) == "docframe REST API: 7 groups"


def test_a_site_can_keep_its_docs_behind_the_login(web: WebEnv) -> None:
    app = create_app(web.site, {**APP_CONFIG, "API_DOCS_PUBLIC": False})
    for url in ("/api/openapi.json", "/api/docs"):
        r = app.test_client().get(url)
        assert r.status_code == 401 and r.get_json()["exc_type"] == "AuthenticationError", url
        assert app.test_client().get(url, headers=web.token).status_code == 200, url
