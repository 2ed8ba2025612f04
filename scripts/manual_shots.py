"""Regenerate the user guide's screenshots (docs/img/*.png) from the demo county.

    .venv/bin/python scripts/manual_shots.py [--out docs/img] [--incidents 200000]

Every picture in docs/manual.*.md comes from here, drawn offscreen by the program
itself on the deterministic demo county, so the guide never shows an old screen.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
WIDTH = 1280  # pixels of a screenshot in the guide (readable, and the repository stays small)


def _wait(app, done: Callable[[], bool], limit: float = 120.0) -> None:
    t = time.monotonic()
    while not done() and time.monotonic() - t < limit:
        app.processEvents()
        time.sleep(0.01)
    for _ in range(10):
        app.processEvents()


def _save(image, path: Path) -> None:
    from PySide6.QtCore import Qt

    if image.width() > WIDTH:
        image = image.scaledToWidth(WIDTH, Qt.TransformationMode.SmoothTransformation)
    if not image.save(str(path), "PNG"):
        raise OSError(f"cannot write {path}")
    print(f"  {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def desk_shots(app, demo: Path, out: Path, lang: str) -> None:
    from desktop.main_window import CockpitWindow
    from widgets.theme import DARK

    win = CockpitWindow(DARK, lang, interactive=False)
    win.resize(1920, 1080)
    win.show()
    s, b = win.session, win.board

    def drawn() -> bool:
        p = b.panels.panels
        return (s.extract is not None and not s.jobs.busy() and p is not None
                and p.state == s.filters.state and b.map.scene is not None)

    win.open_path(str(demo))
    _wait(app, drawn)
    _save(win.grab().toImage(), out / f"desk.{lang}.png")

    # a town, with the resources and hazards maps on, on the light theme
    areas = s.extract.areas
    town = areas.ids[areas.at_level("town")[0]]
    win.set_theme(__import__("widgets.theme", fromlist=["LIGHT"]).LIGHT)
    s.options.update(resources=True, hazards=True)
    b.map.select_area(town)
    _wait(app, lambda: drawn() and b.map.scene.view == b.canvas.map_view())
    _save(win.grab().toImage(), out / f"town.{lang}.png")

    # one-click dispatch from the town's seat: the five nearest available forces
    s.options.update(dispatch=True, resources=True, hazards=False)
    p = areas.geoms[areas.idx_of(town)].representative_point()
    b.map.dispatch_from(p.x, p.y)
    _wait(app, lambda: b.details.isVisible() and not s.jobs.busy())
    _save(b.canvas.grab().toImage(), out / f"dispatch.{lang}.png")

    # the records behind the month's KPI tile, on the dark theme
    from layers.records import FigureRef
    from widgets.theme import DARK as dark

    win.set_theme(dark)
    s.options.update(dispatch=False, resources=False, hazards=False)
    b.details.hide()
    win.tools.records.open(FigureRef("kpi", "kpi_month"))
    model = win.tools.records_panel.model
    _wait(app, lambda: win.tools.records.source is not None
          and (0 in model.pages or model.total == 0) and not s.jobs.busy())
    _save(win.grab().toImage(), out / f"records.{lang}.png")
    win.close()


def import_shot(app, demo: Path, out: Path, lang: str) -> None:
    """The import wizard's mapping page on station-style files made from the demo."""
    from demo.station_files import write_station_files
    from desktop.import_wizard import ImportWizard
    from layers.i18n import set_language

    set_language(lang)
    with tempfile.TemporaryDirectory() as tmp:
        files = write_station_files(demo, Path(tmp) / "station")
        w = ImportWizard(start_dir=tmp)
        w.resize(1100, 720)
        w.show()
        w.add_files([str(p) for t in ("areas", "incidents") for p in files[t]])
        w.next()
        w.mapping_page.file.setCurrentIndex(1)
        w.mapping_page.fields.selectRow(2)  # category: its values and their meanings
        _wait(app, lambda: True, limit=0.5)
        _save(w.grab().toImage(), out / f"import.{lang}.png")
        w.close()


def wall_shot(app, demo: Path, out: Path, lang: str) -> None:
    from dataclasses import replace

    from desktop.wall import WallWindow
    from desktop.wall_config import load_config

    cfg = replace(load_config(None), lang=lang)
    win = WallWindow(str(demo), cfg)
    win.resize(1920, 1080)
    win.show()
    win.start()
    s, b = win.session, win.board
    _wait(app, lambda: s.extract is not None and not s.jobs.busy()
          and b.panels.panels is not None and b.map.scene is not None)
    _save(win.grab().toImage(), out / f"wall.{lang}.png")
    win.close()


def briefing_shot(demo: Path, out: Path, lang: str) -> None:
    from data.extract import open_extract
    from data.filters import FilterState
    from exporters.pdf_briefing import export_pdf

    if shutil.which("pdftoppm") is None:
        print("  (pdftoppm missing: no briefing picture)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "briefing.pdf"
        ex = open_extract(demo)
        try:
            export_pdf(ex, FilterState(), pdf, lang=lang)
        finally:
            ex.close()
        subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile",
                        str(pdf), str(Path(tmp) / "page")], check=True)
        from PySide6.QtGui import QImage

        _save(QImage(str(Path(tmp) / "page.png")), out / f"briefing.{lang}.png")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / "docs" / "img"))
    ap.add_argument("--incidents", type=int, default=200_000)
    ap.add_argument("--lang", choices=("zh", "en", "both"), default="both")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from demo import generate_demo
    from desktop.app import application

    app = application()
    langs = ("zh", "en") if args.lang == "both" else (args.lang,)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("COCKPIT_DATA_DIR", str(Path(tmp) / "data"))
        demo = Path(tmp) / "demo.duckdb"
        generate_demo(demo, incidents=args.incidents)
        for lang in langs:
            print(f"{lang}:")
            desk_shots(app, demo, out, lang)
            wall_shot(app, demo, out, lang)
            import_shot(app, demo, out, lang)
            briefing_shot(demo, out, lang)
    return 0


if __name__ == "__main__":
    sys.exit(main())
