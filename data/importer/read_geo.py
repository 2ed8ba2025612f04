"""GIS files (Shapefile, GeoJSON, GeoPackage, TopoJSON...) through pyogrio/GDAL.

Geometries are reprojected to WGS84 (pyproj) from the file's own CRS, from the
``--crs`` given when the file has none, or taken as WGS84 when the file has none and
its coordinates are degrees. A Shapefile whose ``.dbf`` has no ``.cpg`` is decoded
in the encoding its text bytes show (GBK from most Chinese GIS software) rather than
GDAL's Latin-1 default. Attributes become strings (dates stay dates).
"""

from __future__ import annotations

import struct
import warnings
from pathlib import Path

import numpy as np
import pyarrow as pa
import shapely

from .encoding import detect_bytes
from .errors import ImportFailure
from .source import GEOMETRY, SourceTable, with_provenance
from .values import as_text

GEO_SUFFIXES = (".shp", ".geojson", ".gpkg", ".topojson", ".json", ".kml", ".gml", ".fgb",
                ".zip", ".dbf")


def dbf_text_bytes(dbf: Path, limit: int = 1 << 20) -> bytes:
    """The bytes of a .dbf's field names and character fields (for encoding detection)."""
    with open(dbf, "rb") as fh:
        head = fh.read(32)
        if len(head) < 32:
            return b""
        n_records, header_len, record_len = struct.unpack("<IHH", head[4:12])
        fields, offset = [], 1  # each record starts with a deletion flag
        names = b""
        while fh.tell() < header_len - 1:
            desc = fh.read(32)
            if not desc or desc[0] == 0x0D or len(desc) < 32:
                break
            names += desc[:11].split(b"\0")[0] + b"\n"
            if desc[11:12] == b"C":
                fields.append((offset, desc[16]))
            offset += desc[16]
        fh.seek(header_len)
        body = fh.read(min(limit, n_records * record_len))
    out = [names]
    for r in range(len(body) // max(record_len, 1)):
        rec = body[r * record_len:(r + 1) * record_len]
        for off, length in fields:
            text = rec[off:off + length].rstrip(b" \0")
            if text:
                out.append(text + b"\n")
    return b"".join(out)


def shapefile_encoding(path: Path) -> str | None:
    """The encoding to read a Shapefile's .dbf with, or None to let GDAL decide (.cpg)."""
    if path.suffix.lower() not in (".shp", ".dbf"):
        return None
    stem = path.with_suffix("")
    for suffix in (".cpg", ".CPG"):
        if stem.with_suffix(suffix).exists():
            return None
    dbf = next((p for p in (stem.with_suffix(".dbf"), stem.with_suffix(".DBF")) if p.exists()),
               None)
    if dbf is None:
        return None
    data = dbf_text_bytes(dbf)
    if not data or data.isascii():
        return None
    try:
        return detect_bytes([data])
    except ValueError:
        return None


def _transformer(crs: str):
    from pyproj import CRS, Transformer

    src = CRS.from_user_input(crs)
    if src.equals(CRS.from_epsg(4326)) or src.equals(CRS.from_epsg(4490)):
        return None, src.to_string()  # CGCS2000 and WGS84 agree within centimetres
    return Transformer.from_crs(src, CRS.from_epsg(4326), always_xy=True), src.to_string()


def to_wgs84(geoms: np.ndarray, crs: str) -> np.ndarray:
    transformer, _ = _transformer(crs)
    if transformer is None:
        return geoms
    return shapely.transform(geoms, lambda xy: np.column_stack(
        transformer.transform(xy[:, 0], xy[:, 1])))


def read_geo(path: Path, label: str, crs: str | None = None, layer: str | None = None,
             max_rows: int | None = None, encoding: str | None = None) -> SourceTable:
    import pyogrio

    encoding = encoding if path.suffix.lower() in (".shp", ".dbf") and encoding else \
        shapefile_encoding(path)
    try:
        with warnings.catch_warnings():  # GDAL's remarks (unclosed rings...): handled below
            warnings.simplefilter("ignore")
            meta, table = pyogrio.read_arrow(str(path), layer=layer, encoding=encoding,
                                             max_features=max_rows)
    except Exception as exc:  # pyogrio/GDAL errors for foreign or damaged files
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ImportFailure(f"not a readable GIS file ({msg})", label) from exc
    geom_col = next((f.name for f in table.schema
                     if f.metadata and b"geoarrow.wkb" in b"".join(f.metadata.values())),
                    meta.get("geometry_name") or "wkb_geometry")
    if geom_col not in table.column_names:
        raise ImportFailure("the file has no geometry", label)
    wkb = np.asarray(table.column(geom_col).to_pylist(), dtype=object)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        strict = shapely.from_wkb(wkb, on_invalid="ignore")
        geoms = shapely.from_wkb(wkb, on_invalid="fix")  # closes unclosed rings
    notes = []
    fixed = int((shapely.is_missing(strict) & ~shapely.is_missing(geoms)).sum())
    if fixed:
        notes.append(f"{fixed} geometries with unclosed rings closed")
    source_crs = meta.get("crs") or crs
    if source_crs is None:
        b = shapely.total_bounds(geoms)
        if np.isfinite(b).all() and b[0] >= -180 and b[2] <= 180 and b[1] >= -90 and b[3] <= 90:
            source_crs = "EPSG:4326"
            notes.append("no CRS in the file; its coordinates are degrees, taken as WGS84")
        else:
            raise ImportFailure("the file has no CRS (.prj) and its coordinates are not "
                                "degrees; give --crs EPSG:NNNN", label)
    try:
        geoms = to_wgs84(geoms, source_crs)
    except Exception as exc:  # pyproj.exceptions.CRSError and friends
        raise ImportFailure(f"cannot reproject from {source_crs}: {exc}", label) from exc
    cols = {}
    for name in table.column_names:
        if name == geom_col:
            continue
        col = table.column(name).combine_chunks()
        keep = pa.types.is_timestamp(col.type) or pa.types.is_date(col.type)
        cols[name] = col if keep else as_text(col)
    out = pa.table(cols) if cols else pa.table({"_n": pa.array(np.zeros(len(geoms)))}).drop(["_n"])
    out = with_provenance(out, label)
    wkb = shapely.to_wkb(geoms)
    out = out.append_column(GEOMETRY, pa.array(list(wkb), pa.binary()))
    if encoding:
        notes.append(f"attribute text read as {encoding} (no .cpg file)")
    return SourceTable(path, label, out, "geo", encoding=encoding or meta.get("encoding"),
                       crs=source_crs, geometry_type=meta.get("geometry_type"), notes=notes,
                       complete=max_rows is None)
