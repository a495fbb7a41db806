r"""A small, safe expression language for ``depends_on``, ``mandatory_depends_on``,
``read_only_depends_on`` and record-rule conditions in doctype YAML.

Nothing here uses ``eval``/``exec``/``ast``: a hand-written tokenizer and a
recursive-descent parser compile the source once into a tree of small closures,
which are then evaluated against a document mapping (and an optional ``user``
mapping) without re-parsing. A JavaScript port for the browser follows this grammar.

Grammar (EBNF; lowest precedence first)::

    expression := ["eval:"] or_expr            (Frappe's legacy prefix is ignored)
    or_expr    := and_expr { "or" and_expr }
    and_expr   := not_expr { "and" not_expr }
    not_expr   := "not" not_expr | comparison
    comparison := unary [ compare_op unary ]   (not chainable: a < b < c is an error)
    compare_op := "==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not" "in"
    unary      := "-" unary | primary
    primary    := NUMBER | STRING | "true" | "false" | "null"
                | "[" [ or_expr { "," or_expr } [","] ] "]"
                | "(" or_expr ")"
                | name | "doc" "." name | "user" "." name
    name       := [A-Za-z_][A-Za-z0-9_]*      (not starting with "__"; keywords and,
                                               or, not, in, true, false, null are
                                               reserved unless after "doc."/"user.")
    NUMBER     := [0-9]+ [ "." [0-9]+ ]       (decimals are exact decimal.Decimal; a number
                                               may not touch a letter, digit, "_" or ".")
    STRING     := '...' | "..."               (escapes: \\ \' \" \n \t)

Semantics:

* ``name`` and ``doc.name`` read ``doc.get(name)``; ``user.name`` reads the user
  mapping. A missing key is ``null``. Whitespace is space, tab, CR and LF.
* Truthiness as in Python/Frappe: null, false, 0, "" and [] are false (a JS port must
  special-case []). Nesting (parentheses, lists, "not", "-") is limited to 50 levels.
* ``and``/``or`` short-circuit and return booleans; the whole expression is a bool.
* ``==``/``!=`` never raise; values of mismatched types are unequal ("1" != 1,
  but true == 1 and 2.5 == Decimal("2.5")). Ordering (< <= > >=) with null or
  mismatched types is false. Numbers (int/float/Decimal) compare numerically;
  date/datetime/time compare with each other (a date is midnight when compared
  with a datetime) and with ISO strings such as "2024-01-31", which are converted.
* ``x in list`` tests membership with ``==`` semantics; ``s in string`` tests for a
  substring (false unless ``s`` is a string); anything else is false. ``-`` of a
  non-number is null. There are no function calls, attributes beyond the two
  prefixes, arithmetic other than unary minus, or assignment.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from types import MappingProxyType
from typing import Any, NamedTuple

__all__ = ["Expression", "ExpressionError", "compile_expression"]

_Node = Callable[[Mapping[str, Any], Mapping[str, Any]], Any]

_MAX_DEPTH = 50
_EMPTY: Mapping[str, Any] = MappingProxyType({})
_KEYWORDS = frozenset(("and", "or", "not", "in", "true", "false", "null"))
_CONSTANTS = {"true": True, "false": False, "null": None}
_PYTHON_CONSTANTS = {"True": "true", "False": "false", "None": "null"}
_HINTS = {"=": " (use '==')", "!": " (use 'not' or '!=')", "&": " (use 'and')", "|": " (use 'or')"}
_ORDERING = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_NUMBER = (int, float, Decimal)
_SEQUENCE = (list, tuple)
_CONTAINER = (list, tuple, set, frozenset)


class ExpressionError(ValueError):
    """The expression cannot be compiled; says what is wrong and at which column (1-based)."""

    def __init__(self, message: str, source: str, column: int):
        self.message, self.source, self.column = message, source, column
        super().__init__(f"{message} at column {column} in: {source}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.message, self.source, self.column))


# ----------------------------------------------------------------- tokenizer

_TOKEN_RE = re.compile(
    r"""(?P<space>[ \t\r\n]+)
    | (?P<num>[0-9]+(?:\.[0-9]+)?(?![A-Za-z0-9_.]))
    | (?P<badnum>[0-9][A-Za-z0-9_.]*)
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    | (?P<op>==|!=|<=|>=|[<>\-()\[\],.])""",
    re.VERBOSE | re.DOTALL,
)
_ESCAPE_RE = re.compile(r"\\(.)", re.DOTALL)
_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "t": "\t"}


class _Token(NamedTuple):
    kind: str  # "name", "num", "str", "op" or "eof"
    text: str  # the source text of the token
    value: Any
    col: int  # 1-based column of the first character


def _tokenize(src: str, pos: int) -> Iterator[_Token]:
    """Tokens from ``src[pos:]``, lazily, so errors are reported left to right."""
    while pos < len(src):
        m, col = _TOKEN_RE.match(src, pos), pos + 1
        if m is None:
            c = src[pos]
            message = f"unexpected character {c!r}{_HINTS.get(c, '')}"
            raise ExpressionError("unterminated string" if c in "'\"" else message, src, col)
        kind, text, pos = m.lastgroup or "", m.group(), m.end()
        if kind == "badnum":
            raise ExpressionError(f"invalid number {text!r}", src, col)
        if kind == "num":
            try:
                yield _Token(kind, text, Decimal(text) if "." in text else int(text), col)
            except ValueError:  # more digits than int() accepts
                raise ExpressionError("number too long", src, col)
        elif kind == "str":
            for esc in _ESCAPE_RE.finditer(text):
                if esc.group(1) not in _ESCAPES:
                    bad = f"invalid escape {esc.group()!r}"
                    raise ExpressionError(bad, src, col + esc.start())
            value = _ESCAPE_RE.sub(lambda e: _ESCAPES[e.group(1)], text[1:-1])
            yield _Token(kind, text, value, col)
        elif kind != "space":
            yield _Token(kind, text, text, col)
    yield _Token("eof", "", None, len(src) + 1)


# -------------------------------------------------------------------- parser


class _TokenCursor:
    """The token stream both parsers walk: the current token, advance, accept."""

    def __init__(self, source: str):
        start = len(source) - len(source.lstrip())
        if source.startswith("eval:", start):
            start += len("eval:")
        self.src, self.tokens = source, _tokenize(source, start)
        self.tok = next(self.tokens)

    def advance(self) -> _Token:
        tok, self.tok = self.tok, next(self.tokens)
        return tok

    def accept(self, kind: str, text: str) -> bool:
        """Consume the current token if it is ``text`` of ``kind``."""
        if self.tok.kind == kind and self.tok.text == text:
            self.advance()
            return True
        return False


class _Parser(_TokenCursor):
    def __init__(self, source: str):
        super().__init__(source)
        self.depth = 0
        self.fields: set[str] = set()
        self.constants: dict[_Node, Any] = {}

    def parse(self) -> tuple[_Node, frozenset[str]]:
        if self.tok.kind == "eof":
            raise self.error("empty expression", self.tok.col)
        node = self.parse_or()
        if self.tok.kind != "eof":
            raise self.unexpected()
        return node, frozenset(self.fields)

    def error(self, message: str, col: int) -> ExpressionError:
        return ExpressionError(message, self.src, col)

    def unexpected(self, suffix: str = "") -> ExpressionError:
        if self.tok.kind == "eof":
            return self.error("unexpected end of expression", self.tok.col)
        return self.error(f"unexpected token {self.tok.text!r}{suffix}", self.tok.col)

    def expect(self, text: str) -> None:
        if not self.accept("op", text):
            raise self.unexpected(f" (expected {text!r})")

    def nested(self, parse: Callable[[], _Node], opener: _Token) -> _Node:
        self.depth += 1
        if self.depth > _MAX_DEPTH:  # keeps parsing and evaluation far from the recursion limit
            raise self.error("expression nested too deeply", opener.col)
        node = parse()
        self.depth -= 1
        return node

    def literal(self, value: Any) -> _Node:
        def node(doc: Mapping[str, Any], user: Mapping[str, Any]) -> Any:
            return value

        self.constants[node] = value
        return node

    def parse_or(self) -> _Node:
        return self.parse_chain("or", self.parse_and, any)

    def parse_and(self) -> _Node:
        return self.parse_chain("and", self.parse_not, all)

    def parse_chain(self, word: str, operand: Callable[[], _Node], combine: Any) -> _Node:
        ops = [operand()]
        while self.accept("name", word):
            ops.append(operand())
        flat = tuple(ops)  # one closure per chain, so long chains do not nest
        return flat[0] if len(flat) == 1 else lambda doc, user: combine(o(doc, user) for o in flat)

    def parse_not(self) -> _Node:
        tok = self.tok
        if not self.accept("name", "not"):
            return self.parse_comparison()
        operand = self.nested(self.parse_not, tok)
        return lambda doc, user: not operand(doc, user)

    def compare_op(self) -> str | None:
        if self.tok.text in _COMPARISONS:  # only op and name tokens can match (not strings)
            return self.advance().text
        if self.accept("name", "not"):
            if not self.accept("name", "in"):
                raise self.unexpected(" (expected 'in' after 'not')")
            return "not in"
        return None

    def parse_comparison(self) -> _Node:
        left = self.parse_unary()
        op = self.compare_op()
        if op is None:
            return left
        right, tok = self.parse_unary(), self.tok
        if self.compare_op() is not None:
            raise self.error(f"chained comparison {tok.text!r} (use 'and')", tok.col)
        compare = _COMPARISONS[op]
        return lambda doc, user: compare(left(doc, user), right(doc, user))

    def parse_unary(self) -> _Node:
        tok = self.tok
        if not self.accept("op", "-"):
            return self.parse_primary()
        if self.tok.kind == "num":
            return self.literal(-self.advance().value)
        operand = self.nested(self.parse_unary, tok)
        return lambda doc, user: _negate(operand(doc, user))

    def parse_primary(self) -> _Node:
        tok = self.tok
        if tok.kind in ("num", "str"):
            self.advance()
            return self.literal(tok.value)
        if self.accept("op", "("):
            node = self.nested(self.parse_or, tok)
            self.expect(")")
            return node
        if self.accept("op", "["):
            return self.nested(self.parse_list, tok)
        if tok.kind != "name" or tok.text in _KEYWORDS - _CONSTANTS.keys():
            raise self.unexpected()
        self.advance()
        if tok.text in _CONSTANTS:
            return self.literal(_CONSTANTS[tok.text])
        name, scope = self.check_name(tok), "doc"
        if self.tok.text == "." and self.tok.kind == "op":
            if name not in ("doc", "user"):
                message = f"unexpected '.' after {name!r} (only 'doc.' and 'user.' are allowed)"
                raise self.error(message, self.tok.col)
            self.advance()
            if self.tok.kind != "name":
                raise self.unexpected(" (expected a field name)")
            scope, name = name, self.check_name(self.advance())
        if self.tok.text == "(" and self.tok.kind == "op":
            raise self.error("function calls are not allowed", self.tok.col)
        if scope == "user":
            return lambda doc, user: user.get(name)
        self.fields.add(name)
        return lambda doc, user: doc.get(name)

    def check_name(self, tok: _Token) -> str:
        if tok.text.startswith("__"):
            raise self.error(f"names starting with '__' are not allowed: {tok.text!r}", tok.col)
        if hint := _PYTHON_CONSTANTS.get(tok.text):
            raise self.error(f"unknown name {tok.text!r} (use {hint!r})", tok.col)
        return tok.text

    def parse_list(self) -> _Node:
        items: list[_Node] = []
        while self.tok.text != "]" or self.tok.kind != "op":
            items.append(self.parse_or())
            if not self.accept("op", ","):
                break
        self.expect("]")
        if all(item in self.constants for item in items):
            return self.literal([self.constants[item] for item in items])
        nodes = tuple(items)
        return lambda doc, user: [item(doc, user) for item in nodes]


# ------------------------------------------------------------- evaluation


def _negate(value: Any) -> Any:
    try:
        return -value if isinstance(value, _NUMBER) else None
    except ArithmeticError:  # Decimal('sNaN')
        return None


def _parse_like(text: str, like: Any) -> Any:
    try:
        if isinstance(like, datetime):
            return datetime.fromisoformat(text)
        if isinstance(like, date):
            return date.fromisoformat(text) if len(text) <= 10 else datetime.fromisoformat(text)
        if isinstance(like, time):
            return time.fromisoformat(text)
    except ValueError:
        pass
    return None


def _coerce(a: Any, b: Any) -> tuple[Any, Any] | None:
    """Both values as comparable types, or None when they are not comparable."""
    if isinstance(a, _NUMBER) and isinstance(b, _NUMBER):
        if isinstance(a, Decimal) != isinstance(b, Decimal):  # float 2.5 -> Decimal("2.5")
            a, b = (Decimal(repr(x)) if isinstance(x, float) else x for x in (a, b))
        return a, b
    if isinstance(a, str) and isinstance(b, str):
        return a, b
    if isinstance(a, str):
        a = _parse_like(a, b)
    elif isinstance(b, str):
        b = _parse_like(b, a)
    if isinstance(a, time) and isinstance(b, time):
        return a, b
    if isinstance(a, date) and isinstance(b, date):
        if isinstance(a, datetime) != isinstance(b, datetime):  # a date is its midnight
            a, b = (x if isinstance(x, datetime) else datetime.combine(x, time()) for x in (a, b))
        return a, b
    return None


def _equal(a: Any, b: Any) -> bool:
    pair = _coerce(a, b)
    try:
        if pair is not None:
            return bool(pair[0] == pair[1])
        if isinstance(a, _SEQUENCE) and isinstance(b, _SEQUENCE):
            return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
        return type(a) is type(b) and bool(a == b)
    except (TypeError, ArithmeticError):
        return False


def _order(compare: Callable[[Any, Any], Any], a: Any, b: Any) -> bool:
    pair = _coerce(a, b)
    if pair is None:
        return False
    try:
        return bool(compare(*pair))
    except (TypeError, ArithmeticError):  # naive vs aware datetimes, Decimal NaN
        return False


def _contains(item: Any, container: Any) -> bool:
    if isinstance(container, str):
        return isinstance(item, str) and item in container
    if isinstance(container, _CONTAINER):
        return any(_equal(item, member) for member in container)
    return False


_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "==": _equal,
    "!=": lambda a, b: not _equal(a, b),
    "in": _contains,
    "not in": lambda a, b: not _contains(a, b),
    **{op: functools.partial(_order, compare) for op, compare in _ORDERING.items()},
}


# ---------------------------------------------------------------- public API


@dataclass(frozen=True)
class Expression:
    """A compiled expression; build with :func:`compile_expression` (cached).

    Equality and hashing use ``source`` only, so compiled expressions can be kept
    in sets and dict keys; pickling recompiles from the source.
    """

    source: str
    _evaluate: _Node = field(init=False, repr=False, compare=False)
    _fields: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.source, str):
            raise TypeError(f"expression source must be a str, not {type(self.source).__name__}")
        evaluate, fields = _Parser(self.source).parse()
        object.__setattr__(self, "_evaluate", evaluate)
        object.__setattr__(self, "_fields", fields)

    def evaluate(self, doc: Mapping[str, Any], user: Mapping[str, Any] | None = None) -> bool:
        """Whether the expression holds for ``doc`` (and ``user`` for ``user.x`` names)."""
        return bool(self._evaluate(doc, _EMPTY if user is None else user))

    def fields(self) -> frozenset[str]:
        """The document field names the expression reads (without the ``doc.`` prefix)."""
        return self._fields

    def __reduce__(self) -> tuple[Any, ...]:
        return (compile_expression, (self.source,))


@functools.lru_cache(maxsize=4096)
def compile_expression(source: str) -> Expression:
    """Compile ``source`` (cached); raises :class:`ExpressionError` if it is invalid."""
    return Expression(source)


# ------------------------------------------------------------ record rules
#
# Record-rule conditions become SQL WHERE clauses (engine/rules/permissions.py), so they use a
# subset of the language that SQL can express exactly. ``rule_tree`` parses that subset
# into a small tree of tuples:
#
#   ("or", (node, ...)) | ("and", (node, ...)) | ("not", node) | ("const", bool)
#   ("truthy", field) | ("cmp", field, op, operand)
#   operand := ("lit", value) | ("user", attr) | ("list", (value, ...))
#
# ``op`` is always written with the field on the left (``5 < qty`` becomes ``qty > 5``).

RULE_USER_ATTRIBUTES = ("name", "email", "full_name")
_MIRRORED = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_RuleNode = tuple[Any, ...]


class _RuleParser(_TokenCursor):
    """Recursive descent over the same tokens as :class:`_Parser`, building a tree."""

    def __init__(self, source: str):
        compile_expression(source)  # syntax errors are reported as for any expression
        super().__init__(source)

    def unsupported(self, what: str, col: int) -> ExpressionError:
        return ExpressionError(f"{what} is not supported in record rules", self.src, col)

    def parse(self) -> _RuleNode:
        node = self.parse_chain("or")
        if self.tok.kind != "eof":
            raise self.unsupported(f"{self.tok.text!r} here", self.tok.col)
        return node

    def parse_chain(self, word: str) -> _RuleNode:
        inner = self.parse_not if word == "and" else (lambda: self.parse_chain("and"))
        items = [inner()]
        while self.accept("name", word):
            items.append(inner())
        return items[0] if len(items) == 1 else (word, tuple(items))

    def parse_not(self) -> _RuleNode:
        if self.accept("name", "not"):
            return ("not", self.parse_not())
        return self.parse_condition()

    def parse_condition(self) -> _RuleNode:
        col = self.tok.col
        left = self.parse_operand()
        op = None
        if self.tok.text in _COMPARISONS and self.tok.kind in ("op", "name"):
            op = self.advance().text
        elif self.tok.kind == "name" and self.tok.text == "not":
            self.advance()
            self.advance()  # "in" (the expression compiled, so it is there)
            op = "not in"
        if op is None:
            if left[0] == "node":
                return left[1]  # type: ignore[no-any-return]
            if left[0] == "field":
                return ("truthy", left[1])
            if left[0] == "lit" and isinstance(left[1], bool):
                return ("const", left[1])
            raise self.unsupported("a condition that is not a comparison, a field or true/false", col)
        right_col = self.tok.col
        right = self.parse_operand()
        if "node" in (left[0], right[0]):
            raise self.unsupported("a comparison of a parenthesised condition", col)
        if left[0] != "field" and right[0] == "field" and op in _MIRRORED:
            left, right, op = right, left, _MIRRORED[op]
        if left[0] != "field":
            raise self.unsupported(f"a comparison without a document field on one side ({op!r})", col)
        if right[0] == "field":
            raise self.unsupported("comparing two document fields", right_col)
        if op in ("in", "not in"):
            if right[0] != "list":
                raise self.unsupported(f"{op!r} with anything but a list of values", right_col)
        elif right[0] == "list":
            raise self.unsupported(f"comparing a field with a list using {op!r}", right_col)
        return ("cmp", left[1], op, right)

    def parse_operand(self) -> tuple[str, Any]:
        tok = self.tok
        if tok.kind in ("num", "str"):
            self.advance()
            return ("lit", tok.value)
        if tok.kind == "op" and tok.text == "-":
            self.advance()
            if self.tok.kind != "num":
                raise self.unsupported("'-' of anything but a number", tok.col)
            return ("lit", -self.advance().value)
        if self.accept("op", "("):
            node = self.parse_chain("or")
            self.accept("op", ")")
            return ("node", node)
        if self.accept("op", "["):
            values: list[Any] = []
            while not (self.tok.kind == "op" and self.tok.text == "]"):
                item = self.parse_operand()
                if item[0] != "lit":
                    raise self.unsupported("a list item that is not a literal value", self.tok.col)
                values.append(item[1])
                if not self.accept("op", ","):
                    break
            self.accept("op", "]")
            return ("list", tuple(values))
        if tok.kind == "name" and tok.text in _CONSTANTS:
            self.advance()
            return ("lit", _CONSTANTS[tok.text])
        if tok.kind != "name":
            raise self.unsupported(f"{tok.text!r}", tok.col)
        self.advance()
        scope, name = "doc", tok.text
        if self.tok.kind == "op" and self.tok.text == ".":
            self.advance()
            scope, name = tok.text, self.advance().text
        if scope == "user":
            if name not in RULE_USER_ATTRIBUTES:
                allowed = ", ".join(f"user.{a}" for a in RULE_USER_ATTRIBUTES)
                raise self.unsupported(f"user.{name} (use {allowed})", tok.col)
            return ("user", name)
        return ("field", name)


@functools.lru_cache(maxsize=1024)
def rule_tree(source: str) -> _RuleNode:
    """The record-rule tree of ``source``; raises :class:`ExpressionError` for anything SQL cannot express.

    Supported: comparisons (== != < <= > >= in, not in with a list of literals) between a
    document field and a literal or ``user.name`` / ``user.email`` / ``user.full_name``;
    ``and``, ``or``, ``not``; a bare field (its truthiness); ``true`` / ``false``.
    """
    if not isinstance(source, str):
        raise TypeError(f"expression source must be a str, not {type(source).__name__}")
    return _RuleParser(source).parse()


def rule_fields(tree: _RuleNode) -> frozenset[str]:
    """The document fields a record-rule tree reads."""
    kind = tree[0]
    if kind in ("or", "and"):
        return frozenset().union(*(rule_fields(t) for t in tree[1]))
    if kind == "not":
        return rule_fields(tree[1])
    if kind in ("truthy", "cmp"):
        return frozenset((tree[1],))
    return frozenset()
