"""The address lookup (``[geocode]`` + ``geocode=PATH``): rows without coordinates take
the point of their address, matched exactly after normalisation; rows with a point are
never changed. Checked against a plain-Python join of the files."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import duckdb
import pytest

from data.importer.errors import ImportFailure
from data.importer.mapping import load_mapping
from data.importer.run import parse_inputs, run_import

CALLS = [  # 警情编号, 报警时间, 警情类别, 经度, 纬度, 发案地址
    ("JQ001", "2025-03-01 08:00", "刑事", "115.01", "27.01", "城关镇解放路 12 号"),
    ("JQ002", "2025-03-01 09:00", "治安", "", "", "城关镇解放路12号"),
    ("JQ003", "2025-03-02 10:00", "纠纷", "", "", "城关镇，解放路１２号"),  # full-width digits
    ("JQ004", "2025-03-02 11:00", "交通", "", "", "城关镇人民路8号"),
    ("JQ005", "2025-03-03 12:00", "求助", "", "", "城关镇不存在路1号"),
    ("JQ006", "2025-03-03 13:00", "刑事", "", "", ""),
]
LOOKUP = [  # 标准地址, 经度, 纬度 (the lookup carries the county's name in front)
    ("示范县城关镇解放路12号", "115.05", "27.05"),
    ("示范县城关镇人民路8号", "115.06", "27.06"),
    ("示范县城关镇人民路8号", "116.00", "28.00"),  # repeated: the first row wins
    ("示范县青岭镇学校路3号", "115.30", "27.30"),
]


def _norm(text: str) -> str:
    """Independent of the importer's pyarrow regex: NFKC, lower, no spaces/punctuation."""
    t = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in t if not (ch.isspace() or unicodedata.category(ch)[0] in "PZ"))


def _write(tmp_path: Path, append: str = "", lookup: list[tuple] | None = None,
           lookup_encoding: str = "gbk") -> Path:
    calls = tmp_path / "警情.csv"
    calls.write_text("警情编号,报警时间,警情类别,经度,纬度,发案地址\n" + "\n".join(
        ",".join(r) for r in CALLS) + "\n", encoding="gbk")
    book = tmp_path / "标准地址.csv"
    book.write_text("标准地址,经度,纬度\n" + "\n".join(",".join(r) for r in (lookup or LOOKUP))
                    + "\n", encoding=lookup_encoding)
    mapping = tmp_path / "map.toml"
    mapping.write_text(f"""
region = "示范县"
[geocode]
file = "标准地址.csv"
address = "标准地址"
lon = "经度"
lat = "纬度"
{f'append = "{append}"' if append else ''}

[[incidents]]
files = "警情.csv"
[incidents.columns]
incident_id = "警情编号"
reported_at = "报警时间"
category = "警情类别"
lon = "经度"
lat = "纬度"
address = "发案地址"
""", encoding="utf-8")
    return mapping


def _points(out: Path) -> dict[str, tuple]:
    con = duckdb.connect(str(out), read_only=True)
    try:
        return {r[0]: (r[1], r[2]) for r in con.execute(
            "SELECT incident_id, lon, lat FROM incidents").fetchall()}
    finally:
        con.close()


def _expected(lookup: list[tuple], append: str) -> dict[str, tuple]:
    book: dict[str, tuple] = {}
    for addr, lon, lat in lookup:
        book.setdefault(_norm(addr), (float(lon), float(lat)))  # the first row wins
    return {iid: (float(lon), float(lat)) if lon else
            book.get(_norm(addr + append), (None, None)) if addr else (None, None)
            for iid, _, _, lon, lat, addr in CALLS}


def _import(tmp_path: Path, mapping: Path, name: str):
    out = tmp_path / name
    rep = run_import(parse_inputs([f"incidents={tmp_path / '警情.csv'}"]), out,
                     load_mapping(mapping))
    assert rep.written
    return rep, _points(out)


def test_matching_is_exact(tmp_path: Path) -> None:
    # the lookup names the county in front and the rows do not: nothing is guessed
    rep, got = _import(tmp_path, _write(tmp_path), "x.duckdb")
    assert got == _expected(LOOKUP, "")
    assert [k for k, v in got.items() if v[0] is not None] == ["JQ001"]
    assert next(f for f in rep.files if f.table == "incidents").stats.geocoded == 0


def test_append_text_and_normalisation(tmp_path: Path) -> None:
    # a lookup whose addresses end with the county's name, as Charlottesville's end with
    # " Charlottesville VA": ``append`` adds it to the rows' addresses
    lookup = [(a.removeprefix("示范县") + " 示范县", x, y) for a, x, y in LOOKUP]
    rep, got = _import(tmp_path, _write(tmp_path, append="示范县", lookup=lookup),
                       "y.duckdb")
    want = _expected(lookup, "示范县")
    assert got == want
    # JQ002 and JQ003 (spaces, full-width digits, a comma) found; JQ004 the first row
    assert got["JQ002"] == got["JQ003"] == (115.05, 27.05)
    assert got["JQ004"] == (115.06, 27.06)
    assert got["JQ001"] == (115.01, 27.01)  # a row with a point keeps it
    assert got["JQ005"] == got["JQ006"] == (None, None)
    stats = next(f for f in rep.files if f.table == "incidents").stats
    assert stats.geocoded == sum(1 for r in CALLS if not r[3] and want[r[0]][0] is not None)
    assert stats.geocoded == 3
    assert "[geocode]" in rep.mapping_toml and 'append = "示范县"' in rep.mapping_toml


def test_geocode_on_the_command_line_and_a_missing_column(tmp_path: Path) -> None:
    mapping = _write(tmp_path)
    other = tmp_path / "other.csv"
    other.write_text("地址,x,y\n示范县城关镇人民路8号,1,2\n", encoding="utf-8")
    with pytest.raises(ImportFailure, match="标准地址"):
        run_import(parse_inputs([f"incidents={tmp_path / '警情.csv'}", f"geocode={other}"]),
                   tmp_path / "z.duckdb", load_mapping(mapping))
    assert not (tmp_path / "z.duckdb").exists()
    with pytest.raises(ImportFailure, match="not found"):
        parse_inputs([f"incidents={tmp_path / '警情.csv'}", "geocode=/nonexistent.csv"])


def test_lookup_without_a_file_is_a_note_not_a_failure(tmp_path: Path) -> None:
    mapping = _write(tmp_path)
    text = mapping.read_text(encoding="utf-8").replace('file = "标准地址.csv"\n', "")
    mapping.write_text(text, encoding="utf-8")
    rep = run_import(parse_inputs([f"incidents={tmp_path / '警情.csv'}"]),
                     tmp_path / "n.duckdb", load_mapping(mapping))
    assert rep.written
    notes = next(f for f in rep.files if f.table == "incidents").notes
    assert any("geocode=PATH" in n for n in notes)


def test_normalisation_matches_the_documented_rule() -> None:
    import pyarrow as pa

    from data.importer.gazetteer import normalise_addresses

    texts = ["城关镇，解放路１２号", " 100 BLOCK  Main-St. ", "Ⅻ路", "", "。。", None]
    got = normalise_addresses(pa.array(texts)).to_pylist()
    want = [(_norm(t) or None) if t is not None else None for t in texts]
    assert got == want
    assert re.fullmatch(r"城关镇解放路12号", got[0])
