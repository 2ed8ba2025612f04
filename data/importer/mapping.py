"""The mapping: which source column feeds which schema column, per table and file.

A mapping is data. ``propose`` builds one from the files; ``to_toml`` writes it as a
commented TOML file the user reviews, edits and passes back with ``--mapping`` next
month; ``load_mapping`` reads it (``tomllib``) and checks it, failing with one line
naming the file, the entry and the key. With a mapping file nothing is guessed about
columns or values: the result depends only on the files and the mapping.

Shape of the file (every key but ``files`` and ``columns`` is optional)::

    region = "示范县"
    coord_system = "wgs84"        # datum of lon/lat in the files: wgs84, gcj02, bd09
    crs = "EPSG:4547"             # projected x/y in the files (metres)
    timezone = "Asia/Shanghai"    # for times written with an offset or Z

    [area_names]                  # names in the files → an area's id or name
    "Central Business District" = "Downtown"

    [[incidents]]                 # one entry per kind of file; the first that fits wins
    files = "警情*.csv"            # glob on the file name (name#sheet for workbooks)
    encoding = "gb18030"
    header_row = 3                # 1 = the first row of the file or sheet
    id = "content"                # no id column: derive ids from the row's content
    area_from_address = false     # find an area's name inside the address
    placeholders = ["X NK_LOC ST"]  # texts meaning "not known": NULL, and no point
    [incidents.columns]
    incident_id = "警情编号"
    reported_at = { date = "发案日期", time = "发案时段" }
    address = ["门牌号", "街路巷"]  # text columns joined by a space
    status = { value = "closed" } # a constant
    [incidents.values.category]
    "刑事案件" = "criminal"
    [incidents.formats]
    reported_at = "roc"           # roc, dmy, mdy or a strptime format
"""

from __future__ import annotations

import fnmatch
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..schema import COORD_SYSTEMS, DATA_TABLES, TABLES
from .errors import ImportFailure

PART_KEYS = ("date", "time", "year", "month", "day", "hour", "minute", "second")
EXTRA_TARGETS = ("geometry",)  # geom_wkb of areas, or lon/lat of point tables, from a GIS file


@dataclass
class ColumnSource:
    """One schema column's source: a column, parts in several columns, or a constant."""

    column: str | None = None
    parts: dict[str, str] = field(default_factory=dict)
    value: str | None = None
    join: list[str] = field(default_factory=list)
    """Text columns joined by a space (``["BlockNumber", "StreetName"]``)."""

    def source_columns(self) -> list[str]:
        return [self.column] if self.column else [*self.parts.values(), *self.join]

    def describe(self) -> str:
        if self.value is not None:
            return f"= {self.value!r}"
        if self.join:
            return " ".join(self.join)
        if self.parts:
            return " + ".join(f"{k}:{v}" for k, v in self.parts.items())
        return str(self.column)


@dataclass
class FileMapping:
    files: str
    columns: dict[str, ColumnSource] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    formats: dict[str, str] = field(default_factory=dict)
    encoding: str | None = None
    delimiter: str | None = None
    header_row: int | None = None
    """0-based in memory; 1-based in the file."""
    sheet: str | None = None
    crs: str | None = None
    coord_system: str | None = None
    id: str | None = None
    """``content`` when ids are derived from the row's content."""
    area_from_address: bool = False
    placeholders: list[str] = field(default_factory=list)
    """Cell texts that mean "not known" here ("X NK_LOC ST"): NULL; a row whose address is
    one has no point either (its x/y were a stand-in too)."""
    notes: list[str] = field(default_factory=list)
    """Why things were proposed as they were (written as comments, never read back)."""

    def matches(self, label: str) -> bool:
        name = label.split("#", 1)[0]
        return fnmatch.fnmatchcase(label, self.files) or fnmatch.fnmatchcase(name, self.files)

    def missing_columns(self, headers: list[str]) -> list[tuple[str, str]]:
        """(schema column, source column) pairs whose source column the file lacks."""
        have = set(headers)
        return [(t, c) for t, s in self.columns.items() for c in s.source_columns()
                if c not in have and c != "_geometry"]


@dataclass(frozen=True)
class GeocodeSpec:
    """The ``[geocode]`` section: an address lookup for rows without coordinates
    (``data/importer/gazetteer.py``)."""

    file: str | None = None
    """The lookup file; relative to the mapping file's folder. ``geocode=PATH`` on the
    command line replaces it."""
    address: str = "address"
    lon: str = "lon"
    lat: str = "lat"
    append: str = ""
    """Text added to each row's address before matching (a suffix the lookup has)."""
    coord_system: str = "wgs84"
    encoding: str | None = None


