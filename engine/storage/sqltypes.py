"""How each backend spells column types, and whether a type change widens or narrows.

Alembic reflects the same declared type differently per backend (BIGINT(20) vs
BigInteger, DOUBLE vs Float(53), LONGTEXT vs JSON on MariaDB, ...). Reducing both
sides to a :class:`TypeInfo` (family, capacity, scale) makes equivalent types
equal and tells real widening from narrowing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from alembic.migration import MigrationContext

UNLIMITED = 2**63

@dataclass(frozen=True)
class TypeInfo:
    """A column type reduced to what matters for data: family, capacity, scale."""

    family: str  # text, json, int, float, decimal, datetime, time, date, or the SQL type name
    size: int = 0  # characters, bits, integral digits or fractional-second digits
    scale: int = 0
    ddl: str = ""

    @property
    def label(self) -> str:
        if self.family == "json":
            return "JSON"
        return re.split(r"\s+(?:CHARACTER SET|COLLATE)\s", self.ddl, maxsplit=1, flags=re.IGNORECASE)[0]


_INT_BITS = {"TINYINT": 8, "SMALLINT": 16, "MEDIUMINT": 24, "INT": 32, "INTEGER": 32, "BIGINT": 64}
_MYSQL_TEXT = {"TINYTEXT": 255, "TEXT": 65535, "MEDIUMTEXT": 16777215, "LONGTEXT": 4294967295}
_STRING = {"VARCHAR", "NVARCHAR", "CHAR", "NCHAR", "CHARACTER", "VARCHAR2"}
_DDL_RE = re.compile(r"\s*(\w+)(?:\s+PRECISION)?\s*(?:\(([^)]*)\))?", re.IGNORECASE)


def type_info(type_: sa.types.TypeEngine, dialect: sa.Dialect) -> TypeInfo:
    """Reduce a reflected or declared type (variants and decorators resolved) for ``dialect``."""
    ddl = str(type_.compile(dialect=dialect))
    m = _DDL_RE.match(ddl)
    if m is None:
        return TypeInfo(ddl.upper(), ddl=ddl)
    word = m.group(1).upper()
    args = [int(a) for a in re.findall(r"\d+", m.group(2) or "")]
    mysql = dialect.name in ("mysql", "mariadb")
    if word in _STRING:
        return TypeInfo("text", args[0] if args else UNLIMITED, ddl=ddl)
    if mysql and word == "LONGTEXT" and "_BIN" in ddl.upper():
        return TypeInfo("json", ddl=ddl)  # MariaDB's JSON: LONGTEXT, binary collation, json_valid check
    if word in _MYSQL_TEXT or word == "CLOB":
        cap = _MYSQL_TEXT[word] if mysql and word in _MYSQL_TEXT else UNLIMITED
        return TypeInfo("text", cap, ddl=ddl)
    if word in ("JSON", "JSONB"):
        return TypeInfo("json", ddl=ddl)
    if word in _INT_BITS:
        return TypeInfo("int", _INT_BITS[word], ddl=ddl)
    if word in ("FLOAT", "REAL", "DOUBLE"):
        if word == "DOUBLE" or (word == "FLOAT" and args and args[0] > 24):
            bits = 64
        elif word == "FLOAT":
            bits = 32 if args or mysql else 64
        else:
            bits = 32 if dialect.name == "postgresql" else 64
        return TypeInfo("float", bits, ddl=ddl)
    if word in ("NUMERIC", "DECIMAL"):
        if not args:
            return TypeInfo("decimal", 10 if mysql else UNLIMITED, 0 if mysql else 1000, ddl=ddl)
        scale = args[1] if len(args) > 1 else 0
        return TypeInfo("decimal", args[0] - scale, scale, ddl=ddl)
    if word in ("DATETIME", "TIMESTAMP", "TIME"):
        fsp = args[0] if args else (0 if mysql else 6)
        return TypeInfo("time" if word == "TIME" else "datetime", fsp, ddl=ddl)
    if word == "DATE":
        return TypeInfo("date", ddl=ddl)
    return TypeInfo(word, ddl=ddl)


def relation(old: TypeInfo, new: TypeInfo, dialect: sa.Dialect) -> str:
    """'same', 'widen', 'narrow' or 'change_type' for a column going from ``old`` to ``new``."""
    if old.family != new.family:
        return "change_type"
    if old.family == "decimal":
        if (old.size, old.scale) == (new.size, new.scale):
            return "same"
        return "widen" if new.size >= old.size and new.scale >= old.scale else "narrow"
    if old.size == new.size:
        return "same"
    return "widen" if new.size > old.size else "narrow"


def compare_type(context: MigrationContext, inspected_column: sa.Column, metadata_column: sa.Column,
                 inspected_type: sa.types.TypeEngine, metadata_type: sa.types.TypeEngine) -> bool:
    """Alembic ``compare_type`` hook: True when the column's type really differs."""
    dialect = context.dialect
    return relation(type_info(inspected_type, dialect), type_info(metadata_type, dialect), dialect) != "same"
