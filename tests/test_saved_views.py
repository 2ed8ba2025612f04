"""Saved views (书签): the store, a restart of the window, a damaged file, the wall's
playlist and ``export --view``. Every round trip goes through the file on disk."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from data.filters import FilterState
from data.saved_views import SavedView, ViewStore, new_view, state_from_json, state_to_json
from exporters.audit import read_audit
from tests.test_cockpit_window import _dispose_windows, _zh, open_window, wait_frame  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
SHOTS = os.environ.get("COCKPIT_SHOTS")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from demo import generate_demo

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    generate_demo(path, incidents=20_000, seed=11)
    return path


def every_field() -> FilterState:
    return FilterState(start=date(2026, 1, 1), end=date(2026, 3, 31), areas=frozenset({"T01"}),
                       incident_categories=frozenset({"fraud", "criminal"}),
                       incident_statuses=frozenset({"open"}),
                       resource_kinds=frozenset({"officer"}), available_only=True,
                       hazard_categories=frozenset({"road"}), risk_levels=frozenset({"major"}),
                       dispute_categories=frozenset({"land"}),
                       dispute_levels=frozenset({"town"}),
                       dispute_statuses=frozenset({"pending"}),
                       mediator_kinds=frozenset({"police"}), as_of=date(2026, 4, 2),
                       start_hour=6, end_hour=20)


def test_every_field_is_set_by_the_fixture() -> None:
    # a field added to FilterState later must be added here too, or its round trip goes untested
    default, st = FilterState(), every_field()
    unset = [f.name for f in dataclasses.fields(FilterState)
             if getattr(st, f.name) == getattr(default, f.name)]
    assert unset == []


# --------------------------------------------------------------------------- the store
def test_every_filter_field_round_trips_through_json() -> None:
    st = every_field()
    assert state_from_json(json.loads(json.dumps(state_to_json(st)))) == st
    assert state_from_json({}) == FilterState()
    with pytest.raises((TypeError, ValueError)):
        state_from_json({"areas": "T01"})
    with pytest.raises(ValueError):
        state_from_json({"start": "2026-02-01", "end": "2026-01-01"})


def test_views_round_trip_in_order_and_replace_in_place(tmp_path: Path) -> None:
    path = tmp_path / "views.json"
    store = ViewStore(path)
    a = new_view("甲", "示范县", every_field(), (1.0, 2.0, 3.0, 4.0),
                 {"hazards": True, "situation": False, "theme": "light"}, who="王")
    b = new_view("乙", "示范县", FilterState(), None, {})
    store.save(a)
    store.save(b)
    again = ViewStore(path).views()  # a new store reads the file: a restart
    assert again == [a, b]
    assert again[0].options() == {"situation": False, "hazards": True}  # no theme kept
    a2 = replace(a, filter=FilterState())
    store.save(a2)
    assert ViewStore(path).views() == [a2, b]  # replaced where it was
    assert store.delete("甲") and not store.delete("甲")
    assert ViewStore(path).names() == ["乙"]
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["version"] == 1 and doc["views"][0]["name"] == "乙"
    assert not list(tmp_path.glob(".views.json.tmp*"))  # written by rename, nothing left over


def test_a_damaged_file_is_set_aside_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "views.json"
    path.write_bytes(b'{"version": 1, "views": [{"name": "x", "filt')  # cut short
    store = ViewStore(path)
    got = store.load()
    assert got.items == [] and got.warnings and "damaged" in got.warnings[0]
    aside = list(tmp_path.glob("views.json.broken-*"))
    assert len(aside) == 1 and aside[0].read_bytes().startswith(b'{"version"')
    assert not path.exists()
    store.save(new_view("新", "示范县", FilterState(), None, {}))  # saving works again
    assert ViewStore(path).names() == ["新"]
    for bad in (b"\xff\xfe\x00", b"[]", b'{"views": 3}', b"null"):
        path.write_bytes(bad)
        assert ViewStore(path).load().items == []
    assert len(list(tmp_path.glob("views.json.broken-*"))) == 5


def test_a_bad_entry_is_left_out_and_a_copy_kept(tmp_path: Path) -> None:
    path = tmp_path / "views.json"
    good = new_view("好", "示范县", FilterState(), None, {}).to_json()
    path.write_text(json.dumps({"version": 1, "views": [
        good, {"name": "", "filter": {}}, {"name": "坏", "filter": {"start": "明天"}},
        {"name": "坏2", "extent": [1, 2]}, "text"]}), encoding="utf-8")
    got = ViewStore(path).load()
    assert [v.name for v in got.items] == ["好"]
    assert len([w for w in got.warnings if "ignored" in w]) == 4
    assert got.kept_aside is not None and got.kept_aside.exists()
    assert path.exists()  # the file itself is untouched until the next save


# --------------------------------------------------------------------------- the window
def test_a_view_survives_a_restart_and_ctrl_1_recalls_it(qtbot, demo: Path) -> None:
    win = open_window(qtbot, demo)
    areas = win.extract.areas
    town = areas.ids[areas.at_level("town")[2]]
    state = (FilterState().with_window(date(2026, 6, 1), date(2026, 9, 30))
             .with_areas({town}).with_set("incident_categories", {"fraud"}))
    win.session.filters.set(state)
    win.session.options.update(hazards=True, hotspots=False, choropleth=True)
    win.board.map.zoom_to_area(town)
    wait_frame(qtbot, win)
    saved = win.tools.bookmarks.save("云台镇 诈骗")
    extent = win.board.canvas.map_view()
    win.close()

    again = open_window(qtbot, demo)  # a new window reads views.json
    assert again.session.filters.state == FilterState()
    again.tools.bookmarks.rebuild()
    texts = [a.text() for a in again.tools.m_views.actions()]
    assert any(t.startswith("云台镇 诈骗\tCtrl+1") for t in texts)
    if SHOTS:
        again.tools.m_views.popup(again.mapToGlobal(again.rect().center()))
        qtbot.wait(200)
        again.grab().save(str(Path(SHOTS) / "bookmark_menu.png"))
        again.tools.m_views.hide()
    qtbot.keyClick(again, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert again.session.filters.state == saved.filter == state
    o = again.session.options.value
    assert (o.hazards, o.hotspots, o.choropleth) == (True, False, True)
    wait_frame(qtbot, again)
    view = again.board.canvas.map_view()
    cx, cy = (view.x0 + view.x1) / 2, (view.y0 + view.y1) / 2
    assert abs(cx - (extent.x0 + extent.x1) / 2) < 50 and abs(cy - (extent.y0 + extent.y1) / 2) < 50
    assert again.tools.bookmarks.apply_index(5) is False  # no sixth view: nothing happens


def test_a_damaged_file_in_the_window_is_a_message(qtbot, demo: Path) -> None:
    from data.saved_views import views_path

    views_path().parent.mkdir(parents=True, exist_ok=True)
    views_path().write_text("{ not json", encoding="utf-8")
    win = open_window(qtbot, demo)
    assert "views.json" in win.statusBar().currentMessage()  # said when the menu was built
    assert list(views_path().parent.glob("views.json.broken-*"))
    messages: list[str] = []
    win.tools.bookmarks.message.connect(messages.append)
    win.tools.m_views.aboutToShow.emit()
    assert messages == []  # said once, not at every opening of the menu
    assert [a.text() for a in win.tools.m_views.actions()][-1] == "（尚无书签）"
    win.tools.bookmarks.save("重新开始")
    assert ViewStore().names() == ["重新开始"]


# --------------------------------------------------------------------------- the wall
def test_the_wall_playlist_names_a_saved_view(qtbot, demo: Path) -> None:
    from desktop.wall_config import WallView, load_config, parse
    from tests.test_wall import _WALLS, open_wall

    town = "T03"
    view = new_view("夜间态势", "示范县", FilterState().with_areas({town}).with_set(
        "incident_categories", {"public_order"}), None,
        {"situation": True, "hazards": True, "repeats": True})
    ViewStore().save(view)
    cfg = parse('[[views]]\nname = "书签视图"\nview = "夜间态势"\nfocus = "kpis"\n'
                '[[views]]\nname = "丢失"\nview = "没有这个"\n',
                load_config(demo.parent / "none.toml"))
    assert [v.saved for v in cfg.views] == ["夜间态势", "没有这个"] and not [
        w for w in cfg.warnings if "view" in w and "none.toml" not in w]
    cfg = replace(cfg, check_seconds=0.2, retry_seconds=0.5)
    win = open_wall(qtbot, demo, cfg)
    try:
        assert win.current_view().saved == "夜间态势"
        assert win.session.filters.state == view.filter
        assert win.session.options.value.hazards is True
        assert win.session.options.value.repeats is False  # the wall's privacy holds
        assert win.banner.view.text() == "书签视图"
        win.next_view()  # a missing saved view: the whole region, no crash
        assert win.session.filters.state.areas == frozenset()
    finally:
        _WALLS.remove(win) if win in _WALLS else None
        win.close()
    assert WallView(name="x").saved == ""


# --------------------------------------------------------------------------- exports
def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, env=dict(os.environ),
                          capture_output=True, text=True, timeout=300)


def test_export_takes_a_saved_view(demo: Path, tmp_path: Path) -> None:
    view = new_view("城关 诈骗", "示范县", FilterState().with_window(
        date(2026, 1, 1), date(2026, 6, 30)).with_areas({"T01"}).with_set(
        "incident_categories", {"fraud"}), None, {})
    ViewStore().save(view)
    out = run("export", str(demo), "--xlsx", str(tmp_path / "v.xlsx"), "--view", "城关 诈骗")
    assert out.returncode == 0, out.stderr
    line = read_audit()[-1]
    assert line["action"] == "export_xlsx"
    assert line["filter"]["areas"] == ["T01"] and line["filter"]["start"] == "2026-01-01"
    assert line["filter"]["incident_categories"] == ["fraud"]
    # the command line wins over the view where it speaks
    out = run("export", str(demo), "--xlsx", str(tmp_path / "w.xlsx"), "--view", "城关 诈骗",
              "--from", "2026-03-01")
    assert out.returncode == 0, out.stderr
    line = read_audit()[-1]
    assert line["filter"]["start"] == "2026-03-01" and line["filter"]["end"] == "2026-06-30"
    out = run("export", str(demo), "--xlsx", str(tmp_path / "x.xlsx"), "--view", "没有")
    assert out.returncode == 2 and "no saved view named" in out.stderr
    assert "城关 诈骗" in out.stderr and not (tmp_path / "x.xlsx").exists()


def test_saved_view_json_is_what_the_docs_say() -> None:
    v = SavedView.from_json({"name": "  a  b ", "region": "r", "filter": {"areas": ["T1"]},
                             "extent": [0, 0, 10, 10], "layers": {"hazards": True, "x": 1},
                             "future": {"keep": True}})
    assert v.name == "a b" and v.extent == (0.0, 0.0, 10.0, 10.0)
    assert v.options() == {"hazards": True}
    assert v.to_json()["future"] == {"keep": True}  # a newer program's keys survive a save
