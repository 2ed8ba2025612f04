"""The base map and reference layers of settings.json in the desk window and on the wall,
through the session (the same files, read once; a bad one is a notice, not a crash).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import factory
import numpy as np
import pytest

from desktop.main_window import CockpitWindow
from tests.test_cockpit_window import (  # noqa: F401  (autouse fixtures)
    _WINDOWS,
    _dispose_windows,
    _zh,
    grab,
    wait_frame,
)
from tests.test_reference_layers import GREEN, write_layers
from widgets.theme import DARK

PAPER = (250, 240, 200)


def _settings(tmp_path: Path, extra_missing: bool = False) -> Path:
    from mbtiles_maker import write_mbtiles

    data = tmp_path / "data"
    data.mkdir()
    write_mbtiles(data / "base.mbtiles", (114.9, 26.9, 115.4, 27.3), range(8, 14),
                  background=PAPER, grid=None)
    write_layers(data)
    refs = [{"path": "ref.gpkg", "name": "路网", "color": "#00ff00", "width": 5}]
    if extra_missing:
        refs.append({"path": "nowhere.gpkg", "name": "缺失"})
    (data / "settings.json").write_text(json.dumps({
        "tiles": {"mbtiles": "base.mbtiles", "attribution": "测试底图"},
        "reference_layers": refs}), encoding="utf-8")
    return data


@pytest.fixture
def extract(tmp_path: Path) -> Path:
    return factory.write_extract(tmp_path / "x.duckdb", factory.full_tables(40))


def test_desk_window_draws_base_map_and_reference_layer(qtbot, tmp_path: Path, extract: Path,
                                                        monkeypatch) -> None:
    monkeypatch.setenv("COCKPIT_DATA_DIR", str(_settings(tmp_path, extra_missing=True)))
    win = CockpitWindow(DARK, "zh", interactive=False)
    _WINDOWS.append(win)
    qtbot.addWidget(win)
    win.resize(1600, 900)
    win.show()
    with qtbot.waitSignal(win.extract_opened, timeout=60_000):
        win.open_path(str(extract))
    wait_frame(qtbot, win)
    b = win.board
    qtbot.waitUntil(lambda: b.backdrop is not None and b.backdrop.settled(), timeout=30_000)
    qtbot.wait(100)
    rgb = grab(b.canvas)[:, :, :3]
    paper = np.all(np.abs(rgb.astype(int) - np.array(PAPER)) <= 3, axis=2).sum()
    green = np.all(rgb == np.array(GREEN), axis=2).sum()
    assert paper > 5_000 and green > 100, (paper, green)
    # listed in the toolbar and in the legend; the missing file is a notice in the status bar
    assert b.reference_button.isVisible()
    assert [a.text() for a in b.reference_button.actions_by_name.values()] == ["路网"]
    assert any("路网" in str(entries) for _t, entries in b.legend.sections())
    assert "nowhere.gpkg" in win.statusBar().currentMessage()
    # switched off from the list: gone from the map and from the legend
    next(iter(b.reference_button.actions_by_name.values())).setChecked(False)
    qtbot.wait(100)
    rgb = grab(b.canvas)[:, :, :3]
    assert np.all(rgb == np.array(GREEN), axis=2).sum() == 0
    assert not any("路网" in str(entries) for _t, entries in b.legend.sections())


def test_the_wall_has_the_base_map_too(qtbot, tmp_path: Path, extract: Path,
                                       monkeypatch) -> None:
    from desktop.wall import WallWindow
    from desktop.wall_config import load_config

    monkeypatch.setenv("COCKPIT_DATA_DIR", str(_settings(tmp_path)))
    win = WallWindow(str(extract), replace(load_config(tmp_path / "none.toml"), views=()))
    qtbot.addWidget(win)
    win.resize(1600, 900)
    win.show()
    win.start()
    b = win.board
    qtbot.waitUntil(lambda: win.extract is not None and b.backdrop is not None
                    and b.backdrop.settled() and not win.session.jobs.busy(), timeout=60_000)
    qtbot.wait(100)
    rgb = grab(b.canvas)[:, :, :3]
    assert np.all(np.abs(rgb.astype(int) - np.array(PAPER)) <= 3, axis=2).sum() > 5_000
    assert np.all(rgb == np.array(GREEN), axis=2).sum() > 100
    win.close()
