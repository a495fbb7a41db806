"""Pure compile: doctype metadata -> SQLAlchemy Core tables.

``compile_schema`` has no side effects and no database: the same metadata always
gives the same tables, so ``sync`` can diff them against a live database.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import sqlalchemy as sa

from engine.metadata.doctype import AUTH_SESSION_TABLE, NAMING_COUNTER_TABLE, TREE_PATH_COLUMN, DocType
from engine.metadata.fieldtypes import datetime_type
from engine.storage.indexes import table_indexes

__all__ = ["AUTH_SESSION_TABLE", "NAMING_COUNTER_TABLE", "cached_alias", "compile_schema", "compile_table",
           "index_name"]

NAME_LENGTH = 140
TREE_PATH_LENGTH = 1000


def index_name(prefix: str, table: str, column: str) -> str:
    """Index names within the 63/64-character limits of PostgreSQL and MariaDB."""
    name = f"{prefix}_{table}_{column}"
    if len(name) <= 60:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    return f"{name[:51]}_{digest}"


def compile_schema(doctypes: Mapping[str, DocType], dialect: str = "sqlite") -> sa.MetaData:
    """Tables for every doctype plus the engine's own naming-counter and login-session tables.

    ``dialect`` only decides how case-insensitive IDs are enforced: a unique index
    on lower(name) on SQLite and PostgreSQL, the _ci collation on MariaDB.
    """
    md = sa.MetaData()
    for dt in doctypes.values():
        compile_table(dt, md, dialect)
    sa.Table(
        NAMING_COUNTER_TABLE, md,
        sa.Column("name", sa.String(NAME_LENGTH + 70), primary_key=True),  # doctype + '\x1f' + lower(base)
        sa.Column("current", sa.BigInteger, nullable=False, server_default="0"),
        mysql_charset="utf8mb4", mysql_collate="utf8mb4_bin",
    )
    compile_auth_session_table(md)
    return md


def compile_auth_session_table(md: sa.MetaData) -> sa.Table:
    """Server-side login sessions (see :mod:`engine.web.sessions`).

    The cookie holds a random token; only its SHA-256 is stored. ``password_stamp``
    is the salt of the user's password hash at login: a new password has a new salt,
    so the session lookup (joined with User) stops matching. Same collation as the
    doctype tables so MariaDB can compare ``user`` and the stamp with User's columns.
    """
    table = sa.Table(
        AUTH_SESSION_TABLE, md,
        sa.Column("sid_hash", sa.String(64), primary_key=True),  # hex SHA-256 of the cookie token
        sa.Column("user", sa.String(NAME_LENGTH), nullable=False),
        sa.Column("password_stamp", sa.String(140), nullable=False),
        sa.Column("creation", datetime_type(), nullable=False),  # UTC
        sa.Column("last_seen", datetime_type(), nullable=False),  # UTC, refreshed at most once an interval
        sa.Column("ip", sa.String(64)),
        sa.Column("user_agent", sa.String(255)),
        mysql_charset="utf8mb4", mysql_collate="utf8mb4_unicode_ci", mysql_engine="InnoDB",
    )
    sa.Index(index_name("ix", AUTH_SESSION_TABLE, "last_seen"), table.c.last_seen)
    return table


def compile_table(dt: DocType, md: sa.MetaData, dialect: str = "sqlite") -> sa.Table:
    """One doctype's table: standard columns, child or tree columns, then its fields in order.

    Indexes: the parent key of child rows, the tree path, case-insensitive IDs, and
    those of :func:`engine.storage.indexes.table_indexes` (list filters paired with
    the default sort, Links, unique fields, the doctype's own ``indexes``).
    """
    t = dt.table_name
    cols: list[sa.Column] = [
        sa.Column("name", sa.String(NAME_LENGTH), primary_key=True),
        sa.Column("owner", sa.String(NAME_LENGTH)),
        sa.Column("creation", datetime_type()),
        sa.Column("modified", datetime_type()),
        sa.Column("modified_by", sa.String(NAME_LENGTH)),
        sa.Column("docstatus", sa.SmallInteger, nullable=False, server_default="0"),
        sa.Column("idx", sa.Integer, nullable=False, server_default="0"),
    ]
    if dt.is_child:
        cols += [
            sa.Column("parent", sa.String(NAME_LENGTH)),
            sa.Column("parenttype", sa.String(NAME_LENGTH)),
            sa.Column("parentfield", sa.String(NAME_LENGTH)),
        ]
    if dt.is_tree:
        cols.append(sa.Column(TREE_PATH_COLUMN, sa.String(TREE_PATH_LENGTH)))
    cols += [sa.Column(f.name, f.fieldtype.sql_type(f)) for f in dt.data_fields]  # type: ignore[misc]
    table = sa.Table(
        t, md, *cols,
        mysql_charset="utf8mb4", mysql_collate="utf8mb4_unicode_ci", mysql_engine="InnoDB",
        comment=dt.name,
    )
    c = table.c
    if dt.is_child:
        sa.Index(index_name("ix", t, "parent"), c.parent, c.parenttype, c.parentfield, c.idx)
    elif dialect != "mysql":
        sa.Index(index_name("ux", t, "name_ci"), sa.func.lower(c.name), unique=True)
    if dt.is_tree:
        sa.Index(index_name("ix", t, "tree_path"), c[TREE_PATH_COLUMN], mysql_length=255)
    for ix in table_indexes(dt):
        cols = [c[name] for name in ix.columns]
        # MariaDB keys hold at most 3,072 bytes: index long strings by their first 255 characters.
        long = {col.name: 255 for col in cols if isinstance(col.type, sa.String) and (col.type.length or 0) > 255}
        sa.Index(index_name(ix.prefix, t, "_".join(ix.columns)), *cols, unique=ix.unique,
                 **({"mysql_length": long} if long else {}))
    return table


def cached_alias(table: sa.Table, name: str) -> sa.Alias:
    """An alias of ``table`` built once and kept in the table's ``info``.

    Building an alias copies every column, which would dominate the cost of a
    list query; Core constructs are immutable, so statements share them.
    """
    aliases = table.info.setdefault("docframe_aliases", {})
    alias = aliases.get(name)
    if alias is None:
        alias = aliases[name] = table.alias(name)
        alias.c  # noqa: B018 -- populate the column collection now
    return alias