@dataclass
class ImportMapping:
    region: str | None = None
    coord_system: str = "wgs84"
    crs: str | None = None
    timezone: str | None = None
    area_names: dict[str, str] = field(default_factory=dict)
    tables: dict[str, list[FileMapping]] = field(default_factory=dict)
    path: str | None = None
    """Where it was read from (for ``meta.source`` and the report)."""
    geocode: GeocodeSpec | None = None

    def entry_for(self, table: str, label: str, headers: list[str]) -> FileMapping | None:
        """The first entry whose pattern matches and whose columns the file has.

        Raises ImportFailure when entries match by name but the file lacks a column.
        """
        named = [e for e in self.tables.get(table, []) if e.matches(label)]
        for e in named:
            if not e.missing_columns(headers):
                return e
        if named:
            target, col = named[0].missing_columns(headers)[0]
            raise ImportFailure(f"the mapping's column {col!r} (for {target}) is not in the "
                                f"file; its columns: {', '.join(headers[:12])}", label)
        return None


# --------------------------------------------------------------------------- reading

_TOP = {"region", "coord_system", "crs", "timezone", "area_names", "geocode", *DATA_TABLES}
_GEOCODE = {"file", "address", "lon", "lat", "append", "coord_system", "encoding"}
_ENTRY = {"files", "columns", "values", "formats", "encoding", "delimiter", "header_row",
          "sheet", "crs", "coord_system", "id", "area_from_address", "placeholders"}


class _Bad(Exception):
    pass


def _str(v: Any, where: str) -> str:
    if not isinstance(v, str) or not v.strip():
        raise _Bad(f"{where} should be non-empty text, not {v!r}")
    return v


def _opt_str(d: dict, key: str, where: str) -> str | None:
    return _str(d[key], f"{where}.{key}") if key in d else None


def _column_source(table: str, target: str, v: Any, where: str) -> ColumnSource:
    spec = TABLES[table]
    names = {c.name for c in spec.columns} | set(EXTRA_TARGETS)
    if target not in names:
        raise _Bad(f"{where}: {target!r} is not a column of {table} "
                   f"({', '.join(c.name for c in spec.columns)})")
    if isinstance(v, str):
        return ColumnSource(column=_str(v, f"{where}.{target}"))
    if isinstance(v, list) and v:
        kind = next(c.kind for c in spec.columns if c.name == target) if target in {
            c.name for c in spec.columns} else None
        if kind != "text":
            raise _Bad(f"{where}.{target}: a list of columns is only for text columns")
        return ColumnSource(join=[_str(x, f"{where}.{target}") for x in v])
    if isinstance(v, dict):
        if set(v) == {"value"}:
            return ColumnSource(value=str(v["value"]))
        bad = set(v) - set(PART_KEYS)
        if bad or not v:
            raise _Bad(f"{where}.{target}: parts must be among {', '.join(PART_KEYS)}, "
                       f"or {{ value = ... }}")
        return ColumnSource(parts={k: _str(x, f"{where}.{target}.{k}") for k, x in v.items()})
    raise _Bad(f"{where}.{target} should be a column name, {{ date = .., time = .. }} "
               f"or {{ value = .. }}")


