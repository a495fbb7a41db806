"""Page contexts the desk templates render: form, tree, search results, link options.

Each is built from the request's Session; templates get plain dataclasses and never query.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

from flask import current_app
from werkzeug.datastructures import MultiDict

from engine.documents.document import Document
from engine.documents.printing import STANDARD
from engine.errors import DocframeError, FieldError, InvalidValueError
from engine.metadata.doctype import DocType, Field
from engine.rules.permissions import has_permission, user_context
from engine.site.session import Session
from engine.web.context import current_site
from engine.web.ui import form_view
from engine.web.ui.desk import STATUSES, slug
from engine.web.ui.templating import environment, page_templates, render

ENV_KEY = "docframe.desk_templates"
SEARCH_PER_DOCTYPE = 5
LINK_OPTIONS = 10


def render_page(template: str, doctype: str | None, **context: Any) -> str:
    env = current_app.extensions.get(ENV_KEY)
    if env is None:
        env = current_app.extensions[ENV_KEY] = environment(current_site().app)
        env.filters["number"] = number_cell
        env.globals["STATUSES"] = STATUSES
    return render(env, page_templates(doctype, template), **context)


def number_cell(value: Any, f: Field) -> str:
    """A number as a list shows it: thousands grouped, a Currency with its precision (12,150.00)."""
    if value is None or value == "":
        return ""
    if f.type == "Int":
        return f"{int(value):,}"
    if f.type == "Currency":
        return f"{Decimal(str(value)):,.{f.precision if f.precision is not None else 2}f}"
    number = Decimal(str(value))
    return f"{number:,.{f.precision}f}" if f.precision is not None else f"{number.normalize():,f}"


def doc_url(doctype: str, name: str) -> str:
    return f"/app/{slug(doctype)}/{quote(str(name), safe='')}"


def default_filters(session: Session, meta: DocType, given: list[list[Any]] | None = None) -> list[list[Any]]:
    """The app's ``default_filters`` for the doctype, less those on a field the user filters on."""
    taken = {f[0] for f in given or () if f}
    return [f for f in session.default_filters(meta.name) if f[0] not in taken]


# ------------------------------------------------------------------ form

@dataclass(frozen=True)
class Connection:
    doctype: str
    label: str
    count: int
    list_url: str
    new_url: str | None


@dataclass(frozen=True)
class VersionEntry:
    owner: str
    creation: Any
    changes: list[tuple[str, Any, Any]]
    rows: list[str]


@dataclass
class FormPage:
    meta: DocType
    doc: Document
    title: str
    is_new: bool
    sections: list[form_view.Section]
    message: str | None
    general_errors: list[str]
    stale: bool
    status: str | None
    can_save: bool
    can_submit: bool
    can_cancel: bool
    can_delete: bool
    modified: str
    versions: list[VersionEntry] = field(default_factory=list)
    connections: list[Connection] = field(default_factory=list)
    conditions: str = "{}"  # depends_on / mandatory_depends_on per field, for the browser
    extra: dict[str, Any] = field(default_factory=dict)  # from the app's form_context hook
    prints: list[tuple[str, str]] = field(default_factory=list)  # (format, /printview URL) of a saved document

    @property
    def url(self) -> str:
        return f"/app/{slug(self.meta.name)}/new" if self.is_new else doc_url(self.meta.name, self.doc.name)


ID_INPUT = "__newname"  # Frappe's name for the ID a user types on a new form


def _id_box(meta: DocType, doc: Document, errors: list[FieldError]) -> form_view.FieldView:
    """The ID input of a new document whose ID the user gives (naming rule ``prompt``)."""
    fallback = meta.fields_by_name.get(meta.naming.field or "")
    help_text = (f"Leave empty to use the {fallback.label}." if fallback is not None
                 else f"The {meta.name}'s ID; it cannot be changed later, only renamed.")
    f = Field(ID_INPUT, "Data", "ID", required=fallback is None, description=help_text, length=140)
    error = "; ".join(form_view.at_field(e.message, meta.name) for e in errors if e.field == "name") or None
    return form_view.FieldView(f, ID_INPUT, doc.get("name") or "", error)


