"""Every route, as every role: nobody reads, counts, lists or writes what their roles and record rules forbid.

The walk is driven by the app's own URL map and method registry: a route or method
without a case here fails ``test_every_route_and_method_is_walked``, so a new endpoint
cannot ship without its permission check being exercised. The expected answer comes
from the engine's permission model (role permissions, plus record rules for a stored
document): allowed → 2xx, otherwise 403 (401 for Guest).
"""

from __future__ import annotations

import io
import json
import re
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from werkzeug.exceptions import HTTPException

from engine.errors import PermissionError
from engine.rules.permissions import ADMINISTRATOR, has_permission
from engine.site import jobs
from engine.site.auth import generate_api_key
from engine.web.method import METHODS
from tests.web.conftest import WebEnv

GUEST = "Guest"
NO_ROLE = "(no role)"
ROLES = ["System Manager", "Sales Manager", "Sales User", "Sales Master Manager", "Accounts Manager",
         "Accounts User", "Credit Controller"]
CALLERS = [GUEST, NO_ROLE, ADMINISTRATOR, *ROLES]
# Doctypes walked: a record-ruled one (Customer), a plain one and one with different roles.
WALKED = ("Customer", "Price List", "Company")
DOC_METHODS = {("Customer", "get_contacts"): ("GET", "read", {}),
               ("Customer", "set_primary_contact"): ("POST", "write", {"contact": "Jane"})}
APP_METHODS = {"hooks.customer.get_credit_limit": lambda: {"customer": "Acme", "company": "Alpha"},
               "hooks.customer.get_balance": lambda: {"customer": "Acme"},
               "hooks.customer.get_defaults": lambda: {"customer": "Acme"}}


def _new_values(doctype: str) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    return {"Customer": {"customer_name": f"Walk {tag}"},
            "Price List": {"price_list_name": f"Walk {tag}"},
            "Company": {"company_name": f"Walk {tag}", "abbr": tag[:6].upper(), "default_currency": "EUR"}}[doctype]


# Company is walked for reads only: each new one builds a chart of accounts (slow), which also links
# to it, so deleting it is refused (417) for anyone.
READ_ONLY = {"Company"}
CHANGE = {"Customer": {"alternate_name": "Walked"}, "Price List": {"buying": 1}, "Company": {"country": "Walked"}}


@dataclass
class Case:
    """One request and what it needs: ("public",), ("login",), ("never",) or ("perm", doctype, action, name|None)."""

    label: str
    method: str
    url: str
    need: tuple[Any, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)
    check: Callable[[Any], bool] | None = None  # for answers that are 200 either way (bulk_update)


