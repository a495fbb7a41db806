"""The desk's routes: login, home, search, and list / form / tree for every doctype.

Thin handlers: each builds its page from the request's Session (so role permissions
and record rules apply exactly as in the API) and renders it. Every POST needs the
CSRF token; a guest is sent to the login page.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, jsonify, redirect, request, send_file
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict

from engine.documents.document import Document
from engine.documents.reports import find_report
from engine.errors import (
    AuthenticationError,
    DocframeError,
    DoesNotExistError,
    PermissionError,
    TimestampMismatchError,
    ValidationError,
)
from engine.metadata.doctype import DocType
from engine.rules.permissions import has_permission
from engine.site import spreadsheet
from engine.site.session import Session
from engine.web import auth, errors
from engine.web.context import current_site, current_user, db_session, report_session, set_user
from engine.web.ui import csrf, form_view, import_view, list_view, pages, print_view, report_view
from engine.web.ui.desk import Frame, NavItem, doctype_of, flash, frame, slug

bp = Blueprint("desk", __name__, static_folder="../static", static_url_path="/assets/desk")
GUEST_PAGES = frozenset({"desk.login", "desk.static", "desk.plotly_js", "desk.favicon"})


@bp.before_request
def _guard() -> ResponseReturnValue | None:
    if request.method == "POST":
        csrf.check()
    if current_user() == auth.GUEST and request.endpoint not in GUEST_PAGES:
        return redirect("/login?next=" + quote(request.full_path.rstrip("?"), safe="/"))
    return None


@bp.errorhandler(DocframeError)
def _error_page(exc: DocframeError) -> ResponseReturnValue:
    if isinstance(exc, AuthenticationError):
        return redirect("/login")
    session = db_session()
    title = {403: "Not permitted", 404: "Not found"}.get(exc.status, "Something went wrong")
    body = pages.render_page("error.html", None, frame=frame(session, csrf.token(), title, []),
                             message=exc.message, status=exc.status)
    return Response(body, exc.status, content_type="text/html; charset=utf-8")


@bp.errorhandler(sa.exc.SQLAlchemyError)
def _database_error_page(exc: sa.exc.SQLAlchemyError) -> ResponseReturnValue:
    return _server_error_page(errors.database_error(exc))


@bp.errorhandler(Exception)
def _unexpected_error_page(exc: Exception) -> ResponseReturnValue:
    return _server_error_page(errors.unexpected_error(exc))


def _server_error_page(answer: Response) -> ResponseReturnValue:
    """A clerk gets the API's message (logged there) as a desk page, not as JSON."""
    message = (answer.get_json() or {}).get("errors", [{}])[0].get("message") or "Internal server error"
    title = "Something went wrong"
    try:
        page_frame = frame(db_session(), csrf.token(), title, [])
    except Exception:  # the database is what failed: a page without the sidebar
        page_frame = Frame(current_user(), current_user(), csrf.token(), [], [], title=title)
    body = pages.render_page("error.html", None, frame=page_frame, message=message, status=answer.status_code)
    return Response(body, answer.status_code, content_type="text/html; charset=utf-8")


# ------------------------------------------------------------------ login

@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    target = _safe_next(request.values.get("next"))
    error = None
    usr = ""
    if request.method == "POST":
        usr = request.form.get("usr", "")
        try:
            user = auth.login(current_site(), usr, request.form.get("pwd", "")).user
        except DocframeError as exc:  # wrong password, disabled user, rate limit
            error = exc.message
        else:
            set_user(user)
            return redirect(target)
    elif current_user() != auth.GUEST:
        return redirect(target)
    body = pages.render_page("login.html", None, csrf_token=csrf.token(), error=error, usr=usr, next=target)
    return Response(body, 401 if error else 200, content_type="text/html; charset=utf-8")


@bp.route("/logout", methods=["POST"])
def logout() -> ResponseReturnValue:
    auth.logout(current_site())
    set_user(auth.GUEST)
    return redirect("/login")


