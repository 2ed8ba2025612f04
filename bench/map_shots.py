"""Screenshots of the native map with a base map, reference layers and grouped hazards.

    python bench/map_shots.py OUT_DIR [--extract F] [--datum wgs84|gcj02] [--no-pdf]

Makes a demo base map over the extract (``tests/mbtiles_maker.py``: towns painted as
land, a river, roads between the town seats; in GCJ-02 when asked, to check the shift),
two reference layers (roads as lines in CGCS2000 / 3-degree Gauss-Kruger, villages as
网格 polygons), a ``settings.json`` naming them, then saves the desk window with the
hazards and resources maps on, in the dark and the light theme, zoomed out (groups) and
zoomed in (symbols), and the first pages of the PDF briefing with its town atlas.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def make_userdata(extract_path: Path, out: Path, datum: str) -> Path:
    """The base map, the reference layers and settings.json in ``out / 'userdata'``."""
    import geopandas as gpd
    import numpy as np
    import shapely
    from mbtiles_maker import write_mbtiles

    from data.coords import wgs84_to_gcj02
    from data.extract import open_extract

    ex = open_extract(extract_path)
    areas = ex.areas
    lon0, lat0, lon1, lat1 = areas.extent()
    pad = 0.05
    box = (lon0 - pad, lat0 - pad, lon1 + pad, lat1 + pad)

    def moved(coords: list[tuple[float, float]]) -> list[tuple[float, float]]:
        if datum != "gcj02":
            return coords
        a = np.asarray(coords)
        g = wgs84_to_gcj02(a[:, 0], a[:, 1])
        return list(zip(g[0].tolist(), g[1].tolist(), strict=True))

    towns = [areas.geoms[i] for i in areas.at_level("town") if areas.geoms[i] is not None]
    seats = [shapely.point_on_surface(t) for t in towns]
    greens = [(222, 234, 210), (232, 238, 216), (214, 229, 204)]
    shapes = []
    for k, t in enumerate(towns):
        for poly in getattr(t, "geoms", [t]):
            shapes.append((moved(list(poly.exterior.coords)), greens[k % 3], (190, 190, 180), 1))
    t = np.linspace(0, 1, 200)
    river = list(zip((lon0 + (lon1 - lon0) * t).tolist(),
                     (lat0 + (lat1 - lat0) * (0.45 + 0.12 * np.sin(t * 9))).tolist(),
                     strict=True))
    shapes.append((moved(river), None, (150, 190, 230), 5))
    order = sorted(range(len(seats)), key=lambda i: (seats[i].x, seats[i].y))
    road = [(seats[i].x, seats[i].y) for i in order]
    shapes.append((moved(road), None, (255, 255, 255), 4))
    data = out / "userdata"
    data.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    n = write_mbtiles(data / "base.mbtiles", box, range(8, 15), background=(242, 239, 233),
                      grid=None, shapes=shapes, attribution=f"演示底图 ({datum})")
    print(f"base map: {n} tiles in {time.perf_counter() - t0:.1f} s")
    lines = [shapely.LineString([(seats[a].x, seats[a].y), (seats[b].x, seats[b].y)])
             for a, b in itertools.pairwise(order)]
    gpd.GeoDataFrame({"name": [f"县道{k}" for k in range(len(lines))]}, geometry=lines,
                     crs="EPSG:4326").to_crs("EPSG:4547").to_file(data / "roads.gpkg")
    villages = [areas.geoms[i] for i in areas.at_level("village") if areas.geoms[i] is not None]
    gpd.GeoDataFrame({"name": [areas.names[i] for i in areas.at_level("village")
                               if areas.geoms[i] is not None]}, geometry=villages,
                     crs="EPSG:4326").to_file(data / "grid.gpkg")
    (data / "settings.json").write_text(json.dumps({
        "tiles": {"mbtiles": "base.mbtiles", "datum": datum},
        "reference_layers": [
            {"path": "roads.gpkg", "name": "县道", "color": "#ff8f00", "width": 3},
            {"path": "grid.gpkg", "name": "网格", "color": "#7e57c2", "width": 1,
             "fill": "#7e57c220"}]}, ensure_ascii=False), encoding="utf-8")
    return data


def window_shots(extract: Path, out: Path) -> list[Path]:
    from desktop.app import application
    from desktop.main_window import CockpitWindow
    from widgets.theme import DARK, LIGHT, apply_theme

    app = application()
    shots = []
    for theme in (DARK, LIGHT):
        win = CockpitWindow(theme, "zh", interactive=False)
        apply_theme(app, theme)
        win.resize(1920, 1080)
        win.show()
        win.open_path(str(extract))
        while win.extract is None or win.board.backdrop is None:
            app.processEvents()
            time.sleep(0.01)
        board = win.board
        ctl = board.backdrop
        board.canvas.reset_view()
        win.session.options.update(situation=False, hazards=True, resources=True)

        def settle(win: CockpitWindow = win) -> None:
            end = time.monotonic() + 120
            while time.monotonic() < end:
                app.processEvents()
                time.sleep(0.01)
                if (not win.session.jobs.busy() and win.board.backdrop.settled()
                        and win.board.map.scene is not None):
                    break
            for _ in range(30):
                app.processEvents()
                time.sleep(0.01)

        settle()
        for name in ("county", "town"):
            if name == "town":
                board.map.zoom_to_area(win.extract.areas.ids[win.extract.areas.at_level("town")[3]])
                settle()
            path = out / f"map-{theme.name}-{name}.png"
            win.grab().save(str(path))
            board.canvas.grab().save(str(out / f"canvas-{theme.name}-{name}.png"))
            shots.append(path)
            print(path, "tiles", ctl.basemap.loader.stats if ctl.basemap else None)
        for n in ctl.warnings:
            print("warning:", n.text("en"))
        win.close()
    return shots


def pdf_shots(extract: Path, out: Path) -> list[Path]:
    from data.extract import open_extract
    from data.filters import FilterState
    from desktop.backdrop import load_backdrop
    from desktop.settings import load_settings
    from exporters.pdf_briefing import export_pdf

    ex = open_extract(extract)
    backdrop, notes = load_backdrop(load_settings(), ex.areas.extent())
    for n in notes:
        print("warning:", n.text("en"))
    pdf = out / "briefing.pdf"
    res = export_pdf(ex, FilterState(), pdf, atlas="town", backdrop=backdrop)
    print(pdf, res["pages"], "pages", res["seconds"], "s")
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "3", str(pdf),
                    str(out / "pdf")], check=True)
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", str(res["pages"] - 2), "-l",
                    str(res["pages"] - 2), str(pdf), str(out / "pdf-atlas")], check=True)
    return sorted(out.glob("pdf*.png"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out")
    ap.add_argument("--extract")
    ap.add_argument("--datum", default="wgs84", choices=("wgs84", "gcj02"))
    ap.add_argument("--no-pdf", action="store_true")
    a = ap.parse_args()
    out = Path(a.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    extract = Path(a.extract) if a.extract else out / "demo.duckdb"
    if not extract.exists():
        subprocess.run([sys.executable, str(ROOT / "main.py"), "demo", "--out", str(extract),
                        "--incidents", "200000"], check=True)
    data = make_userdata(extract, out, a.datum)
    os.environ["COCKPIT_DATA_DIR"] = str(data)
    for p in window_shots(extract, out):
        print(p)
    if not a.no_pdf:
        for p in pdf_shots(extract, out):
            print(p)


if __name__ == "__main__":
    main()
