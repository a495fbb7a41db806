"""Role permissions (what a user may do with a doctype) and record rules (which records they see).

Role permissions: a doctype's YAML ``permissions`` map roles to actions (read, write,
create, delete, submit, cancel, report, export, import). :func:`check_permission`
raises :class:`~engine.errors.PermissionError` (403) when none of the session user's
roles has the action; Administrator and ``ignore_permissions`` sessions are never
checked. The Session document API checks at its outermost call only (see
``Session._permitted``): documents that hooks read or write inside an operation are
not checked again.

Record rules: which records of a doctype a user may read.

A doctype's ``record_rules`` (YAML) each name roles and a condition. For a session
whose user is not Administrator:

* the user's roles are the ``Has Role`` rows of their User record (read once per unit of work);
* a user with no role named in any rule of the doctype is not restricted;
* a user with a role listed in the doctype's ``permissions`` that no rule names is not
  restricted either (e.g. Sales Manager sees everything while Sales User sees their own);
* otherwise the user sees only the records matching the OR of the conditions of the rules
  whose roles they have.

The same decision is made two ways that agree: :func:`conditions` translates the
conditions to SQL for list queries and counts, :func:`can_read` evaluates them on a
loaded document (``Session.get_doc`` raises :class:`~engine.errors.PermissionError`).

Conditions use the SQL-expressible subset of the expression language (see
:func:`engine.metadata.expressions.rule_tree`). The SQL keeps the expression language's
two-valued logic: a comparison with an empty (NULL) field is false, ``!=`` is true,
``not`` inverts exactly. Text comparisons follow the database's collation (on MariaDB
case-insensitive), as everywhere in queries.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from engine.errors import PermissionError
from engine.metadata.doctype import DocType, RecordRule
from engine.metadata.expressions import compile_expression, rule_tree
from engine.metadata.record_rules import field_kind, literal_value

if TYPE_CHECKING:
    from engine.rules.record import Record
    from engine.storage.unit import UnitOfWork

ADMINISTRATOR = "Administrator"
_USER_CONTEXT = "permissions.user_context"  # key in UnitOfWork.cache

_SQL_ORDER: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}


# ------------------------------------------------------------------------- the user

@dataclass(frozen=True)
class UserContext:
    """The session user as record rules see it."""

    name: str
    email: str | None
    full_name: str | None
    roles: frozenset[str]

    def as_mapping(self) -> dict[str, Any]:
        return {"name": self.name, "email": self.email, "full_name": self.full_name}


def user_context(session: UnitOfWork) -> UserContext:
    """The session user's name, email, full name and roles (read once per unit of work).

    Administrator has every role; a user without a User record has none. With the
    site's auth epoch (``session.shared_auth``), read once per process until a User or
    Role changes.
    """
    cached: UserContext | None = session.cache.get(_USER_CONTEXT)
    if cached is not None and cached.name == session.user:
        return cached
    site, name = session.site, session.user
    shared = session.shared_auth if not session.in_transaction else None  # a write reads what it changed
    epoch = shared.epoch() if shared is not None else None  # before the database: see SharedValues
    if epoch is not None:
        cached = shared.get((_USER_CONTEXT, name), epoch)  # type: ignore[union-attr]
        if cached is not None:
            session.cache[_USER_CONTEXT] = cached
            return cached
    user_t, role_t = site.table("User"), site.table("Has Role")
    with session.reading() as conn:
        row = conn.execute(sa.select(user_t.c.name, user_t.c.email, user_t.c.full_name)
                           .where(site.name_match(user_t, name))).first()
        roles: frozenset[str] = frozenset()
        if name == ADMINISTRATOR:  # has every role
            roles = frozenset(conn.execute(sa.select(site.table("Role").c.name)).scalars())
        elif row is not None:
            roles = frozenset(conn.execute(
                sa.select(role_t.c.role).where(role_t.c.parent == row.name, role_t.c.parenttype == "User",
                                               role_t.c.role.is_not(None))).scalars())
    context = UserContext(name, row.email if row else None, row.full_name if row else None, roles)
    session.cache[_USER_CONTEXT] = context
    if epoch is not None:
        shared.put((_USER_CONTEXT, name), epoch, context)  # type: ignore[union-attr]
    return context


def carry_user_context(source: UnitOfWork, target: UnitOfWork) -> None:
    """Check ``target``'s permissions with the user's roles as ``source`` reads them.

    For a session on a read replica: the roles come from the primary, so a role taken
    away counts at once, however far the replica lags.
    """
    if source.user != target.user:
        raise ValueError(f"the sessions are for different users: {source.user!r} and {target.user!r}")
    target.cache[_USER_CONTEXT] = user_context(source)


def applicable_rules(session: UnitOfWork, meta: DocType) -> tuple[RecordRule, ...] | None:
    """The rules restricting the session user on ``meta``; None when the user sees every record."""
    if not meta.record_rules or session.user == ADMINISTRATOR or session.flags.ignore_permissions:
        return None
    roles = user_context(session).roles
    ruled = {role for rule in meta.record_rules for role in rule.roles}
    if not roles & ruled:
        return None
    if roles & (set(meta.permissions) - ruled):
        return None
    return tuple(rule for rule in meta.record_rules if roles.intersection(rule.roles))


# ------------------------------------------------------------------------- the checks

def can_read(session: UnitOfWork, doc: Record) -> bool:
    """Whether the session user may read ``doc`` under its doctype's record rules."""
    rules = applicable_rules(session, doc.meta)
    if rules is None:
        return True
    values = {name: doc.get(name) for name in doc.meta.column_names}
    user = user_context(session).as_mapping()
    return any(compile_expression(rule.condition).evaluate(values, user) for rule in rules)