def form_page(session: Session, meta: DocType, doc: Document, errors: list[FieldError], message: str | None,
              stale: bool) -> FormPage:
    is_new = doc.is_new()
    before = doc.get_doc_before_save()
    docstatus = int(before.docstatus or 0) if before is not None else 0
    editable = docstatus == 0 and has_permission(session, meta.name, "create" if is_new else "write")
    placed, general = form_view.error_map(meta, errors)
    values = doc.as_dict(no_password=False)
    user = user_context(session).as_mapping()
    child_metas = {f.options: session.site.get_meta(f.options) for f in meta.table_fields}  # type: ignore[arg-type]
    sections = form_view.layout(meta, child_metas, values, user, not is_new, placed, editable)  # type: ignore[arg-type]
    title_value = doc.get(meta.title_field) if meta.title_field else None
    title = f"New {meta.name}" if is_new else str(title_value or doc.name)
    page = FormPage(
        meta=meta, doc=doc, title=title, is_new=is_new, sections=sections, message=message if errors or stale
        or message else None, general_errors=general, stale=stale,
        status=STATUSES[docstatus] if meta.is_submittable and not is_new else None,
        can_save=editable,
        can_submit=meta.is_submittable and not is_new and docstatus == 0 and has_permission(session, meta.name,
                                                                                              "submit"),
        can_cancel=meta.is_submittable and docstatus == 1 and has_permission(session, meta.name, "cancel"),
        can_delete=not is_new and docstatus != 1 and has_permission(session, meta.name, "delete"),
        modified=str(before.modified) if before is not None and before.modified else "",
        conditions=json.dumps(_conditions(meta, child_metas)),
    )
    if is_new and meta.naming.rule == "prompt" and page.sections and page.sections[0].columns:
        page.sections[0].columns[0].items.insert(0, _id_box(meta, doc, errors))
        at_id = {e.message for e in errors if e.field == "name"}
        general = page.general_errors = [m for m in general if m not in at_id]
    if general and not message:
        page.message = general[0]
    if not is_new:
        formats = [STANDARD, *sorted(n for d, n in session.site.hooks.print_formats if d == meta.name)]
        page.prints = [(f, "/printview?" + urlencode({"doctype": meta.name, "name": doc.name, "format": f}))
                       for f in formats]
    caller = session.hook_caller(meta.name, "form_context")
    if not is_new:
        with session.checked(meta.name, "read", doc):
            page.versions = _versions(session, meta, doc) if meta.track_changes else []
            for extra in caller(doc=doc, ctx=session) if caller is not None else ():
                page.extra.update(extra or {})
        page.connections = connections(session, meta, doc.name, offer_new=docstatus != 2)
    elif caller is not None:  # a new document's form too (e.g. which fields refresh it)
        for extra in caller(doc=doc, ctx=session):
            page.extra.update(extra or {})
    return page


def _conditions(meta: DocType, child_metas: dict[Any, DocType]) -> dict[str, dict[str, str]]:
    out = {}
    for f in meta.fields:
        keys = {k: getattr(f, k) for k in ("depends_on", "mandatory_depends_on", "read_only_depends_on")
                if getattr(f, k)}
        if keys:
            out[f.name] = keys
    return out


def _versions(session: Session, meta: DocType, doc: Document) -> list[VersionEntry]:
    rows = session.get_list("Version", fields=["owner", "creation", "data"],
                            filters={"ref_doctype": meta.name, "docname": doc.name}, order_by="creation desc",
                            limit=50)
    out = []
    for r in rows:
        data = r["data"] or {}
        changes = [(meta.label_of(c[0]), c[1], c[2]) for c in data.get("changed", []) if len(c) == 3]
        rows_changed = [f"{len(data.get(k, []))} row(s) {k.replace('_', ' ')}" for k in ("added", "removed",
                                                                                         "row_changed")
                        if data.get(k)]
        out.append(VersionEntry(r["owner"], r["creation"], changes, rows_changed))
    return out


