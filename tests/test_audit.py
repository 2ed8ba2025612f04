"""The audit log (exporters/audit.py): append-only JSON lines, and failures that do not crash."""

from __future__ import annotations

import getpass
import json
import os
import socket
import threading
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from data.filters import FilterState
from exporters import audit as audit_mod
from exporters.audit import audit, audit_log_path, data_dir, filter_json, read_audit


@pytest.fixture(autouse=True)
def _data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test logs into its own directory, never into the user's."""
    target = tmp_path / "userdata"
    monkeypatch.setenv("COCKPIT_DATA_DIR", str(target))
    return target


STATE = (FilterState().with_window(date(2026, 1, 1), date(2026, 6, 30)).with_areas(["T03", "T01"])
         .with_set("incident_categories", ["fraud", "criminal"]))


def test_two_events_two_lines_earlier_unchanged(_data_dir: Path) -> None:
    assert audit("export_xlsx", {"output": "/tmp/a.xlsx", "extract": "/data/x.duckdb",
                                 "masked": True}, STATE)
    log = _data_dir / "audit.jsonl"
    first = log.read_bytes()
    assert audit("unmask", {"extract": "/data/x.duckdb", "reason": "研判"}, None)
    data = log.read_bytes()
    assert data.startswith(first) and first.endswith(b"\n")
    lines = data.decode().splitlines()
    assert len(lines) == 2
    a, b = (json.loads(line) for line in lines)
    assert a["action"] == "export_xlsx" and b["action"] == "unmask"
    assert a["who"] == getpass.getuser() and a["host"] == socket.gethostname()
    when = datetime.fromisoformat(a["when"])
    assert when.tzinfo is not None
    assert abs(datetime.now().astimezone() - when) < timedelta(minutes=5)
    assert a["output"] == "/tmp/a.xlsx" and a["extract"] == "/data/x.duckdb"
    assert a["filter"]["start"] == "2026-01-01" and a["filter"]["end"] == "2026-06-30"
    assert a["filter"]["areas"] == ["T01", "T03"]
    assert a["filter"]["incident_categories"] == ["criminal", "fraud"]
    assert a["details"] == {"masked": True}
    assert b["output"] is None and b["filter"] is None and b["details"] == {"reason": "研判"}
    assert read_audit() == [a, b]


def test_existing_log_is_appended_to_never_truncated(_data_dir: Path) -> None:
    _data_dir.mkdir()
    log = _data_dir / "audit.jsonl"
    old = b'{"action": "older", "note": "kept as is"}\n'
    log.write_bytes(old)
    for k in range(3):
        assert audit("export_pdf", {"output": f"/tmp/{k}.pdf"}, FilterState())
    data = log.read_bytes()
    assert data.startswith(old) and data.count(b"\n") == 4


def test_opened_for_append_only(monkeypatch: pytest.MonkeyPatch) -> None:
    flags: list[int] = []
    real_open = os.open

    def spy(path: str | os.PathLike[str], flag: int, mode: int = 0o777) -> int:
        flags.append(flag)
        return real_open(path, flag, mode)

    monkeypatch.setattr(audit_mod.os, "open", spy)
    assert audit("export_csv", {}, None)
    assert len(flags) == 1
    assert flags[0] & os.O_APPEND and not flags[0] & os.O_TRUNC


def test_concurrent_writers_keep_whole_lines(_data_dir: Path) -> None:
    def work(n: int) -> None:
        for k in range(50):
            audit("export_png", {"output": f"/tmp/{n}-{k}.png", "pad": "x" * 500}, STATE)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    events = read_audit()
    assert len(events) == 300
    assert {e["output"] for e in events} == {f"/tmp/{n}-{k}.png" for n in range(6)
                                             for k in range(50)}


def test_newlines_and_odd_values_stay_on_one_line(_data_dir: Path) -> None:
    assert audit("export_html", {"output": Path("/tmp/a\nb.html"), "at": date(2026, 1, 2),
                                 "obj": object()}, None)
    lines = (_data_dir / "audit.jsonl").read_text().splitlines()
    assert len(lines) == 1
    event = json.loads(lines[0])
    assert event["output"] == "/tmp/a\nb.html" and event["details"]["at"] == "2026-01-02"


def test_failure_is_reported_not_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("COCKPIT_DATA_DIR", str(blocker / "sub"))
    with caplog.at_level("WARNING", logger="exporters.audit"):
        assert audit("export_xlsx", {"output": "/tmp/x.xlsx"}, STATE) is False
    assert "audit log" in caplog.text and "export_xlsx" in caplog.text
    # An explicit path that is a directory fails the same way.
    assert audit("export_xlsx", {}, None, path=tmp_path) is False


def test_where_the_log_lives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COCKPIT_DATA_DIR", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert audit_log_path() == tmp_path / "explicit" / "audit.jsonl"
    monkeypatch.delenv("COCKPIT_DATA_DIR")
    assert data_dir() == tmp_path / "xdg" / "cockpit"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data_dir() == tmp_path / "home" / ".local" / "share" / "cockpit"
    assert audit("export_pdf", {}, None)
    assert len(read_audit(tmp_path / "home" / ".local" / "share" / "cockpit" / "audit.jsonl")) \
        == 1


def test_filter_json_is_plain_and_complete() -> None:
    got = filter_json(STATE.with_as_of(date(2026, 5, 1)))
    assert got is not None and json.loads(json.dumps(got)) == got
    assert set(got) == {f for f in FilterState.__dataclass_fields__}
    assert got["as_of"] == "2026-05-01" and got["available_only"] is False
    assert got["risk_levels"] == [] and filter_json(None) is None


def test_no_log_yet_reads_empty() -> None:
    assert read_audit() == []
