"""Frappe's own Python clients, unchanged, against a real docframe server.

``pyfrappeclient`` (``frappeclient.FrappeClient``, the official frappe-client) and
``frappe-connector`` (``frappe_connector.FrappeConnector``) as their users call them:
password login by posting ``cmd=login`` to ``/`` (a cookie session), API keys as
``Authorization: Basic base64(key:secret)``, documents through ``/api/resource`` and
``frappe.client.*`` through ``cmd=`` on ``/``. Errors must reach them as from Frappe:
FrappeClient raises ``FrappeException`` with the body's ``exc``, frappe-connector a
``ServerError`` with ``exc_type`` and the response.

The module's server is ``gunicorn 'engine.web:create_app()' -w 2`` on a free loopback
port, on a database made with ``docframe migrate`` and ``docframe user api-key``; one
smoke test runs the same clients against ``docframe serve``. A failed test shows the
server's output.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import liveserver
import pytest
from frappe_connector import FrappeConnector, LoginFailedError, ServerError
from frappeclient import FrappeClient
from frappeclient.frappeclient import AuthError, FrappeException

if TYPE_CHECKING:
    from tests.conftest import IsolatedDatabases

REPO_ROOT = Path(__file__).resolve().parents[2]
ADMINISTRATOR = "Administrator"
ADMIN_PASSWORD = "live-admin-password"
SECRET_KEY = "live-test-secret"


@dataclass(frozen=True)
class Live:
    url: str
    api_key: str
    api_secret: str

    def client(self) -> FrappeClient:
        """frappe-client with the API key (``authenticate`` sets the Basic header)."""
        client = FrappeClient(self.url)
        client.authenticate(self.api_key, self.api_secret)
        return client

    def connector(self) -> FrappeConnector:
        return FrappeConnector(self.url, api_key=self.api_key, api_secret=self.api_secret)


@pytest.fixture(scope="module")
def live_db(databases: IsolatedDatabases) -> tuple[str, str, str]:
    """A fresh database set up with the CLI: (URL, api_key, api_secret) of Administrator."""
    url = databases.new()
    liveserver.docframe("--db", url, "migrate", "--admin-password", ADMIN_PASSWORD)
    key, _, secret = liveserver.docframe("--db", url, "user", "api-key", ADMINISTRATOR).strip().partition(":")
    assert key and secret
    return url, key, secret


@pytest.fixture(scope="module")
def live(live_db: tuple[str, str, str], request: pytest.FixtureRequest,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """``gunicorn 'engine.web:create_app()' -w 2`` on a free port, the site taken from the environment."""
    url, key, secret = live_db
    port = liveserver.free_port()
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    env = {"DOCFRAME_DATABASE_URL": url, "DOCFRAME_SECRET_KEY": SECRET_KEY}
    with liveserver.serving("gunicorn", liveserver.gunicorn_command(port, workers=2), port, log, env=env,
                            cwd=REPO_ROOT) as server, liveserver.log_on_failure(request.config, server, "live"):
        yield Live(server.url, key, secret)


@pytest.fixture
def dev_server(live_db: tuple[str, str, str], request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Live]:
    """``docframe --db URL serve --host 127.0.0.1 --port N``: Flask's development server."""
    url, key, secret = live_db
    port = liveserver.free_port()
    cmd = [*liveserver.DOCFRAME, "--db", url, "serve", "--host", "127.0.0.1", "--port", str(port)]
    with liveserver.serving("docframe serve", cmd, port, tmp_path / "serve.log", cwd=REPO_ROOT) as server, \
            liveserver.log_on_failure(request.config, server, "dev_server"):
        yield Live(server.url, key, secret)


def _exc_line(exc: FrappeException) -> str:
    """The line frappe-client raised with: the first entry of the body's ``exc`` (a JSON list)."""
    lines = json.loads(exc.args[0])
    assert isinstance(lines, list) and len(lines) == 1, lines
    return str(lines[0])


def _names(rows: list[dict[str, Any]]) -> list[str]:
    return [row["name"] for row in rows]


# ------------------------------------------------------------------ authentication

