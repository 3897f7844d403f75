"""A small reader of the project's KQL: which table each statement reads, which columns it uses, and
whether each use agrees with the column's documented type (`kql_schema.TABLES`).

It is not a KQL parser. It tokenizes a query, finds the source table of each tabular statement
(`T | ...` or `let x = T | ...`), and judges every column of that table by what stands right next
to it:

- `col == 5`, `col between (200 .. 299)`, `sum(col)`, `percentile(col, 95)` need a number;
- `col == "x"`, `col in ("a", "b")`, `col startswith "x"`, `col =~ "x"` need a string;
- `col == true`/`false` needs a bool; `col > ago(1d)`, `col {TimeRange}` need a datetime;
- `col.x` and `col["x"]` need a dynamic.

A column wrapped in a conversion (`toint(StatusCode)`, `tobool(success)`) is judged by what the
conversion accepts. Any other name must be a documented column of the table, a `let` or an alias
(`name = ...`), or a KQL word listed below: a misspelt or undocumented column fails too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

from .kql_schema import BOOL, DATETIME, DYNAMIC, NUMERIC, STRING, TABLES

ANY_SCALAR = frozenset({STRING, BOOL, DATETIME, *NUMERIC})

_TOKEN = re.compile(
    r"""
      (?P<space>\s+)
    | (?P<comment>//[^\n]*)
    | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    | (?P<param>\{[A-Za-z_][\w:]*\})
    | (?P<timespan>\d+(?:\.\d+)?(?:ms|d|h|m|s)\b)
    | (?P<number>\d+(?:\.\d+)?)
    | (?P<ident>[A-Za-z_]\w*)
    | (?P<op>==|!=|=~|!~|<=|>=|\.\.|[=<>!|,;()\[\].*/+\-])
    """,
    re.VERBOSE,
)

# Tabular operators, keywords and functions the queries use. A new one is added here when a query
# needs it; an unknown name is reported so that a misspelt column cannot pass as a "keyword".
KQL_WORDS = frozenset(
    {
        # statements and tabular operators
        "let", "where", "project", "extend", "summarize", "by", "order", "sort", "asc", "desc",
        "take", "limit", "top", "render", "timechart", "distinct", "evaluate", "pivot",
        # scalar operators and literals
        "and", "or", "not", "in", "between", "startswith", "endswith", "has", "contains",
        "true", "false",
        # functions
        "ago", "now", "bin", "count", "countif", "sum", "sumif", "avg", "min", "max", "percentile",
        "arg_max", "arg_min", "round", "replace_string", "column_ifexists", "iff",
        "tostring", "toint", "tolong", "todouble", "tobool",
    }
)  # fmt: skip

_COMPARISONS = frozenset({"==", "!=", "<", ">", "<=", ">="})
_STRING_OPERATORS = frozenset({"=~", "!~", "startswith", "endswith", "has", "contains"})
_DATETIME_FUNCTIONS = frozenset({"ago", "now", "datetime"})

# What the first argument of a function must be, when a column is that whole argument.
_FIRST_ARGUMENT = {
    "sum": NUMERIC,
    "sumif": NUMERIC,
    "avg": NUMERIC,
    "percentile": NUMERIC,
    "round": NUMERIC,
    "min": NUMERIC | {DATETIME},
    "max": NUMERIC | {DATETIME},
    "bin": NUMERIC | {DATETIME},
    "replace_string": frozenset({STRING}),
    "tobool": NUMERIC | {STRING},
    "toint": ANY_SCALAR,
    "tolong": ANY_SCALAR,
    "todouble": ANY_SCALAR,
}


@dataclass(frozen=True)
class Token:
    kind: str
    text: str


@dataclass(frozen=True)
class ColumnUse:
    table: str
    column: str
    documented: str
    expected: frozenset[str] | None  # None: a use that asks nothing of the type (`by col`, `project col`)
    context: str


def tokenize(query: str) -> list[Token]:
    tokens = []
    for match in _TOKEN.finditer(query):
        kind = match.lastgroup
        assert kind is not None
        if kind not in ("space", "comment"):
            tokens.append(Token(kind, match.group()))
    consumed = "".join(match.group() for match in _TOKEN.finditer(query))
    assert len(consumed) == len(query), f"KQL the tokenizer does not know near {query[len(consumed) :][:40]!r}"
    return tokens


def _statements(tokens: list[Token]) -> list[list[Token]]:
    statements: list[list[Token]] = [[]]
    for token in tokens:
        if token.text == ";":
            statements.append([])
        else:
            statements[-1].append(token)
    return [statement for statement in statements if statement]


def _source(statement: list[Token]) -> tuple[str | None, int]:
    """The table a statement reads and the index of its name, or (None, -1) for a scalar `let`."""
    start = 0
    if statement[0].text == "let":
        assert len(statement) > 3 and statement[2].text == "=", f"unexpected let: {statement[:4]}"
        start = 3
    first = statement[start]
    if first.kind == "ident" and (start + 1 == len(statement) or statement[start + 1].text == "|"):
        return first.text, start
    assert start == 3, f"a statement that reads no table: {' '.join(t.text for t in statement[:6])}"
    return None, -1


def _literal_type(tokens: list[Token], i: int) -> frozenset[str] | None:
    """The type of the literal at tokens[i], None when it is not a literal (a name, an expression)."""
    if i >= len(tokens):
        return None
    token = tokens[i]
    if token.kind == "number":
        return NUMERIC
    if token.kind == "string":
        return frozenset({STRING})
    if token.kind == "ident" and token.text in ("true", "false"):
        return frozenset({BOOL})
    if token.kind == "ident" and token.text in _DATETIME_FUNCTIONS and i + 1 < len(tokens):
        return frozenset({DATETIME}) if tokens[i + 1].text == "(" else None
    return None


def _at(tokens: list[Token], i: int) -> Token:
    return tokens[i] if i < len(tokens) else Token("end", "")


def _expected(tokens: list[Token], i: int) -> frozenset[str] | None:
    """What the tokens around the column at tokens[i] require of its type."""
    after = _at(tokens, i + 1)
    if after.text in (".", "["):
        return frozenset({DYNAMIC})
    if after.kind == "param":  # `timestamp {TimeRange}`: the workbook's time range filter
        return frozenset({DATETIME})
    if after.text in _COMPARISONS:
        return _literal_type(tokens, i + 2)
    word = i + 2 if after.text == "!" else i + 1  # `!in`, `!startswith` ...
    if after.text in _STRING_OPERATORS or _at(tokens, word).text in _STRING_OPERATORS:
        return frozenset({STRING})
    if _at(tokens, word).text in ("between", "in") and _at(tokens, word + 1).text == "(":
        return _literal_type(tokens, word + 2)
    if i >= 2 and tokens[i - 1].text == "(" and after.text in (",", ")"):
        return _FIRST_ARGUMENT.get(tokens[i - 2].text)
    return None


def column_uses(query: str) -> tuple[list[ColumnUse], list[str]]:
    """Every use of a documented column, and the names that are neither columns nor known words."""
    tokens = tokenize(query)
    statements = _statements(tokens)
    defined = {s[1].text for s in statements if s[0].text == "let"}
    defined |= {t.text for t, n in pairwise(tokens) if t.kind == "ident" and n.text == "="}
    uses: list[ColumnUse] = []
    unknown: list[str] = []
    for statement in statements:
        table, at = _source(statement)
        if table is None:
            continue
        if table not in TABLES:
            unknown.append(f"table {table!r} has no documented columns in kql_schema.TABLES")
            continue
        columns = TABLES[table]
        for i in range(at + 1, len(statement)):
            token = statement[i]
            if token.kind != "ident" or statement[i - 1].text == ".":
                continue  # a property of a dynamic (`customDimensions.reason`) is not a column
            is_alias = i + 1 < len(statement) and statement[i + 1].text == "="
            if token.text in columns and not is_alias:
                context = " ".join(t.text for t in statement[max(at, i - 3) : i + 5])
                uses.append(ColumnUse(table, token.text, columns[token.text], _expected(statement, i), context))
            elif token.text not in columns and token.text not in KQL_WORDS and token.text not in defined:
                unknown.append(f"{table}: {token.text!r} is not a documented column, a let, an alias or a KQL word")
    return uses, unknown


def type_problems(query: str) -> list[str]:
    """Column uses that disagree with the documented type, and names no table documents."""
    uses, unknown = column_uses(query)
    problems = [
        f"{use.table}.{use.column} is {use.documented} but is used as {'/'.join(sorted(use.expected))}: {use.context}"
        for use in uses
        if use.expected is not None and use.documented not in use.expected
    ]
    return problems + unknown
