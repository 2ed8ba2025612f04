"""The exported map in a real QtWebEngine: it works offline, and the web-map tab lets nothing out.

No request in these tests can reach another machine: every page either asks for
nothing remote (what is proven) or is refused by an interceptor before any
connection, and the only "outside" address used is the loopback one.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--disable-gpu")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QUrl
from PySide6.QtGui import QColor, QImage
from PySide6.QtWebEngineCore import (
    QWebEnginePage,
    QWebEngineProfile,
    QWebEngineSettings,
    QWebEngineUrlRequestInfo,
    QWebEngineUrlRequestInterceptor,
)

from data.extract import open_extract
from data.filters import FilterState
from exporters.html_map import export_html
from widgets.web_map import TILE_TEMPLATE, WebMapView

OUTSIDE = "http://127.0.0.1:9"  # loopback: "outside" for the policy, harmless if it leaked


@pytest.fixture(scope="module")
def demo_map(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    from demo import generate_demo

    work = tmp_path_factory.mktemp("webmap")
    generate_demo(work / "demo.duckdb", incidents=20_000, seed=11)
    mp = pytest.MonkeyPatch()
    mp.setenv("COCKPIT_CACHE_DIR", str(work / "cache"))
    try:
        ex = open_extract(work / "demo.duckdb")
        summary = export_html(ex, FilterState(), work / "map.html")
        ex.close()
    finally:
        mp.undo()
    return work / "map.html", summary


def run_js(qtbot, page: QWebEnginePage, script: str, timeout: int = 5000) -> Any:
    box: list[Any] = []
    page.runJavaScript(script, 0, box.append)
    qtbot.waitUntil(lambda: bool(box), timeout=timeout)
    return box[0]


class Recorder(QWebEngineUrlRequestInterceptor):
    """Writes down every URL the page asks for; refuses what is not local (a safety net)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def interceptRequest(self, info: QWebEngineUrlRequestInfo) -> None:
        url = info.requestUrl()
        self.urls.append(url.toString())
        if url.scheme() not in ("file", "data"):
            info.block(True)


def test_exported_map_runs_with_no_request_leaving_the_machine(demo_map, qtbot) -> None:
    path, summary = demo_map
    profile = QWebEngineProfile()
    recorder = Recorder()
    profile.setUrlRequestInterceptor(recorder)
    page = QWebEnginePage(profile)
    # Allowed to go out, so that only the page itself keeps it offline.
    page.settings().setAttribute(
        QWebEngineSettings.WebAttribute.LocalContentCanAccessRemoteUrls, True)
    try:
        with qtbot.waitSignal(page.loadFinished, timeout=20_000) as done:
            page.load(QUrl.fromLocalFile(str(path)))
        assert done.args == [True]
        state = json.loads(run_js(qtbot, page, """JSON.stringify({
            leaflet: typeof L === 'undefined' ? null : L.version,
            heat: typeof L.heatLayer, drawn: window.cockpit && cockpit.drawn,
            layers: (function () { var n = 0; cockpit.map.eachLayer(function () { n++; });
                                   return n; })(),
            hazards: cockpit.groups.hazards.getLayers().length,
            refs: Array.from(document.querySelectorAll('[src],[href]')).map(
                function (e) { return e.getAttribute('src') || e.getAttribute('href'); }),
            resources: performance.getEntriesByType('resource').map(function (e) {
                return e.name; })
        })"""))
        qtbot.wait(500)  # anything asked for late (tiles, fonts) is recorded too
    finally:
        page.deleteLater()
        qtbot.wait(50)
    assert state["leaflet"] == "1.9.4" and state["heat"] == "function"
    assert state["drawn"]["hazards"] == summary["hazards"] == state["hazards"] > 0
    assert state["drawn"]["resources"] == summary["resources"] > 0
    assert state["drawn"]["heat_cells"] == summary["heat_cells"] > 0
    assert state["drawn"]["towns"] == 15 and state["layers"] > 15
    assert recorder.urls and recorder.urls[0].startswith("file://")  # the recorder works
    assert [u for u in recorder.urls if QUrl(u).scheme() not in ("file", "data")] == []
    assert [r for r in state["refs"] + state["resources"]
            if r and r != "#" and r.split(":")[0] not in ("file", "data", "blob")] == []


HOSTILE_PAGE = f"""<!DOCTYPE html><html><body>
<img id="img" src="{OUTSIDE}/pixel.png">
<script>
window.fetched = null;
fetch("{OUTSIDE}/fetch").then(function () {{ window.fetched = "ok"; }},
                              function (e) {{ window.fetched = "refused"; }});
</script></body></html>"""