def test_password_login_is_a_cookie_session_until_logout(live: Live) -> None:
    with FrappeClient(live.url, ADMINISTRATOR, ADMIN_PASSWORD) as client:  # POST / cmd=login
        assert client.session.cookies.get("sid")
        assert "Authorization" not in client.session.headers
        assert client.get_api("frappe.auth.get_logged_user") == ADMINISTRATOR
        assert client.get_list("Customer", fields=["name"], filters={"name": "Nobody"}) == []
        client.logout()  # GET / cmd=logout
        assert client.session.cookies.get("sid") is None
        with pytest.raises(FrappeException) as raised:
            client.get_list("Customer")
        assert _exc_line(raised.value).startswith("frappe.exceptions.AuthenticationError: Not logged in")

    connector = FrappeConnector(live.url, username="admin@example.com", password=ADMIN_PASSWORD)  # by email
    assert connector.get_api("frappe.auth.get_logged_user") == ADMINISTRATOR
    connector.close()  # logs out: the cookie it keeps is no longer a session
    with pytest.raises(ServerError) as refused:
        connector.get_api("frappe.auth.get_logged_user")
    assert (refused.value.response.status_code, refused.value.exc_type) == (401, "AuthenticationError")


def test_wrong_password_is_refused_by_both_clients(live: Live) -> None:
    with pytest.raises(AuthError):
        FrappeClient(live.url, ADMINISTRATOR, "not-the-password")
    with pytest.raises(LoginFailedError) as refused:
        FrappeConnector(live.url, username=ADMINISTRATOR, password="not-the-password")
    response = refused.value.response
    assert response.status_code == 401
    assert response.json()["exc_type"] == "AuthenticationError"


def test_api_key_as_basic_authorization(live: Live) -> None:
    client = live.client()
    assert client.session.headers["Authorization"].startswith("Basic ")
    assert client.get_api("frappe.auth.get_logged_user") == ADMINISTRATOR
    assert not client.session.cookies  # no session: every request carries the key
    by_constructor = FrappeClient(live.url, api_key=live.api_key, api_secret=live.api_secret)
    assert by_constructor.post_api("frappe.auth.get_logged_user") == ADMINISTRATOR
    assert live.connector().get_api("frappe.auth.get_logged_user") == ADMINISTRATOR

    wrong = FrappeClient(live.url)
    wrong.authenticate(live.api_key, "not-the-secret")
    with pytest.raises(FrappeException) as raised:
        wrong.get_list("Customer")
    assert _exc_line(raised.value) == "frappe.exceptions.AuthenticationError: Invalid API key or secret"
    with pytest.raises(ServerError) as refused:
        FrappeConnector(live.url, api_key="no-such-key", api_secret="x").get_list("Customer")
    assert (refused.value.response.status_code, refused.value.exc_type) == (401, "AuthenticationError")


# ------------------------------------------------------------------ documents

def test_customer_with_frappeclient(live: Live) -> None:
    client = live.client()
    acme = client.insert({"doctype": "Customer", "customer_name": "Acme Ltd", "customer_type": "Company"})
    assert (acme["name"], acme["customer_group"], acme["territory"]) == (
        "Acme Ltd", "Default Customer Group", "All Territories")
    assert client.insert({"doctype": "Customer", "customer_name": "Acme Ltd"})["name"] == "Acme Ltd-1"

    doc = client.get_doc("Customer", "Acme Ltd")
    assert (doc["doctype"], doc["name"], doc["customer_type"]) == ("Customer", "Acme Ltd", "Company")
    assert doc["price_lists"] == [] and doc["owner"] == ADMINISTRATOR
    assert client.get_value("Customer", "customer_group", {"name": "Acme Ltd"}) == {
        "customer_group": "Default Customer Group"}
    assert client.get_value("Customer", ["name", "customer_type"], {"customer_name": "Acme Ltd",
                                                                      "name": ["!=", "Acme Ltd"]}) == {
        "name": "Acme Ltd-1", "customer_type": "Company"}

    saved = client.set_value("Customer", "Acme Ltd", "notes", "Pays on time")
    assert saved["notes"] == "Pays on time" and saved["modified"] > doc["modified"]
    doc = client.get_doc("Customer", "Acme Ltd")
    doc["field_of_activity"] = "Retail"
    updated = client.update(doc)  # PUT the whole document back, as fetched
    assert (updated["field_of_activity"], updated["notes"]) == ("Retail", "Pays on time")
    with pytest.raises(FrappeException) as stale:
        client.update(doc)  # its "modified" is now older than the stored one
    assert _exc_line(stale.value).startswith("frappe.exceptions.TimestampMismatchError: ")

    assert client.rename_doc("Customer", "Acme Ltd-1", "Acme Trading") == "Acme Trading"
    assert client.get_doc("Customer", "Acme Trading")["customer_name"] == "Acme Ltd"
    assert client.delete("Customer", "Acme Trading") is None
    with pytest.raises(FrappeException) as missing:
        client.get_doc("Customer", "Acme Trading")
    assert _exc_line(missing.value) == "frappe.exceptions.DoesNotExistError: Customer 'Acme Trading' not found"


