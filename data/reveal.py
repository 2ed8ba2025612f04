"""The raw value of one personal field of one record, for an audited reveal.

Only the fields listed in ``REVEALABLE`` can be read here (a person's name and a phone
of a resource, the address of an incident). Nothing here writes the audit log or asks
who wants it: the desk's ``desktop.reveal.Revealer`` does, and is the only caller.
"""

from __future__ import annotations

from .extract import Extract
from .privacy import PERSON_KINDS

REVEALABLE: dict[str, tuple[str, ...]] = {"resources": ("name", "phone"),
                                           "incidents": ("address",)}
"""A resource's name and phone; an incident's address (masked when a phone is in it)."""
ID_COLUMNS = {"resources": "resource_id", "incidents": "incident_id"}


def is_personal(table: str, field: str, kind: str | None = None) -> bool:
    """Whether the field holds personal data (a resource's name only for person kinds)."""
    if field not in REVEALABLE.get(table, ()):
        return False
    return not (table == "resources" and field == "name" and kind not in PERSON_KINDS)


def read_personal(extract: Extract, table: str, record_id: str, field: str) -> str | None:
    """The unmasked value; ValueError for a field that is not revealable."""
    if field not in REVEALABLE.get(table, ()):
        raise ValueError(f"{table}.{field} cannot be revealed")
    cur = extract.cursor()
    try:
        rows = cur.execute(f"SELECT {field} FROM {table} WHERE {ID_COLUMNS[table]} = ?",
                           [record_id]).fetchall()
    finally:
        cur.close()
    return None if not rows or rows[0][0] is None else str(rows[0][0])