@dataclass
class Walk:
    web: WebEnv
    caller: str  # a role, GUEST, NO_ROLE or ADMINISTRATOR
    user: str
    headers: dict[str, str]
    mismatches: list[str] = field(default_factory=list)
    seen_rules: set[str] = field(default_factory=set)
    seen_methods: set[str] = field(default_factory=set)

    def throwaway(self, doctype: str) -> str:
        """A new document to act on (for a read-only doctype: the one made by ``_records``)."""
        if doctype in READ_ONLY:
            return "Alpha"
        with self.web.site.session() as s:
            return s.insert(doctype, _new_values(doctype)).name

    def allowed(self, need: tuple[Any, ...]) -> bool:
        if need[0] == "public":
            return True
        if need[0] == "never":
            return False
        if self.caller == GUEST:
            return False
        if need[0] == "login":
            return True
        _, doctype, action, name = need
        with self.web.site.session(self.user) as s:
            if not has_permission(s, doctype, action):
                return False
            if name is not None:
                try:
                    s.get_doc(doctype, name)
                except PermissionError:
                    return False
        return True

    def run(self, case: Case) -> None:
        if case.need[0] == "desk":
            self.run_desk(case)
            return
        expected = self.allowed(case.need)  # decided on the state before the request
        client = self.web.anon()
        r = client.open(case.url, method=case.method, headers=self.headers, **case.kwargs)
        try:
            rule, _ = self.web.app.url_map.bind("localhost").match(case.url, method=case.method, return_rule=True)
            self.seen_rules.add(f"{case.method} {rule.rule}")
        except HTTPException:
            self.mismatches.append(f"{self.caller}: {case.label}: no route for {case.method} {case.url}")
            return
        body = r.get_json(silent=True)
        if r.status_code >= 500:
            ok = False
        elif case.check is not None and r.status_code == 200:
            ok = case.check(body) == expected
        elif expected:
            ok = r.status_code < 400 or (case.need[-2:-1] in (("submit",), ("cancel",)) and r.status_code == 417)
        else:
            ok = r.status_code == (401 if self.caller == GUEST and case.need[0] != "never" else 403)
        if not ok:
            self.mismatches.append(f"{self.caller}: {case.label}: {case.method} {case.url} -> {r.status_code} "
                                   f"(expected {'allowed' if expected else 'refused'}) {str(body)[:160]}")


    def run_desk(self, case: Case) -> None:
        """A desk page: a guest is sent to the login page; otherwise allowed -> 2xx/3xx, refused -> 403."""
        need = case.need[1]
        expected = self.allowed(need)
        client = self.web.anon()
        kwargs = dict(case.kwargs)
        if case.method == "POST":  # the CSRF token of this caller's page
            page = client.get("/login" if self.caller == GUEST else "/app", headers=self.headers)
            found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            kwargs["data"] = {**kwargs.get("data", {}), "csrf_token": found.group(1) if found else ""}
        r = client.open(case.url, method=case.method, headers=self.headers, **kwargs)
        adapter = self.web.app.url_map.bind("localhost")
        rule, _ = adapter.match(case.url.split("?")[0], method=case.method, return_rule=True)
        self.seen_rules.add(f"{case.method} {rule.rule}")
        if self.caller == GUEST and need[0] != "public":
            ok = r.status_code == 302 and r.headers["Location"].startswith("/login")
        elif r.status_code >= 500:
            ok = False
        else:
            ok = r.status_code < 400 if expected else r.status_code == 403
        if not ok:
            self.mismatches.append(f"{self.caller}: desk {case.label}: {case.method} {case.url} -> {r.status_code} "
                                   f"(expected {'allowed' if expected else 'refused'})")


def _desk_cases(walk: Walk) -> Iterator[Case]:
    """The desk's pages for each walked doctype, the tree of a tree doctype, and the shared pages."""
    yield Case("login page", "GET", "/login", ("desk", ("public",)))
    yield Case("asset", "GET", "/assets/desk/desk.css", ("desk", ("public",)))
    yield Case("chart library", "GET", "/assets/vendor/plotly.min.js", ("desk", ("public",)))
    yield Case("favicon", "GET", "/favicon.ico", ("desk", ("public",)))
    yield Case("report", "GET", "/app/report/customers-by-group", ("desk", ("perm", "Customer", "report", None)))
    yield Case("home", "GET", "/app", ("desk", ("login",)))
    yield Case("search", "GET", "/app/search?q=acme", ("desk", ("login",)))
    yield Case("logout", "POST", "/logout", ("desk", ("login",)))
    yield Case("link options", "GET", "/app/-/link?doctype=Customer&q=a", ("desk", ("perm", "Customer", "read", None)))
    yield Case("tree", "GET", "/app/territory/view/tree", ("desk", ("perm", "Territory", "read", None)))
    tag = uuid.uuid4().hex[:8]
    yield Case("tree add", "POST", "/app/territory/view/tree", ("desk", ("perm", "Territory", "create", None)),
               {"data": {"action": "add", "title": f"Walk {tag}", "parent": "All Territories"}})
    for dt in WALKED:
        s = dt.lower().replace(" ", "-")
        yield Case("list", "GET", f"/app/{s}?q=a", ("desk", ("perm", dt, "read", None)))
        yield Case("export", "GET", f"/app/{s}/-/export.csv", ("desk", ("perm", dt, "export", None)))
        yield Case("import page", "GET", f"/app/{s}/-/import", ("desk", ("perm", dt, "import", None)))
        header = ",".join(_new_values(dt))
        yield Case("import dry run", "POST", f"/app/{s}/-/import", ("desk", ("perm", dt, "import", None)),
                   {"data": {"action": "dry_run", "file": (io.BytesIO(f"{header}\n".encode()), "walk.csv")},
                    "content_type": "multipart/form-data"})
        if dt == "Customer":  # a background import's page and failed rows: Administrator's job
            job = _import_job(walk)
            for label, url in (("import job", f"/app/{s}/-/import/{job}"),
                               ("import job errors", f"/app/{s}/-/import/{job}/errors.csv")):
                yield Case(label, "GET", url, ("desk", ("perm", "Import Job", "read", None)))
        yield Case("new form", "GET", f"/app/{s}/new", ("desk", ("perm", dt, "create", None)))
        yield Case("form refresh", "POST", f"/app/{s}/-/refresh", ("desk", ("perm", dt, "create", None)),
                   {"data": _new_values(dt)})
        if dt == "Customer":  # printouts: read permission on the document (record rules too)
            for path in ("/printview", "/print"):
                name = walk.throwaway(dt)
                yield Case("printout", "GET", f"{path}?doctype={dt}&name={_q(name)}&format=Payment%20Reminder",
                           ("desk", ("perm", dt, "read", name)))
        name = walk.throwaway(dt)
        yield Case("form", "GET", f"/app/{s}/{_q(name)}", ("desk", ("perm", dt, "read", name)))
        if dt in READ_ONLY:
            continue
        yield Case("create", "POST", f"/app/{s}/new", ("desk", ("perm", dt, "create", None)),
                   {"data": _new_values(dt)})
        name = walk.throwaway(dt)
        yield Case("save", "POST", f"/app/{s}/{_q(name)}", ("desk", ("perm", dt, "write", name)),
                   {"data": {"action": "save", **CHANGE[dt]}})
        yield Case("bulk delete", "POST", f"/app/{s}/-/delete", ("desk", ("perm", dt, "delete", None)),
                   {"data": {"names": [walk.throwaway(dt)]}})