def test_customer_with_frappe_connector(live: Live) -> None:
    conn = live.connector()
    created = conn.create_doc({"doctype": "Customer", "customer_name": "Initech", "customer_type": "Company",
                               "customer_number": "C-100"})
    assert created["name"] == "Initech"
    assert conn.get_doc("Customer", "Initech")["customer_number"] == "C-100"
    assert conn.get_doc("Customer", filters={"customer_number": "C-100"}, fields=["name", "customer_name"]) == {
        "name": "Initech", "customer_name": "Initech"}  # frappe.client.get with filters
    assert conn.get_api("frappe.client.get_value", {"doctype": "Customer", "fieldname": ["customer_number"],
                                                    "filters": "Initech"}) == {"customer_number": "C-100"}

    doc = conn.get_doc("Customer", "Initech")
    doc["field_of_activity"] = "Software"
    assert conn.update_doc(doc)["field_of_activity"] == "Software"
    values = {"notes": "Big account", "customer_category": "End Customer"}
    saved = conn.post_api("frappe.client.set_value", {"doctype": "Customer", "name": "Initech", "fieldname": values})
    assert (saved["notes"], saved["customer_category"], saved["field_of_activity"]) == (
        "Big account", "End Customer", "Software")

    assert conn.rename_doc("Customer", "Initech", "Initech Corp") == "Initech Corp"
    assert conn.delete_doc("Customer", "Initech Corp") == {}
    with pytest.raises(ServerError) as missing:
        conn.get_doc("Customer", "Initech Corp")
    assert (missing.value.response.status_code, missing.value.exc_type) == (404, "DoesNotExistError")


def test_list_with_fields_filters_order_and_paging(live: Live) -> None:
    conn, client = live.connector(), live.client()
    docs = [{"doctype": "Customer", "customer_name": f"Lister {i:02d}",
             "field_of_activity": "Retail" if i % 2 else "Wholesale"} for i in range(1, 26)]
    assert conn.post_api("frappe.client.insert_many", {"docs": docs}) == [d["customer_name"] for d in docs]
    everything = [d["customer_name"] for d in docs]
    retail = [n for i, n in enumerate(everything, 1) if i % 2]
    listers = [["name", "like", "Lister%"]]

    # frappe-client: fields default to "*", no limit sent means the server's page of 20
    rows = client.get_list("Customer", filters=listers, order_by="name asc")
    assert _names(rows) == everything[:20]
    assert rows[0]["customer_name"] == "Lister 01" and rows[0]["field_of_activity"] == "Retail"
    page = client.get_list("Customer", fields=["name", "field_of_activity"],
                           filters={"field_of_activity": "Retail", "name": ["like", "Lister%"]},
                           order_by="name desc", limit_start=2, limit_page_length=3)
    assert page == [{"name": n, "field_of_activity": "Retail"} for n in retail[::-1][2:5]]
    assert _names(client.get_list("Customer", fields=["name"], filters=[["Customer", "name", "like", "Lister 0%"]],
                                  order_by="name asc", limit_page_length=100)) == everything[:9]

    # frappe-connector: page_size None is the server's 20, 0 is every row
    assert len(conn.get_list("Customer", fields=["name"], filters={"name": ["like", "Lister%"]})) == 20
    assert _names(conn.get_list("Customer", fields=["name"], filters={"name": ["like", "Lister%"]},
                                page_size=0, order_by="name asc")) == everything
    pages = [_names(conn.get_list("Customer", fields=["name"], filters=listers, order_by="name asc",
                                  offset=start, page_size=10)) for start in (0, 10, 20)]
    assert pages == [everything[:10], everything[10:20], everything[20:]]
    assert conn.get_list("Customer", fields=["field_of_activity", "name"],
                         filters={"name": ["in", ["Lister 02", "Lister 03", "Lister 04"]]},
                         order_by="field_of_activity asc, name desc") == [
        {"field_of_activity": "Retail", "name": "Lister 03"},
        {"field_of_activity": "Wholesale", "name": "Lister 04"},
        {"field_of_activity": "Wholesale", "name": "Lister 02"},
    ]
    assert conn.get_api("frappe.client.get_count", {"doctype": "Customer", "filters": {
        "field_of_activity": "Retail", "name": ["like", "Lister%"]}}) == len(retail)


