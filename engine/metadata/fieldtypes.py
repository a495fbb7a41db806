"""One table of field types: SQL type, Python coercion, and the form widget.

Adding a field type means adding one row to ``FIELD_TYPES`` (and one template
partial in the web layer). Coercers turn whatever a caller sends (JSON strings,
form strings, Python objects) into the canonical Python value, or raise
``ValueError`` with a sentence the validation layer puts after the field label.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Protocol
from urllib.parse import urlparse

import sqlalchemy as sa
from dateutil import parser as date_parser
from sqlalchemy.dialects import mysql


class FieldSpec(Protocol):
    """What coercers and SQL types read of a field (:class:`engine.metadata.doctype.Field` is one)."""

    @property
    def type(self) -> str: ...

    @property
    def options(self) -> str | tuple[str, ...] | None: ...

    @property
    def length(self) -> int | None: ...

    @property
    def precision(self) -> int | None: ...

    @property
    def select_options(self) -> tuple[str, ...]: ...

# Currency columns are DECIMAL(18, 6) on servers. SQLite has no exact decimal, so
# there they are integers of millionths: exact, sortable and summable in SQL.
CURRENCY_SCALE = 6
_CURRENCY_FACTOR = Decimal(10) ** CURRENCY_SCALE
_CURRENCY_QUANT = Decimal(1).scaleb(-CURRENCY_SCALE)
CURRENCY_MAX = Decimal(10) ** 12


class ScaledInteger(sa.types.UserDefinedType):
    """SQLite storage of ExactDecimal: integers of millionths, declared DECIMAL(18, 6).

    The declaration tells schema sync a Currency column from an Int one (both hold integers).
    """

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return f"DECIMAL(18, {CURRENCY_SCALE})"


class ExactDecimal(sa.types.TypeDecorator):
    """Exact decimals everywhere: NUMERIC(18,6), or scaled BIGINT on SQLite.

    Values read back are quantized to the field's precision, so a Currency of
    precision 2 reads as ``Decimal("0.30")`` on every database, not "0.300000".
    """

    impl = sa.Numeric(18, CURRENCY_SCALE)
    cache_ok = True

    def __init__(self, precision: int | None = None):
        super().__init__()
        self.precision = precision
        digits = CURRENCY_SCALE if precision is None else min(max(precision, 0), CURRENCY_SCALE)
        self._quant = Decimal(1).scaleb(-digits)

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(ScaledInteger())
        return dialect.type_descriptor(sa.Numeric(18, CURRENCY_SCALE, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        value = value if isinstance(value, Decimal) else Decimal(str(value))
        if dialect.name == "sqlite":
            return int((value * _CURRENCY_FACTOR).to_integral_value(ROUND_HALF_UP))
        return value

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "sqlite":
            number = Decimal(int(value)) / _CURRENCY_FACTOR
        else:
            number = value if isinstance(value, Decimal) else Decimal(str(value))
        return number.quantize(self._quant, ROUND_HALF_UP)


def datetime_type() -> sa.types.TypeEngine:
    """DATETIME with microseconds on MariaDB too (optimistic locking compares them)."""
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def long_text_type() -> sa.types.TypeEngine:
    return sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")


# ---------------------------------------------------------------- coercers

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@" + _LABEL + r"(?:\." + _LABEL + r")+$")
PHONE_RE = re.compile(r"^\+?[0-9 ().\-/]{3,30}$")
_TRUE = {"1", "true", "yes", "on", "y", "t"}
_FALSE = {"0", "false", "no", "off", "n", "f", ""}
_INT_LIMIT = 2**63  # BIGINT on every database
_SHOWN_LENGTH = 60
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # PostgreSQL refuses NUL; no encoding has lone surrogates


def shown(value: Any) -> str:
    """``repr`` of a value for an error message, shortened when it is long (a Decimal or a date as users
    write it: ``NaN``, ``2026-01-31``, not ``Decimal('NaN')``)."""
    text = str(value) if isinstance(value, (Decimal, dt.date, dt.time)) else repr(value)
    return text if len(text) <= _SHOWN_LENGTH else text[: _SHOWN_LENGTH - 4] + "...'"


def _text(value: Any, field: FieldSpec, strip: bool = False) -> str:
    if isinstance(value, (bool, dict, list, tuple, set, bytes)):
        raise ValueError(f"{shown(value)} is not text")
    text = value if isinstance(value, str) else str(value)
    if _UNSTORABLE.search(text):
        raise ValueError(f"{shown(text)} contains a character that cannot be stored (NUL or a lone surrogate)")
    if strip:
        text = text.strip()
    if field.length and len(text) > field.length:
        raise ValueError(f"{shown(text)} is too long ({len(text)} characters; at most {field.length})")
    return text


def _plain_text(value: Any, field: FieldSpec) -> str:
    return _text(value, field)


def _data(value: Any, field: FieldSpec) -> str:
    text = _text(value, field, strip=True)
    if not text:
        return text
    fmt = field.options
    if fmt == "Email" and not EMAIL_RE.match(text):
        raise ValueError(f"{shown(text)} is not a valid email address")
    if fmt == "Phone" and (not PHONE_RE.match(text) or sum(c.isdigit() for c in text) < 3):
        raise ValueError(f"{shown(text)} is not a valid phone number")
    if fmt == "URL":
        parsed = urlparse(text)
        if parsed.scheme not in ("http", "https") or not parsed.netloc or " " in text:
            raise ValueError(f"{shown(text)} is not a valid http(s) URL")
    return text


def _int(value: Any, field: FieldSpec) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        number = value
    else:
        try:
            exact = _decimal(value.replace(",", "") if isinstance(value, str) else value)
        except ValueError:
            raise ValueError(f"{shown(value)} is not a whole number") from None
        if exact != exact.to_integral_value():
            raise ValueError(f"{shown(value)} is not a whole number")
        number = int(exact)
    if abs(number) >= _INT_LIMIT:
        raise ValueError(f"{shown(value)} is out of range")
    return number


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError(f"{shown(value)} is not a number")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip().replace(",", ""))
        except InvalidOperation:
            raise ValueError(f"{shown(value)} is not a number") from None
    else:
        raise ValueError(f"{shown(value)} is not a number")
    if not number.is_finite():
        raise ValueError(f"{shown(value)} is not a finite number")
    return number


def _float(value: Any, field: FieldSpec) -> float:
    number = _decimal(value)
    if field.precision is not None:
        number = number.quantize(Decimal(1).scaleb(-field.precision), ROUND_HALF_UP)
    result = float(number)
    if result in (float("inf"), float("-inf")):
        raise ValueError(f"{shown(value)} is out of range")
    return result


def _currency_precision(field: FieldSpec) -> int:
    return min(field.precision if field.precision is not None else 2, CURRENCY_SCALE)


def _currency(value: Any, field: FieldSpec) -> Decimal:
    number = _decimal(value)
    if abs(number) >= CURRENCY_MAX:
        raise ValueError(f"{shown(value)} is too large (at most 12 digits before the decimal point)")
    number = number.quantize(Decimal(1).scaleb(-_currency_precision(field)), ROUND_HALF_UP)
    if abs(number) >= CURRENCY_MAX:
        raise ValueError(f"{shown(value)} is too large (at most 12 digits before the decimal point)")
    return number


def _check(value: Any, field: FieldSpec) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float, Decimal)) and value in (0, 1):
        return int(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return int(value.strip().lower() in _TRUE)
    raise ValueError(f"{shown(value)} is not a yes/no value (use 1 or 0)")


def _date(value: Any, field: FieldSpec) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
        try:  # a date and time: its date
            return dt.datetime.fromisoformat(text).date()
        except ValueError:
            pass
    raise ValueError(f"{shown(value)} is not a date (use YYYY-MM-DD)")


def _datetime(value: Any, field: FieldSpec) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo is None else _naive_utc(value)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            try:
                parsed = date_parser.isoparse(value.strip())
            except (ValueError, OverflowError):
                raise ValueError(f"{shown(value)} is not a date and time (use YYYY-MM-DD HH:MM:SS)") from None
        return _naive_utc(parsed) if parsed.tzinfo else parsed
    raise ValueError(f"{shown(value)} is not a date and time (use YYYY-MM-DD HH:MM:SS)")


def _naive_utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC).replace(tzinfo=None)


def _time(value: Any, field: FieldSpec) -> dt.time:
    if isinstance(value, dt.timedelta):  # MariaDB returns TIME as timedelta
        return _time_of(value)
    if isinstance(value, dt.time):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = dt.time.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{shown(value)} is not a time (use HH:MM:SS)") from None
    else:
        raise ValueError(f"{shown(value)} is not a time (use HH:MM:SS)")
    if parsed.tzinfo is not None:
        raise ValueError(f"{shown(value)} is not a time of day without a time zone (use HH:MM:SS)")
    return parsed


def _time_of(value: dt.timedelta) -> dt.time:
    seconds = int(value.total_seconds())
    return dt.time(seconds // 3600 % 24, seconds // 60 % 60, seconds % 60, value.microseconds)


class TimeOfDay(sa.types.TypeDecorator):
    """TIME with microseconds that reads back as ``datetime.time`` everywhere (MariaDB drivers give timedelta)."""

    impl = sa.Time
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.TIME(fsp=6))  # MariaDB's TIME alone drops them
        return dialect.type_descriptor(sa.Time())

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> Any:
        return _time_of(value) if isinstance(value, dt.timedelta) else value


def _select(value: Any, field: FieldSpec) -> str:
    text = _text(value, field, strip=True)
    if text and text not in field.select_options:
        allowed = ", ".join(repr(o) for o in field.select_options)
        raise ValueError(f"{shown(text)} is not one of {allowed}")
    return text


def _link(value: Any, field: FieldSpec) -> str:
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise ValueError(f"{shown(value)} is not a record ID")
    return _text(value, field, strip=True)


def _json(value: Any, field: FieldSpec) -> Any:
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else None
        except ValueError:
            raise ValueError(f"{shown(value)} is not valid JSON") from None
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        raise ValueError(f"{shown(value)} cannot be stored as JSON") from None
    return value


def _password(value: Any, field: FieldSpec) -> str:
    if not isinstance(value, str) or _UNSTORABLE.search(value):
        raise ValueError("is not text")
    if field.length and len(value) > field.length:
        raise ValueError(f"is too long (at most {field.length} characters)")
    return value


UNINDEXABLE_TYPES = frozenset({"Small Text", "Text", "Long Text", "JSON", "Password"})


@dataclass(frozen=True, slots=True)
class FieldType:
    """One row of the field type table."""

    name: str
    sql_type: Callable[[FieldSpec], sa.types.TypeEngine] | None  # None: no column
    coerce: Callable[[Any, FieldSpec], Any] | None
    widget: str  # template partial the web form renders
    default_length: int | None = None
    is_text: bool = False  # LIKE-searchable
    is_numeric: bool = False  # non_negative applies
    is_layout: bool = False

    @property
    def has_column(self) -> bool:
        return self.sql_type is not None

    @property
    def indexable(self) -> bool:
        """Whether a database index can hold the column (not long text, JSON or password hashes)."""
        return self.has_column and self.name not in UNINDEXABLE_TYPES


def _string(field: FieldSpec) -> sa.types.TypeEngine:
    return sa.String(field.length or 140)


FIELD_TYPES: dict[str, FieldType] = {
    ft.name: ft
    for ft in [
        FieldType("Data", _string, _data, "data", 140, is_text=True),
        FieldType("Small Text", lambda f: sa.Text(), _plain_text, "textarea", is_text=True),
        FieldType("Text", lambda f: sa.Text(), _plain_text, "textarea", is_text=True),
        FieldType("Long Text", lambda f: long_text_type(), _plain_text, "textarea", is_text=True),
        FieldType("Int", lambda f: sa.BigInteger(), _int, "int", is_numeric=True),
        FieldType("Float", lambda f: sa.Float(53), _float, "float", is_numeric=True),
        FieldType("Currency", lambda f: ExactDecimal(_currency_precision(f)), _currency, "currency", is_numeric=True),
        FieldType("Percent", lambda f: sa.Float(53), _float, "percent", is_numeric=True),
        FieldType("Check", lambda f: sa.SmallInteger(), _check, "check"),
        FieldType("Date", lambda f: sa.Date(), _date, "date"),
        FieldType("Datetime", lambda f: datetime_type(), _datetime, "datetime"),
        FieldType("Time", lambda f: TimeOfDay(), _time, "time"),
        FieldType("Select", _string, _select, "select", 140, is_text=True),
        FieldType("Link", _string, _link, "link", 140, is_text=True),
        FieldType("Dynamic Link", _string, _link, "dynamic_link", 140, is_text=True),
        FieldType("Table", None, None, "table"),
        FieldType("Password", lambda f: sa.String(255), _password, "password", 128),
        FieldType("JSON", lambda f: sa.JSON(), _json, "json"),
        FieldType("Read Only", _string, _plain_text, "read_only", 140, is_text=True),
        FieldType("Section Break", None, None, "section_break", is_layout=True),
        FieldType("Column Break", None, None, "column_break", is_layout=True),
        FieldType("Tab Break", None, None, "tab_break", is_layout=True),
    ]
}

LINK_TYPES = frozenset({"Link", "Dynamic Link"})