def _safe_next(value: str | None) -> str:
    """Only a path on this site: never an open redirect."""
    if not value or not value.startswith("/") or value.startswith("//") or urlsplit(value).netloc:
        return "/app"
    return value


# ------------------------------------------------------------------ home and search

@bp.route("/app")
def home() -> ResponseReturnValue:
    session = db_session()
    f = frame(session, csrf.token(), "Home", [NavItem("Home", "/app")])
    # what each list shows when opened: its default filters apply (contact persons are not customers)
    counts = {item.label: session.get_count(item.label, pages.default_filters(session, session.site.get_meta(
        item.label))) for _, items in f.modules for item in items if item.label in session.site.doctypes}
    return _html(pages.render_page("home.html", None, frame=f, counts=counts))


@bp.route("/app/search")
def search() -> ResponseReturnValue:
    """Any record by ID or search fields, across the doctypes the user may read."""
    session = db_session()
    q = (request.args.get("q") or "").strip()
    results = pages.search_everything(session, q) if q else []
    if len(results) == 1 and request.args.get("go"):
        return redirect(results[0].url)
    f = frame(session, csrf.token(), f"Search: {q}" if q else "Search", [NavItem("Search", "/app/search")],
              search=q)
    return _html(pages.render_page("search.html", None, frame=f, q=q, results=results))


@bp.route("/app/-/link")
def link_options() -> ResponseReturnValue:
    """Type-ahead for a Link field: matching records the user may see, with disambiguating details (JSON)."""
    session = db_session()
    doctype = request.args.get("doctype") or ""
    meta = session.site.get_meta(doctype)
    return {"results": pages.link_search(session, meta, request.args.get("q") or "")}


# ------------------------------------------------------------------ lists

def _require(session: Session, meta: DocType, action: str) -> None:
    """Role permission for a page that does not go through one document API call (a new form, a bulk action)."""
    if not has_permission(session, meta.name, action):
        raise PermissionError(f"User {session.user!r} has no permission to {action} {meta.name}")


def _meta(doctype_slug: str) -> DocType:
    meta = doctype_of(current_site(), doctype_slug)
    if meta is None:
        raise DoesNotExistError(f"No doctype at /app/{doctype_slug}")
    return meta


@bp.route("/app/<doctype_slug>")
def list_page(doctype_slug: str) -> ResponseReturnValue:
    session = db_session()
    meta = _meta(doctype_slug)
    if "f_field" in request.args:  # "Add filter" posted its three inputs: fold them into the URL's f
        args = MultiDict([(k, v) for k, v in request.args.items(multi=True) if not k.startswith("f_")])
        if (request.args.get("f_value") or "") != "" or request.args.get("f_op") == "is":
            value = request.args.get("f_value") or "set"
            args.add("f", f"{request.args['f_field']}|{request.args.get('f_op', '=')}|{value}")
        return redirect(f"/app/{slug(meta.name)}?" + urlencode(list(args.items(multi=True))))
    page = list_view.build(session, meta, slug(meta.name), request.args,
                           lambda given: pages.default_filters(session, meta, given))
    page.can_create = has_permission(session, meta.name, "create")
    page.can_delete = has_permission(session, meta.name, "delete")
    page.can_export = has_permission(session, meta.name, "export")
    page.can_import = has_permission(session, meta.name, "import")
    f = frame(session, csrf.token(), meta.name, [NavItem("Home", "/app"), NavItem(meta.name, page.url())],
              current=meta.name)
    return _html(pages.render_page("list.html", meta.name, frame=f, page=page))