def test_contacts_and_addresses_link_to_customers(live: Live) -> None:
    client = live.client()
    for name in ("Globex", "Hooli"):
        client.insert({"doctype": "Customer", "customer_name": name})
    jane = client.insert({"doctype": "Contact", "first_name": "Jane", "last_name": "Doe",
                          "email_id": " Jane.Doe@Globex.example ",
                          "links": [{"link_doctype": "Customer", "link_name": "Globex"}]})
    assert (jane["name"], jane["full_name"], jane["email_id"]) == ("Jane Doe", "Jane Doe", "jane.doe@globex.example")
    [row] = jane["links"]
    assert (row["doctype"], row["link_doctype"], row["link_name"], row["link_title"], row["is_primary_contact"]) == (
        "Dynamic Link", "Customer", "Globex", "Globex", 1)  # the first contact becomes primary
    john = client.insert({"doctype": "Contact", "first_name": "John", "last_name": "Roe",
                          "links": [{"link_doctype": "Customer", "link_name": "Globex"},
                                    {"link_doctype": "Customer", "link_name": "Hooli"}]})
    assert [r["is_primary_contact"] for r in john["links"]] == [0, 1]
    address = client.insert({"doctype": "Address", "address_title": "Globex HQ", "address_type": "Billing",
                             "address_line1": "1 Main Street", "city": "Springfield", "country": "United States",
                             "links": [{"link_doctype": "Customer", "link_name": "Globex"}]})
    assert address["name"] == "Globex HQ-Billing" and address["links"][0]["is_default_billing"] == 1

    of_globex = [["Dynamic Link", "link_doctype", "=", "Customer"], ["Dynamic Link", "link_name", "=", "Globex"]]
    assert _names(client.get_list("Contact", fields=["name"], filters=of_globex, order_by="name asc")) == [
        "Jane Doe", "John Roe"]
    assert _names(client.get_list("Address", fields=["name"], filters=of_globex)) == ["Globex HQ-Billing"]

    client.set_value("Customer", "Globex", "customer_name", "Globex Corporation")
    assert client.rename_doc("Customer", "Globex", "Globex Corp") == "Globex Corp"
    [row] = client.get_doc("Contact", "Jane Doe")["links"]
    assert (row["link_name"], row["link_title"]) == ("Globex Corp", "Globex Corporation")

    client.delete("Customer", "Globex Corp")  # as in ERPNext: contacts and addresses linked to it alone go too
    assert _names(client.get_list("Contact", fields=["name"], filters={"name": ["in", ["Jane Doe", "John Roe"]]})) == [
        "John Roe"]
    assert [r["link_name"] for r in client.get_doc("Contact", "John Roe")["links"]] == ["Hooli"]
    assert client.get_list("Address", fields=["name"], filters={"name": "Globex HQ-Billing"}) == []


def test_update_puts_back_a_document_with_child_rows(live: Live) -> None:
    """frappe-client's ``update`` PUTs the whole document as fetched: child rows with their standard fields."""
    client = live.client()
    client.insert({"doctype": "Customer", "customer_name": "Umbrella"})
    for first in ("Alice", "Bob"):
        client.insert({"doctype": "Contact", "first_name": first, "last_name": "Umbrella",
                       "links": [{"link_doctype": "Customer", "link_name": "Umbrella"}]})
    bob = client.get_doc("Contact", "Bob Umbrella")
    [row] = bob["links"]
    assert row["is_primary_contact"] == 0  # Alice came first
    row["is_primary_contact"] = 1
    [saved] = client.update(bob)["links"]
    assert (saved["name"], saved["creation"], saved["is_primary_contact"]) == (row["name"], row["creation"], 1)
    assert client.get_doc("Contact", "Alice Umbrella")["links"][0]["is_primary_contact"] == 0  # one primary


# ------------------------------------------------------------------ errors

