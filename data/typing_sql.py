"""SQL expressions that read a producer's column as the schema's logical type.

Producers write what they write: ``lat`` as VARCHAR, timestamps as text in a
local format, booleans as 0/1. Each expression returns the typed value or NULL,
and a companion "bad" expression is true when a non-NULL value could not be read.
"""

from __future__ import annotations

from .schema import BLOB, BOOLEAN, DATE, DOUBLE, INTEGER, TEXT, TIMESTAMP
from .sources import quote_ident, sql_literal

_NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
            "UINTEGER", "UBIGINT", "FLOAT", "DOUBLE", "REAL")

# Formats seen in Chinese upstream systems besides ISO 8601.
_TIME_FORMATS = (
    "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d", "%Y%m%d%H%M%S",
    "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日 %H:%M", "%Y年%m月%d日",
)


def _is_numeric(db_type: str) -> bool:
    return db_type.upper().startswith(_NUMERIC) or db_type.upper().startswith("DECIMAL")


def typed(col: str | None, db_type: str | None, kind: str) -> tuple[str, str]:
    """(value expression, bad-value expression) for a source column of ``db_type``.

    ``col`` None means the optional column is absent: NULL, never bad.
    """
    if col is None or db_type is None:
        return f"CAST(NULL AS {_SQL_TYPES[kind]})", "FALSE"
    c = quote_ident(col)
    t = db_type.upper()
    if kind == TEXT:
        value = c if t == "VARCHAR" else f"CAST({c} AS VARCHAR)"
        return value, "FALSE"
    if kind == DOUBLE:
        value = f"CAST({c} AS DOUBLE)" if _is_numeric(t) else f"TRY_CAST({c} AS DOUBLE)"
    elif kind == INTEGER:
        value = f"TRY_CAST({c} AS BIGINT)"
    elif kind == BOOLEAN:
        value = f"TRY_CAST({c} AS BOOLEAN)"
    elif kind == DATE:
        value = _finite(f"TRY_CAST({c} AS DATE)")
    elif kind == TIMESTAMP:
        value = _finite(_timestamp(c, t))
    elif kind == BLOB:
        value = c if t == "BLOB" else f"TRY_CAST({c} AS BLOB)"
    else:  # pragma: no cover - schema kinds are closed
        raise ValueError(kind)
    return value, f"({c} IS NOT NULL AND ({value}) IS NULL)"


def _finite(expr: str) -> str:
    """DuckDB's 'infinity' and '-infinity' are no real day or time: unreadable."""
    return f"(CASE WHEN isfinite({expr}) THEN {expr} END)"


def _timestamp(c: str, t: str) -> str:
    if t.startswith("TIMESTAMP") or t == "DATE":
        return f"TRY_CAST({c} AS TIMESTAMP)"
    if t != "VARCHAR":
        return f"TRY_CAST(TRY_CAST({c} AS VARCHAR) AS TIMESTAMP)"
    fmts = ", ".join(f"try_strptime(trim({c}), '{f}')" for f in _TIME_FORMATS)
    return f"COALESCE(TRY_CAST(trim({c}) AS TIMESTAMP), {fmts})"


_SQL_TYPES = {
    TEXT: "VARCHAR", DOUBLE: "DOUBLE", INTEGER: "BIGINT", BOOLEAN: "BOOLEAN",
    DATE: "DATE", TIMESTAMP: "TIMESTAMP", BLOB: "BLOB",
}


def code(value_expr: str, codes: tuple[str, ...]) -> tuple[str, str]:
    """(normalised code, unknown flag). The codes are the schema's constants, not user
    values, so they are written as literals (views cannot hold parameters)."""
    norm = f"lower(trim({value_expr}))"
    listed = "[" + ", ".join(sql_literal(c) for c in codes) + "]"
    ok = f"list_contains({listed}, {norm})"
    return f"CASE WHEN {ok} THEN {norm} ELSE 'other' END", f"NOT coalesce({ok}, FALSE)"
