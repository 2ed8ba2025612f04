"""The web-map tab in a real cockpit window with a real QtWebEngine page.

What the page shows is read from the page itself (JavaScript on the loaded map)
and compared with an independent pandas count of the filter (tests/oracle.py).
Base maps come from a real MBTiles file and from a real HTTP server on the
loopback address standing in for an intranet tile server; that server's own log
proves which requests reached it. Nothing here can reach another machine: the
only network address used is 127.0.0.1.
"""

from __future__ import annotations

import gc
import json
import math
import os
import sqlite3
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import shiboken6

os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--disable-gpu")

from PySide6.QtCore import QBuffer, QByteArray, QEvent, QIODevice
from PySide6.QtGui import QColor, QImage
from PySide6.QtWebEngineCore import QWebEnginePage, QWebEngineSettings
from PySide6.QtWidgets import QApplication

from desktop.main_window import CockpitWindow
from desktop.settings import load_settings, xyz_prefix
from desktop.web_map_controller import JOB
from layers.i18n import set_language
from tests.oracle import expected_report, load_raw
from widgets.theme import DARK
from widgets.web_map import LOCAL_SCHEMES, TILE_SCHEME

SHOTS = os.environ.get("COCKPIT_SHOTS")


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from demo import generate_demo

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    generate_demo(path, incidents=20_000, seed=11)
    return path


@pytest.fixture(scope="module")
def raw(demo: Path) -> dict[str, Any]:
    return load_raw(demo)


@pytest.fixture(autouse=True)
def _data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test its own settings folder: the user's real settings never leak in."""
    set_language("zh")
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("COCKPIT_DATA_DIR", str(data))
    return data


_WINDOWS: list[CockpitWindow] = []


@pytest.fixture(autouse=True)
def _dispose_windows() -> Iterator[None]:
    """As in test_cockpit_window: close each window and collect when no worker runs."""
    yield
    while _WINDOWS:
        win = _WINDOWS.pop()
        if not shiboken6.isValid(win):  # pytest-qt's addWidget closed and deleted it
            continue
        win.close()
        if win.extract is not None:
            win.extract.close()
        win.deleteLater()
    QApplication.processEvents()
    # delete them now: a web view left to interpreter exit outlives the web engine
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


def open_window(qtbot, path: Path) -> CockpitWindow:
    win = CockpitWindow(DARK, "zh", interactive=False)
    _WINDOWS.append(win)
    qtbot.addWidget(win)
    win.resize(1920, 1080)
    win.show()
    qtbot.waitExposed(win)
    with qtbot.waitSignal(win.extract_opened, timeout=60_000):
        win.open_path(str(path))
    qtbot.waitUntil(lambda: not win.session.jobs.busy() and win.board.map.scene is not None
                    and win.board.panels.panels is not None, timeout=30_000)
    return win


def wait_map(qtbot, win: CockpitWindow, builds: int | None = None) -> None:
    """Until the tab shows the page of the window's current state (after ``builds`` builds)."""
    ctl = win.board.web_map
    qtbot.waitUntil(lambda: (builds is None or ctl.builds >= builds)
                    and not win.session.jobs.busy() and ctl.tab.state == "shown", timeout=60_000)


def run_js(qtbot, page: QWebEnginePage, script: str, timeout: int = 10_000) -> Any:
    box: list[Any] = []
    page.runJavaScript(script, 0, box.append)
    qtbot.waitUntil(lambda: bool(box), timeout=timeout)
    return box[0]


PAGE_STATE = """JSON.stringify({
    lang: cockpit.data.lang, drawn: cockpit.drawn,
    markers: cockpit.groups.situation ? cockpit.groups.situation.getLayers().reduce(
        function (n, l) { return n + (l.getLayers ? l.getLayers().length : 1); }, 0) : 0,
    hazards: cockpit.groups.hazards ? cockpit.groups.hazards.getLayers().length : 0,
    towns: cockpit.data.areas.town.geojson.features.length,
    tiles: Array.from(document.querySelectorAll('img.leaflet-tile')).map(function (i) {
        return [i.src, i.classList.contains('leaflet-tile-loaded') ? i.naturalWidth : 0]; }),
    attribution: (document.querySelector('.leaflet-control-attribution') || {}).textContent
})"""


def page_state(qtbot, win: CockpitWindow) -> dict[str, Any]:
    return json.loads(run_js(qtbot, win.board.web_map.tab.view.page(), PAGE_STATE))