def test_errors_reach_the_clients_as_from_frappe(live: Live) -> None:
    client, conn = live.client(), live.connector()
    with pytest.raises(FrappeException) as mandatory:
        client.insert({"doctype": "Customer", "customer_type": "Company"})
    assert _exc_line(mandatory.value) == (
        "frappe.exceptions.MandatoryError: Customer: Customer Name is required (it names the record)")

    with pytest.raises(ServerError) as bad_link:
        conn.create_doc({"doctype": "Contact", "first_name": "Nobody",
                         "links": [{"link_doctype": "Customer", "link_name": "No Such Customer"}]})
    assert (bad_link.value.response.status_code, bad_link.value.exc_type) == (417, "LinkValidationError")
    assert "Customer 'No Such Customer' does not exist" in str(bad_link.value)

    with pytest.raises(ServerError) as bad_option:
        conn.create_doc({"doctype": "Customer", "customer_name": "Odd", "customer_type": "Alien"})
    assert (bad_option.value.response.status_code, bad_option.value.exc_type) == (417, "InvalidValueError")

    conn.create_doc({"doctype": "Customer", "customer_name": "Unique One", "customer_number": "U-1"})
    with pytest.raises(ServerError) as duplicate:
        conn.create_doc({"doctype": "Customer", "customer_name": "Unique Two", "customer_number": "U-1"})
    assert duplicate.value.exc_type == "UniqueValidationError"
    assert conn.get_list("Customer", fields=["name"], filters={"name": "Unique Two"}) == []  # nothing was saved

    with pytest.raises(ServerError) as standard:
        conn.post_api("frappe.client.set_value", {"doctype": "Customer", "name": "Unique One",
                                                  "fieldname": "owner", "value": "someone"})
    assert (standard.value.response.status_code, standard.value.exc_type) == (417, "ValidationError")

    conn.create_doc({"doctype": "Customer", "customer_name": "Unique Three"})
    with pytest.raises(ServerError) as taken:
        conn.rename_doc("Customer", "Unique One", "Unique Three")
    assert (taken.value.response.status_code, taken.value.exc_type) == (409, "DuplicateEntryError")

    for call in (lambda: client.get_doc("Customer", "Ghost"), lambda: client.delete("Customer", "Ghost"),
                 lambda: client.rename_doc("Customer", "Ghost", "Spirit")):
        with pytest.raises(FrappeException) as missing:
            call()
        assert _exc_line(missing.value) == "frappe.exceptions.DoesNotExistError: Customer 'Ghost' not found"
    with pytest.raises(ServerError) as missing_doctype:
        conn.get_list("No Such Doctype")
    assert missing_doctype.value.response.status_code == 404

    with pytest.raises(ServerError) as bad_filter:
        conn.get_list("Customer", filters={"no_such_field": "x"})
    assert (bad_filter.value.response.status_code, bad_filter.value.exc_type) == (417, "FilterError")


# ------------------------------------------------------------------ frappe-client's own argument forms

def test_frappeclient_get_value_by_name(live: Live) -> None:
    client = live.client()
    client.insert({"doctype": "Customer", "customer_name": "By Name Ltd"})
    assert client.get_value("Customer", "customer_name", "By Name Ltd") == {"customer_name": "By Name Ltd"}


def test_frappeclient_get_doc_by_filters(live: Live) -> None:
    client = live.client()
    client.insert({"doctype": "Customer", "customer_name": "By Filter Ltd", "customer_number": "F-1"})
    assert client.get_doc("Customer", filters={"customer_number": "F-1"}, fields=["name", "customer_name"]) == [
        {"name": "By Filter Ltd", "customer_name": "By Filter Ltd"}]


# ------------------------------------------------------------------ docframe serve

def test_dev_server_serves_the_same_clients(dev_server: Live) -> None:
    with FrappeClient(dev_server.url, ADMINISTRATOR, ADMIN_PASSWORD) as client:
        assert client.insert({"doctype": "Customer", "customer_name": "Served Ltd"})["name"] == "Served Ltd"
        assert client.get_list("Customer", fields=["name"], filters={"name": "Served Ltd"}) == [
            {"name": "Served Ltd"}]
    conn = dev_server.connector()
    assert conn.get_doc("Customer", "Served Ltd")["customer_group"] == "Default Customer Group"
    conn.delete_doc("Customer", "Served Ltd")
    with pytest.raises(ServerError) as missing:
        conn.get_doc("Customer", "Served Ltd")
    assert (missing.value.response.status_code, missing.value.exc_type) == (404, "DoesNotExistError")
