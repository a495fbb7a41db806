"""A Session: one user's document API against a Site.

A :class:`~engine.storage.unit.UnitOfWork` (one connection; every write, with all
the hooks it triggers and every document those hooks write through the same
session, is one transaction; ``atomic()`` groups several writes into one) with the
document API on top: new_doc, get_doc, insert, get_list, get_value, rename_doc...
Each call checks the user's role permissions and record rules at the outermost call.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import sqlalchemy as sa

from engine.documents import batch, lifecycle
from engine.documents.document import Document, DocumentSession
from engine.documents.hooks import HookRegistry
from engine.documents.rename import rename_doc
from engine.errors import DoesNotExistError, InvalidValueError, ReadOnlyError
from engine.metadata.doctype import DocType
from engine.rules import permissions, query
from engine.rules.validation import apply_defaults
from engine.site.doc_cache import DocumentCache
from engine.storage.rawselect import RawSelect
from engine.storage.store import Store
from engine.storage.unit import READ_ONLY, SharedValues

_DONE = {"insert": "inserted", "save": "saved", "update_after_submit": "updated", "submit": "submitted",
         "cancel": "cancelled", "delete": "deleted"}


class Session(DocumentSession):
    """The document API for one user: new_doc, get_doc, get_list, insert, ..."""

    def __init__(self, site: Store, hooks: HookRegistry, user: str = "Administrator",
                 flags: Mapping[str, Any] | None = None, conn: sa.Connection | None = None,
                 documents: DocumentCache | None = None, shared_auth: SharedValues | None = None,
                 replica: sa.Engine | None = None):
        """Made by :meth:`engine.site.site.Site.session`, which passes its hooks, its document cache and
        (with Redis) its token cache as the values about users the process's sessions share.

        ``conn``: a connection to use (and close) instead of taking one from the pool on first use;
        ``replica``: the read replica ``conn`` belongs to (:meth:`~engine.site.site.Site.report_session`).
        """
        super().__init__(site, user, flags, conn, replica)
        self.hooks = hooks
        self.documents = documents if documents is not None and documents.enabled else None
        self.shared_auth = shared_auth
        self._checking = 0  # > 0 inside a permission-checked call: nested calls are not checked again

    def hook_caller(self, doctype: str, event: str) -> Callable[..., Any] | None:
        return self.hooks.caller(doctype, event)

    def default_filters(self, doctype: str) -> list[list[Any]]:
        """The app's default list filters for ``doctype`` (its ``default_filters`` hooks), flattened."""
        caller = self.hook_caller(doctype, "default_filters")
        if caller is None:
            return []
        return [list(f) for result in caller(ctx=self) for f in result or () if f]

    def batch_hook_callers(self, doctype: str, event: str) -> tuple[Callable[..., Any] | None,
                                                                     Callable[..., Any] | None]:
        return self.hooks.batch_callers(doctype, event)

    @contextmanager
    def _permitted(self, doctype: str, action: str, doc: Document | None = None) -> Iterator[None]:
        """Check the user's role permission at the outermost document API call only.

        Whatever the call does inside (hooks reading or writing other documents) is not
        checked again; an explicit ``atomic()`` block does not turn the checks off.
        """
        if not self._checking:
            permissions.check_permission(self, doctype, action, doc)
        self._checking += 1
        try:
            yield
        finally:
            self._checking -= 1

    def checked(self, doctype: str, action: str, doc: Document | None = None) -> AbstractContextManager[None]:
        """Check once that the user may ``action`` on ``doctype`` (and on ``doc``); what runs inside is part of it.

        For a whitelisted method that works out something about one document (a
        customer's credit limit reads its group and company): the caller must be able
        to read the customer, and the reads that serve it are not checked again, as
        a hook's are not.
        """
        return self._permitted(doctype, action, doc)

    def run_lifecycle(self, op: str, doc: Document) -> None:
        """Run an operation (if the user may); run it again if the database broke a deadlock.

        MariaDB can deadlock two writers that both waited for a row a third writer
        inserted and then rolled back (e.g. the same new ID). The database undid the
        whole transaction, and the document was restored, so running it again is
        safe. Not inside an outer ``atomic()``: that block has to be retried whole.
        """
        if self.read_only:
            what = f"{doc.meta.name} {doc.name!r}" if doc.name else f"A new {doc.meta.name}"
            raise ReadOnlyError(f"{what} cannot be {_DONE.get(op, op)}: {READ_ONLY}")
        with self._permitted(doc.meta.name, permissions.OPERATION_ACTIONS[op], doc):
            self._run_lifecycle(op, doc)

    def _run_lifecycle(self, op: str, doc: Document) -> None:
        if self._depth or self.site.engine.dialect.name == "sqlite":  # SQLite has one writer: no deadlocks
            lifecycle.run(op, doc, self)
            return
        pristine, before, flags = doc.copy(), doc.get_doc_before_save(), dict(doc.flags)
        for attempt in range(1, _DEADLOCK_ATTEMPTS + 1):
            try:
                lifecycle.run(op, doc, self)
                return
            except sa.exc.DBAPIError as exc:
                if attempt == _DEADLOCK_ATTEMPTS or not _deadlocked(exc):
                    raise
            # Hooks may have changed the document before the deadlock: start again from
            # exactly what the caller handed in.
            doc.restore_from(pristine.copy(), before)
            doc.flags.clear()
            doc.flags.update(flags)
            time.sleep(random.uniform(0, min(0.2, 0.005 * 2**attempt)))  # out of step with the others

    # ----------------------------------------------------------- documents
    def new_doc(self, doctype: str, values: Mapping[str, Any] | None = None, **kwargs: Any) -> Document:
        """A new, unsaved document with defaults applied."""
        meta = self.site.get_meta(doctype)
        doc = Document(meta, None, self)
        apply_defaults(doc, self.user)
        merged = {**(values or {}), **kwargs}
        if merged.get("name"):
            doc.flags.name_from_caller = merged["name"]
        doc.update(merged)
        return doc

    def insert(self, doctype: str, values: Mapping[str, Any] | None = None, **kwargs: Any) -> Document:
        return self.new_doc(doctype, values, **kwargs).insert()

    def insert_many(self, docs: Sequence[Document]) -> None:
        """Insert new documents of one doctype as one batch (the data import's bulk path).

        The same steps and hooks as :meth:`insert` for each document, run step by step
        over the batch (:mod:`engine.documents.batch`). All or nothing: raises
        :class:`~engine.documents.batch.BatchFailed`, and the caller rolls back its savepoint.
        """
        docs = list(docs)
        if not docs:
            return
        with self._permitted(docs[0].meta.name, "create"):
            batch.insert_many(docs, self)

    def get_doc(self, doctype: str, name: Any, *, for_update: bool = False) -> Document:
        """Load a document and its child rows (the ID matches case-insensitively)."""
        with self._permitted(doctype, "read"):
            return self._get_doc(doctype, name, for_update)

    def _get_doc(self, doctype: str, name: Any, for_update: bool) -> Document:
        meta = self.site.get_meta(doctype)
        if meta.is_child:
            raise InvalidValueError(f"{doctype} rows are read with their parent document")
        if not isinstance(name, str) or not name:
            raise DoesNotExistError(f"{doctype} {name!r} not found")
        # A write reads its own rows, and so does a unit whose own SQL wrote outside a transaction.
        cache = self.documents if not for_update and not self._depth and not self.wrote_untold else None
        version = cached = None
        if cache is not None:
            version = cache.version(doctype)  # before the database: see engine.site.doc_cache
            if version is not None:
                cached = cache.get(doctype, name, version)
        if cached is not None:
            data, children = cached
        else:
            data, children = self._read_doc(meta, name, for_update)
            if version is not None:  # kept as read, before the document below takes the dicts
                cache.put(doctype, name, version, data, children)  # type: ignore[union-attr]
        doc = Document(meta, None, self)
        object.__setattr__(doc, "_data", data)
        for f in meta.table_fields:
            rows = []
            for child_data in children.get(f.name, ()):
                child = Document(self.site.get_meta(f.options), None, self, doc)  # type: ignore[arg-type]
                object.__setattr__(child, "_data", child_data)
                rows.append(child)
            doc._data[f.name] = rows
        doc.snapshot()
        if meta.record_rules:
            permissions.check_read(self, doc)  # a record rule hides it: 403, not 404
        return doc

    def _read_doc(self, meta: DocType, name: str,
                  for_update: bool) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
        """The document's row and child rows from the database."""
        site, doctype = self.site, meta.name
        with self.reading() as conn:
            data, children = (None, {}) if for_update else self._load_with_children(conn, meta, name)
            if data is not None:
                return data, children
            row = None
            if for_update:
                by_name = site.statement(("get_doc", doctype, True), lambda: self._select_by_name(doctype, True))
                row = conn.execute(by_name, {"name": name}).first()
            if row is None and not site.ci_names:
                by_lower = site.statement(("get_doc_ci", doctype), lambda: self._select_by_lower_name(doctype))
                row = conn.execute(by_lower, {"name": name.lower()}).first()
            if row is None:
                raise DoesNotExistError(f"{doctype} {name!r} not found")
            return dict(row._mapping), self._load_children(conn, meta, row.name)

    def roles(self) -> frozenset[str]:
        """The session user's roles (their User record's Has Role rows; read once per Session)."""
        return permissions.user_context(self).roles

    def _select_by_name(self, doctype: str, for_update: bool) -> sa.Select:
        t = self.site.table(doctype)
        stmt = sa.select(t).where(t.c.name == sa.bindparam("name"))
        return stmt.with_for_update() if for_update and self.site.engine.dialect.name != "sqlite" else stmt

    def _select_by_lower_name(self, doctype: str) -> sa.Select:
        t = self.site.table(doctype)
        return sa.select(t).where(sa.func.lower(t.c.name) == sa.bindparam("name"))

    def _load_with_children(self, conn: sa.Connection, meta: Any,
                            name: str) -> tuple[dict[str, Any] | None, dict[str, list[dict[str, Any]]]]:
        """The document's row and its child rows in one round trip, when ``name`` is its exact ID.

        (None, {}) when no document has exactly that ID: the caller then looks it up
        case-insensitively. Run on the driver's cursor (:class:`RawSelect`): for this
        one wide statement SQLAlchemy's result set-up cost as much as the round trip.
        """
        raw, layout = self.site.statement(("with_children", meta.name), lambda: self._with_children_statement(meta))
        parent_branch = 0
        data: dict[str, Any] | None = None
        rows = []
        for r in raw.rows(conn, {"parent": name}):
            if r[0] == parent_branch:
                data = {column: r[slot] for column, slot in layout[parent_branch]}
            else:
                rows.append(r)
        if data is None:
            return None, {}
        return data, _children_by_field(rows, layout)

    def _with_children_statement(self, meta: DocType) -> tuple[RawSelect, list[list[tuple[str, int]]]]:
        stmt, layout = _children_statement(self.site, meta, with_parent=True)
        return RawSelect(stmt, self.site.engine.dialect), layout

    def _load_children(self, conn: sa.Connection, meta: Any, name: str) -> dict[str, list[dict[str, Any]]]:
        """Every child row of the document, by parent field, in one query whatever the number of tables."""
        if not meta.table_fields:
            return {}
        stmt, layout = self.site.statement(("children", meta.name), lambda: _children_statement(self.site, meta))
        return _children_by_field(conn.execute(stmt, {"parent": name}), layout)

    def delete_doc(self, doctype: str, name: str) -> None:
        self.get_doc(doctype, name).delete()

    def exists(self, doctype: str, name: str) -> bool:
        """Whether a document with this ID exists (case-insensitively; ignores record rules)."""
        if not isinstance(name, str) or not name:
            return False
        meta = self.site.get_meta(doctype)
        with self._permitted(doctype, "read"), self.reading():
            return self.name_exists(meta, name)

    # -------------------------------------------------------------- queries
    def get_list(self, doctype: str, fields: Any = None, filters: Any = None, or_filters: Any = None,
                 order_by: Any = None, limit: Any = None, offset: Any = 0, group_by: Any = None,
                 pluck: str | None = None, distinct: bool = False) -> list[Any]:
        """Rows as dicts (or a list of one field's values with ``pluck``)."""
        if pluck:
            fields = [pluck]
        with self._permitted(doctype, "read"):
            stmt = query.build_select(self, doctype, fields, filters, or_filters, order_by, limit, offset,
                                      group_by, permissions.conditions(self, doctype), distinct)
        with self.reading() as conn:
            result = conn.execute(stmt)
            if pluck:
                return list(result.scalars())
            keys = tuple(result.keys())
            return [dict(zip(keys, row, strict=True)) for row in result]

    def get_count(self, doctype: str, filters: Any = None, or_filters: Any = None,
                  distinct: bool = False) -> int:
        with self._permitted(doctype, "read"):
            stmt = query.build_count(self, doctype, filters, or_filters,
                                     permissions.conditions(self, doctype), distinct)
        with self.reading() as conn:
            return int(conn.execute(stmt).scalar_one())

    def get_value(self, doctype: str, filters: Any, fieldname: str | Sequence[str] = "name") -> Any:
        """One value (or a dict of values) of the first matching document, or None."""
        with self._permitted(doctype, "read"):
            return self._get_value(doctype, filters, fieldname)

    def _get_value(self, doctype: str, filters: Any, fieldname: str | Sequence[str]) -> Any:
        names = [fieldname] if isinstance(fieldname, str) else list(fieldname)
        by_name = filters if isinstance(filters, str) else _only_name(filters)
        if by_name is not None:
            row = self._value_by_name(doctype, by_name, names)
            if row is not _SLOW_PATH:
                if row is None:
                    return None
                return row[0] if isinstance(fieldname, str) else dict(row._mapping)
            filters = {"name": by_name}
        rows = self.get_list(doctype, fields=names, filters=filters, limit=1)
        if not rows:
            return None
        return rows[0][names[0]] if isinstance(fieldname, str) else rows[0]

    def _value_by_name(self, doctype: str, name: str, fields: list[str]) -> Any:
        """Fields of one document by ID with a prebuilt statement: the hooks' most common read.

        Falls back to the general query builder (returns _SLOW_PATH) for anything but plain
        readable columns, or when a record rule restricts the user.
        """
        site = self.site
        meta = site.get_meta(doctype)
        key = ("value_by_name", doctype, tuple(fields))
        stmt = site.cached_statement(key)
        if stmt is None:
            readable = set(meta.column_names) - {f.name for f in meta.data_fields if f.type == "Password"}
            if not fields or any(not isinstance(f, str) or f not in readable for f in fields):
                return _SLOW_PATH
            t = site.table(doctype)

            def build() -> sa.Select:
                return sa.select(*(t.c[f] for f in fields)).where(site.name_match(t, sa.bindparam("name"))).limit(1)

            stmt = site.statement(key, build)
        if permissions.conditions(self, doctype):
            return _SLOW_PATH
        memo, memo_key = self.memo(doctype), (*key, name.lower())
        if memo is not None and (hit := memo.get(memo_key, _SLOW_PATH)) is not _SLOW_PATH:
            return hit
        with self.reading() as conn:
            row = conn.execute(stmt, {"name": name if site.ci_names else name.lower()}).first()
        if memo is not None:
            memo[memo_key] = row
        return row

    def rename_doc(self, doctype: str, old: str, new: str) -> Document:
        """Rename a document and every link to it (one transaction)."""
        with self._permitted(doctype, "write"):
            return rename_doc(self, doctype, old, new)

    def set_value(self, doctype: str, name: str, values: Mapping[str, Any]) -> Document:
        """Change fields of a document and save it through the full lifecycle."""
        doc = self.get_doc(doctype, name)
        doc.update(values)
        return doc.save()