def located(raw: dict[str, Any], start: datetime, stop: datetime,
            categories: set[str] | None = None) -> int:
    """Incidents with coordinates reported in [start, stop), from the raw file (pandas)."""
    inc = raw["incidents"]
    sel = inc[inc["lon"].notna() & (inc["reported_at"] >= start) & (inc["reported_at"] < stop)]
    if categories:
        sel = sel[sel["category"].isin(categories)]
    return len(sel)


def last_days(raw: dict[str, Any], days: int) -> tuple[datetime, datetime]:
    end = raw["as_of"]
    start = end - timedelta(days=days - 1)
    return (datetime.combine(start, datetime.min.time()),
            datetime.combine(end + timedelta(days=1), datetime.min.time()))


# --------------------------------------------------------------------------- tiles
def png(color: tuple[int, int, int]) -> bytes:
    image = QImage(256, 256, QImage.Format.Format_RGB32)
    image.fill(QColor(*color))
    buf = QBuffer()
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buf, "PNG")
    return bytes(QByteArray(buf.data()))


def tile_range(lon0: float, lat0: float, lon1: float, lat1: float, z: int
               ) -> tuple[range, range]:
    def tx(lon: float) -> int:
        return int((lon + 180) / 360 * 2 ** z)

    def ty(lat: float) -> int:
        r = math.radians(lat)
        return int((1 - math.asinh(math.tan(r)) / math.pi) / 2 * 2 ** z)
    return range(tx(lon0) - 1, tx(lon1) + 2), range(ty(lat1) - 1, ty(lat0) + 2)


def write_mbtiles(path: Path, bounds: tuple[float, float, float, float], data: bytes) -> int:
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
    con.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, "
                "tile_row INTEGER, tile_data BLOB)")
    con.executemany("INSERT INTO metadata VALUES (?, ?)",
                    [("format", "png"), ("attribution", "测试底图 MBTiles")])
    n = 0
    for z in range(5, 14):
        xs, ys = tile_range(*bounds, z)
        for x in xs:
            for y in ys:  # MBTiles rows count from the south (TMS)
                con.execute("INSERT INTO tiles VALUES (?, ?, ?, ?)",
                            (z, x, 2 ** z - 1 - y, data))
                n += 1
    con.commit()
    con.close()
    return n


class TileServer:
    """An "intranet" tile server on 127.0.0.1 that writes down every path asked for."""

    def __init__(self, data: bytes) -> None:
        paths = self.paths = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                paths.append(self.path)
                ok = self.path.startswith("/tiles/")
                self.send_response(200 if ok else 404)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(data) if ok else 0))
                self.end_headers()
                if ok:
                    self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def outside_attempt(port: int) -> str:
    """Script run in the map page: asks for an outside URL two ways."""
    return f"""(function () {{
        window.leak = null;
        var img = new Image(); img.src = "http://127.0.0.1:{port}/leak.png";
        fetch("http://127.0.0.1:{port}/leak").then(function () {{ window.leak = "went"; }},
                                                  function () {{ window.leak = "refused"; }});
        return true; }})()"""


# --------------------------------------------------------------------------- settings
def write_settings(data_dir: Path, doc: Any) -> Path:
    path = data_dir / "settings.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return path


def test_settings_default_to_no_base_map_and_never_raise(_data_dir: Path) -> None:
    s = load_settings()
    assert s.tiles.xyz is None and s.tiles.mbtiles is None and s.warnings == ()
    assert s.tiles.source is None and s.tiles.tile_prefix is None
    for garbled in ('{"tiles": {"xyz": ', "\ufeff[1, 2]", "null", '{"tiles": 5}',
                    "{" * 100_000):
        s = load_settings(write_settings(_data_dir, garbled))
        assert s.tiles.xyz is None and s.tiles.mbtiles is None
        assert len(s.warnings) == 1, garbled[:20]
        assert "settings.json" in s.warnings[0].text() or "tiles" in s.warnings[0].text()
    (_data_dir / "settings.json").write_bytes(b"\xff\xfe\x00garbage")
    s = load_settings()
    assert s.tiles.xyz is None and "无法读取" in s.warnings[0].text("zh")
    (_data_dir / "settings.json").unlink()
    (_data_dir / "settings.json").mkdir()  # a folder where the file should be
    assert load_settings().warnings and load_settings().tiles.source is None