def check_read(session: UnitOfWork, doc: Record) -> None:
    """Raise PermissionError (403) when a record rule hides ``doc`` from the session user."""
    if can_read(session, doc):
        return
    rules = applicable_rules(session, doc.meta) or ()
    why = "; ".join(rule.description or rule.condition for rule in rules)
    raise PermissionError(f"{doc.meta.name} {doc.get('name')!r} is not visible to user {session.user!r}: "
                          f"restricted by record rule ({why})")


def conditions(session: UnitOfWork, doctype: str) -> list[sa.ColumnElement[bool]]:
    """SQL conditions equivalent to :func:`can_read` for list queries (empty when unrestricted).

    Rows of a child doctype are visible when their parent is: of a parent doctype the
    user may read, and not hidden from them by its record rules.
    """
    meta = session.site.get_meta(doctype)
    if meta.is_child:
        return _child_conditions(session, meta)
    rules = applicable_rules(session, meta)
    if rules is None:
        return []
    table = session.site.table(doctype)
    user = user_context(session).as_mapping()
    return [sa.or_(*(rule_sql(rule.condition, meta, table, user) for rule in rules))]


def _child_conditions(session: UnitOfWork, meta: DocType) -> list[sa.ColumnElement[bool]]:
    if bypasses_permissions(session):
        return []
    site = session.site
    table = site.table(meta.name)
    roles = user_context(session).roles
    visible: list[sa.ColumnElement[bool]] = []
    for parent in site.doctypes.values():
        if parent.is_child or not any(f.options == meta.name for f in parent.table_fields):
            continue
        if not roles & permitted_roles(session, parent.name, "read"):
            continue
        parent_conditions = conditions(session, parent.name)
        if not parent_conditions:
            visible.append(table.c.parenttype == parent.name)
        else:
            parent_table = site.table(parent.name)
            visible.append(sa.and_(table.c.parenttype == parent.name, table.c.parent.in_(
                sa.select(parent_table.c.name).where(*parent_conditions))))
    return [sa.or_(*visible)] if visible else [sa.false()]


def rule_sql(source: str, meta: DocType, table: sa.Table, user: dict[str, Any]) -> sa.ColumnElement[bool]:
    """The SQL condition of one record-rule condition for ``user`` (name, email, full_name)."""
    return _to_sql(rule_tree(source), meta, table, user)