def _entry(table: str, d: Any, i: int) -> FileMapping:
    where = f"[[{table}]] #{i + 1}"
    if not isinstance(d, dict):
        raise _Bad(f"{where} should be a table")
    unknown = set(d) - _ENTRY
    if unknown:
        raise _Bad(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    if "files" not in d:
        raise _Bad(f"{where}: 'files' (a file name pattern) is missing")
    cols = d.get("columns", {})
    if not isinstance(cols, dict):
        raise _Bad(f"{where}.columns should be a table")
    e = FileMapping(files=_str(d["files"], f"{where}.files"))
    e.columns = {t: _column_source(table, t, v, f"{where}.columns") for t, v in cols.items()}
    values = d.get("values", {})
    if not isinstance(values, dict):
        raise _Bad(f"{where}.values should be a table")
    for target, pairs in values.items():
        col = next((c for c in TABLES[table].columns if c.name == target), None)
        if col is None or (col.codes is None and col.kind != "boolean"):
            raise _Bad(f"{where}.values: {target!r} is not a code column of {table}")
        if not isinstance(pairs, dict):
            raise _Bad(f"{where}.values.{target} should be a table of value = code")
        codes = col.codes or ("true", "false")
        for k, code in pairs.items():
            if code not in (*codes, "other") and code != "":
                raise _Bad(f"{where}.values.{target}: {k!r} = {code!r}, but the codes are "
                           + ", ".join(codes))
        e.values[target] = {str(k): str(c) for k, c in pairs.items()}
    formats = d.get("formats", {})
    if not isinstance(formats, dict) or not all(isinstance(x, str) for x in formats.values()):
        raise _Bad(f"{where}.formats should be a table of column = format")
    e.formats = dict(formats)
    e.encoding = _opt_str(d, "encoding", where)
    if e.encoding:
        import codecs

        try:
            codecs.lookup(e.encoding)
        except LookupError as exc:
            raise _Bad(f"{where}.encoding: unknown encoding {e.encoding!r}") from exc
    e.delimiter = d.get("delimiter")
    if e.delimiter is not None and (not isinstance(e.delimiter, str) or len(e.delimiter) != 1):
        raise _Bad(f"{where}.delimiter should be one character")
    if "header_row" in d:
        if not isinstance(d["header_row"], int) or d["header_row"] < 1:
            raise _Bad(f"{where}.header_row should be a row number from 1")
        e.header_row = d["header_row"] - 1
    e.sheet = _opt_str(d, "sheet", where)
    e.crs = _opt_str(d, "crs", where)
    e.coord_system = _opt_str(d, "coord_system", where)
    if e.coord_system and e.coord_system not in COORD_SYSTEMS:
        raise _Bad(f"{where}.coord_system should be one of {', '.join(COORD_SYSTEMS)}")
    e.id = _opt_str(d, "id", where)
    if e.id not in (None, "content", "column"):
        raise _Bad(f"{where}.id should be \"content\" or \"column\"")
    e.area_from_address = bool(d.get("area_from_address", False))
    ph = d.get("placeholders", [])
    if not isinstance(ph, list) or not all(isinstance(x, str) for x in ph):
        raise _Bad(f"{where}.placeholders should be a list of texts")
    e.placeholders = list(ph)
    return e


def parse_mapping(doc: dict[str, Any], path: str | None = None) -> ImportMapping:
    unknown = set(doc) - _TOP
    if unknown:
        raise _Bad(f"unknown key(s) {', '.join(sorted(unknown))} (tables: "
                   f"{', '.join(DATA_TABLES)})")
    m = ImportMapping(path=path)
    m.region = _opt_str(doc, "region", "region") if "region" in doc else None
    m.coord_system = doc.get("coord_system", "wgs84")
    if m.coord_system not in COORD_SYSTEMS:
        raise _Bad(f"coord_system should be one of {', '.join(COORD_SYSTEMS)}")
    m.crs = _opt_str(doc, "crs", "crs")
    m.timezone = _opt_str(doc, "timezone", "timezone")
    names = doc.get("area_names", {})
    if not isinstance(names, dict) or not all(isinstance(v, str) for v in names.values()):
        raise _Bad("[area_names] should be a table of name = area")
    m.area_names = dict(names)
    if "geocode" in doc:
        m.geocode = _geocode(doc["geocode"], path)
    for table in DATA_TABLES:
        if table not in doc:
            continue
        entries = doc[table]
        if isinstance(entries, dict):
            entries = [entries]
        if not isinstance(entries, list):
            raise _Bad(f"{table} should be [[{table}]] entries")
        m.tables[table] = [_entry(table, d, i) for i, d in enumerate(entries)]
    return m


def _geocode(d: Any, path: str | None) -> GeocodeSpec:
    if not isinstance(d, dict):
        raise _Bad("[geocode] should be a table (file, address, lon, lat, append)")
    unknown = set(d) - _GEOCODE
    if unknown:
        raise _Bad(f"[geocode]: unknown key(s) {', '.join(sorted(unknown))}")
    vals = {k: _str(v, f"geocode.{k}") for k, v in d.items()}
    if vals.get("coord_system", "wgs84") not in COORD_SYSTEMS:
        raise _Bad(f"geocode.coord_system should be one of {', '.join(COORD_SYSTEMS)}")
    if "file" in vals and path is not None and not Path(vals["file"]).is_absolute():
        vals["file"] = str(Path(path).parent / vals["file"])
    return GeocodeSpec(**vals)


def load_mapping(path: str | Path) -> ImportMapping:
    """Read and check a mapping file; ImportFailure (one line) when it is unusable."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            doc = tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ImportFailure("mapping file not found", path.name) from exc
    except OSError as exc:
        raise ImportFailure(f"cannot read the mapping file: {exc.strerror}", path.name) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ImportFailure(f"not a valid TOML mapping file: {exc}", path.name) from exc
    try:
        return parse_mapping(doc, str(path))
    except _Bad as exc:
        raise ImportFailure(f"mapping file: {exc}", path.name) from exc


# --------------------------------------------------------------------------- writing

def q(text: str) -> str:
    """A TOML basic string (JSON's escapes are valid TOML)."""
    return json.dumps(str(text), ensure_ascii=False)


def _key(text: str) -> str:
    bare = text.replace("_", "").replace("-", "").isascii() and text.replace(
        "_", "").replace("-", "").isalnum()
    return text if bare else q(text)


def _source_toml(s: ColumnSource) -> str:
    if s.value is not None:
        return f"{{ value = {q(s.value)} }}"
    if s.parts:
        return "{ " + ", ".join(f"{k} = {q(v)}" for k, v in s.parts.items()) + " }"
    if s.join:
        return "[" + ", ".join(q(c) for c in s.join) + "]"
    return q(s.column or "")


HEADER_COMMENT = """\
# cockpit import mapping (see README: "Importing a station's files").
# Review it, edit it, and pass it next time:  cockpit import --mapping THIS.toml ...
# With a mapping file nothing is guessed: columns and values map exactly as written here;
# a value not listed below becomes "other" (and is counted in the import report).
"""


def to_toml(m: ImportMapping, comments: dict[tuple[str, int], dict[str, str]] | None = None,
            value_counts: dict[tuple[str, int, str], dict[str, int]] | None = None) -> str:
    """The mapping as a commented TOML document that ``load_mapping`` reads back.

    ``comments[(table, i)][column]`` adds a comment after a column's line (parse
    counts, examples); ``value_counts[(table, i, column)][value]`` after a value's.
    """
    comments = comments or {}
    value_counts = value_counts or {}
    out = [HEADER_COMMENT]
    out.append(f"region = {q(m.region)}" if m.region else "# region = \"...\"  "
               "# the region's name, shown in the title")
    out.append(f"coord_system = {q(m.coord_system)}  # datum of lon/lat in the files: "
               "wgs84 (also CGCS2000), gcj02, bd09")
    out.append(f"crs = {q(m.crs)}  # x/y in metres in this CRS" if m.crs
               else "# crs = \"EPSG:4547\"  # when the files hold projected x/y in metres")
    out.append(f"timezone = {q(m.timezone)}" if m.timezone
               else "# timezone = \"Asia/Shanghai\"  # for times written with an offset or Z")
    out.append("")
    out.append("[area_names]  # area names in the files that differ from the areas' names")
    for k, v in m.area_names.items():
        out.append(f"{q(k)} = {q(v)}")
    if m.geocode is not None:
        g = m.geocode
        out += ["", "[geocode]  # address lookup for rows without coordinates (exact match "
                "of the normalised address)"]
        if g.file:
            out.append(f"file = {q(g.file)}")
        for key in ("address", "lon", "lat", "append", "coord_system", "encoding"):
            val = getattr(g, key)
            if val:
                out.append(f"{key} = {q(val)}")
    for table, entries in m.tables.items():
        for i, e in enumerate(entries):
            out += ["", f"[[{table}]]"]
            out += [f"# {n}" for n in e.notes]
            out.append(f"files = {q(e.files)}")
            for key in ("encoding", "sheet", "crs", "coord_system", "id"):
                val = getattr(e, key)
                if val:
                    out.append(f"{key} = {q(val)}")
            if e.delimiter:
                out.append(f"delimiter = {q(e.delimiter)}")
            if e.header_row is not None:
                out.append(f"header_row = {e.header_row + 1}  # 1 = the first row")
            if e.area_from_address:
                out.append("area_from_address = true  # area names found in the address text")
            if e.placeholders:
                out.append("placeholders = [" + ", ".join(q(p) for p in e.placeholders) + "]")
            out.append(f"[{table}.columns]")
            notes = comments.get((table, i), {})
            for col in TABLES[table].columns:
                name = col.name
                src = e.columns.get(name)
                if name == "geom_wkb" and "geometry" in e.columns:
                    src, name = e.columns["geometry"], "geometry"
                if src is None and name == TABLES[table].id_column and e.id == "content":
                    out.append(f"# {name}: derived from each row's content (id = \"content\")")
                    continue
                if src is None:
                    why = ("no column found: left empty" if not col.required
                           else "no column found")
                    out.append(f"# {name} = \"...\"  # {why}")
                    continue
                note = notes.get(name)
                out.append(f"{name} = {_source_toml(src)}" + (f"  # {note}" if note else ""))
            if "geometry" in e.columns and table != "areas":
                out.append(f"geometry = {_source_toml(e.columns['geometry'])}")
            targets = list(e.values) + [t for (tb, j, t) in value_counts
                                        if tb == table and j == i and t not in e.values]
            for target in targets:
                pairs = e.values.get(target, {})
                counts = value_counts.get((table, i, target), {})
                if not pairs and not counts:
                    continue
                out.append(f"[{table}.values.{target}]")
                for k, v in pairs.items():
                    n = counts.get(k)
                    out.append(f"{q(k)} = {q(v)}" + (f"  # {n} row(s)" if n is not None else ""))
                fallback = TABLES[table].column(target).fallback or ""
                for k, n in counts.items():
                    if k not in pairs:
                        out.append(f"# {q(k)} = {q(fallback)}  # {n} row(s): matches no code; "
                                   "set one here")
            if e.formats:
                out.append(f"[{table}.formats]")
                for k, v in e.formats.items():
                    out.append(f"{_key(k)} = {q(v)}")
    return "\n".join(out) + "\n"