def test_settings_xyz_template_is_validated(_data_dir: Path) -> None:
    good = "http://10.1.2.3:8080/tiles/{z}/{x}/{y}.png"
    s = load_settings(write_settings(_data_dir, {"tiles": {"xyz": good, "attribution": "县局"}}))
    assert s.warnings == ()
    assert s.tiles.xyz == good and s.tiles.attribution == "县局"
    assert s.tiles.tile_prefix == "http://10.1.2.3:8080/tiles/"
    assert s.tiles.source == "10.1.2.3:8080"
    # normalised as the browser writes request URLs
    assert xyz_prefix("HTTPS://Tiles.LAN:443/{z}/{x}/{y}") == "https://tiles.lan/"
    for bad in ("ftp://10.1.2.3/{z}/{x}/{y}.png", "http://10.1.2.3/tiles/{z}/{x}.png",
                "http://{s}.tiles.lan/{z}/{x}/{y}.png", "javascript:alert(1)//{z}{x}{y}",
                "http://user:pw@10.1.2.3/{z}/{x}/{y}", "http://10.1.2.3?{z}/{x}/{y}",
                "file:///tmp/{z}/{x}/{y}.png", "http://10.1.2.3:port/{z}/{x}/{y}", 42):
        s = load_settings(write_settings(_data_dir, {"tiles": {"xyz": bad}}))
        assert s.tiles.xyz is None and s.tiles.tile_prefix is None, bad
        assert [w.key for w in s.warnings] == ["settings_bad_xyz"], bad
    s = load_settings(write_settings(_data_dir, {"tiles": {"xyz": good, "zoom": 3}, "x": 1}))
    assert s.tiles.xyz == good
    assert sorted(w.key for w in s.warnings) == ["settings_unknown_keys"] * 2


def test_settings_mbtiles_checked_relative_and_preferred(_data_dir: Path, qapp) -> None:
    write_mbtiles(_data_dir / "base.mbtiles", (115.0, 27.0, 115.1, 27.1), png((1, 2, 3)))
    xyz = "http://10.1.2.3/{z}/{x}/{y}.png"
    s = load_settings(write_settings(_data_dir, {"tiles": {"mbtiles": "base.mbtiles"}}))
    assert s.warnings == () and s.tiles.mbtiles == _data_dir / "base.mbtiles"
    assert s.tiles.attribution == "测试底图 MBTiles"  # the file's own credit by default
    assert s.tiles.source == "MBTiles base.mbtiles" and s.tiles.tile_prefix is None
    # both: the MBTiles file wins (it needs no network), said in a warning
    s = load_settings(write_settings(_data_dir, {"tiles": {"mbtiles": "base.mbtiles",
                                                           "xyz": xyz}}))
    assert s.tiles.mbtiles is not None and s.tiles.xyz is None
    assert [w.key for w in s.warnings] == ["settings_both_tiles"]
    # a broken MBTiles file: the XYZ server is used instead, and the file is named
    (_data_dir / "junk.mbtiles").write_bytes(b"not sqlite" * 100)
    for name in ("junk.mbtiles", "missing.mbtiles", str(_data_dir)):
        s = load_settings(write_settings(_data_dir, {"tiles": {"mbtiles": name, "xyz": xyz}}))
        assert s.tiles.mbtiles is None and s.tiles.xyz == xyz
        assert [w.key for w in s.warnings] == ["settings_bad_mbtiles"], name
    vector = _data_dir / "vector.mbtiles"
    write_mbtiles(vector, (115.0, 27.0, 115.1, 27.1), b"pbf")
    con = sqlite3.connect(vector)
    con.execute("UPDATE metadata SET value = 'pbf' WHERE name = 'format'")
    con.commit()
    con.close()
    s = load_settings(write_settings(_data_dir, {"tiles": {"mbtiles": str(vector)}}))
    assert s.tiles.mbtiles is None and "pbf" in s.warnings[0].text("en")


