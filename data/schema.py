"""The extract contract (../shared/extract-schema.md, version 1) as data.

Everything that knows a table's columns, which of them are required and which
codes are valid reads it from here: the validator, the demo generator and the
tests share one description.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SCHEMA_VERSION = "1"
READABLE_VERSIONS = ("1", "2")
"""Version 2 (docs/extract-schema-v2.md) adds folders beside the tables; its tables are
version 1's, so the cockpit reads both."""
V2_FOLDERS = ("set_aside", "incidents_by_area", "incidents_by_cell")
"""Version 2's folders that are not tables: not reported as foreign tables."""

COORD_SYSTEMS = ("wgs84", "gcj02", "bd09")
AREA_LEVELS = ("county", "town", "village", "grid")  # coarse → fine

INCIDENT_CATEGORIES = (
    "criminal", "public_order", "dispute", "traffic", "fire", "assistance", "fraud", "other",
)
INCIDENT_STATUSES = ("open", "dispatched", "closed")
RESOURCE_KINDS = (
    "police_station", "patrol_unit", "officer", "auxiliary", "mass_prevention",
    "social_org", "mediator", "equipment",
)
HAZARD_CATEGORIES = (
    "key_place", "crime_hotspot", "drowning", "road", "fire", "public_order", "other",
)
RISK_LEVELS = ("major", "high", "medium", "low")
RECTIFICATION_ACTIONS = ("assigned", "rectified", "reinspected", "reopened")
HAZARD_STATES = ("open", "rectifying", "rectified", "verified")
DISPUTE_CATEGORIES = (
    "family", "neighbor", "land", "labor", "debt", "property", "contract", "other",
)
DISPUTE_LEVELS = ("village", "town", "county")
MEDIATOR_KINDS = (
    "people_mediator", "village_sage", "legal_aide", "police", "grid_worker", "lawyer",
)
DISPUTE_STATUSES = ("pending", "mediating", "resolved", "failed", "referred")
STEP_ACTIONS = ("accepted", "escalated", "resolved", "failed", "referred")

# Logical column types; the validator casts whatever the producer wrote to these.
TEXT, TIMESTAMP, DATE, DOUBLE, INTEGER, BOOLEAN, BLOB = (
    "text", "timestamp", "date", "double", "integer", "boolean", "blob",
)


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    required: bool = True
    codes: tuple[str, ...] | None = None
    """Valid codes; a value outside them is kept as ``other`` (or NULL) and counted."""
    fallback: str | None = "other"
    """What an unknown code becomes."""


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    id_column: str | None = None
    point: bool = False
    """Whether the table has lon/lat columns."""
    point_required: bool = False
    """Whether a row without valid coordinates is set aside (else it stays, unlocated)."""
    time_column: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)


def _c(name: str, kind: str, required: bool = True, codes: tuple[str, ...] | None = None,
       fallback: str | None = "other") -> Column:
    return Column(name, kind, required, codes, fallback)


META = Table("meta", (_c("key", TEXT), _c("value", TEXT)))

AREAS = Table(
    "areas",
    (
        _c("area_id", TEXT),
        _c("name", TEXT),
        # An area of unknown level cannot be placed in the hierarchy: set aside.
        _c("level", TEXT, codes=AREA_LEVELS, fallback=None),
        _c("parent_id", TEXT, required=False),
        _c("geom_wkb", BLOB),
        _c("population", INTEGER, required=False),
    ),
    id_column="area_id",
)

INCIDENTS = Table(
    "incidents",
    (
        _c("incident_id", TEXT),
        _c("reported_at", TIMESTAMP),
        _c("category", TEXT, codes=INCIDENT_CATEGORIES),
        _c("subcategory", TEXT, required=False),
        _c("lon", DOUBLE),
        _c("lat", DOUBLE),
        _c("address", TEXT, required=False),
        _c("area_id", TEXT, required=False),
        _c("status", TEXT, codes=INCIDENT_STATUSES),
        _c("closed_at", TIMESTAMP, required=False),
    ),
    id_column="incident_id",
    point=True,
    point_required=False,
    time_column="reported_at",
)

RESOURCES = Table(
    "resources",
    (
        _c("resource_id", TEXT),
        _c("kind", TEXT, codes=RESOURCE_KINDS),
        _c("name", TEXT),
        _c("lon", DOUBLE),
        _c("lat", DOUBLE),
        _c("area_id", TEXT, required=False),
        _c("headcount", INTEGER, required=False),
        _c("phone", TEXT, required=False),
        _c("available", BOOLEAN, required=False),
        _c("updated_at", TIMESTAMP, required=False),
    ),
    id_column="resource_id",
    point=True,
    point_required=True,
)

