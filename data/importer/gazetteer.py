"""An address lookup (地址库 / 标准地址, a geocoded address list) that gives rows without
coordinates the point of their address.

Stations often have one: the standard-address register of the 一标三实 work, or a list
geocoded once by the city; exports of calls carry the address text alone. The lookup is
a CSV or Excel file with an address column and two coordinate columns, declared in the
mapping (``[geocode]``) and given on the command line as ``geocode=PATH``.

Matching is exact on the **normalised** address (Unicode NFKC, lower case, every space
and punctuation character removed), after ``append`` is added to the row's address (a
city or state suffix the lookup carries and the rows do not, e.g. " Charlottesville
VA"). Nothing fuzzy: a wrong point is worse than none. Repeated addresses in the lookup
keep their first row. Rows that have coordinates are never changed; lookup points go
through the same checks as any point afterwards.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..coords import to_wgs84
from . import values as V
from .errors import ImportFailure
from .mapping import GeocodeSpec

__all__ = ["Gazetteer", "GeocodeSpec", "load_gazetteer", "normalise_addresses"]

_NOISE = r"[\s\p{P}\p{Z}]+"


@dataclass(frozen=True)
class Gazetteer:
    keys: pa.Array
    """Normalised addresses, unique."""
    lon: np.ndarray
    lat: np.ndarray
    append: str = ""
    label: str = ""

    def __len__(self) -> int:
        return len(self.keys)

    def locate(self, addresses: pa.Array) -> tuple[np.ndarray, np.ndarray]:
        """(lon, lat) per address, NaN where it is not in the lookup."""
        text = pc.cast(addresses, pa.string())
        if self.append:
            text = pc.binary_join_element_wise(text, pa.scalar(self.append), "")
        idx = pc.index_in(normalise_addresses(text), value_set=self.keys)
        found = np.asarray(pc.fill_null(idx, -1).to_numpy(zero_copy_only=False), np.int64)
        lon = np.full(len(found), np.nan)
        lat = np.full(len(found), np.nan)
        hit = found >= 0
        lon[hit], lat[hit] = self.lon[found[hit]], self.lat[found[hit]]
        return lon, lat


def normalise_addresses(text: pa.Array) -> pa.Array:
    """NFKC, lower case, spaces and punctuation removed; "" becomes null."""
    s = pc.utf8_normalize(pc.cast(text, pa.string()), "NFKC")
    s = pc.replace_substring_regex(pc.utf8_lower(s), _NOISE, "")
    return pc.if_else(pc.equal(s, ""), pa.scalar(None, pa.string()), s)


def load_gazetteer(spec: GeocodeSpec) -> Gazetteer:
    """Read the lookup file of ``spec`` (cached per file and modification time);
    ImportFailure (one line) when it cannot be used."""
    if not spec.file:
        raise ImportFailure("[geocode] has no file: give geocode=PATH")
    path = Path(spec.file)
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError as exc:
        raise ImportFailure("address lookup file not found", str(path)) from exc
    return _load(spec, mtime)


@lru_cache(maxsize=4)
def _load(spec: GeocodeSpec, mtime: int) -> Gazetteer:
    from .read import read_source

    src = read_source(spec.file, encoding=spec.encoding)
    t = src.table
    missing = [c for c in (spec.address, spec.lon, spec.lat) if c not in t.column_names]
    if missing:
        raise ImportFailure(f"the address lookup has no column {missing[0]!r}; its columns: "
                            f"{', '.join(t.column_names[:12])}", src.label)
    keys = normalise_addresses(t.column(spec.address).combine_chunks())
    lon = V.parse_coordinate(t.column(spec.lon).combine_chunks()).values
    lat = V.parse_coordinate(t.column(spec.lat).combine_chunks()).values
    x = np.array(pc.fill_null(lon, np.nan).to_numpy(zero_copy_only=False), np.float64)
    y = np.array(pc.fill_null(lat, np.nan).to_numpy(zero_copy_only=False), np.float64)
    ok = np.asarray(pc.is_valid(keys).to_numpy(zero_copy_only=False), bool) & \
        np.isfinite(x) & np.isfinite(y)
    if spec.coord_system != "wgs84" and ok.any():
        x[ok], y[ok] = to_wgs84(x[ok], y[ok], spec.coord_system)
    k = keys.filter(pa.array(ok))
    x, y = x[ok], y[ok]
    # the first row of a repeated address
    _, first = np.unique(np.asarray(k.to_pylist(), dtype=object), return_index=True)
    first = np.sort(first)
    return Gazetteer(k.take(pa.array(first)), x[first], y[first], spec.append, src.label)