def _to_sql(node: tuple[Any, ...], meta: DocType, table: sa.Table, user: dict[str, Any]) -> sa.ColumnElement[bool]:
    kind = node[0]
    if kind == "or":
        return sa.or_(*(_to_sql(n, meta, table, user) for n in node[1]))
    if kind == "and":
        return sa.and_(*(_to_sql(n, meta, table, user) for n in node[1]))
    if kind == "not":
        return sa.not_(_to_sql(node[1], meta, table, user))
    if kind == "const":
        return sa.true() if node[1] else sa.false()
    col = table.c[node[1]]
    fkind = field_kind(meta, node[1])
    if kind == "truthy":
        if fkind == "number":
            return sa.and_(col.is_not(None), col != 0)
        if fkind == "text":
            return sa.and_(col.is_not(None), col != "")
        return col.is_not(None)
    _, _, op, (what, value) = node
    if what == "user":
        value = user.get(value)
    if what == "list":
        values = [literal_value(fkind, v) for v in value]  # type: ignore[arg-type]
        present = [v for v in values if v is not None]
        member = sa.and_(col.is_not(None), col.in_(present)) if present else sa.false()
        if None in values:
            member = sa.or_(member, col.is_(None))
        return member if op == "in" else sa.not_(member)
    value = literal_value(fkind, value) if what == "lit" else value  # type: ignore[arg-type]
    if value is None:
        if op == "==":
            return col.is_(None)
        return col.is_not(None) if op == "!=" else sa.false()
    if op == "!=":
        return sa.or_(col.is_(None), col != value)
    return sa.and_(col.is_not(None), _SQL_ORDER[op](col, value))


# ------------------------------------------------------------------ role permissions

ACTIONS = ("read", "write", "create", "delete", "submit", "cancel", "report", "export", "import")

#: The role-permission action each document operation needs (see :data:`engine.documents.lifecycle.LIFECYCLE`).
OPERATION_ACTIONS = {"insert": "create", "save": "write", "update_after_submit": "write", "submit": "submit",
                     "cancel": "cancel", "delete": "delete"}


def bypasses_permissions(session: UnitOfWork) -> bool:
    """Administrator and sessions with ``ignore_permissions`` are never checked."""
    return session.user == ADMINISTRATOR or bool(session.flags.ignore_permissions)


def permitted_roles(session: UnitOfWork, doctype: str, action: str) -> frozenset[str]:
    """The roles the doctype's YAML ``permissions`` give ``action``.

    A child doctype (rows of a Table field) follows its parents: a role may act on
    the rows when it may act on a doctype that has them.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown permission action {action!r}; expected one of {', '.join(ACTIONS)}")
    site = session.site
    meta = site.get_meta(doctype)
    if not meta.is_child:
        return frozenset(role for role, actions in meta.permissions.items() if action in actions)
    roles: set[str] = set()
    for parent in site.doctypes.values():
        if not parent.is_child and any(f.options == doctype for f in parent.table_fields):
            roles.update(role for role, actions in parent.permissions.items() if action in actions)
    return frozenset(roles)


def has_permission(session: UnitOfWork, doctype: str, action: str) -> bool:
    """Whether the session user may ``action`` documents of ``doctype`` (by their roles)."""
    if bypasses_permissions(session):
        if action not in ACTIONS:
            raise ValueError(f"unknown permission action {action!r}; expected one of {', '.join(ACTIONS)}")
        return True
    return bool(user_context(session).roles & permitted_roles(session, doctype, action))


def check_permission(session: UnitOfWork, doctype: str, action: str, doc: Record | None = None) -> None:
    """Raise PermissionError (403) unless the session user may ``action`` on ``doctype``.

    With a saved ``doc`` (and any action but create) the doctype's record rules must
    also show the document as it is stored to the user: nobody changes a record they
    cannot see.
    """
    if has_permission(session, doctype, action):
        if doc is not None and action != "create" and not bypasses_permissions(session):
            stored = doc.get_doc_before_save()
            if stored is not None and doc.meta.record_rules:
                check_read(session, stored)
        return
    what = f"{doctype} {doc.get('name')!r}" if doc is not None and doc.get("name") else doctype
    roles = sorted(permitted_roles(session, doctype, action))
    needs = f"it needs one of the roles {', '.join(roles)}" if roles else f"no role may {action} {doctype}"
    raise PermissionError(f"User {session.user!r} has no permission to {action} {what}: {needs}")
