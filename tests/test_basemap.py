"""The base map in the native map: tile maths, MBTiles row orders, the GCJ-02 shift, gaps,
stale requests, the cache, an XYZ server, and no network when nothing is configured.

Positions are checked on pixels: a marker painted into generated tiles at a known
lon/lat (``mbtiles_maker``, textbook slippy-map formula) must land where the data layer
draws the same lon/lat.
"""

from __future__ import annotations

import http.server
import math
import socket
import threading
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
from mbtiles_maker import pixel, tile_image, write_mbtiles
from PySide6.QtGui import QImage

from data.coords import lonlat_to_mercator, mercator_to_lonlat, wgs84_to_gcj02
from data.tiles import (
    WORLD,
    LRUCache,
    MBTilesSource,
    lonlat_tile,
    tile_bounds,
    tiles_in,
    zoom_for,
)
from desktop.backdrop import BackdropController, load_backdrop
from desktop.basemap import TileLoader, attach_basemap
from desktop.settings import Settings, TileSettings
from layers.drawables import LayerSpec, Points
from layers.scene import fit_view
from widgets.map_canvas import MapCanvas

W, H = 640, 480
P = (115.05, 27.05)
BOX = (P[0] - 0.06, P[1] - 0.05, P[0] + 0.06, P[1] + 0.05)
MAGENTA = (255, 0, 255)
CYAN = (0, 255, 255)
BG = (236, 232, 220)


def as_array(img: QImage) -> np.ndarray:
    """(h, w, 3) RGB of a QImage."""
    img = img.convertToFormat(QImage.Format.Format_RGB888)
    w, h, bpl = img.width(), img.height(), img.bytesPerLine()
    buf = np.frombuffer(img.constBits(), np.uint8, count=bpl * h).reshape(h, bpl)
    return buf[:, :w * 3].reshape(h, w, 3).copy()


def centroid(rgb: np.ndarray, color: tuple[int, int, int], tol: int = 40
             ) -> tuple[float, float] | None:
    mask = np.all(np.abs(rgb.astype(int) - np.array(color)) <= tol, axis=2)
    if mask.sum() < 4:
        return None
    ys, xs = np.nonzero(mask)
    return float(xs.mean()), float(ys.mean())


@pytest.fixture()
def canvas(qtbot) -> MapCanvas:
    c = MapCanvas(background=(11, 26, 46))
    qtbot.addWidget(c)
    c.resize(W, H)
    c.show()
    qtbot.waitExposed(c)
    return c


def view_around(lon: float, lat: float, span_m: float):
    x, y = lonlat_to_mercator([lon], [lat])
    return fit_view(float(x[0]) - span_m / 2, float(y[0]) - span_m / 2,
                    float(x[0]) + span_m / 2, float(y[0]) + span_m / 2, W, H, margin=0.0)


def point_layer(lon: float, lat: float) -> LayerSpec:
    x, y = lonlat_to_mercator([lon], [lat])
    pts = Points("probe", np.asarray(x), np.asarray(y), np.array([[*CYAN, 255]], np.uint8),
                 np.array([12.0]), "s", ("P",), ("probe",), outline=(0, 255, 255, 255))
    return LayerSpec("probe", "situation", "probe", (pts,))


def settle(qtbot, canvas: MapCanvas) -> None:
    qtbot.waitUntil(canvas.basemap_settled, timeout=10_000)
    qtbot.wait(30)


