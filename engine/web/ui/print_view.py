"""Printouts: ``/printview`` (and ``/print``) ``?doctype=&name=&format=``, as Frappe clients ask for them,
and the same as PDF (``&pdf=1``, or ``/api/method/frappe.utils.print_format.download_pdf``).

The document is read through the request's Session (read permission and record
rules); the format is ``Standard`` (every field and child table) or one the app
declares with ``@print_format`` (:mod:`engine.documents.printing`). PDFs are drawn by
WeasyPrint from the same HTML and its print CSS; where its system libraries (Pango)
are missing, the PDF answer is a 503 naming what to install, and the HTML still works.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

from flask import current_app

from engine.documents.printing import STANDARD
from engine.errors import DoesNotExistError, ServiceUnavailableError
from engine.site.session import Session
from engine.web.ui.desk import slug
from engine.web.ui.form_view import display_value
from engine.web.ui.templating import environment, render

ENV_KEY = "docframe.print_templates"


def html(session: Session, args: dict[str, Any]) -> tuple[str, str]:
    """The printout's HTML and a file name for it (``<format>-<name>``)."""
    doctype, name = str(args.get("doctype") or ""), str(args.get("name") or "")
    fmt = str(args.get("format") or STANDARD)
    if not doctype or not name:
        raise DoesNotExistError("A printout needs doctype and name (and a format; default: Standard)")
    site = session.site
    meta = site.get_meta(doctype)
    doc = session.get_doc(meta.name, name)
    formats = sorted(n for dt_, n in site.hooks.print_formats if dt_ == meta.name)
    if fmt == STANDARD:
        template, context = "print/standard.html", _standard(site, meta, doc)
    else:
        pf = site.hooks.print_formats.get((meta.name, fmt))
        if pf is None:
            raise DoesNotExistError(f"{meta.name} has no print format {fmt!r} (use {', '.join([STANDARD, *formats])})")
        params = {p: (args.get(p) or None) for p in pf.params}
        with session.checked(meta.name, "read", doc):  # what the document's printout reads serves it
            template, context = pf.template, pf.fn(doc, session, params)
        context.setdefault("params", [(p, args.get(p) or "") for p in pf.params])
    env = current_app.extensions.get(ENV_KEY)
    if env is None:
        env = current_app.extensions[ENV_KEY] = environment(site.app)
        env.filters["money"] = _money
        env.filters["day"] = _day
    context.setdefault("params", [])
    context["param_query"] = urlencode([(k, v) for k, v in context["params"] if v])
    body = render(env, [template], doc=doc, meta=meta, format=fmt, formats=[STANDARD, *formats],
                  printed=dt.date.today(), form_url=f"/app/{slug(meta.name)}/{quote(str(doc.name), safe='')}",
                  **context)
    return body, f"{fmt}-{doc.name}".replace("/", "-").replace(" ", "-")


def pdf(body: str) -> bytes:
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: the Pango/Cairo system libraries are missing
        raise ServiceUnavailableError(f"PDF printouts need WeasyPrint and its system libraries (Pango): {exc}; "
                                      "the HTML printout (without pdf=1) works") from None
    return weasyprint.HTML(string=body, base_url=None).write_pdf()


def _standard(site: Any, meta: Any, doc: Any) -> dict[str, Any]:
    fields = [(f.label, display_value(f, doc.get(f.name))) for f in meta.data_fields
              if not f.hidden and f.type not in ("Password", "JSON") and doc.get(f.name) not in (None, "", 0)]
    tables = []
    for tf in meta.table_fields:
        rows = doc.get(tf.name) or []
        if not rows:
            continue
        child = site.get_meta(tf.options)
        columns = [f for f in child.data_fields if not f.hidden and f.type not in ("Password", "JSON")]
        tables.append((tf.label, [c.label for c in columns],
                       [[display_value(c, r.get(c.name)) for c in columns] for r in rows]))
    return {"fields": fields, "tables": tables}


def _money(value: Any) -> str:
    return "" if value in (None, "") else f"{Decimal(str(value)):,.2f}"


def _day(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date) else ("" if value is None else str(value)[:10])


def response(session: Session, args: dict[str, Any], as_pdf: bool) -> Any:
    """The printout as an HTML page, or as a PDF download."""
    from flask import Response

    body, filename = html(session, args)
    if as_pdf:
        return Response(pdf(body), content_type="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="{filename}.pdf"'})
    resp = Response(body, content_type="text/html; charset=utf-8")
    resp.headers["Content-Security-Policy"] = ("default-src 'self'; img-src 'self' data:; style-src 'self' "
                                               "'unsafe-inline'; script-src 'none'; frame-ancestors 'self'")
    return resp