def _import_job(walk: Walk) -> str:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "walk.csv"
        path.write_text("Customer Name,Customer Group\nWalk Job,No Such Group\n", "utf-8")
        name = jobs.queue_import(walk.web.site, ADMINISTRATOR, "Customer", path, "walk.csv")
    walk.web.site.jobs.wait(60)
    return name


def _q(text: str) -> str:
    return quote(text, safe="")


def _method_cases(walk: Walk, name: str, verb: str, args: Callable[[], dict[str, Any]], need: tuple[Any, ...],
                  check: Callable[[Any], bool] | None = None) -> Iterator[Case]:
    """The three ways to call a method (v1, v2, legacy ``cmd=``), each with fresh arguments."""
    walk.seen_methods.add(name)
    where = "query_string" if verb == "GET" else "data"
    yield Case(f"v1 {name}", verb, f"/api/method/{name}", need, {where: args()}, check)
    yield Case(f"v2 {name}", verb, f"/api/v2/method/{name}", need, {where: args()}, check)
    yield Case(f"cmd {name}", verb, "/", need, {where: {"cmd": name, **args()}}, check)


def _doctype_cases(walk: Walk, dt: str) -> Iterator[Case]:
    q = _q(dt)
    read, create = ("perm", dt, "read", None), ("perm", dt, "create", None)
    yield Case("list", "GET", f"/api/resource/{q}", read)
    yield Case("list/", "GET", f"/api/resource/{q}/", read)
    yield Case("v2 list", "GET", f"/api/v2/document/{q}", read)
    yield Case("v2 count", "GET", f"/api/v2/doctype/{q}/count", read)
    yield Case("v2 meta", "GET", f"/api/v2/doctype/{q}/meta", read)
    yield from _method_cases(walk, "frappe.client.get_list", "GET", lambda: {"doctype": dt}, read)
    yield from _method_cases(walk, "frappe.client.get_count", "GET", lambda: {"doctype": dt}, read)
    if dt not in READ_ONLY:
        yield Case("create", "POST", f"/api/resource/{q}", create, {"json": _new_values(dt)})
        yield Case("create/", "POST", f"/api/resource/{q}/", create, {"json": _new_values(dt)})
        yield Case("v2 create", "POST", f"/api/v2/document/{q}", create, {"json": _new_values(dt)})
        yield from _method_cases(walk, "frappe.client.insert", "POST",
                                 lambda: {"doc": json.dumps({"doctype": dt, **_new_values(dt)})}, create)
        yield from _method_cases(walk, "frappe.client.insert_many", "POST",
                                 lambda: {"docs": json.dumps([{"doctype": dt, **_new_values(dt)}])}, create)
    # document routes, each on a fresh document so writes never disturb the next case
    for label, verb, action, build in (
        ("get", "GET", "read", lambda n: (f"/api/resource/{q}/{_q(n)}", {})),
        ("v2 get", "GET", "read", lambda n: (f"/api/v2/document/{q}/{_q(n)}", {})),
        ("v2 copy", "GET", "read", lambda n: (f"/api/v2/document/{q}/{_q(n)}/copy", {})),
        ("put", "PUT", "write", lambda n: (f"/api/resource/{q}/{_q(n)}", {"json": CHANGE[dt]})),
        ("v2 put", "PUT", "write", lambda n: (f"/api/v2/document/{q}/{_q(n)}", {"json": CHANGE[dt]})),
        ("v2 patch", "PATCH", "write", lambda n: (f"/api/v2/document/{q}/{_q(n)}", {"json": CHANGE[dt]})),
        ("delete", "DELETE", "delete", lambda n: (f"/api/resource/{q}/{_q(n)}", {})),
        ("v2 delete", "DELETE", "delete", lambda n: (f"/api/v2/document/{q}/{_q(n)}", {})),
    ):
        if action != "read" and dt in READ_ONLY:
            continue
        name = walk.throwaway(dt)
        url, kwargs = build(name)
        yield Case(label, verb, url, ("perm", dt, action, name), kwargs)
    for method, verb, action, args in (
        ("get", "GET", "read", lambda n: {"doctype": dt, "name": n}),
        ("get_value", "GET", "read", lambda n: {"doctype": dt, "filters": n, "fieldname": "name"}),
        ("set_value", "POST", "write", lambda n: {"doctype": dt, "name": n, "fieldname": json.dumps(CHANGE[dt])}),
        ("save", "POST", "write", lambda n: {"doc": json.dumps({"doctype": dt, "name": n, **CHANGE[dt]})}),
        ("delete", "POST", "delete", lambda n: {"doctype": dt, "name": n}),
        ("rename_doc", "POST", "write", lambda n: {"doctype": dt, "old_name": n, "new_name": n + " R"}),
        ("submit", "POST", "submit", lambda n: {"doc": json.dumps({"doctype": dt, "name": n})}),
        ("cancel", "POST", "cancel", lambda n: {"doctype": dt, "name": n}),
    ):
        if action != "read" and dt in READ_ONLY:
            continue
        # get_value answers {} for a document the record rules hide, as Frappe's (it is a filtered query)
        found = (lambda b: bool(b.get("message", b.get("data")))) if method == "get_value" else None
        for case in _method_cases(walk, f"frappe.client.{method}", verb, dict, (), check=found):
            name = walk.throwaway(dt)
            case.need = ("perm", dt, action, name)
            body = args(name)
            case.kwargs = {"query_string": {**case.kwargs.get("query_string", {}), **body}} if verb == "GET" \
                else {"data": {**case.kwargs.get("data", {}), **body}}
            yield case
    if dt in READ_ONLY:
        return
    for case in _method_cases(walk, "frappe.client.bulk_update", "POST", dict, (),
                              check=lambda b: not b.get("message", b.get("data"))["failed_docs"]):
        name = walk.throwaway(dt)
        case.need = ("perm", dt, "write", name)
        case.kwargs["data"]["docs"] = json.dumps([{"doctype": dt, "docname": name, **CHANGE[dt]}])
        yield case