@bp.route("/app/<doctype_slug>/-/delete", methods=["POST"])
def bulk_delete(doctype_slug: str) -> ResponseReturnValue:
    session = db_session()
    meta = _meta(doctype_slug)
    _require(session, meta, "delete")
    names = request.form.getlist("names")
    deleted, failed = 0, []
    for name in names:
        try:
            with session.atomic():
                session.delete_doc(meta.name, name)
            deleted += 1
        except DocframeError as exc:
            failed.append(f"{name}: {exc.message}")
    if deleted:
        flash("success", f"Deleted {deleted} {meta.name} record(s).")
    if not names:
        flash("warning", f"Nothing deleted: tick the {meta.name} records to delete first.")
    for message in failed:
        flash("error", message)
    return redirect(_safe_next(request.form.get("back")) if request.form.get("back") else f"/app/{slug(meta.name)}")


@bp.route("/app/<doctype_slug>/-/export.<any(csv, xlsx):fmt>")
def export_list(doctype_slug: str, fmt: str) -> ResponseReturnValue:
    """The filtered list (every page, every field) as CSV or XLSX; needs the export permission."""
    session = db_session()
    meta = _meta(doctype_slug)
    _require(session, meta, "export")
    filters, problems = list_view.parse_filters(meta, request.args)
    if problems:
        raise ValidationError("; ".join(problems))
    filters = [*pages.default_filters(session, meta, filters), *filters]
    listed = [c.name for c in list_view.columns_of(meta)]
    columns = listed + [f.name for f in meta.data_fields if f.type != "Password" and f.name not in listed]
    rows = session.get_list(meta.name, fields=columns, filters=filters,
                            or_filters=list_view.search_filters(meta, (request.args.get("q") or "").strip()),
                            order_by=f"{meta.sort_field} {meta.sort_order}", limit=list_view_max())
    body, content_type = spreadsheet.table([meta.label_of(c) for c in columns],
                                           ([row[c] for c in columns] for row in rows), fmt, meta.name)
    return Response(body, content_type=content_type,
                    headers={"Content-Disposition": f'attachment; filename="{slug(meta.name)}.{fmt}"'})


def list_view_max() -> int:
    return int(current_app.config.get("DESK_EXPORT_LIMIT", 100_000))


@bp.route("/app/<doctype_slug>/-/import", methods=["GET", "POST"])
def import_page(doctype_slug: str) -> ResponseReturnValue:
    """Upload, mapping, dry run and import (needs the import permission); a large file goes to a job."""
    session = db_session()
    meta = _meta(doctype_slug)
    _require(session, meta, "import")
    if request.method == "GET":
        page = import_view.page(meta, slug(meta.name))
    else:
        page = import_view.run(session, meta, slug(meta.name), request.files.get("file"),
                               request.form.get("mode", "insert"), request.form.get("key", "").strip(),
                               bool(request.form.get("all_or_nothing")), request.form.get("action") != "import",
                               int(current_app.config["DESK_IMPORT_BACKGROUND_ROWS"]))
        if page.job:
            return redirect(f"/app/{slug(meta.name)}/-/import/{quote(page.job)}", 303)
    crumbs = [NavItem("Home", "/app"), NavItem(meta.name, f"/app/{slug(meta.name)}"), NavItem("Import", "")]
    f = frame(session, csrf.token(), f"Import {meta.name}", crumbs, current=meta.name)
    return _html(pages.render_page("import.html", meta.name, frame=f, page=page), 417 if page.error else 200)


@bp.route("/app/<doctype_slug>/-/import/<job>")
def import_job_page(doctype_slug: str, job: str) -> ResponseReturnValue:
    """A background import: its progress while it runs (the page reloads itself), then its result."""
    session = db_session()
    meta = _meta(doctype_slug)
    page = import_view.job_page(session, meta, slug(meta.name), job)
    crumbs = [NavItem("Home", "/app"), NavItem(meta.name, f"/app/{slug(meta.name)}"),
              NavItem("Import", f"/app/{slug(meta.name)}/-/import"), NavItem(job, "")]
    f = frame(session, csrf.token(), f"Import Job {job}", crumbs, current=meta.name)
    return _html(pages.render_page("import_job.html", meta.name, frame=f, page=page))