HAZARDS = Table(
    "hazards",
    (
        _c("hazard_id", TEXT),
        _c("category", TEXT, codes=HAZARD_CATEGORIES),
        _c("name", TEXT),
        _c("lon", DOUBLE),
        _c("lat", DOUBLE),
        _c("area_id", TEXT, required=False),
        _c("risk_level", TEXT, codes=RISK_LEVELS),
        _c("discovered_at", TIMESTAMP),
        _c("responsible_unit", TEXT, required=False),
        _c("deadline", DATE, required=False),
    ),
    id_column="hazard_id",
    point=True,
    point_required=True,
    time_column="discovered_at",
)

RECTIFICATIONS = Table(
    "rectifications",
    (
        _c("event_id", TEXT),
        _c("hazard_id", TEXT),
        _c("event_at", TIMESTAMP),
        # Kept as "other"; the state derivation ignores such events.
        _c("action", TEXT, codes=RECTIFICATION_ACTIONS),
        _c("actor", TEXT, required=False),
        _c("note", TEXT, required=False),
    ),
    id_column="event_id",
    time_column="event_at",
)

DISPUTES = Table(
    "disputes",
    (
        _c("dispute_id", TEXT),
        _c("received_at", TIMESTAMP),
        _c("category", TEXT, codes=DISPUTE_CATEGORIES),
        _c("lon", DOUBLE, required=False),
        _c("lat", DOUBLE, required=False),
        _c("area_id", TEXT, required=False),
        _c("level", TEXT, codes=DISPUTE_LEVELS),
        _c("mediator_kind", TEXT, codes=MEDIATOR_KINDS),
        _c("status", TEXT, codes=DISPUTE_STATUSES),
        _c("resolved_at", TIMESTAMP, required=False),
        _c("source_incident_id", TEXT, required=False),
    ),
    id_column="dispute_id",
    point=True,
    point_required=False,
    time_column="received_at",
)

DISPUTE_STEPS = Table(
    "dispute_steps",
    (
        _c("dispute_id", TEXT),
        _c("step_at", TIMESTAMP),
        _c("level", TEXT, codes=DISPUTE_LEVELS),
        _c("action", TEXT, codes=STEP_ACTIONS),
    ),
    time_column="step_at",
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (META, AREAS, INCIDENTS, RESOURCES, HAZARDS, RECTIFICATIONS, DISPUTES, DISPUTE_STEPS)
}
DATA_TABLES = tuple(name for name in TABLES if name != "meta")


class Reason:
    """Load-report reason codes.

    ``SET_ASIDE`` reasons remove a row from every figure; ``ADJUSTED`` reasons
    keep the row with a documented repair. A row counts under one set-aside
    reason only (the first that applies, in this order).
    """

    # set aside (quarantined)
    MISSING_ID = "missing_id"
    BAD_TIMESTAMP = "bad_timestamp"  # required timestamp NULL or unparsable
    MISSING_COORDINATES = "missing_coordinates"  # NULL where coordinates are required
    BAD_COORDINATES = "bad_coordinates"  # NaN, infinite or not a number
    COORDINATES_OUT_OF_RANGE = "coordinates_out_of_range"  # |lon| > 180 or |lat| > 90
    COORDINATES_OUTSIDE_EXTENT = "coordinates_outside_extent"  # far from the areas
    INVALID_GEOMETRY = "invalid_geometry"  # unreadable WKB, empty, not a polygon
    UNKNOWN_LEVEL = "unknown_level"  # area level outside county/town/village/grid
    UNKNOWN_HAZARD = "unknown_hazard"  # rectification event for no known hazard
    UNKNOWN_DISPUTE = "unknown_dispute"  # dispute step for no known dispute
    DUPLICATE_ID = "duplicate_id"  # the first row with an id is kept

    # kept with a repair
    SWAPPED_COORDINATES = "swapped_coordinates"  # lat/lon exchanged back
    REPAIRED_GEOMETRY = "repaired_geometry"  # made valid with shapely.make_valid
    UNKNOWN_CODE = "unknown_code"  # reported as "unknown_code:<column>", kept as "other"
    BAD_OPTIONAL_VALUE = "bad_optional_value"  # "bad_optional_value:<column>", set NULL
    UNKNOWN_AREA = "unknown_area"  # area_id that names no known area
    # kept as it is, flagged: a "no date" default (1900-01-01...), see data/period.py
    PLACEHOLDER_TIMESTAMP = "placeholder_timestamp"

    SET_ASIDE_ORDER = (
        MISSING_ID, BAD_TIMESTAMP, MISSING_COORDINATES, BAD_COORDINATES,
        COORDINATES_OUT_OF_RANGE, COORDINATES_OUTSIDE_EXTENT, INVALID_GEOMETRY,
        UNKNOWN_LEVEL, UNKNOWN_HAZARD, UNKNOWN_DISPUTE, DUPLICATE_ID,
    )