def _cases(walk: Walk) -> Iterator[Case]:
    yield from _method_cases(walk, "ping", "GET", dict, ("public",))
    yield from _method_cases(walk, "frappe.auth.get_logged_user", "GET", dict, ("login",))
    yield from _method_cases(walk, "logout", "POST", dict, ("public",))
    walk.seen_methods.add("login")  # walked by test_login_is_open_to_all_and_checks_the_password
    walk.seen_rules.add("POST /login")  # the desk's login form: the same test
    yield Case("openapi", "GET", "/api/openapi.json", ("public",))
    yield Case("docs", "GET", "/api/docs", ("public",))
    for dt in WALKED:
        yield from _doctype_cases(walk, dt)
    yield from _desk_cases(walk)
    for name, args in APP_METHODS.items():
        yield from _method_cases(walk, name, "GET", args, ("perm", "Customer", "read", "Acme"))
    yield Case("v2 <DocType>/<method>", "GET", "/api/v2/method/Customer/get_credit_limit",
               ("perm", "Customer", "read", "Acme"), {"query_string": APP_METHODS["hooks.customer.get_credit_limit"]()})
    for verb in ("PUT", "PATCH", "DELETE"):  # v2 routes every verb to a method; none accepts these
        yield Case(f"v2 method via {verb}", verb, "/api/v2/method/frappe.client.delete", ("never",),
                   {"data": {"doctype": "Customer", "name": "Acme"}})
    for case in _method_cases(walk, "frappe.utils.print_format.download_pdf", "GET", dict, ()):
        name = walk.throwaway("Customer")
        case.need = ("perm", "Customer", "read", name)
        case.kwargs = {"query_string": {**case.kwargs.get("query_string", {}), "doctype": "Customer", "name": name}}
        yield case
    yield from _method_cases(walk, "frappe.desk.query_report.run", "GET", lambda: {"report_name": "Customers by Group"},
                             ("perm", "Customer", "report", None))
    for (dt, method), (verb, action, args) in DOC_METHODS.items():
        kwargs = {"query_string": args} if verb == "GET" else {"json": args}
        yield Case(f"doc method {method}", verb, f"/api/v2/document/{_q(dt)}/Acme/method/{method}",
                   ("perm", dt, action, "Acme"), kwargs)
        v1 = {"query_string": {**args, "run_method": method}} if verb == "GET" else {
            "json": {**args, "run_method": method}}
        yield Case(f"v1 run_method {method}", verb, f"/api/resource/{_q(dt)}/Acme", ("perm", dt, action, "Acme"), v1)


