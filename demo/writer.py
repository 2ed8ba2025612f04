"""DuckDB output: the contract's tables with the contract's column types."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from data.schema import BLOB, BOOLEAN, DATE, DOUBLE, INTEGER, TABLES, TEXT, TIMESTAMP, Table

SQL_TYPES = {TEXT: "VARCHAR", TIMESTAMP: "TIMESTAMP", DATE: "DATE", DOUBLE: "DOUBLE",
             INTEGER: "INTEGER", BOOLEAN: "BOOLEAN", BLOB: "BLOB"}
ARROW_TYPES = {TEXT: pa.string(), TIMESTAMP: pa.timestamp("us"), DATE: pa.date32(),
               DOUBLE: pa.float64(), INTEGER: pa.int32(), BOOLEAN: pa.bool_(),
               BLOB: pa.binary()}
# The contract gives population as BIGINT; every other integer is INTEGER.
OVERRIDES = {("areas", "population"): ("BIGINT", pa.int64())}


def sql_type(table: str, column: str, kind: str) -> str:
    return OVERRIDES.get((table, column), (SQL_TYPES[kind], None))[0]


def arrow_schema(table: Table) -> pa.Schema:
    return pa.schema([
        pa.field(c.name, OVERRIDES.get((table.name, c.name), (None, ARROW_TYPES[c.kind]))[1])
        for c in table.columns
    ])


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    for t in TABLES.values():
        cols = ", ".join(f"{c.name} {sql_type(t.name, c.name, c.kind)}" for c in t.columns)
        con.execute(f"CREATE TABLE {t.name} ({cols})")


def to_table(name: str, columns: Mapping[str, Any]) -> pa.Table:
    """Columns (Arrow arrays, numpy arrays or lists with None) in the contract's order."""
    schema = arrow_schema(TABLES[name])
    arrays = []
    for f in schema:
        v = columns[f.name]
        if isinstance(v, (pa.Array, pa.ChunkedArray)):
            arrays.append(v.cast(f.type))
        elif isinstance(v, np.ndarray) and v.dtype != object:
            arrays.append(pa.array(v).cast(f.type))
        else:
            arrays.append(pa.array(list(v) if not isinstance(v, Sequence) else v, type=f.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def append(con: duckdb.DuckDBPyConnection, name: str,
           data: pa.Table | Mapping[str, Any]) -> int:
    """Append rows in their given order; returns how many."""
    table = data if isinstance(data, pa.Table) else to_table(name, data)
    table = table.select([c.name for c in TABLES[name].columns])
    con.register("_demo_rows", table)
    try:
        con.execute(f"INSERT INTO {name} SELECT * FROM _demo_rows")
    finally:
        con.unregister("_demo_rows")
    return table.num_rows
