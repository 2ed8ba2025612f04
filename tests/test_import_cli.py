"""``cockpit import`` as a user runs it: dry run, bad input (exit 2, one line, nothing
written, sources untouched), atomic replacement and cancel."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from openpyxl import Workbook

from data.importer.errors import ImportCancelled
from data.importer.run import parse_inputs, run_import

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COCKPIT_CACHE_DIR": str(cwd / ".cache")}
    return subprocess.run([sys.executable, str(ROOT / "main.py"), "import", *args], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=300)


def _csv(path: Path, lines: list[str], codec: str = "gb18030") -> Path:
    path.write_bytes("\r\n".join(lines).encode(codec) + b"\r\n")
    return path


def incidents_csv(folder: Path, name: str = "警情2024-05.csv") -> Path:
    return _csv(folder / name, [
        "某县公安局警情明细", "警情编号,报警时间,警情类别,经度,纬度,发案地址,处置状态",
        "JQ1,2024-05-02 13:04:05,刑事,114.90,27.10,东街1号,已办结",
        "JQ2,2024/5/3 08:00,诈骗,114.91,27.11,西街2号,处置中",
        "JQ3,2024年5月4日 9时30分,奇怪的类别,,,北街3号,待处置"])


def _hash_dir(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture
def work(tmp_path: Path) -> dict[str, Path]:
    src = tmp_path / "src"
    out = tmp_path / "out"
    src.mkdir()
    out.mkdir()
    return {"src": src, "out": out, "root": tmp_path}


def test_dry_run_prints_the_mapping_and_writes_nothing(work: dict[str, Path]) -> None:
    incidents_csv(work["src"])
    before = _hash_dir(work["src"])
    r = cli("--dry-run", "--out", str(work["out"] / "x.duckdb"),
            f"incidents={work['src']}/警情*.csv", cwd=work["root"])
    assert r.returncode == 0, r.stderr
    doc = tomllib.loads(r.stdout)
    entry = doc["incidents"][0]
    assert entry["files"] == "警情*-*.csv" and entry["encoding"] == "gb18030"
    assert entry["columns"]["reported_at"] == "报警时间"
    assert entry["values"]["category"] == {"刑事": "criminal", "诈骗": "fraud"}
    assert "奇怪的类别" in r.stdout  # listed in a comment, for the user to set
    assert "3 of 3 read" in r.stdout and "dry run: nothing written" in r.stderr
    assert list(work["out"].iterdir()) == []
    assert _hash_dir(work["src"]) == before


def test_import_then_validate_and_json_report(work: dict[str, Path]) -> None:
    incidents_csv(work["src"])
    out = work["out"] / "x.duckdb"
    r = cli("--json", "--region", "测试县", "--out", str(out),
            f"incidents={work['src']}/警情2024-05.csv", cwd=work["root"])
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    cols = doc["files"][0]["columns"]
    assert cols["category"]["to_other"] == {"奇怪的类别": 1}
    assert cols["lon"]["blank"] == 1 and cols["reported_at"]["read"] == 3
    assert doc["meta"]["region_name"] == "测试县" and doc["written"]
    assert sorted(p.name for p in work["out"].iterdir()) == ["x.duckdb", "x.duckdb.mapping.toml"]
    v = subprocess.run([sys.executable, str(ROOT / "main.py"), "validate", str(out), "--json"],
                       capture_output=True, text=True, timeout=120,
                       env={**os.environ, "COCKPIT_CACHE_DIR": str(work["root"] / ".c")})
    assert v.returncode == 0, v.stderr
    tables = json.loads(v.stdout)["tables"]
    assert tables["incidents"]["rows"] == 3 and tables["incidents"]["quarantined"] == 0
    assert tables["incidents"]["adjusted"] == {}


def _no_header_workbook(path: Path) -> Path:
    wb = Workbook()
    for i in range(5):
        wb.active.append([i, 2.5 * i, 45414 + i])
    wb.save(path)
    return path


def _bad_inputs(src: Path) -> dict[str, tuple[list[str], str, str | None]]:
    """name → (arguments, file named in the message, column named in the message)."""
    fake = src / "警情.xlsx"
    fake.write_bytes("警情编号,报警时间\nJQ1,2024-05-02\n".encode("gb18030"))
    no_time = _csv(src / "缺时间.csv", ["警情编号,警情类别", "JQ1,刑事"])
    projected = _csv(src / "投影.csv", ["警情编号,报警时间,X,Y", "JQ1,2024-05-02,491059,5459122"])
    bad_map = src / "bad.toml"
    bad_map.write_text("[[incidents]\nfiles = ", encoding="utf-8")
    wrong_key = src / "wrong.toml"
    wrong_key.write_text('[[incidents]]\nfiles = "*.csv"\n[incidents.columns]\n'
                         'reported = "报警时间"\n', encoding="utf-8")
    missing_col = src / "missing.toml"
    missing_col.write_text('[[incidents]]\nfiles = "*.csv"\n[incidents.columns]\n'
                           'reported_at = "接警时间"\n', encoding="utf-8")
    good = incidents_csv(src)
    return {
        "not_what_its_name_says": ([f"incidents={fake}"], "警情.xlsx", None),
        "sheet_without_header": ([f"incidents={_no_header_workbook(src / '无表头.xlsx')}"],
                                 "无表头.xlsx", None),
        "required_column_missing": ([f"incidents={no_time}"], "缺时间.csv", "reported_at"),
        "unreadable_mapping": (["--mapping", str(bad_map), f"incidents={good}"], "bad.toml",
                               None),
        "mapping_with_an_unknown_column": (["--mapping", str(wrong_key), f"incidents={good}"],
                                           "wrong.toml", None),
        "mapping_column_not_in_the_file": (["--mapping", str(missing_col),
                                            f"incidents={good}"], good.name, "接警时间"),
        "glob_matching_nothing": ([f"incidents={src}/没有*.csv"], "没有*.csv", None),
        "unknown_table": ([f"cases={good}"], "cases", None),
        "projected_without_crs": ([f"incidents={projected}"], "投影.csv", "X"),
        "bad_crs": (["--crs", "EPSG:999999", f"incidents={good}"], "EPSG:999999", None),
    }


BAD = ["not_what_its_name_says", "sheet_without_header", "required_column_missing",
       "unreadable_mapping", "mapping_with_an_unknown_column", "mapping_column_not_in_the_file",
       "glob_matching_nothing", "unknown_table", "projected_without_crs", "bad_crs"]


@pytest.mark.parametrize("case", BAD)
def test_bad_input_one_line_exit_2_nothing_written(work: dict[str, Path], case: str) -> None:
    args, file, column = _bad_inputs(work["src"])[case]
    before = _hash_dir(work["src"])
    out = work["out"] / "x.duckdb"
    r = cli("--out", str(out), *args, cwd=work["root"])
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    assert file in lines[0], lines[0]
    if column:
        assert column in lines[0], lines[0]
    assert "Traceback" not in r.stderr
    assert list(work["out"].iterdir()) == []
    assert _hash_dir(work["src"]) == before


def test_a_failed_import_leaves_the_old_extract(work: dict[str, Path]) -> None:
    good = incidents_csv(work["src"])
    out = work["out"] / "x.duckdb"
    assert cli("--out", str(out), f"incidents={good}", cwd=work["root"]).returncode == 0
    old = hashlib.sha256(out.read_bytes()).hexdigest()
    bad = _csv(work["src"] / "缺时间.csv", ["警情编号,警情类别", "JQ1,刑事"])
    r = cli("--out", str(out), f"incidents={good}", f"incidents={bad}", cwd=work["root"])
    assert r.returncode == 2
    assert hashlib.sha256(out.read_bytes()).hexdigest() == old
    assert sorted(p.name for p in work["out"].iterdir()) == ["x.duckdb", "x.duckdb.mapping.toml"]


@pytest.mark.parametrize("fmt", ["duckdb", "parquet"])
def test_cancel_leaves_nothing_behind(work: dict[str, Path], fmt: str) -> None:
    good = incidents_csv(work["src"])
    out = work["out"] / ("x.duckdb" if fmt == "duckdb" else "x")
    stages: list[str] = []

    def progress(stage: str, fraction: float) -> None:
        stages.append(stage)
        if fraction > 0.3:
            raise ImportCancelled()

    with pytest.raises(ImportCancelled):
        run_import(parse_inputs([f"incidents={good}"]), out, fmt=fmt, progress=progress)
    assert stages and list(work["out"].iterdir()) == []


def test_parquet_form_replaces_a_folder_atomically(work: dict[str, Path]) -> None:
    good = incidents_csv(work["src"])
    out = work["out"] / "extract"
    for _ in range(2):
        r = cli("--format", "parquet", "--out", str(out), f"incidents={good}", cwd=work["root"])
        assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in out.iterdir()) == ["incidents", "meta.parquet"]
    assert sorted(p.name for p in work["out"].iterdir()) == ["extract", "extract.mapping.toml"]
