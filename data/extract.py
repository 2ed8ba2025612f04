"""Open an extract: validate it once into a cache, then serve queries from there.

``open_extract`` is the only way in. It never writes to the extract: the
source is attached read-only, and everything derived (typed and cleaned
tables, WGS84 and Web Mercator coordinates, area assignment, the load report)
goes to a cache database in the user's cache directory.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import uuid
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import numpy as np
import shapely

from . import aggregated as agg
from .areas import AreaSet
from .cache import CACHE_FORMAT, cache_file, fingerprint, remove_stale
from .load_report import OK, LoadReport
from .period import flag_placeholders
from .schema import (
    COORD_SYSTEMS,
    DISPUTE_STEPS,
    DISPUTES,
    HAZARDS,
    INCIDENTS,
    READABLE_VERSIONS,
    RECTIFICATIONS,
    RESOURCES,
    Reason,
)
from .sources import ExtractError, attach_source, quiet, run, sql_literal
from .step_reading import detect_step_reading
from .validate import BuildContext, clean_areas, clean_rows, write_areas

Progress = Callable[[str, float], None]
T = TypeVar("T")

__all__ = ["Extract", "ExtractError", "open_extract"]


def _no_progress(_stage: str, _fraction: float) -> None:
    pass


def connect(path: Path | str, read_only: bool,
            memory_limit: str = "512MB") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection that never downloads extensions.

    The memory limit keeps peak memory flat at 10M rows: big joins and sorts spill.
    """
    con = duckdb.connect(str(path), read_only=read_only, config={
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "memory_limit": memory_limit,
        "threads": max(1, min(os.cpu_count() or 2, 8)),
    })
    return quiet(con)