def test_web_map_view_blocks_and_records_outside_requests(tmp_path: Path, qtbot) -> None:
    page_path = tmp_path / "hostile.html"
    page_path.write_text(HOSTILE_PAGE, encoding="utf-8")
    view = WebMapView()
    qtbot.addWidget(view)
    seen: list[str] = []
    view.request_blocked.connect(seen.append)
    with qtbot.waitSignal(view.map_loaded, timeout=20_000):
        view.load_map(page_path)
    # PySide hands back '' for JavaScript null: wait for an actual outcome
    qtbot.waitUntil(lambda: run_js(qtbot, view.page(), "window.fetched") in ("ok", "refused"),
                    timeout=10_000)
    assert run_js(qtbot, view.page(), "window.fetched") == "refused"
    assert f"{OUTSIDE}/pixel.png" in view.blocked_requests
    assert f"{OUTSIDE}/fetch" in view.blocked_requests
    assert seen == view.blocked_requests
    assert view.page().profile().isOffTheRecord()


def test_web_map_view_lets_through_the_configured_tile_server_only(tmp_path: Path,
                                                                   qtbot) -> None:
    page_path = tmp_path / "tiles.html"
    page_path.write_text(f'<img src="{OUTSIDE}/tiles/1/0/0.png"><img src="{OUTSIDE}/x.png">',
                         encoding="utf-8")
    view = WebMapView(tile_prefix=f"{OUTSIDE}/tiles/")
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.map_loaded, timeout=20_000):
        view.load_map(page_path)
    qtbot.waitUntil(lambda: bool(view.blocked_requests), timeout=5000)
    assert view.blocked_requests == [f"{OUTSIDE}/x.png"]
    assert f"{OUTSIDE}/tiles/1/0/0.png" in view.guard.requests


def _mbtiles(path: Path) -> bytes:
    image = QImage(256, 256, QImage.Format.Format_RGB32)
    image.fill(QColor(200, 30, 30))
    buf = QBuffer()
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buf, "PNG")
    png = bytes(QByteArray(buf.data()))
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
    con.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, "
                "tile_row INTEGER, tile_data BLOB)")
    con.execute("INSERT INTO metadata VALUES ('format', 'png')")
    # XYZ 1/0/0 is the north-west tile: TMS row 1 at zoom 1.
    con.execute("INSERT INTO tiles VALUES (1, 0, 1, ?)", (png,))
    con.commit()
    con.close()
    return png


def test_mbtiles_are_served_on_the_program_scheme(tmp_path: Path, qtbot) -> None:
    _mbtiles(tmp_path / "base.mbtiles")
    one = TILE_TEMPLATE.format(z=1, x=0, y=0)
    missing = TILE_TEMPLATE.format(z=1, x=0, y=1)
    page_path = tmp_path / "t.html"
    page_path.write_text(f"""<script>window.sizes = {{}};
        function done(id, ok) {{ window.sizes[id] = ok ? document.getElementById(id)
                                                           .naturalWidth : -1; }}</script>
        <img id="a" src="{one}" onload="done('a', true)" onerror="done('a', false)">
        <img id="b" src="{missing}" onload="done('b', true)" onerror="done('b', false)">""",
                         encoding="utf-8")
    view = WebMapView(mbtiles=tmp_path / "base.mbtiles")
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.map_loaded, timeout=20_000):
        view.load_map(page_path)
    qtbot.waitUntil(lambda: run_js(qtbot, view.page(),
                                   "Object.keys(window.sizes).length") == 2, timeout=5000)
    # parsed: the two images load in either order, and the keys come in that order
    assert json.loads(run_js(qtbot, view.page(), "JSON.stringify(window.sizes)")) == \
        {"a": 256, "b": -1}
    assert view.blocked_requests == []


def test_web_map_view_shows_the_exported_map(demo_map, qtbot, tmp_path: Path) -> None:
    path, summary = demo_map
    view = WebMapView()
    qtbot.addWidget(view)
    view.resize(1000, 700)
    view.show()
    with qtbot.waitSignal(view.map_loaded, timeout=20_000) as done:
        view.load_map(path)
    assert done.args == [True]
    assert run_js(qtbot, view.page(), "cockpit.drawn.hazards") == summary["hazards"]
    qtbot.wait(800)  # let the canvas layers paint
    image = view.grab().toImage()
    assert view.blocked_requests == []
    # The dark background, the legend and the symbols: many distinct colours, not a blank page.
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7)
               for y in range(0, image.height(), 7)}
    assert len(colours) > 200
    corner = image.pixelColor(image.width() // 3, image.height() - 5)
    assert (corner.red(), corner.green(), corner.blue()) == (13, 27, 42)