# --------------------------------------------------------------------------- the tab
def test_tab_builds_the_filter_when_shown_and_only_then(qtbot, demo: Path, raw: dict,
                                                        _data_dir: Path) -> None:
    write_settings(_data_dir, "{ not json")  # a garbled settings file is only a notice
    win = open_window(qtbot, demo)
    ctl = win.board.web_map
    tab = ctl.tab
    assert ctl.tabs.currentIndex() == 0 and ctl.tabs.tabText(1) == "网页地图"
    # QtWebEngine is not started with the window, and nothing is built while hidden
    assert tab.view is None and ctl.builds == 0
    start, stop = last_days(raw, 10)
    store = win.session.filters
    store.set(store.state.with_window(start.date(), (stop - timedelta(days=1)).date()))
    qtbot.wait(300)
    assert ctl.builds == 0 and tab.view is None and win.session.jobs.latest(JOB) is None

    ctl.show_tab()
    assert tab.state == "building" and "正在生成网页地图" in tab.status_text()
    wait_map(qtbot, win, builds=1)
    want = located(raw, start, stop)
    assert 100 < want <= 2_000  # few enough to be drawn one by one
    st = page_state(qtbot, win)
    assert st["lang"] == "zh" and st["drawn"]["incident_markers"] == st["markers"] == want
    assert st["hazards"] == expected_report(demo)["hazards"]["total"] and st["towns"] == 15
    assert tab.notice.isVisible() and "settings.json" in tab.notice.text()
    status = tab.status_text()
    assert f"警情 {want:,} 起" in status and "无底图" in status
    assert start.date().isoformat() in status and "用时" in status
    assert tab.view.blocked_requests == []

    # a change while visible builds again, the old page file goes
    first = tab.path
    win.session.filters.apply(lambda s: s.toggle("incident_categories", "traffic"))
    assert "正在重新生成" in tab.status_text() and tab.view.isVisible()  # the old map stays
    wait_map(qtbot, win, builds=2)
    want = located(raw, start, stop, {"traffic"})
    assert page_state(qtbot, win)["markers"] == want > 0
    assert tab.path != first and not first.exists()
    assert [f.name for f in ctl.directory.iterdir()] == [tab.path.name]

    # hidden: a change builds nothing; shown again: the current filter is built
    ctl.tabs.setCurrentIndex(0)
    shown = tab.path
    win.session.filters.apply(lambda s: s.toggle("incident_categories", "fraud"))
    qtbot.waitUntil(lambda: not win.session.jobs.busy(), timeout=30_000)
    qtbot.wait(200)
    assert ctl.builds == 2 and tab.path == shown
    ctl.show_tab()
    wait_map(qtbot, win, builds=3)
    assert page_state(qtbot, win)["markers"] == located(raw, start, stop, {"traffic", "fraud"})

    # the language is part of what is shown
    win.set_language("en")
    wait_map(qtbot, win, builds=4)
    assert page_state(qtbot, win)["lang"] == "en"
    assert ctl.tabs.tabText(1) == "Web map" and "No base map" in tab.status_text()
    assert "not valid JSON" in tab.notice.text()

    qtbot.wait(500)  # the canvas layers paint
    image = win.grab().toImage()
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        image.save(str(Path(SHOTS) / "web-map-tab.png"))
    view = tab.view
    top_left = view.mapTo(win, view.rect().topLeft())
    area = image.copy(top_left.x(), top_left.y(), view.width(), view.height())
    colours = {area.pixel(x, y) for x in range(0, area.width(), 7)
               for y in range(0, area.height(), 7)}
    assert len(colours) > 200  # the map, not a blank page
    assert view.blocked_requests == []


def test_build_failure_is_said_in_the_tab_and_recovers(qtbot, demo: Path,
                                                       tmp_path: Path) -> None:
    win = open_window(qtbot, demo)
    ctl = win.board.web_map
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "map-00001.html").mkdir()  # the page cannot be written where it must go
    ctl.directory = pages
    ctl.show_tab()
    qtbot.waitUntil(lambda: ctl.tab.state == "error", timeout=60_000)
    assert ctl.tab.message.isVisible() and "网页地图生成失败" in ctl.tab.message.text()
    assert QApplication.activeModalWidget() is None
    win.session.filters.apply(lambda s: s.toggle("incident_categories", "fire"))
    wait_map(qtbot, win, builds=2)
    assert ctl.tab.view.isVisible() and not ctl.tab.message.isVisible()


def test_mbtiles_served_by_the_program_and_nothing_leaves(qtbot, demo: Path, raw: dict,
                                                          _data_dir: Path) -> None:
    lon, lat = raw["incidents"]["lon"], raw["incidents"]["lat"]
    bounds = (lon.min(), lat.min(), lon.max(), lat.max())
    assert write_mbtiles(_data_dir / "county.mbtiles", bounds, png((40, 90, 60))) > 100
    write_settings(_data_dir, {"tiles": {"mbtiles": "county.mbtiles"}})
    watcher = TileServer(png((255, 0, 0)))  # stands for the outside world
    try:
        win = open_window(qtbot, demo)
        win.board.web_map.show_tab()
        wait_map(qtbot, win, builds=1)
        tab = win.board.web_map.tab
        view = tab.view
        # remote access is allowed to the page: only the program's guard keeps it in
        assert view.page().settings().testAttribute(
            QWebEngineSettings.WebAttribute.LocalContentCanAccessRemoteUrls)
        qtbot.waitUntil(lambda: any(w == 256 for _, w in page_state(qtbot, win)["tiles"]),
                        timeout=20_000)
        st = page_state(qtbot, win)
        served = [s for s, w in st["tiles"] if w == 256]
        assert served and all(s.startswith(f"{TILE_SCHEME}://tiles/") for s, _ in st["tiles"])
        assert any(u.startswith(f"{TILE_SCHEME}:") for u in view.guard.requests)
        assert "测试底图 MBTiles" in st["attribution"]
        assert "MBTiles county.mbtiles" in tab.status_text()

        run_js(qtbot, view.page(), outside_attempt(watcher.port))
        qtbot.waitUntil(lambda: bool(run_js(qtbot, view.page(), "window.leak")),  # null reads ""
                        timeout=10_000)
        assert run_js(qtbot, view.page(), "window.leak") == "refused"
        leak = f"http://127.0.0.1:{watcher.port}/leak"
        qtbot.waitUntil(lambda: {leak, leak + ".png"} <= set(view.blocked_requests),
                        timeout=5_000)
        assert "已拦截 2 个外部请求" in tab.status_text()
        qtbot.wait(300)
    finally:
        watcher.close()
    assert watcher.paths == []  # nothing reached the "outside" server
    # every request the page made was local, or refused
    assert [u for u in view.guard.requests
            if u.split(":")[0] not in LOCAL_SCHEMES and u not in view.blocked_requests] == []


