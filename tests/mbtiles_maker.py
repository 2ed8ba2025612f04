"""Write small MBTiles files of raster tiles for tests and demos (Pillow + sqlite3).

Independent of the cockpit's tile code: positions use the textbook slippy-map
formula on lon/lat (``pixel``), rows are written in TMS order unless told otherwise.
Each tile is a plain background with a grid every 64 pixels (and, optionally, its
z/x/y written on it); ``markers`` paint a filled square centred on the exact pixel
of a lon/lat, so a test can find where the tiles put that place.

    python tests/mbtiles_maker.py OUT.mbtiles LON0 LAT0 LON1 LAT1 [--zooms 8-14]

writes a demo base map over a box (a paper-coloured map with a grid and labels).
"""

from __future__ import annotations

import argparse
import io
import math
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

from PIL import Image, ImageDraw

RGB = tuple[int, int, int]


def pixel(lon: float, lat: float, z: int) -> tuple[float, float]:
    """Global pixel coordinates (256-pixel tiles, y down from the north) at zoom z."""
    n = 256 * 2 ** z
    x = (lon + 180.0) / 360.0 * n
    phi = math.radians(lat)
    y = (1.0 - math.log(math.tan(phi) + 1.0 / math.cos(phi)) / math.pi) / 2.0 * n
    return x, y


def tile_range(lon0: float, lat0: float, lon1: float, lat1: float, z: int
               ) -> tuple[range, range]:
    x0, y0 = pixel(lon0, lat1, z)
    x1, y1 = pixel(lon1, lat0, z)
    return range(int(x0 // 256), int(x1 // 256) + 1), range(int(y0 // 256), int(y1 // 256) + 1)


Shape = tuple[Sequence[tuple[float, float]], RGB | None, RGB | None, int]
"""A ring or line of lon/lat, its fill (None: a line), its outline, its width in pixels."""


def tile_image(z: int, x: int, y: int, background: RGB, grid: RGB | None,
               markers: Sequence[tuple[float, float, RGB, int]], label: bool,
               fmt: str = "png", shapes: Sequence[Shape] = ()) -> bytes:
    img = Image.new("RGB", (256, 256), background)
    draw = ImageDraw.Draw(img)
    for coords, fill, outline, width in shapes:
        pts = [pixel(lon, lat, z) for lon, lat in coords]
        xs, ys = [p[0] - x * 256 for p in pts], [p[1] - y * 256 for p in pts]
        if max(xs) < -8 or min(xs) > 264 or max(ys) < -8 or min(ys) > 264:
            continue
        if fill is not None:
            draw.polygon(list(zip(xs, ys, strict=True)), fill=fill, outline=outline)
        else:
            draw.line(list(zip(xs, ys, strict=True)), fill=outline, width=width)
    if grid is not None:
        for k in range(0, 256, 64):
            draw.line([(k, 0), (k, 255)], fill=grid)
            draw.line([(0, k), (255, k)], fill=grid)
    if label:
        draw.text((6, 6), f"{z}/{x}/{y}", fill=grid or (0, 0, 0))
    for lon, lat, color, half in markers:
        px, py = pixel(lon, lat, z)
        cx, cy = px - x * 256, py - y * 256
        if -half <= cx < 256 + half and -half <= cy < 256 + half:
            draw.rectangle([cx - half, cy - half, cx + half, cy + half], fill=color)
    buf = io.BytesIO()
    img.save(buf, "JPEG" if fmt == "jpg" else "PNG")
    return buf.getvalue()


def write_mbtiles(path: str | Path, bounds: tuple[float, float, float, float],
                  zooms: Iterable[int], *, scheme: str = "tms", declare_scheme: bool = False,
                  background: RGB = (236, 232, 220), grid: RGB | None = (190, 186, 176),
                  markers: Sequence[tuple[float, float, RGB, int]] = (), label: bool = False,
                  attribution: str | None = "测试底图", broken: Iterable[tuple[int, int, int]] = (),
                  skip: Iterable[tuple[int, int, int]] = (), fmt: str = "png",
                  extra_metadata: dict[str, str] | None = None,
                  shapes: Sequence[Shape] = ()) -> int:
    """Tiles over ``bounds`` (lon0, lat0, lon1, lat1) at ``zooms``; returns how many.

    ``scheme`` is the row order written (``tms``: rows from the south, the MBTiles
    rule; ``xyz``: from the north), stated in the metadata only with ``declare_scheme``.
    ``broken`` tiles (XYZ z/x/y) hold bytes that are not an image; ``skip`` tiles are left
    out.
    """
    path = Path(path)
    path.unlink(missing_ok=True)
    broken, skip = set(broken), set(skip)
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
    con.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, "
                "tile_row INTEGER, tile_data BLOB)")
    con.execute("CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row)")
    zooms = list(zooms)
    meta = {"name": "test", "format": fmt, "minzoom": str(min(zooms)),
            "maxzoom": str(max(zooms)), "bounds": ",".join(f"{v:.6f}" for v in bounds)}
    if attribution:
        meta["attribution"] = attribution
    if declare_scheme:
        meta["scheme"] = scheme
    meta.update(extra_metadata or {})
    con.executemany("INSERT INTO metadata VALUES (?, ?)", meta.items())
    n = 0
    for z in zooms:
        cols, rows = tile_range(*bounds, z)
        for x in cols:
            for y in rows:
                if (z, x, y) in skip:
                    continue
                data = b"not an image" if (z, x, y) in broken else tile_image(
                    z, x, y, background, grid, markers, label, fmt, shapes)
                row = y if scheme == "xyz" else (1 << z) - 1 - y
                con.execute("INSERT INTO tiles VALUES (?, ?, ?, ?)", (z, x, row, data))
                n += 1
    con.commit()
    con.close()
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out")
    ap.add_argument("bounds", nargs=4, type=float)
    ap.add_argument("--zooms", default="8-13")
    ap.add_argument("--scheme", default="tms", choices=("tms", "xyz"))
    a = ap.parse_args()
    lo, hi = (int(v) for v in a.zooms.split("-"))
    n = write_mbtiles(a.out, tuple(a.bounds), range(lo, hi + 1), scheme=a.scheme, label=True,
                      attribution="演示底图 (tests/mbtiles_maker.py)")
    print(f"{a.out}: {n} tiles")


if __name__ == "__main__":
    main()
