"""On the executors: one input file → its rows in schema form, cleaned.

``stage_job`` reads the file the way the driver settled it, runs the importer's
``transform.apply`` on each batch (the mapping, values, codes, coordinates and datums,
placing by name), then the cockpit's own row cleaning, ``data.row_stream.RowStream``
(ids and timestamps, coordinate checks and swaps, point in polygon through
``pipeline.locate``). Every row comes out once, in the stage schema: the schema's
columns, its provenance, an order key, and ``_reason`` (NULL for a kept row, else why
it was set aside). The table-level rules (repeated ids, references) run afterwards in
Spark SQL (``pipeline.rules``) on the whole table.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from data.areas import AreaSet
from data.importer.run import _rebatch
from data.importer.source import SOURCE_FILE, SOURCE_ROW
from data.importer.transform import apply
from data.importer.write import schema_of
from data.row_stream import RowStream
from data.schema import INCIDENTS, TABLES, Reason
from data.validate import final_columns

from .aggregates import GRID_ZOOMS, cell_keys
from .jobs import Job
from .locate import SwappableAreas

ORDER, REASON, SWAPPED, UNKNOWN_AREA = "_order", "_reason", "_swapped", "_unknown_area"
_ROW_BITS = 40
"""The order key is (file position << 40) | row in file: files in the order given, rows
in file order, as ``cockpit import`` writes them."""


def stage_schema(table: str) -> pa.Schema:
    base = schema_of(table)
    extra = [pa.field(ORDER, pa.int64()), pa.field(REASON, pa.string()),
             pa.field(SWAPPED, pa.bool_()), pa.field(UNKNOWN_AREA, pa.bool_())]
    if table == INCIDENTS.name:
        extra += [pa.field(f"_cell_{z}", pa.int64()) for z in GRID_ZOOMS]
    return pa.schema([*base, *extra])


def spark_ddl(schema: pa.Schema) -> str:
    """The Spark schema string of an Arrow schema (timestamps stay without a zone)."""
    names = {pa.string(): "STRING", pa.timestamp("us"): "TIMESTAMP_NTZ",
             pa.date32(): "DATE", pa.float64(): "DOUBLE", pa.int64(): "BIGINT",
             pa.bool_(): "BOOLEAN", pa.binary(): "BINARY", pa.int32(): "INT"}
    return ", ".join(f"`{f.name}` {names[f.type]}" for f in schema)


def stage_job(job: Job, areas: AreaSet, areas_ok: bool) -> Iterator[pa.RecordBatch]:
    """Every row of one file in the stage schema (kept and set-aside rows together)."""
    local = SwappableAreas.of(areas)  # pseudo areas stay within this file
    n_real = len(areas)
    spec = TABLES[job.table]
    columns = [*final_columns(spec), SOURCE_FILE, SOURCE_ROW]
    stream = RowStream(spec, columns, local, "wgs84", 1, areas_ok)
    src = job.read()
    produced = False
    for batch in _rebatch(src.table):
        produced = True
        yield stage_batch(apply(batch, job.plan), job.index, stream, local, n_real)
    if not produced:
        yield pa.RecordBatch.from_pylist([], schema=stage_schema(job.table))


def _sql_reason(spec, out: pa.RecordBatch) -> pa.Array:
    """What ``data.validate`` decides in SQL before the coordinates: a missing id, then a
    missing timestamp (the importer has already typed every value)."""
    n = out.num_rows
    reason = pa.nulls(n, pa.string())
    if spec.time_column:
        bad = pc.is_null(out.column(spec.time_column))
        reason = pc.if_else(bad, pa.scalar(Reason.BAD_TIMESTAMP), reason)
    if spec.id_column:
        ident = out.column(spec.id_column)
        blank = pc.or_kleene(pc.is_null(ident), pc.equal(pc.utf8_trim(ident, " "), ""))
        reason = pc.if_else(pc.fill_null(blank, True), pa.scalar(Reason.MISSING_ID), reason)
    return reason


def stage_batch(out: pa.RecordBatch, file_index: int, stream: RowStream, areas: AreaSet,
                n_real: int) -> pa.RecordBatch:
    spec = stream.spec
    n = out.num_rows
    order = (np.int64(file_index) << _ROW_BITS) | np.asarray(
        out.column(SOURCE_ROW).to_numpy(zero_copy_only=False), np.int64)
    cols: dict[str, pa.Array] = {
        "_src_row": pa.array(order), "_reason": _sql_reason(spec, out),
        "_adj": pa.array(np.zeros(n, np.int64)),
    }
    for name in out.schema.names:
        cols.setdefault(name, out.column(name))
    if spec.point:
        lon, lat = out.column("lon"), out.column("lat")
        cols["_lon_raw"] = pc.fill_null(lon, np.nan)
        cols["_lat_raw"] = pc.fill_null(lat, np.nan)
        cols["_coord_null"] = pc.or_(pc.is_null(lon), pc.is_null(lat))
        cols["_coord_bad"] = pa.array(np.zeros(n, bool))
    kept = stream._clean(pa.RecordBatch.from_arrays(list(cols.values()), names=list(cols)))
    rejected = stream.quarantine
    stream.quarantine = []
    schema = stage_schema(spec.name)
    parts = [_kept_part(kept, spec, areas, n_real, stream.count_unknown_areas, schema)]
    if rejected:
        q = pa.concat_tables(rejected)
        parts.append(_set_aside_part(out, order, q, schema))
    return pa.RecordBatch.from_arrays(
        [pa.concat_arrays([p.column(i) for p in parts]) for i in range(len(schema))],
        schema=schema)


def _kept_part(kept: pa.RecordBatch, spec, areas: AreaSet, n_real: int, count_unknown: bool,
               schema: pa.Schema) -> pa.RecordBatch:
    k = kept.num_rows
    cols: dict[str, pa.Array] = {}
    for f in schema_of(spec.name):
        cols[f.name] = kept.column(f.name).cast(f.type)
    if "area_idx" in kept.schema.names:
        idx = kept.column("area_idx")
        ids = pa.array(areas.ids, pa.string())
        # the area the row counts against (point in polygon, else its own area_id)
        cols["area_id"] = ids.take(idx)
        big = pc.fill_null(pc.greater_equal(idx, n_real), False)
        unknown = big if count_unknown else pa.array(np.zeros(k, bool))
    else:
        unknown = pa.array(np.zeros(k, bool))
    cols[ORDER] = kept.column("_row")
    cols[REASON] = pa.nulls(k, pa.string())
    adj = kept.column("_adj").to_numpy(zero_copy_only=False)
    cols[SWAPPED] = pa.array((np.asarray(adj, np.int64) & 1) != 0)
    cols[UNKNOWN_AREA] = unknown
    for z in GRID_ZOOMS:
        name = f"_cell_{z}"
        if name in schema.names:
            lon = np.asarray(pc.fill_null(kept.column("lon"), np.nan).to_numpy(
                zero_copy_only=False), np.float64)
            lat = np.asarray(pc.fill_null(kept.column("lat"), np.nan).to_numpy(
                zero_copy_only=False), np.float64)
            cols[name] = cell_keys(lon, lat, z)
    return pa.RecordBatch.from_arrays([cols[f.name] for f in schema], schema=schema)


def _set_aside_part(out: pa.RecordBatch, order: np.ndarray, q: pa.Table,
                    schema: pa.Schema) -> pa.RecordBatch:
    rows = q.column("row_number").to_numpy()
    pos = np.searchsorted(order, rows) if np.all(np.diff(order) >= 0) else \
        np.asarray([int(np.flatnonzero(order == r)[0]) for r in rows])
    take = pa.array(pos)
    m = len(pos)
    cols: dict[str, pa.Array] = {name: out.column(name).take(take)
                                 for name in out.schema.names}
    cols[ORDER] = pa.array(order[pos])
    cols[REASON] = q.column("reason").combine_chunks().cast(pa.string())
    cols[SWAPPED] = pa.array(np.zeros(m, bool))
    cols[UNKNOWN_AREA] = pa.array(np.zeros(m, bool))
    for f in schema:
        if f.name not in cols:
            cols[f.name] = pa.nulls(m, f.type)
    return pa.RecordBatch.from_arrays([cols[f.name].cast(f.type) for f in schema],
                                      schema=schema)
