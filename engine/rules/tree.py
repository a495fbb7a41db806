"""Trees as materialised paths.

Each node stores ``tree_path``: its ancestors' and its own path segment, each a
fixed-width hex digest of the ID followed by ``/``. Segments contain no LIKE
wildcards, so "descendants of X" is ``tree_path LIKE path(X) || '%'`` and
"ancestors of X" is ``path(X) LIKE tree_path || '%'``, each one query with the
path of X as a subquery. Inserting a node writes one row; moving or renaming a
node rewrites only its own subtree's paths, in one UPDATE.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from engine.errors import FieldError, TreeError
from engine.metadata.doctype import TREE_PATH_COLUMN
from engine.storage.schema import TREE_PATH_LENGTH

if TYPE_CHECKING:
    from engine.rules.record import Record
    from engine.storage.unit import UnitOfWork

SEGMENT_LENGTH = 12
TREE_OPERATORS = (
    "descendants of", "descendants of (inclusive)", "not descendants of",
    "ancestors of", "ancestors of (inclusive)", "not ancestors of",
)


def segment(name: str) -> str:
    return hashlib.sha1(name.encode("utf-8")).hexdigest()[:SEGMENT_LENGTH] + "/"


def check(doc: Record, ctx: UnitOfWork, errors: list[FieldError]) -> None:
    """Tree rules for a node being saved; remembers the new parent's path for the write."""
    meta = doc.meta
    pf = meta.parent_field
    assert pf is not None
    field = meta.fields_by_name[pf]
    doc.flags.parent_path = ""
    before = doc.get_doc_before_save()
    if before is not None and before.get("is_group") and not doc.get("is_group") and has_children(ctx, doc):
        errors.append(FieldError(meta.name, "is_group", meta.label_of("is_group"),
                                 f"{meta.name}: {doc.name!r} has child nodes, so Is Group cannot be unset",
                                 doc.get("is_group"), None, TreeError))
    parent = doc._data.get(pf)
    if not parent:
        return
    site = ctx.site

    def build() -> sa.Select:
        t = site.table(meta.name)
        return sa.select(t.c.name, t.c.is_group, t.c[TREE_PATH_COLUMN]).where(site.name_match(t, sa.bindparam("p")))

    parent_key = str(parent) if site.ci_names else str(parent).lower()
    memo = ctx.memo(meta.name)  # a batch of nodes under the same parent reads it once
    row = memo.get(("tree_parent", parent_key.lower())) if memo is not None else None
    if row is None:
        row = ctx.conn.execute(site.statement(("tree_parent", meta.name), build), {"p": parent_key}).first()
        if memo is not None and row is not None:
            memo[("tree_parent", parent_key.lower())] = row
    if row is None:
        return  # reported by the link check
    if doc.name and row.name.lower() == str(doc.name).lower():
        errors.append(FieldError(meta.name, pf, field.label,
                                 f"{meta.name}: {doc.name!r} cannot be its own parent", parent, None, TreeError))
        return
    if not row.is_group:
        errors.append(FieldError(meta.name, pf, field.label,
                                 f"{meta.name}: {field.label} {row.name!r} is not a group; "
                                 "only groups can have children", parent, None, TreeError))
        return
    own_path = before.get(TREE_PATH_COLUMN) if before is not None else None
    parent_path = row.tree_path or ""
    if own_path and parent_path.startswith(own_path):
        errors.append(FieldError(meta.name, pf, field.label,
                                 f"{meta.name}: {field.label} {row.name!r} is below {doc.name!r}; "
                                 "a node cannot be moved under its own descendant", parent, None, TreeError))
        return
    if len(parent_path) + len(segment("")) > TREE_PATH_LENGTH:
        errors.append(FieldError(meta.name, pf, field.label,
                                 f"{meta.name}: {field.label} {row.name!r} is too deep in the tree "
                                 f"(at most {TREE_PATH_LENGTH // len(segment(''))} levels)", parent, None, TreeError))
        return
    doc.flags.parent_path = parent_path


def has_children(ctx: UnitOfWork, doc: Record) -> bool:
    t = ctx.site.table(doc.doctype)
    pf = doc.meta.parent_field
    return ctx.conn.execute(sa.select(t.c.name).where(t.c[pf] == doc.name).limit(1)).first() is not None


def path_for(doc: Record) -> str:
    return (doc.flags.parent_path or "") + segment(doc.name)


def before_write(doc: Record) -> tuple[str | None, str]:
    """Set the node's path; returns (old path, new path) for moving its subtree."""
    before = doc.get_doc_before_save()
    old = before.get(TREE_PATH_COLUMN) if before is not None else None
    new = path_for(doc)
    doc._data[TREE_PATH_COLUMN] = new
    return old, new


def move_subtree(ctx: UnitOfWork, doctype: str, old: str, new: str) -> None:
    """Rewrite the paths below a moved or renamed node (one UPDATE)."""
    if not old or old == new:
        return
    t = ctx.site.table(doctype)
    col = t.c[TREE_PATH_COLUMN]
    ctx.conn.execute(
        t.update()
        .where(col.startswith(old, autoescape=True), col != old)
        .values({TREE_PATH_COLUMN: sa.literal(new) + sa.func.substr(col, len(old) + 1)})
    )


def check_delete(doc: Record, ctx: UnitOfWork) -> None:
    """The ``check_tree_delete`` step: a group with children cannot be deleted."""
    if doc.meta.is_tree and has_children(ctx, doc):
        raise TreeError(
            f"Cannot delete {doc.doctype} {doc.name!r}: it has child nodes; move or delete them first",
            [FieldError(doc.doctype, None, None, "has child nodes", doc.name)],
        )


def condition(ctx: UnitOfWork, tree_doctype: str, column: sa.ColumnElement[Any], op: str,
              value: str) -> sa.ColumnElement[bool]:
    """SQL for a tree operator applied to ``column`` (a Link to, or the ID of, a tree doctype).

    One statement: the reference node's path is a scalar subquery, and the
    matching nodes a subquery over the tree table. An unknown reference node
    matches nothing (so its "not" forms match everything).
    """
    from engine.storage.schema import cached_alias

    table = ctx.site.table(tree_doctype)
    t, ref = cached_alias(table, "tree_node"), cached_alias(table, "tree_ref")
    ref_path = sa.select(ref.c[TREE_PATH_COLUMN]).where(ctx.site.name_match(ref, value)).scalar_subquery()
    path = t.c[TREE_PATH_COLUMN]
    match = path.like(ref_path.concat("%")) if "descendants" in op else ref_path.like(path.concat("%"))
    if "(inclusive)" not in op:
        match = sa.and_(match, path != ref_path)
    names = sa.select(t.c.name).where(match)
    if op.startswith("not"):
        return sa.or_(column.is_(None), column.not_in(names))
    return column.in_(names)