# ----------------------------------------------------------------------------- tile maths
def test_tile_maths_agree_with_the_textbook_formula() -> None:
    rng = np.random.default_rng(7)
    for _ in range(300):
        lon, lat = rng.uniform(-179.9, 179.9), rng.uniform(-84.0, 84.0)
        z = int(rng.integers(0, 19))
        px, py = pixel(lon, lat, z)
        assert lonlat_tile(lon, lat, z) == (int(px // 256), int(py // 256))
        x0, y0, x1, y1 = tile_bounds(z, *lonlat_tile(lon, lat, z))
        mx, my = lonlat_to_mercator([lon], [lat])
        assert x0 <= mx[0] <= x1 and y0 <= my[0] <= y1
    for z in range(0, 20):  # a view at exactly a level's resolution gets that level
        assert zoom_for(WORLD / 256 / 2 ** z) == z
        assert zoom_for(WORLD / 256 / 2 ** z / 1.3) == z  # nearest in log scale
    assert zoom_for(1.0, 5, 12) == 12 and zoom_for(1e6, 5, 12) == 5


def test_tiles_in_cover_the_view_exactly() -> None:
    v = view_around(*P, 20_000)
    z = 13
    keys = tiles_in(v.x0, v.y0, v.x1, v.y1, z)
    # brute force: every tile of the level whose square overlaps the view
    (lon0, lon1), (lat0, lat1) = mercator_to_lonlat([v.x0, v.x1], [v.y0, v.y1])
    px0, py0 = pixel(float(lon0), float(lat1), z)
    px1, py1 = pixel(float(lon1), float(lat0), z)
    expect = {(z, c, r) for c in range(int(px0 // 256) - 1, int(px1 // 256) + 2)
              for r in range(int(py0 // 256) - 1, int(py1 // 256) + 2)
              # the tile's pixel square overlaps the view's
              if c * 256 < px1 and (c + 1) * 256 > px0 and r * 256 < py1 and (r + 1) * 256 > py0}
    assert set(keys) == expect
    cx, cy = (v.x0 + v.x1) / 2, (v.y0 + v.y1) / 2
    first = tile_bounds(*keys[0])
    assert first[0] <= cx <= first[2] and first[1] <= cy <= first[3]  # centre first


# ----------------------------------------------------------------------------- alignment
CASES = [("tms", False, "wgs84", "wgs84"), ("xyz", True, "wgs84", "wgs84"),
         ("xyz", False, "wgs84", "wgs84"), ("tms", False, "gcj02", "gcj02"),
         ("xyz", False, "gcj02", "gcj02")]


@pytest.mark.parametrize(("scheme", "declared", "tiles_datum", "setting"), CASES)
def test_marker_in_the_tiles_lands_on_the_data_point(canvas: MapCanvas, tmp_path: Path, qtbot,
                                                     scheme: str, declared: bool,
                                                     tiles_datum: str, setting: str) -> None:
    # A tile set drawn in GCJ-02 shows a place at its GCJ-02 coordinates.
    mlon, mlat = (P if tiles_datum == "wgs84" else
                  tuple(float(v) for v in wgs84_to_gcj02(*P)))
    path = tmp_path / "t.mbtiles"
    write_mbtiles(path, BOX, range(10, 15), scheme=scheme, declare_scheme=declared,
                  markers=[(mlon, mlat, MAGENTA, 4)])
    ctl, error = attach_basemap(canvas, TileSettings(mbtiles=path, datum=setting), extent=BOX)
    assert error is None and ctl is not None
    assert ctl.source.scheme == scheme
    canvas.set_view(view_around(*P, 6000))
    settle(qtbot, canvas)
    marker = centroid(as_array(canvas.grab().toImage()), MAGENTA)
    assert marker is not None, "the marker tile was not drawn"
    canvas.set_layers((point_layer(*P),))
    qtbot.wait(30)
    probe = centroid(as_array(canvas.grab().toImage()), CYAN)
    assert probe is not None
    assert math.dist(marker, probe) <= 2.5, (marker, probe)
    # the data stay WGS84: the view, a symbol hit and a point of the canvas
    mx, my = lonlat_to_mercator([P[0]], [P[1]])
    assert canvas.symbol_at(float(mx[0]), float(my[0])) == ("probe", "P")
    v = canvas.map_view()
    assert abs((v.x0 + v.x1) / 2 - mx[0]) < 1.0 and abs((v.y0 + v.y1) / 2 - my[0]) < 1.0
    ctl.close()


def test_gcj02_tiles_read_as_wgs84_do_not_line_up(canvas: MapCanvas, tmp_path: Path,
                                                  qtbot) -> None:
    """The check above can fail: GCJ-02 tiles declared as WGS84 miss by hundreds of metres."""
    g = tuple(float(v) for v in wgs84_to_gcj02(*P))
    write_mbtiles(tmp_path / "g.mbtiles", BOX, range(10, 15), markers=[(*g, MAGENTA, 4)])
    ctl, _ = attach_basemap(canvas, TileSettings(mbtiles=tmp_path / "g.mbtiles"))
    canvas.set_view(view_around(*P, 6000))
    canvas.set_layers((point_layer(*P),))
    settle(qtbot, canvas)
    rgb = as_array(canvas.grab().toImage())
    marker, probe = centroid(rgb, MAGENTA), centroid(rgb, CYAN)
    assert marker is not None and probe is not None
    assert math.dist(marker, probe) > 20
    ctl.close()


# ----------------------------------------------------------------------------- failures
def test_broken_and_missing_tiles_leave_gaps(canvas: MapCanvas, tmp_path: Path, qtbot) -> None:
    z = 13
    c, r = lonlat_tile(*P, z)
    path = tmp_path / "gaps.mbtiles"
    wide = (P[0] - 0.2, P[1] - 0.2, P[0] + 0.2, P[1] + 0.2)  # more than the view
    write_mbtiles(path, wide, [z], broken=[(z, c, r)], skip=[(z, c + 1, r)], grid=None)
    ctl, _ = attach_basemap(canvas, TileSettings(mbtiles=path))
    _, y0, x1, y1 = tile_bounds(z, c, r)
    lon, lat = mercator_to_lonlat([x1], [(y0 + y1) / 2])  # the edge between c and c + 1
    canvas.set_view(view_around(float(lon[0]), float(lat[0]), 12_000))  # 18.8 m/px: zoom 13
    settle(qtbot, canvas)
    qtbot.waitUntil(ctl.idle, timeout=5000)
    assert canvas.basemap.zoom == z
    assert ctl.loader.stats.broken == 1 and ctl.loader.stats.missing == 1
    assert canvas.basemap.gaps == {(z, c, r), (z, c + 1, r)}
    rgb = as_array(canvas.grab().toImage())
    vb = canvas.getViewBox()

    def at(key: tuple[int, int, int], fx: float) -> tuple[int, ...]:
        """The pixel at ``fx`` of the way across the tile, half way down."""
        from PySide6.QtCore import QPointF

        a, b, e, d = tile_bounds(*key)
        pt = canvas.mapFromScene(vb.mapViewToScene(QPointF(a + fx * (e - a), (b + d) / 2)))
        return tuple(int(v) for v in rgb[pt.y(), pt.x()])

    assert at((z, c, r), 0.5) == (11, 26, 46)  # the background: a gap, not garbage
    assert at((z, c + 1, r), 0.5) == (11, 26, 46)
    for good in (at((z, c - 1, r), 0.9), at((z, c + 2, r), 0.1)):
        assert all(abs(a - b) <= 3 for a, b in zip(good, BG, strict=True)), good
    ctl.close()


@pytest.mark.parametrize("content", [b"", b"garbage, not SQLite", b"SQLite format 3\x00" * 4])
def test_unusable_mbtiles_gives_a_warning(canvas: MapCanvas, tmp_path: Path, qtbot,
                                          content: bytes) -> None:
    path = tmp_path / "bad.mbtiles"
    path.write_bytes(content)
    ctl, error = attach_basemap(canvas, TileSettings(mbtiles=path))
    assert ctl is None and error
    backdrop = BackdropController(canvas, Settings(tiles=TileSettings(mbtiles=path)))
    assert backdrop.basemap is None
    assert [n.key for n in backdrop.warnings] == ["basemap_failed"]
    text = backdrop.warnings[0].text("en")
    assert text and text != "basemap_failed"  # a sentence, not a bare key
    canvas.set_view(view_around(*P, 6000))
    qtbot.wait(20)
    canvas.grab()  # draws without a base map


def test_no_socket_when_nothing_is_configured(canvas: MapCanvas, tmp_path: Path, qtbot,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[object] = []

    def refuse(self: socket.socket, *args: object, **kwargs: object) -> None:
        opened.append(args)
        raise OSError("no network in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    before = {t.name for t in threading.enumerate()}
    backdrop = BackdropController(canvas, Settings())
    assert backdrop.basemap is None and backdrop.warnings == [] and canvas.basemap is None
    for span in (6000, 60_000, 600):
        canvas.set_view(view_around(*P, span))
        qtbot.wait(150)  # past the debounce
        canvas.grab()
    headless, notes = load_backdrop(Settings())
    assert headless.tiles is None and headless.reference == () and notes == []
    new = {t.name for t in threading.enumerate()} - before
    assert not any(n.startswith("cockpit-tiles") for n in new)
    assert opened == []


# ----------------------------------------------------------------------------- loader
class SlowSource:
    """A real MBTiles source that takes its time, counting what it is asked."""

    def __init__(self, path: Path) -> None:
        self.inner = MBTilesSource(path)
        self.min_zoom, self.max_zoom = self.inner.min_zoom, self.inner.max_zoom
        self.attribution = None
        self.asked: list[tuple[int, int, int]] = []

    def get(self, z: int, x: int, y: int) -> bytes | None:
        self.asked.append((z, x, y))
        time.sleep(0.03)
        return self.inner.get(z, x, y)

    def close(self) -> None:
        self.inner.close()


def test_stale_requests_are_dropped(tmp_path: Path, qtbot) -> None:
    write_mbtiles(tmp_path / "s.mbtiles", BOX, [12, 13])
    src = SlowSource(tmp_path / "s.mbtiles")
    loader = TileLoader(src, threads=1)
    got: list[tuple] = []
    loader.tile_ready.connect(lambda k, img: got.append(k))
    v = view_around(*P, 12_000)
    first = tiles_in(v.x0, v.y0, v.x1, v.y1, 13)
    later = tiles_in(v.x0, v.y0, v.x1, v.y1, 12)
    assert len(first) >= 6
    loader.request(first)
    loader.request(later)  # the view moved on before the first one loaded
    qtbot.waitUntil(lambda: loader.idle() and set(later) <= set(got), timeout=10_000)
    asked_first = [k for k in src.asked if k in set(first)]
    assert len(asked_first) <= 1  # at most the one already in flight
    assert loader.stats.dropped >= len(first) - 1
    # asked again: answered from the cache, the source is not asked twice
    n = len(src.asked)
    loader.request(later)
    qtbot.wait(50)
    assert len(src.asked) == n and loader.stats.cached >= len(later)
    loader.close()


def test_cache_keeps_the_most_recent_within_its_limits() -> None:
    rng = np.random.default_rng(1)
    cache = LRUCache(max_items=20, max_bytes=1000, sizeof=len)
    model: OrderedDict = OrderedDict()  # an independent LRU, by the definition
    for _ in range(2000):
        key = int(rng.integers(0, 40))
        if rng.random() < 0.5:
            value = b"x" * int(rng.integers(1, 120))
            cache.put(key, value)
            model.pop(key, None)
            model[key] = value
            while len(model) > 20 or sum(map(len, model.values())) > 1000:
                model.popitem(last=False)
        else:
            assert cache.get(key) == model.get(key)
            if key in model:
                model.move_to_end(key)
        assert len(cache) <= 20 and cache.bytes <= 1000
    assert list(cache.keys()) == list(model)


# ----------------------------------------------------------------------------- XYZ
def test_xyz_server_is_asked_for_the_view_and_nothing_else(canvas: MapCanvas, qtbot) -> None:
    asked: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            parts = self.path.strip("/").split("/")
            z, x, y = int(parts[1]), int(parts[2]), int(parts[3].split(".")[0])
            body = tile_image(z, x, y, BG, None, [(*P, MAGENTA, 4)], False)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/t/{{z}}/{{x}}/{{y}}.png"
        ctl, error = attach_basemap(canvas, TileSettings(xyz=url, attribution="内网底图"))
        assert error is None
        canvas.set_view(view_around(*P, 6000))
        settle(qtbot, canvas)
        v = canvas.map_view()
        z = canvas.basemap.zoom
        want = {f"/t/{k[0]}/{k[1]}/{k[2]}.png" for k in tiles_in(v.x0, v.y0, v.x1, v.y1, z)}
        assert set(asked) == want
        canvas.set_layers((point_layer(*P),))
        qtbot.wait(30)
        rgb = as_array(canvas.grab().toImage())
        probe = centroid(rgb, CYAN)
        canvas.remove_layer("probe")
        qtbot.wait(30)
        marker = centroid(as_array(canvas.grab().toImage()), MAGENTA)
        assert marker is not None and probe is not None and math.dist(marker, probe) <= 2.5
        ctl.close()
    finally:
        server.shutdown()