@bp.route("/app/<doctype_slug>/-/import/<job>/errors.csv")
def import_job_errors(doctype_slug: str, job: str) -> ResponseReturnValue:
    session = db_session()
    path = import_view.errors_file(session, _meta(doctype_slug), job)
    return send_file(path, mimetype="text/csv", as_attachment=True, download_name=f"{job}-errors.csv")


# ------------------------------------------------------------------ forms

@bp.route("/app/<doctype_slug>/new", methods=["GET", "POST"])
def new_form(doctype_slug: str) -> ResponseReturnValue:
    session = db_session()
    meta = _meta(doctype_slug)
    _require(session, meta, "create")
    if request.method == "GET":
        doc = session.new_doc(meta.name)
        doc.update(form_view.posted_values(meta, _prefill(meta, request.args), None))  # "New" from a connection
        return _form(session, meta, doc, [], status=200)
    doc = session.new_doc(meta.name, form_view.posted_values(meta, request.form, None))
    if meta.naming.rule == "prompt" and request.form.get(pages.ID_INPUT, "").strip():
        doc.name = request.form[pages.ID_INPUT].strip()
    try:
        doc.insert()
    except PermissionError:
        raise
    except DocframeError as exc:
        return _form(session, meta, doc, exc.errors or [], status=exc.status, message=exc.message)
    if doc.flags.name_suffixed:
        flash("warning", f"Saved as {doc.name!r}: a {meta.name} named {doc.flags.name_base!r} already exists, "
                         "so the ID got a suffix.")
    else:
        flash("success", f"{meta.name} {doc.name!r} created.")
    return redirect(pages.doc_url(meta.name, doc.name))


@bp.route("/app/<doctype_slug>/-/refresh", methods=["POST"])
def refresh_form(doctype_slug: str) -> ResponseReturnValue:
    """The values the doctype's hooks fill in on the form as posted (nothing is written): for a form
    whose ``form_context`` names ``refresh_on`` fields, called when one of them changes."""
    session = db_session()
    meta = _meta(doctype_slug)
    _require(session, meta, "create")
    return jsonify(pages.refreshed_values(session, meta, request.form))


def _prefill(meta: DocType, args: MultiDict[str, str]) -> MultiDict[str, str]:
    """GET arguments of a "New" link as posted values (grids counted present when given rows)."""
    prefill = MultiDict(args)
    for tf in meta.table_fields:
        if any(k.startswith(tf.name + "-") for k in args):
            prefill[f"{tf.name}-present"] = "1"
    return prefill


@bp.route("/app/<doctype_slug>/<path:name>", methods=["GET", "POST"])
def form_page(doctype_slug: str, name: str) -> ResponseReturnValue:
    session = db_session()
    meta = _meta(doctype_slug)
    doc = session.get_doc(meta.name, name)
    if request.method == "GET":
        return _form(session, meta, doc, [], status=200)
    action = request.form.get("action", "save")
    try:
        if action == "delete":
            doc.delete()
            flash("success", f"{meta.name} {doc.name!r} deleted.")
            return redirect(f"/app/{slug(meta.name)}")
        if action in ("save", "submit"):
            doc.update(form_view.posted_values(meta, request.form, doc))
        elif "modified" in request.form:
            doc.modified = request.form["modified"]
        {"save": doc.save, "submit": doc.submit, "cancel": doc.cancel}[action]()
    except KeyError:
        raise ValidationError(f"Unknown form action {action!r}") from None
    except TimestampMismatchError as exc:
        return _form(session, meta, doc, [], status=409, message=exc.message, stale=True)
    except DocframeError as exc:
        if isinstance(exc, PermissionError):
            raise
        return _form(session, meta, doc, exc.errors or [], status=exc.status, message=exc.message)
    flash("success", {"save": "Saved.", "submit": "Submitted.", "cancel": "Cancelled."}[action])
    return redirect(pages.doc_url(meta.name, doc.name))


