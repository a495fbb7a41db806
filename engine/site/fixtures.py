"""Standard records ("fixtures"): the app's ``fixtures/*.yaml``, installed by ``migrate``.

Same file format as demo data (:mod:`engine.site.demo`): each file a YAML list of
documents ``{doctype: X, ...values}``, files in name order. ``Site.migrate()``
installs, after the schema, every document that does not exist yet, through the
full lifecycle (naming, validation, hooks), all in one transaction. Existing
records are never overwritten: users may edit standard records, and a second
migrate installs nothing.

A document exists when a record with its ``name`` exists (case-insensitively), or
for doctypes named by a field (``naming: {rule: field}``) without a ``name``, when a
record has the same value in the naming field. Documents of doctypes named by
``prompt`` or ``expression`` must give their ``name`` (for field and expression rules
it must be the ID the rule gives). Rules that invent the ID (hash, series,
autoincrement) cannot have standard records: nothing would tell whether one exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from engine.errors import DocframeError
from engine.site.demo import DemoDocument, read_demo

if TYPE_CHECKING:
    from engine.site.session import Session
    from engine.storage.store import Store

@dataclass(frozen=True)
class Installed:
    """One standard record that was (or, in a dry run, would be) installed."""

    doctype: str
    name: str
    file: str

    def __str__(self) -> str:
        return f"{self.doctype} {self.name!r} ({self.file})"


def fixture_files(folder: Path) -> list[Path]:
    """The fixture files of an app's ``fixtures/`` folder, in install order."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.y*ml") if p.suffix in (".yaml", ".yml") and not p.name.startswith("."))


def read_fixtures(site: Store) -> list[DemoDocument]:
    """Every fixture document, checked for a known doctype and an identity; raises DocframeError."""
    docs = read_demo(fixture_files(site.app.fixtures_dir))
    for doc in docs:
        meta = site.doctypes.get(doc.doctype)
        if meta is None:
            raise DocframeError(f"{doc.where}: unknown doctype {doc.doctype!r}")
        if meta.is_child:
            raise DocframeError(f"{doc.where}: {doc.doctype} is a child doctype; give its rows inside the parent")
        _identity(doc, site)
    return docs


def _identity(doc: DemoDocument, site: Store) -> tuple[str, Any]:
    """(column, value) that tells whether the document exists already."""
    meta = site.get_meta(doc.doctype)
    rule, name = meta.naming.rule, doc.values.get("name")
    if rule not in ("prompt", "field", "expression"):
        raise DocframeError(f"{doc.where}: {doc.doctype} is named by rule {rule!r}, which sets the ID itself, so "
                            "migrate cannot tell whether the record exists; standard records need naming rule "
                            "'prompt', 'field' or 'expression'")
    if isinstance(name, str) and name:
        return "name", name
    if rule == "field" and meta.naming.field and doc.values.get(meta.naming.field) not in (None, ""):
        return meta.naming.field, doc.values[meta.naming.field]
    needs = f"'name' or {meta.naming.field!r}" if rule == "field" else "'name'"
    raise DocframeError(f"{doc.where}: a standard record needs {needs} so that migrate can tell whether it "
                        f"exists (naming rule {rule!r})")


def _exists(session: Session, doc: DemoDocument, tables: set[str]) -> str | None:
    """The name of the existing record for ``doc``, or None."""
    site = session.site
    meta = site.get_meta(doc.doctype)
    if meta.table_name not in tables:
        return None
    column, value = _identity(doc, site)
    t = site.table(doc.doctype)
    cond = site.name_match(t, value) if column == "name" else t.c[column] == value
    return session.conn.execute(sa.select(t.c.name).where(cond).limit(1)).scalar()


def install_fixtures(session: Session, *, dry_run: bool = False) -> list[Installed]:
    """Install the standard records that do not exist yet (one transaction); returns them in order.

    ``session`` should ignore permissions: standard records are the app's, not a user's.
    ``dry_run`` only lists them (against a database whose tables may not exist yet).
    """
    site = session.site
    docs = read_fixtures(site)
    if not docs:
        return []
    installed: list[Installed] = []
    with session.atomic():
        tables = set(sa.inspect(session.conn).get_table_names())
        planned: set[tuple[str, str, str]] = set()
        for doc in docs:
            column, value = _identity(doc, site)
            if _exists(session, doc, tables) is not None:
                continue
            if dry_run:
                key = (doc.doctype, column, str(value).lower())
                if key not in planned:
                    planned.add(key)
                    installed.append(Installed(doc.doctype, str(value), doc.file.name))
                continue
            values = dict(doc.values)
            given = values.pop("name", None) if site.get_meta(doc.doctype).naming.rule != "prompt" else None
            try:
                new = session.insert(doc.doctype, values)
            except DocframeError as exc:
                raise DocframeError(f"{doc.where}: {exc.message}", exc.errors) from exc
            if given is not None and str(new.name).lower() != str(given).lower():
                raise DocframeError(f"{doc.where}: its name {given!r} is not the ID its naming rule gives "
                                    f"({new.name!r}); correct the name or the fields")
            installed.append(Installed(doc.doctype, str(new.name), doc.file.name))
    return installed