def connections(session: Session, meta: DocType, name: str, offer_new: bool = True) -> list[Connection]:
    """Documents that link to this one, by doctype, with a "New" link that fills in the link."""
    site = session.site
    out: dict[str, Connection] = {}
    for source in site.reverse_links.sources(meta.name):
        owner = source.doctype
        if owner.is_child:
            parents = [(p, tf.name) for p in site.doctypes.values() if not p.is_child
                       for tf in p.table_fields if tf.options == owner.name]
        else:
            parents = [(owner, None)]
        for parent, table in parents:
            if parent.name in out or not has_permission(session, parent.name, "read"):
                continue
            condition: list[list[Any]]
            if table is None:
                condition = [[source.field, "=", name]]
                prefill = {source.field: name}
                if source.doctype_field:
                    condition.append([source.doctype_field, "=", meta.name])
                    prefill[source.doctype_field] = meta.name
            else:
                condition = [[owner.name, source.field, "=", name]]
                prefill = {f"{table}-1-{source.field}": name}
                if source.doctype_field:
                    condition.append([owner.name, source.doctype_field, "=", meta.name])
                    prefill[f"{table}-1-{source.doctype_field}"] = meta.name
            if source.doctype_field is None and not table and parent.name == meta.name:
                continue  # a tree's own parent link: shown in the tree view
            try:
                count = session.get_count(parent.name, condition)
            except DocframeError:
                continue
            if count == 0 and source.doctype_field is not None and table is None:
                continue
            list_url = f"/app/{slug(parent.name)}?" + urlencode(  # child-row filters as "Child.field"
                {"f": [f"{c[0]}.{c[1]}|{c[2]}|{c[3]}" if len(c) == 4 else f"{c[0]}|{c[1]}|{c[2]}"
                       for c in condition]}, doseq=True)
            new_url = (f"/app/{slug(parent.name)}/new?" + urlencode(prefill)  # none from a cancelled document
                       if offer_new and has_permission(session, parent.name, "create") else None)
            out[parent.name] = Connection(parent.name, parent.name, count, list_url, new_url)
    return sorted(out.values(), key=lambda c: (c.count == 0, c.label))


# ------------------------------------------------------------------ search and link options

@dataclass(frozen=True)
class SearchResult:
    doctype: str
    name: str
    title: str
    url: str


def _search_or(meta: DocType, q: str) -> list[list[Any]]:
    names = ["name", *meta.search_fields]
    if meta.title_field:
        names.append(meta.title_field)
    return [[n, "like", f"%{q}%"] for n in dict.fromkeys(names)]


def search_everything(session: Session, q: str) -> list[SearchResult]:
    results = []
    for meta in sorted(session.site.doctypes.values(), key=lambda m: m.name):
        if meta.is_child or not has_permission(session, meta.name, "read") or meta.module == "Core":
            continue
        fields = ["name"] + ([meta.title_field] if meta.title_field and meta.title_field != "name" else [])
        for row in session.get_list(meta.name, fields=fields, or_filters=_search_or(meta, q),
                                    limit=SEARCH_PER_DOCTYPE):
            title = str(row.get(meta.title_field) or row["name"]) if meta.title_field else row["name"]
            results.append(SearchResult(meta.name, row["name"], title, doc_url(meta.name, row["name"])))
    return results


def link_search(session: Session, meta: DocType, q: str) -> list[dict[str, Any]]:
    """Options for a Link to ``meta``: ID, title and up to three details that tell look-alikes apart."""
    details = [f.name for f in meta.data_fields if f.in_list_view and f.name != meta.title_field
               and f.type in ("Link", "Data", "Select")][:3]
    fields = ["name", *([meta.title_field] if meta.title_field and meta.title_field != "name" else []), *details]
    rows = session.get_list(meta.name, fields=list(dict.fromkeys(fields)), filters=default_filters(session, meta),
                            or_filters=_search_or(meta, q.strip()) if q.strip() else None,
                            order_by=f"{meta.sort_field} {meta.sort_order}", limit=LINK_OPTIONS)
    return [{"value": r["name"], "title": str(r.get(meta.title_field) or "") if meta.title_field else "",
             "details": [str(r[d]) for d in details if r.get(d)]} for r in rows]


# ------------------------------------------------------------------ trees

@dataclass
class TreeNode:
    name: str
    title: str
    is_group: bool
    children: list[TreeNode] = field(default_factory=list)


@dataclass
class TreePage:
    meta: DocType
    roots: list[TreeNode]
    groups: list[str]
    error: str | None
    can_create: bool
    can_write: bool
    filters: list[tuple[Field, str, list[str]]] = field(default_factory=list)  # (Link field, value, choices)


