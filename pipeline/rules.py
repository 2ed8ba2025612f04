"""The table-level rules in Spark SQL: references between tables, then repeated ids.

They are the rules ``data.validate`` writes for DuckDB (``_reason_sql``'s reference
check, ``_set_aside_duplicates``), written once more for Spark SQL, and tested equal
(tests/test_pipeline_rules.py). Each query reads the rows still kept after the
row-level cleaning and adds ``_rule``: NULL, or the reason the row is set aside.
"""

from __future__ import annotations

from data.schema import TABLES, Reason

REFERENCES: dict[str, tuple[str, str, str]] = {
    "rectifications": ("hazard_id", "hazards", Reason.UNKNOWN_HAZARD),
    "dispute_steps": ("dispute_id", "disputes", Reason.UNKNOWN_DISPUTE),
}
"""table → (column, referenced table, reason), as ``data.extract`` passes them."""


def reference_sql(view: str, table: str, parent_view: str) -> str:
    """A row whose reference is NULL or names no kept row of the other table."""
    col, parent, why = REFERENCES[table]
    pid = TABLES[parent].id_column
    return (f"SELECT s.*, CASE WHEN s.`{col}` IS NULL OR p._ref IS NULL THEN '{why}' END "
            f"AS _rule FROM {view} s LEFT JOIN (SELECT DISTINCT `{pid}` AS _ref FROM "
            f"{parent_view}) p ON s.`{col}` = p._ref")


def duplicate_sql(view: str, table: str) -> str:
    """Every row of a repeated id but the first (in the order the files were given)."""
    ident = TABLES[table].id_column
    return (f"SELECT *, CASE WHEN row_number() OVER (PARTITION BY `{ident}` ORDER BY _order)"
            f" > 1 THEN '{Reason.DUPLICATE_ID}' END AS _rule FROM {view}")