def _form(session: Session, meta: DocType, doc: Document, errors: list[Any], *, status: int,
          message: str | None = None, stale: bool = False) -> Response:
    page = pages.form_page(session, meta, doc, errors, message, stale)
    crumbs = [NavItem("Home", "/app"), NavItem(meta.name, f"/app/{slug(meta.name)}"), NavItem(page.title, "")]
    f = frame(session, csrf.token(), f"{page.title} · {meta.name}", crumbs, current=meta.name)
    return _html(pages.render_page("form.html", meta.name, frame=f, page=page), status)


# ------------------------------------------------------------------ printouts

@bp.route("/printview")
@bp.route("/print")
def printview() -> ResponseReturnValue:
    """A document's printout (Frappe's ``/printview?doctype=&name=&format=``); ``&pdf=1`` for a PDF."""
    args = request.args.to_dict()
    return print_view.response(db_session(), args, as_pdf=args.pop("pdf", "") in ("1", "true"))


# ------------------------------------------------------------------ reports

@bp.route("/app/report/<report_slug>")
def report_page(report_slug: str) -> ResponseReturnValue:
    session = db_session()
    report = find_report(session, current_site().hooks.reports, report_slug)
    fmt = request.args.get("format")
    if fmt in ("csv", "xlsx"):
        body, content_type, filename = report_view.export(report_session(), report, request.args, fmt)
        return Response(body, content_type=content_type,
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})
    page = report_view.build(report_session(), report, request.args)
    crumbs = [NavItem("Home", "/app"), NavItem("Reports", "/app"), NavItem(report.name, "")]
    f = frame(session, csrf.token(), report.name, crumbs, current=report.name)
    # plotly.js adds a <style> element for its toolbar: the only page that allows inline styles
    failed = page.error or any(fv.error for fv in page.filters)
    return _html(pages.render_page("report.html", None, frame=f, page=page), 417 if failed else 200,
                 inline_styles=True)


@bp.route("/favicon.ico")
def favicon() -> ResponseReturnValue:
    """Browsers and bookmarks ask here whatever the page's <link rel="icon"> says."""
    return redirect("/assets/desk/favicon.svg", code=301)


@bp.route("/assets/vendor/plotly.min.js")
def plotly_js() -> ResponseReturnValue:
    response = send_file(report_view.plotly_js(), mimetype="text/javascript", max_age=86400)
    return response


# ------------------------------------------------------------------ trees

@bp.route("/app/<doctype_slug>/view/tree", methods=["GET", "POST"])
def tree_page(doctype_slug: str) -> ResponseReturnValue:
    session = db_session()
    meta = _meta(doctype_slug)
    if not meta.is_tree:
        raise DoesNotExistError(f"{meta.name} is not a tree")
    error = None
    if request.method == "POST":
        try:
            message = pages.tree_action(session, meta, request.form)
            flash("success", message)
            return redirect(f"/app/{slug(meta.name)}/view/tree")
        except PermissionError:
            raise
        except DocframeError as exc:
            error = exc.message
    page = pages.tree_page(session, meta, error, request.args)
    crumbs = [NavItem("Home", "/app"), NavItem(meta.name, f"/app/{slug(meta.name)}"), NavItem("Tree", "")]
    f = frame(session, csrf.token(), f"{meta.name} tree", crumbs, current=meta.name)
    return _html(pages.render_page("tree.html", meta.name, frame=f, page=page), 417 if error else 200)


def _html(body: str, status: int = 200, *, inline_styles: bool = False) -> Response:
    response = Response(body, status, content_type="text/html; charset=utf-8")
    styles = "'self' 'unsafe-inline'" if inline_styles else "'self'"
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; img-src 'self' data:; style-src {styles}; script-src 'self'; "
        "frame-ancestors 'self'; form-action 'self'; base-uri 'none'")
    return response