@dataclass
class Extract:
    """An opened extract: metadata, areas, load report and a read-only connection."""

    path: Path
    kind: str
    meta: dict[str, str]
    areas: AreaSet
    report: LoadReport
    con: duckdb.DuckDBPyConnection
    cache_path: Path
    from_cache: bool = False
    aggregated: bool = False
    """Incidents stay in the extract's Parquet files; figures come from the aggregate
    tables (``data.aggregated``, schema version 2)."""
    _as_of: date | None = field(default=None, init=False, repr=False, compare=False)
    _as_of_lock: threading.Lock = field(default_factory=threading.Lock, init=False,
                                        repr=False, compare=False)
    _memo: dict[Hashable, Any] = field(default_factory=dict, init=False, repr=False,
                                       compare=False)
    _memo_locks: dict[Hashable, threading.Lock] = field(default_factory=dict, init=False,
                                                        repr=False, compare=False)
    _memo_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False,
                                       compare=False)

    @property
    def region_name(self) -> str:
        return self.meta.get("region_name") or self.path.stem

    @property
    def coord_system(self) -> str:
        return self.meta.get("coord_system", "wgs84")

    @property
    def classification(self) -> str | None:
        return self.meta.get("classification") or None

    @property
    def extracted_at(self) -> datetime | None:
        text = self.meta.get("extracted_at")
        if not text:
            return None
        try:
            return datetime.fromisoformat(text.strip().replace("Z", ""))
        except ValueError:
            return None

    @property
    def default_as_of(self) -> date:
        """``meta.extracted_at``; failing that the newest record; failing that today."""
        if self.extracted_at is not None:
            return self.extracted_at.date()
        # Workers ask too: computed once, on a cursor of its own (a connection is per thread).
        with self._as_of_lock:
            if self._as_of is None:
                cur = self.cursor()
                try:
                    rows = cur.execute(
                        "SELECT max(t) FROM (SELECT max(reported_at) t FROM incidents UNION "
                        "ALL SELECT max(received_at) FROM disputes UNION ALL SELECT "
                        "max(event_at) FROM rectifications UNION ALL SELECT "
                        "max(discovered_at) FROM hazards)").fetchall()
                finally:
                    cur.close()
                self._as_of = (rows[0][0].date() if rows and rows[0][0] is not None
                               else date.today())
            return self._as_of

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """A value derived from this extract alone (an index, a spatial weight matrix, the
        areas in Mercator), computed once per ``key`` and kept while the extract is open.

        Worker threads ask concurrently: one computes a key while the others asking for
        the same key wait for it; different keys do not wait for each other.
        """
        with self._memo_lock:
            if key in self._memo:
                return self._memo[key]
            lock = self._memo_locks.setdefault(key, threading.Lock())
        with lock:
            with self._memo_lock:
                if key in self._memo:
                    return self._memo[key]
            value = compute()
            with self._memo_lock:
                self._memo[key] = value
            return value

    def has(self, table: str) -> bool:
        """Whether the table was present and usable (it may still have no rows)."""
        t = self.report.tables.get(table)
        return t is not None and t.status == OK

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor for one thread (DuckDB connections are not shared across threads)."""
        return quiet(self.con.cursor())

    def close(self) -> None:
        with contextlib.suppress(duckdb.Error):
            self.con.close()


def open_extract(path: str | Path, progress: Progress | None = None,
                 use_cache: bool = True) -> Extract:
    """Open, validate and cache an extract. Raises ExtractError when it is unusable."""
    progress = progress or _no_progress
    path = Path(path).expanduser()
    if not path.exists():
        raise ExtractError(f"extract not found: {path}")
    try:
        fp = fingerprint(path)
    except OSError as exc:
        raise ExtractError(f"cannot read extract {path}: {exc.strerror or exc}") from exc
    target = cache_file(path, fp)
    if use_cache and target.exists():
        try:
            return _load_cached(path, target)
        except (duckdb.Error, KeyError, ValueError, OSError):
            pass  # a damaged cache entry is rebuilt
    try:
        _build(path, target, fp, progress)
    except _InPlaceFailed:
        # a damaged incident file read in place: clean the rows as in version 1 instead,
        # which sets unreadable files aside and says so
        _build(path, target, fp, progress, in_place_ok=False)
    remove_stale(path, target)
    return _load_cached(path, target)


class _InPlaceFailed(ExtractError):
    """Reading the incidents in place failed (a damaged file): try copying them."""


def _build(path: Path, target: Path, fp: str, progress: Progress,
           in_place_ok: bool = True) -> None:
    # one name per attempt: an open cancelled and started again must not meet its own file
    tmp = target.with_name(f"{target.stem}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}.duckdb")
    tmp.unlink(missing_ok=True)
    con = connect(tmp, read_only=False)
    built = False
    try:
        run(con, f"SET temp_directory = {sql_literal(str(target.parent / 'spill'))}")
        in_place = False
        source = attach_source(con, path, frozenset({"incidents"})
                               if in_place_ok and agg.declared(path) else frozenset())
        if not source.tables:
            foreign = f" (it holds {', '.join(source.foreign_tables[:5])})" \
                if source.foreign_tables else ""
            raise ExtractError(f"{path.name} holds none of the extract tables{foreign}")
        report = LoadReport(str(path), source.kind)
        if source.foreign_tables:
            report.notes.append("tables not in the schema, ignored: "
                                + ", ".join(source.foreign_tables))
        meta = _read_meta(con, source, report)
        ctx = BuildContext(con, source, report, meta["coord_system"], AreaSet(), progress,
                           duplicates=meta.get("duplicates", "latest").strip().lower())
        run(con, "CREATE TABLE _quarantine (tbl VARCHAR, row_number BIGINT, "
                    "record_id VARCHAR, reason VARCHAR)")
        progress("reading areas", 0.02)
        clean_areas(ctx)
        in_place = in_place_ok and agg.wanted(path, meta, source)
        if in_place:  # a province: its rows are read where they are, never copied
            agg.read_incidents(con, path, source, report, ctx.areas)
        steps = [
            (INCIDENTS, None, 0.05), (RESOURCES, None, 0.75), (HAZARDS, None, 0.8),
            (RECTIFICATIONS, ("hazard_id", "hazards", Reason.UNKNOWN_HAZARD), 0.85),
            (DISPUTES, None, 0.9),
            (DISPUTE_STEPS, ("dispute_id", "disputes", Reason.UNKNOWN_DISPUTE), 0.95),
        ]
        for k, (spec, refs, frac) in enumerate(steps):
            if in_place and spec is INCIDENTS:
                continue
            ctx.span = (frac, steps[k + 1][2] if k + 1 < len(steps) else 0.99)
            clean_rows(ctx, spec, refs)
        if report.table(DISPUTE_STEPS.name).status == OK:
            report.table(DISPUTE_STEPS.name).findings["level_reading"] = \
                detect_step_reading(con).to_json()
        write_areas(con, ctx.areas)
        if in_place:
            agg.create_tables(con, path, source)
        flag_placeholders(con, report)
        _write_kv(con, meta, report, ctx.areas)
        run(con, "CHECKPOINT")
        built = True
    except duckdb.Error as exc:
        kind = _InPlaceFailed if in_place else ExtractError
        raise kind(f"cannot read extract {path.name}: {str(exc).splitlines()[0]}") from exc
    finally:
        con.close()
        if not built:  # an unusable extract leaves nothing behind in the cache
            tmp.unlink(missing_ok=True)
            Path(f"{tmp}.wal").unlink(missing_ok=True)
    try:
        changed = fingerprint(path) != fp
    except OSError:
        changed = True
    if changed:
        tmp.unlink(missing_ok=True)
        raise ExtractError(f"{path.name} changed while it was being read; try again")
    os.replace(tmp, target)
    progress("done", 1.0)


def _read_meta(con: duckdb.DuckDBPyConnection, source, report: LoadReport) -> dict[str, str]:
    meta: dict[str, str] = {}
    rep = report.table("meta")
    st = source.tables.get("meta")
    if st is not None:
        if "key" in st.columns and "value" in st.columns:
            try:
                rows = con.execute(
                    f"SELECT CAST(key AS VARCHAR), CAST(value AS VARCHAR) FROM {st.relation}"
                ).fetchall()
                rep.rows, rep.status = len(rows), OK
                for k, v in rows:
                    if k is not None and v is not None and k.strip() not in meta:
                        meta[k.strip()] = v.strip()
            except duckdb.Error as exc:
                rep.set_aside_whole(f"unreadable: {str(exc).splitlines()[0]}", "unreadable")
        else:
            # Count what is set aside, as for every other table.
            with contextlib.suppress(duckdb.Error):
                rep.rows = int(con.execute(f"SELECT count(*) FROM {st.relation}"
                                           ).fetchall()[0][0])
            rep.set_aside_whole("missing required column(s): key, value", "missing_columns")
    cs = meta.get("coord_system", "wgs84").lower()
    if cs in ("cgcs2000", "epsg:4326", "epsg:4490"):
        cs = "wgs84"
    if cs not in COORD_SYSTEMS:
        report.notes.append(f"meta.coord_system '{meta.get('coord_system')}' unknown; wgs84 used")
        cs = "wgs84"
    meta["coord_system"] = cs
    version = meta.get("schema_version")
    if version is not None and version not in READABLE_VERSIONS:
        report.notes.append(f"schema_version {version!r}; this cockpit reads version 1")
    return meta


def _write_kv(con: duckdb.DuckDBPyConnection, meta: dict[str, str], report: LoadReport,
              areas: AreaSet) -> None:
    run(con, "CREATE TABLE _kv (key VARCHAR PRIMARY KEY, value BLOB)")
    doc = {"tables": {k: vars(v) for k, v in report.tables.items()}, "notes": report.notes,
           "source": report.source, "kind": report.kind}
    for key, value in (("format", CACHE_FORMAT.encode()),
                       ("meta", json.dumps(meta, ensure_ascii=False).encode()),
                       ("load_report", json.dumps(doc, ensure_ascii=False).encode())):
        run(con, "INSERT INTO _kv VALUES (?, ?)", [key, value])


def _load_cached(path: Path, target: Path) -> Extract:
    con = connect(target, read_only=True)
    try:
        kv = dict(con.execute("SELECT key, value FROM _kv").fetchall())
        if kv["format"].decode() != CACHE_FORMAT:
            raise ValueError("old cache format")
        meta = json.loads(kv["meta"].decode())
        doc = json.loads(kv["load_report"].decode())
        report = LoadReport.from_json(doc["source"], doc["kind"], doc["tables"], doc["notes"])
        areas = _load_areas(con)
        aggregated = agg.is_aggregated(con)
    except Exception:
        con.close()
        raise
    return Extract(path, report.kind, meta, areas, report, con, target, from_cache=True,
                   aggregated=aggregated)


def _load_areas(con: duckdb.DuckDBPyConnection) -> AreaSet:
    rows = con.execute(
        "SELECT area_id, name, level, parent_idx, population, geom_wkb FROM areas ORDER BY area_idx"
    ).fetchall()
    areas = AreaSet()
    for area_id, name, level, parent, pop, wkb in rows:
        geom = shapely.from_wkb(wkb) if wkb is not None else None
        areas.add(area_id, name, level, geom, np.nan if pop is None else float(pop), int(parent))
    return areas

