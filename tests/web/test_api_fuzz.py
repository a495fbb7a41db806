"""Property-based tests: schemathesis generates requests from /api/openapi.json; no answer may be a 500.

The app is called in-process (WSGI) as Administrator (API token), on the configured
database. Generation is deterministic (fixed seed, derandomized), so CI runs the same
cases every time; a subset of operations keeps each run well under a minute.
"""

from __future__ import annotations

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig

from tests.web.conftest import WebEnv

MAX_EXAMPLES = 20
DOCTYPES = "(Customer|Customer%20Group|Contact)"  # child tables and Links, a tree, Dynamic Links
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance", "response_schema_conformance")

schema = schemathesis.pytest.from_fixture("api_schema")


def _config() -> SchemathesisConfig:
    """Positive and negative cases, derandomized. The coverage phase (hundreds of boundary
    cases per operation on these wide schemas) and stateful links are left to manual runs."""
    enabled = {name: {"enabled": True} for name in CHECKS}
    return SchemathesisConfig.from_dict({
        "seed": 4,
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "mode": "all"},
        "checks": {"enabled": False, **enabled},
        "phases": {"stateful": {"enabled": False}, "coverage": {"enabled": False}},
    })


@pytest.fixture
def api_schema(web: WebEnv) -> schemathesis.BaseSchema:
    """The served document, bound to the app (WSGI); a few records so lists and filters return rows."""
    with web.site.session() as s:
        s.insert("Customer Group", customer_group_name="Retail", parent_customer_group="All Customer Groups")
        s.insert("Customer", customer_name="Acme", customer_group="Retail", credit_days=30,
                 price_lists=[{"price_list": "Standard Selling"}])
    return schemathesis.openapi.from_wsgi("/api/openapi.json", web.app, config=_config())


@pytest.fixture
def token(web: WebEnv) -> dict[str, str]:
    return web.token


@schema.include(path_regex=rf"^/api/resource/{DOCTYPES}(/\{{name\}})?$").parametrize()
def test_v1_resources_answer_no_server_error(case: schemathesis.Case, token: dict[str, str]) -> None:
    case.call_and_validate(headers=token)


@schema.include(path_regex=r"^/api/method/frappe\.client\.").parametrize()
def test_client_methods_answer_no_server_error(case: schemathesis.Case, token: dict[str, str]) -> None:
    case.call_and_validate(headers=token)


@schema.include(path_regex=rf"^/api/v2/(document|doctype)/{DOCTYPES}(/|$)").parametrize()
def test_v2_documents_answer_no_server_error(case: schemathesis.Case, token: dict[str, str]) -> None:
    case.call_and_validate(headers=token)
