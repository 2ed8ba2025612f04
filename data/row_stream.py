"""The Python half of cleaning a row table, one Arrow batch at a time.

DuckDB types the columns and decides the reasons SQL can see (ids,
timestamps, references); each batch then passes through here for what needs
numpy and shapely: coordinate checks, datum conversion, point-in-polygon area
assignment, and the area lookup of rows without coordinates. Rejected rows
are kept aside for ``_quarantine``; clean rows stream on into the cache table.
Working batch by batch keeps memory flat at 10M rows, and the table is written
in one pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .areas import AreaSet
from .geo_clean import GEO_REASONS, clean_points
from .schema import Table

BATCH_ROWS = 122_880
"""One DuckDB row group: measured faster and leaner than larger batches (bench/)."""


class RowStream:
    """Turns typed source batches into clean output batches for one table."""

    def __init__(self, spec: Table, columns: list[str], areas: AreaSet, coord_system: str,
                 swapped_bit: int, count_unknown_areas: bool,
                 on_batch: Callable[[int], None] | None = None) -> None:
        self.spec = spec
        self.on_batch = on_batch
        """Called with the rows read so far after each batch (progress). If it raises (a
        cancel), the stream ends early and the exception is kept in ``stopped``: raising
        it through DuckDB's scan of this stream left the database wedged."""
        self.stopped: BaseException | None = None
        self.rows_read = 0
        self.columns = columns  # output columns, in final order
        self.areas = areas
        self.coord_system = coord_system
        self.swapped_bit = swapped_bit
        self.count_unknown_areas = count_unknown_areas
        self.quarantine: list[pa.Table] = []
        self.unknown_area_rows = 0
        self._ids = pa.array(areas.ids, pa.string())
        self.error: BaseException | None = None

    # ----------------------------------------------------------------- public
    def reader(self, source: pa.RecordBatchReader) -> pa.RecordBatchReader:
        """A reader of clean batches (the first batch is read now, for the schema)."""
        batches = self._batches(source)
        first = next(batches)
        return pa.RecordBatchReader.from_batches(first.schema, _chain(first, batches))

    def quarantined(self) -> pa.Table | None:
        return pa.concat_tables(self.quarantine) if self.quarantine else None

    # ---------------------------------------------------------------- batches
    def _batches(self, source: pa.RecordBatchReader) -> Iterator[pa.RecordBatch]:
        produced = False
        try:
            for batch in source:
                if batch.num_rows:
                    produced = True
                    yield self._clean(batch)
                    self.rows_read += batch.num_rows
                    if self.on_batch is not None:
                        try:
                            self.on_batch(self.rows_read)
                        except Exception as exc:
                            self.stopped = exc
                            return
        except Exception as exc:  # surfaced by the caller: DuckDB would wrap it
            self.error = exc
            raise
        if not produced:  # an empty table still needs its schema
            yield self._clean(pa.RecordBatch.from_pylist([], schema=source.schema))

    def _clean(self, b: pa.RecordBatch) -> pa.RecordBatch:
        row = b.column("_src_row").to_numpy(zero_copy_only=False).astype(np.int64)
        sql_reason = b.column("_reason")
        rejected = pc.is_valid(sql_reason).to_numpy(zero_copy_only=False)
        reason = sql_reason
        out: dict[str, pa.Array] = {"_row": pa.array(row)}
        adj = b.column("_adj").to_numpy(zero_copy_only=False).astype(np.int64)
        pip = None
        if self.spec.point:
            geo = clean_points(
                _floats(b.column("_lon_raw")), _floats(b.column("_lat_raw")),
                _bools(b.column("_coord_null")), _bools(b.column("_coord_bad")),
                self.spec.point_required, self.coord_system, self.areas)
            geo_bad = (geo.reason > 0) & ~rejected
            if geo_bad.any():
                names = np.asarray(GEO_REASONS, dtype=object)[geo.reason]
                merged = np.where(geo_bad, names,
                                  sql_reason.to_numpy(zero_copy_only=False))
                reason = pa.array(merged, pa.string())
                rejected = rejected | geo_bad
            adj |= np.where(geo.swapped & (geo.reason == 0), self.swapped_bit, 0)
            out["lon"] = _nullable(geo.lon)
            out["lat"] = _nullable(geo.lat)
            out["mx"] = _nullable(geo.mx)
            out["my"] = _nullable(geo.my)
            pip = geo.area
        if rejected.any():
            self._set_aside(b, row, reason, rejected)
        if "area_idx" in self.columns:
            out["area_idx"] = self._area_idx(b.column("area_id"), pip, rejected)
        out["_adj"] = pa.array(adj)
        keep = pa.array(~rejected) if rejected.any() else None
        arrays = []
        for name in self.columns:
            col = out[name] if name in out else b.column(name)
            arrays.append(col if keep is None else col.filter(keep))
        return pa.RecordBatch.from_arrays(arrays, names=self.columns)

    def _set_aside(self, b: pa.RecordBatch, row: np.ndarray, reason: pa.Array,
                   rejected: np.ndarray) -> None:
        idx = pa.array(np.flatnonzero(rejected))
        ident = (b.column(self.spec.id_column).take(idx).cast(pa.string())
                 if self.spec.id_column else pa.nulls(len(idx), pa.string()))
        self.quarantine.append(pa.table({
            "tbl": pa.array([self.spec.name] * len(idx), pa.string()),
            "row_number": pa.array(row[rejected]),
            "record_id": ident,
            "reason": reason.take(idx).cast(pa.string()),
        }))

    def _area_idx(self, area_id: pa.Array, pip: np.ndarray | None,
                  rejected: np.ndarray) -> pa.Array:
        """Point in polygon first; otherwise the row's own ``area_id``."""
        looked = pc.index_in(area_id, value_set=self._ids)
        need = pc.is_null(looked).to_numpy(zero_copy_only=False) & \
            pc.is_valid(area_id).to_numpy(zero_copy_only=False) & ~rejected
        if pip is not None:
            need &= pip < 0
        if need.any():
            texts = area_id.filter(pa.array(need)).to_pylist()
            blank = [t for t in texts if not t.strip()]
            fresh = sorted({t for t in texts if t.strip()} - set(self.areas.ids))
            for t in fresh:
                self.areas.add(t, t, None, None)  # a pseudo area: counted, never drawn
            if self.count_unknown_areas:
                self.unknown_area_rows += len(texts) - len(blank)
            if fresh:
                self._ids = pa.array(self.areas.ids, pa.string())
                looked = pc.index_in(area_id, value_set=self._ids)
        idx = pc.fill_null(looked, -1).to_numpy(zero_copy_only=False).astype(np.int32)
        if pip is not None:
            idx = np.where(pip >= 0, pip, idx)
        return pa.array(idx, mask=idx < 0)


def _chain(first: pa.RecordBatch, rest: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    yield first
    yield from rest


def _floats(col: pa.Array) -> np.ndarray:
    return np.asarray(col.to_numpy(zero_copy_only=False), dtype=np.float64)


def _bools(col: pa.Array) -> np.ndarray:
    return np.asarray(col.to_numpy(zero_copy_only=False), dtype=bool)


def _nullable(values: np.ndarray) -> pa.Array:
    return pa.array(values, mask=~np.isfinite(values))

