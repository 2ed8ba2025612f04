"""Place rows by area name: a name (or an address that contains one) → an ``area_id``.

Names are compared after normalising (NFKC: full to half width; traditional to
simplified for the usual characters, so 臺北 meets 台北; lower case; no spaces or
punctuation, so "Arbutus Ridge" meets "Arbutus-Ridge"), then once more without a
common suffix (社区, 村, 街道, 镇 ...) when that leaves only one candidate. The
mapping file's ``[area_names]`` covers the rest ("Central Business District" →
"Downtown"). The lookup is a frozen, picklable value built once from the imported
areas; rows are placed batch by batch.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .synonyms import _TRAD

_SUFFIXES = ("居民委员会", "村民委员会", "社区居委会", "街道办事处", "居委会", "村委会", "街道办",
             "社区", "街道", "网格", "村", "镇", "乡", "区", "县", "市", "里", "area",
             "district", "neighbourhood", "neighborhood")
_PUNCT = re.compile(r"[\s()（）\[\]【】.,，。、_\-—–/\\|·'’\"]+")


def norm_name(text: str) -> str:
    t = unicodedata.normalize("NFKC", str(text)).translate(_TRAD).lower()
    return _PUNCT.sub("", t)


def strip_suffix(key: str) -> str:
    for s in _SUFFIXES:
        if key.endswith(s) and len(key) > len(s) + 1:
            return key[: -len(s)]
    return key


@dataclass(frozen=True)
class AreaLookup:
    """Normalised names and ids → area id (tuples: picklable for Spark)."""

    exact: tuple[tuple[str, str], ...]
    loose: tuple[tuple[str, str], ...]
    """Suffix-stripped names that point at exactly one area."""
    renames: tuple[tuple[str, str], ...]
    """The mapping's [area_names], normalised: source name → normalised target."""
    by_level: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """(level, normalised names finest first) for finding names inside addresses."""

    def resolve(self, names: Sequence[str | None]) -> list[str | None]:
        exact, loose, renames = dict(self.exact), dict(self.loose), dict(self.renames)
        out: list[str | None] = []
        for name in names:
            if name is None:
                out.append(None)
                continue
            key = norm_name(name)
            key = renames.get(key, key)
            hit = exact.get(key) or loose.get(strip_suffix(key))
            out.append(hit)
        return out


def build_lookup(ids: Sequence[str], names: Sequence[str | None], levels: Sequence[str | None],
                 renames: Mapping[str, str] | None = None) -> AreaLookup:
    exact: dict[str, str] = {}
    for area_id in ids:
        if area_id:
            exact.setdefault(norm_name(area_id), area_id)
    named: dict[str, set[str]] = {}
    loose: dict[str, set[str]] = {}
    for area_id, name in zip(ids, names, strict=True):
        if not area_id or not name:
            continue
        key = norm_name(name)
        named.setdefault(key, set()).add(area_id)
        loose.setdefault(strip_suffix(key), set()).add(area_id)
    for key, found in named.items():
        if len(found) == 1:  # a name two areas share places nothing
            exact.setdefault(key, next(iter(found)))
    order = ("grid", "village", "town", "county")
    per_level: dict[str, list[str]] = {}
    for area_id, name, level in zip(ids, names, levels, strict=True):
        if area_id and name and len(norm_name(name)) >= 2:
            per_level.setdefault(level or "village", []).append(norm_name(name))
    by_level = tuple((lv, tuple(sorted(set(per_level[lv]), key=lambda s: (-len(s), s))))
                     for lv in order if lv in per_level)
    return AreaLookup(
        exact=tuple(sorted(exact.items())),
        loose=tuple(sorted((k, next(iter(v))) for k, v in loose.items() if len(v) == 1)),
        renames=tuple(sorted((norm_name(k), norm_name(v)) for k, v in (renames or {}).items())),
        by_level=by_level,
    )


def resolve_column(values: pa.Array, lookup: AreaLookup) -> tuple[pa.Array, np.ndarray]:
    """Area ids for a column of names or ids (distinct values resolved once); and which
    non-blank rows matched."""
    uniq = pc.unique(values)
    got = lookup.resolve(uniq.to_pylist())
    idx = pc.index_in(values, value_set=uniq)
    ids = pa.array(got, pa.string()).take(idx)
    return ids, np.asarray(pc.is_valid(ids).to_numpy(zero_copy_only=False), dtype=bool)


def find_in_addresses(addresses: pa.Array, lookup: AreaLookup) -> pa.Array:
    """The area whose name occurs in each address: the finest level first, the longest
    name first (RE2 alternation over the normalised distinct addresses)."""
    uniq = pc.unique(addresses)
    texts = pa.array([None if a is None else norm_name(a) for a in uniq.to_pylist()],
                     pa.string())
    found = pa.nulls(len(uniq), pa.string())
    exact = dict(lookup.exact)
    for _level, names in lookup.by_level:
        if not names:
            continue
        pattern = "(?P<n>" + "|".join(re.escape(n) for n in names) + ")"
        todo = pc.is_null(found)
        st = pc.extract_regex(pc.if_else(todo, texts, None), pattern)
        hit = pc.if_else(st.is_valid(), st.field("n"), None)
        found = pc.coalesce(found, hit)
    ids = pa.array([exact.get(k) if k else None for k in found.to_pylist()], pa.string())
    return ids.take(pc.index_in(addresses, value_set=uniq))