def _caller(web: WebEnv, caller: str) -> tuple[str, dict[str, str]]:
    """The user acting as ``caller`` and their request headers (a token; none for Guest)."""
    if caller == GUEST:
        return GUEST, {}
    if caller == ADMINISTRATOR:
        return ADMINISTRATOR, web.token
    email = f"walk-{caller.lower().replace(' ', '-').strip('()')}@example.com"
    with web.site.session() as s:
        roles = [] if caller == NO_ROLE else [{"role": caller}]
        s.insert("User", name=email, email=email, roles=roles)
        key, secret = generate_api_key(s, email)
    return email, {"Authorization": f"token {key}:{secret}"}


def _records(web: WebEnv) -> None:
    with web.site.session() as s:
        s.insert("Company", company_name="Alpha", abbr="AL", default_currency="EUR")
        s.insert("Customer", customer_name="Acme", customer_type="Company")
        s.insert("Contact", first_name="Jane", links=[{"link_doctype": "Customer", "link_name": "Acme"}])


def _walk(web: WebEnv, caller: str) -> Walk:
    _records(web)
    walk = Walk(web, caller, *_caller(web, caller))
    for case in _cases(walk):
        walk.run(case)
    return walk


@pytest.mark.parametrize("caller", CALLERS)
def test_every_route_as_every_role(web: WebEnv, caller: str) -> None:
    walk = _walk(web, caller)
    assert not walk.mismatches, "\n".join(walk.mismatches)


def test_every_route_and_method_is_walked(web: WebEnv) -> None:
    walk = _walk(web, ADMINISTRATOR)
    routes = {f"{m} {rule.rule}" for rule in web.app.url_map.iter_rules() if rule.endpoint != "static"
              for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes - walk.seen_rules == set()
    methods = set(METHODS) | set(web.site.hooks.methods)
    assert methods - walk.seen_methods == set()
    assert set(web.site.hooks.doc_methods) == set(DOC_METHODS)


@pytest.mark.parametrize("caller", [GUEST, NO_ROLE, "Sales User"])
def test_login_is_open_to_all_and_checks_the_password(web: WebEnv, caller: str) -> None:
    _, headers = _caller(web, caller)
    for url, data in (("/api/method/login", {}), ("/api/v2/method/login", {}), ("/", {"cmd": "login"})):
        r = web.anon().post(url, headers=headers, data={**data, "usr": f"nobody-{caller}@example.com", "pwd": "x"})
        assert r.status_code == 401, (url, r.get_json())
    client = web.anon()
    page = client.get("/login")
    csrf_token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post("/login", headers=headers, data={"usr": f"nobody-{caller}@example.com", "pwd": "x",
                                                     "csrf_token": csrf_token})
    assert r.status_code == 401 and "Invalid login credentials" in r.text