_DEADLOCK_ATTEMPTS = 8
_SLOW_PATH = object()


def _only_name(filters: Any) -> str | None:
    """The ID when ``filters`` is exactly {"name": "<ID>"} (or {"name": ["=", "<ID>"]})."""
    if not isinstance(filters, Mapping) or len(filters) != 1:
        return None
    value = filters.get("name")
    if isinstance(value, (list, tuple)) and len(value) == 2 and value[0] in ("=", "=="):
        value = value[1]
    return value if isinstance(value, str) and value else None


def _deadlocked(exc: BaseException | None) -> bool:
    """Whether the database ended the transaction to break a deadlock (MariaDB 1213, PostgreSQL 40P01)."""
    for _ in range(5):  # the deadlock may be the context of a failed ROLLBACK TO SAVEPOINT
        if exc is None:
            return False
        if isinstance(exc, sa.exc.DBAPIError):
            orig = exc.orig
            if getattr(orig, "sqlstate", None) in ("40P01", "40001") or orig.args[:1] == (1213,):
                return True
        exc = exc.__cause__ or exc.__context__
    return False


def _children_by_field(result: Iterable[Any], layout: list[list[tuple[str, int]]]) -> dict[str, list[dict[str, Any]]]:
    """Child rows of a :func:`_children_statement` result, by parent field, in ``idx`` order."""
    rows: list[tuple[str, int, dict[str, Any]]] = []
    for r in result:
        data = {column: r[slot] for column, slot in layout[r[0]]}
        rows.append((data["parentfield"], data["idx"], data))
    rows.sort(key=lambda item: (item[0], item[1]))
    out: dict[str, list[dict[str, Any]]] = {}
    for parentfield, _, data in rows:
        out.setdefault(parentfield, []).append(data)
    return out