def test_intranet_tile_server_is_the_only_way_out(qtbot, demo: Path, _data_dir: Path) -> None:
    server = TileServer(png((30, 60, 90)))
    try:
        template = f"http://127.0.0.1:{server.port}/tiles/{{z}}/{{x}}/{{y}}.png"
        write_settings(_data_dir, {"tiles": {"xyz": template, "attribution": "县局内网底图"}})
        win = open_window(qtbot, demo)
        win.board.web_map.show_tab()
        wait_map(qtbot, win, builds=1)
        view = win.board.web_map.tab.view
        qtbot.waitUntil(lambda: any(w == 256 for _, w in page_state(qtbot, win)["tiles"]),
                        timeout=20_000)
        st = page_state(qtbot, win)
        assert "县局内网底图" in st["attribution"]
        assert f"127.0.0.1:{server.port}" in win.board.web_map.tab.status_text()
        run_js(qtbot, view.page(), outside_attempt(server.port))
        qtbot.waitUntil(lambda: bool(run_js(qtbot, view.page(), "window.leak")),  # null reads ""
                        timeout=10_000)
        assert run_js(qtbot, view.page(), "window.leak") == "refused"
        qtbot.waitUntil(lambda: len(view.blocked_requests) >= 2, timeout=5_000)
        qtbot.wait(300)
    finally:
        server.close()
    assert server.paths and all(p.startswith("/tiles/") for p in server.paths)
    assert sorted(view.blocked_requests) == [f"http://127.0.0.1:{server.port}/leak",
                                             f"http://127.0.0.1:{server.port}/leak.png"]


def test_tab_alone_reports_a_page_that_cannot_load_and_changes_base_map(
        qtbot, tmp_path: Path) -> None:
    from widgets.web_map_tab import WebMapTab

    tab = WebMapTab()
    qtbot.addWidget(tab)
    tab.resize(600, 400)
    with qtbot.waitSignal(tab.shown, timeout=5_000):
        tab.show()
    qtbot.waitUntil(lambda: tab.view is not None, timeout=10_000)  # made on first showing
    with qtbot.waitSignal(tab.map_loaded, timeout=20_000) as done:
        tab.show_map(tmp_path / "gone.html", "caption")
    assert done.args == [False] and tab.state == "error"
    assert "网页地图无法显示" in tab.message.text() and tab.message.isVisible()

    write_mbtiles(tmp_path / "t.mbtiles", (115.0, 27.0, 115.1, 27.1), png((9, 9, 9)))
    first = tab.view
    tab.set_basemap("MBTiles t.mbtiles", None, tmp_path / "t.mbtiles")
    assert tab.view is None and "MBTiles t.mbtiles" in tab.status_text()
    z, x, y = 10, *[r.start + 1 for r in tile_range(115.0, 27.0, 115.1, 27.1, 10)]
    page = tmp_path / "p.html"
    page.write_text(f'<img id="t" src="{TILE_SCHEME}://tiles/{z}/{x}/{y}.png">', encoding="utf-8")
    with qtbot.waitSignal(tab.map_loaded, timeout=20_000) as done:
        tab.show_map(page, "caption")
    assert done.args == [True] and tab.state == "shown" and tab.view is not first
    qtbot.waitUntil(lambda: run_js(qtbot, tab.view.page(),
                                   "document.getElementById('t').naturalWidth") == 256,
                    timeout=10_000)
    assert "caption" in tab.status_text() and tab.view.blocked_requests == []