def tree_page(session: Session, meta: DocType, error: str | None,
              args: MultiDict[str, str] | None = None) -> TreePage:
    """The whole tree; its ``in_filter`` Links (an Account's company) narrow it: a node whose parent is
    filtered out becomes a root."""
    pf = meta.parent_field or ""
    fields = ["name", pf, "is_group"] + ([meta.title_field] if meta.title_field and meta.title_field != "name"
                                         else [])
    by = [f for f in meta.data_fields if f.in_filter and f.type == "Link" and f.name != pf
          and f.options in session.site.doctypes and not session.site.doctypes[f.options].is_tree]
    chosen = {f.name: (args or MultiDict()).get(f.name, "") for f in by}
    rows = session.get_list(meta.name, fields=list(dict.fromkeys(fields)), order_by="name asc", limit=100_000,
                            filters=[[k, "=", v] for k, v in chosen.items() if v])
    nodes = {r["name"]: TreeNode(r["name"], str(r.get(meta.title_field) or r["name"]) if meta.title_field
                                 else r["name"], bool(r["is_group"])) for r in rows}
    roots = []
    for r in rows:
        parent = nodes.get(r[pf]) if r[pf] else None
        (parent.children if parent is not None else roots).append(nodes[r["name"]])
    choices = [(f, chosen[f.name], session.get_list(meta.name, fields=[f.name], group_by=f.name,
                                                     order_by=f"{f.name} asc", pluck=f.name, limit=200)) for f in by]
    return TreePage(meta, roots, sorted(n for n, node in nodes.items() if node.is_group), error,
                    has_permission(session, meta.name, "create"), has_permission(session, meta.name, "write"),
                    [(f, value, [c for c in options if c]) for f, value, options in choices if len(options) > 1])


def tree_action(session: Session, meta: DocType, form: MultiDict[str, str]) -> str:
    """Add a child, move a node under another group, or rename it; returns the message to show."""
    action = form.get("action")
    pf = meta.parent_field or ""
    if action == "add":
        naming_field = meta.naming.field if meta.naming.rule == "field" else None
        values: dict[str, Any] = {pf: form.get("parent") or None, "is_group": 1 if form.get("is_group") else 0}
        if naming_field:
            values[naming_field] = form.get("title", "")
        doc = session.insert(meta.name, values)
        return f"Added {doc.name!r}."
    if action == "move":
        doc = session.get_doc(meta.name, form.get("name", ""))
        doc.set(pf, form.get("parent") or None)
        doc.save()
        return f"Moved {doc.name!r} under {form.get('parent') or 'the top'}."
    if action == "rename":
        doc = session.rename_doc(meta.name, form.get("name", ""), form.get("new_name", ""))
        return f"Renamed to {doc.name!r}."
    raise InvalidValueError(f"{meta.name} tree: unknown action {action!r}")


class _Discard(Exception):
    """Leaves a preview's transaction without writing anything."""


def refreshed_values(session: Session, meta: DocType, posted: MultiDict[str, str]) -> dict[str, Any]:
    """What the doctype's ``before_validate`` hooks fill in on the posted form, for the form to show
    before it is saved (a draft invoice's price list, due date and rates once its customer is chosen).

    The hooks run on an unsaved document inside a transaction that is rolled back: nothing is written.
    """
    doc = session.new_doc(meta.name, form_view.posted_values(meta, posted, None))
    caller = session.hook_caller(meta.name, "before_validate")
    try:
        with session.atomic():
            if caller is not None:
                caller(doc=doc, ctx=session)
            raise _Discard
    except _Discard:
        pass
    except DocframeError as exc:
        return {"values": {}, "rows": {}, "error": exc.message}
    skipped = ("Password", "JSON", "Check")
    shown = [f for f in meta.data_fields if not f.hidden and f.type not in skipped]
    rows = {}
    for tf in meta.table_fields:
        child = [f for f in session.site.get_meta(tf.options).data_fields if f.type not in skipped]
        rows[tf.name] = [{f.name: form_view.display_value(f, r.get(f.name)) for f in child}
                         for r in doc.get(tf.name) or []]
    return {"values": {f.name: form_view.display_value(f, doc.get(f.name)) for f in shown}, "rows": rows}