def _children_statement(site: Store, meta: DocType, *, with_parent: bool = False
                        ) -> tuple[sa.Select | sa.CompoundSelect, list[list[tuple[str, int]]]]:
    """One UNION ALL over the doctype's child tables, and where each table's columns are in its rows.

    ``with_parent``: the document's own row too, as the first branch (``name = :parent``),
    so a document and its rows take one round trip.

    Columns of the same type share a result column across tables; a table's branch fills
    its own and NULLs the others, typed for result processing (PostgreSQL also needs the
    first branch's CAST, as it types a UNION column from the branches before; MariaDB
    cannot CAST to every type and needs none). The
    first result column says which table a row comes from. Far fewer round trips than
    a query per table, which counts on servers: a Customer has five child tables.
    """
    tables = [site.table(d) for d in dict.fromkeys(f.options for f in meta.table_fields)]
    if with_parent:  # first: the widest branch, whose NULLs PostgreSQL needs CAST
        tables.insert(0, site.table(meta.name))
    slot_types: list[tuple[str, sa.types.TypeEngine]] = []  # result column k+1: (type key, type)
    placed: list[dict[int, sa.Column]] = []  # per table: slot -> its column there
    for t in tables:
        mine: dict[int, sa.Column] = {}
        for column in t.columns:
            # Columns of one type share a slot across tables: far fewer columns. VARCHARs of any
            # length are one type (no result processing; the UNION column is an unbounded VARCHAR).
            plain_string = type(column.type) is sa.String
            key = "VARCHAR" if plain_string else repr(column.type)
            k = next((k for k, (other, _) in enumerate(slot_types) if other == key and k not in mine), None)
            if k is None:
                slot_types.append((key, sa.String() if plain_string else column.type))
                k = len(slot_types) - 1
            mine[k] = column
        placed.append(mine)
    postgresql = site.engine.dialect.name == "postgresql"
    selects = []
    for i, t in enumerate(tables):
        alias = t.alias(f"t{i}")  # short names keep the statement small enough for psycopg to prepare
        if i == 0:  # names and types every UNION column (PostgreSQL types them from the first branch: CAST)
            null = sa.cast if postgresql else sa.type_coerce
            cols = [sa.literal_column("0", sa.Integer).label("t")]
            cols += [(alias.c[placed[0][k].name] if k in placed[0] else null(sa.null(), type_)).label(f"c{k}")
                     for k, (_, type_) in enumerate(slot_types)]
        else:  # unlabelled: a shorter statement (psycopg caches the conversion of one under 4 KB)
            cols = [sa.literal_column(str(i))]
            cols += [alias.c[placed[i][k].name] if k in placed[i] else sa.literal_column("NULL")
                     for k in range(len(slot_types))]
        if with_parent and i == 0:
            selects.append(sa.select(*cols).where(alias.c.name == sa.bindparam("parent")))
        else:
            # The doctype's name as a literal (Title Case words: nothing to quote) keeps the statement short.
            selects.append(sa.select(*cols).where(alias.c.parent == sa.bindparam("parent"),
                                                  alias.c.parenttype == sa.literal_column(f"'{meta.name}'")))
    layout = [[(column.name, k + 1) for k, column in placed[i].items()] for i in range(len(tables))]
    return (selects[0] if len(selects) == 1 else sa.union_all(*selects)), layout
