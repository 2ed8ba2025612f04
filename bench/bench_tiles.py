"""Base-map benchmark: tiles per second from an MBTiles file, and frame time while panning.

    python bench/bench_tiles.py [--extract F] [--mbtiles F] [--size 1920x1080]

Without ``--mbtiles`` a demo base map is written over the extract (``tests/mbtiles_maker``,
zoom 8-15, painted PNG tiles). Prints medians of several runs; nothing is asserted:

- read + decode on one thread (``MBTilesSource.get`` + ``QImage`` decode), tiles/s;
- the loader end to end (two worker threads, queue, hand-over to the GUI thread), tiles/s;
- a map canvas of ``--size`` with the demo scene (hazard groups, areas), panned in steps
  of 1 % with a zoom every 20 steps: the repaint per step without a base map, with a base
  map whose tiles are all loaded, and while they still load (tiles arrive between frames).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--extract")
    ap.add_argument("--mbtiles")
    ap.add_argument("--size", default="1920x1080")
    a = ap.parse_args()
    w, h = (int(v) for v in a.size.split("x"))
    work = Path(tempfile.gettempdir()) / "cockpit-bench"
    work.mkdir(exist_ok=True)
    extract = Path(a.extract) if a.extract else work / "tiles-demo.duckdb"
    if not extract.exists():
        import subprocess

        subprocess.run([sys.executable, str(ROOT / "main.py"), "demo", "--out", str(extract),
                        "--incidents", "200000"], check=True)

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from data.extract import open_extract
    from data.filters import FilterState
    from data.queries import Query
    from data.tiles import MBTilesSource, tiles_in
    from desktop.basemap import TileLoader, attach_basemap, decode
    from desktop.settings import TileSettings
    from layers.scene import SceneOptions, build_scene, full_view
    from widgets.map_canvas import MapCanvas

    ex = open_extract(extract)
    lon0, lat0, lon1, lat1 = ex.areas.extent()
    mbtiles = Path(a.mbtiles) if a.mbtiles else work / "tiles-demo.mbtiles"
    if not mbtiles.exists():
        from mbtiles_maker import write_mbtiles

        t = time.perf_counter()
        n = write_mbtiles(mbtiles, (lon0 - 0.05, lat0 - 0.05, lon1 + 0.05, lat1 + 0.05),
                          range(8, 16), label=True)
        print(f"demo base map: {n} tiles written in {time.perf_counter() - t:.0f} s")
    src = MBTilesSource(mbtiles)
    print(f"{mbtiles.name}: zoom {src.min_zoom}-{src.max_zoom}, rows {src.scheme}, "
          f"{mbtiles.stat().st_size / 1e6:.0f} MB")

    # ------------------------------------------------------------------ tiles per second
    view = full_view(ex, w, h)
    keys = [k for z in range(src.min_zoom, src.max_zoom + 1)
            for k in tiles_in(view.x0, view.y0, view.x1, view.y1, z)]
    rng = random.Random(1)
    rates = []
    for _ in range(5):
        sample = rng.sample(keys, min(400, len(keys)))
        t = time.perf_counter()
        for k in sample:
            decode(src.get(*k))
        rates.append(len(sample) / (time.perf_counter() - t))
    print(f"read + decode, one thread: median {statistics.median(rates):.0f} tiles/s")
    rates = []
    for _ in range(5):
        loader = TileLoader(MBTilesSource(mbtiles), threads=2)
        got: list = []
        loader.tile_ready.connect(lambda k, img, got=got: got.append(k))
        sample = rng.sample(keys, min(400, len(keys)))
        t = time.perf_counter()
        loader.request(sample)
        while len(got) < len(sample):
            app.processEvents()
        rates.append(len(sample) / (time.perf_counter() - t))
        loader.close()
    print(f"loader, two threads, to the GUI thread: median {statistics.median(rates):.0f} "
          "tiles/s")

    # ------------------------------------------------------------------ panning
    canvas = MapCanvas()
    canvas.resize(w, h)
    canvas.show()
    app.processEvents()
    options = SceneOptions(situation=True, hazards=True, resources=False)
    scene = build_scene(Query(ex), FilterState(), view, options)
    canvas.set_layers(scene.layers)
    canvas.set_view(view)
    vb = canvas.getViewBox()

    def pan(steps: int = 120, settle: bool = False) -> list[float]:
        canvas.set_view(view)
        if settle:
            wait_tiles()
        frames = []
        (x0, x1), _ = vb.viewRange()
        for i in range(steps):
            dx = (x1 - x0) * 0.01 * (1 if i < steps // 2 else -1)
            t = time.perf_counter()
            vb.translateBy(x=dx)
            if i % 20 == 10:
                vb.scaleBy((0.9, 0.9))
            canvas.viewport().repaint()
            frames.append(time.perf_counter() - t)
            app.processEvents()  # tiles that arrived meanwhile are handed in here
        return frames

    def wait_tiles() -> None:
        end = time.monotonic() + 30
        while not canvas.basemap_settled() and time.monotonic() < end:
            app.processEvents()
            time.sleep(0.002)

    def report(name: str, frames: list[float]) -> None:
        ms = sorted(f * 1000 for f in frames)
        print(f"pan/zoom repaint, {name}: median {statistics.median(ms):.1f} ms, "
              f"p95 {ms[int(len(ms) * 0.95)]:.1f} ms")

    pan(20)
    report("no base map", pan())
    ctl, error = attach_basemap(canvas, TileSettings(mbtiles=mbtiles))
    assert ctl is not None, error
    loading = pan()
    report("base map, tiles loading", loading)
    warm = []
    for _ in range(3):  # every view's tiles in the cache now
        warm += pan(settle=True)
    report("base map, tiles cached", warm)
    s = ctl.loader.stats
    print(f"loader: loaded {s.loaded}, from cache {s.cached}, dropped (stale) {s.dropped}, "
          f"missing {s.missing}, broken {s.broken}; cache {len(ctl.loader.cache)} tiles, "
          f"{ctl.loader.cache.bytes / 1e6:.0f} MB")
    ctl.close()
    canvas.close()


if __name__ == "__main__":
    main()
