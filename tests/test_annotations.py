"""Annotations (标注): the store (a restart, a damaged file, regions), drawing with real
clicks on the window's map, and every export showing them (PDF map and list, HTML, PNG)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from data.annotations import AnnotationStore, new_annotation
from data.extract import open_extract
from data.filters import FilterState
from layers.annotations import annotation_layer, annotation_table
from layers.drawables import Labels, Lines, Points, Polygons
from tests.test_cockpit_window import (  # noqa: F401 - autouse fixtures
    _dispose_windows,
    _zh,
    canvas_point,
    open_window,
    wait_frame,
)
from tests.test_html_map import page_data
from tests.test_pdf_briefing import pages, render, squeeze

SHOTS = os.environ.get("COCKPIT_SHOTS")
PHONE = "13812345678"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from demo import generate_demo

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    generate_demo(path, incidents=20_000, seed=11)
    return path


def town_square(ex, i: int = 0, r: float = 0.02) -> list[tuple[float, float]]:
    areas = ex.areas
    p = areas.geoms[areas.at_level("town")[i]].representative_point()
    return [(p.x - r, p.y - r), (p.x + r, p.y - r), (p.x + r, p.y + r), (p.x - r, p.y + r)]


# --------------------------------------------------------------------------- the store
def test_add_edit_delete_round_trip_and_regions(tmp_path: Path) -> None:
    path = tmp_path / "annotations.json"
    store = AnnotationStore(path)
    zone = store.add(new_annotation("polygon", [(115.0, 27.0), (115.1, 27.0), (115.1, 27.1)],
                                    "临时管控", "示范县", "control_zone", who="王"))
    line = store.add(new_annotation("line", [(115.0, 27.0), (115.2, 27.2)], "", "示范县"))
    other = store.add(new_annotation("marker", [(116.0, 28.0)], "卡点", "邻县", "checkpoint"))
    again = AnnotationStore(path)  # a restart reads the file
    assert again.of_region("示范县") == [zone, line] and again.of_region("邻县") == [other]
    assert zone.created_by == "王" and zone.created_at
    edited = again.update(zone.id, note="管控解除前", purpose="other", who="李")
    assert edited.updated_by == "李" and edited.created_by == "王"
    assert AnnotationStore(path).of_region("示范县")[0].note == "管控解除前"
    assert again.delete(line.id) and not again.delete(line.id)
    assert [a.id for a in AnnotationStore(path).load().items] == [zone.id, other.id]
    with pytest.raises(KeyError):
        again.update("nope", note="x")


@pytest.mark.parametrize("kind, points", [
    ("marker", []), ("marker", [(1, 1), (2, 2)]), ("line", [(1, 1)]),
    ("line", [(1, 1), (1, 1)]), ("polygon", [(1, 1), (2, 2), (1, 1)]),
    ("polygon", [(1, 1), (2, 2), (999, 1)]), ("circle", [(1, 1)]),
    ("marker", [(float("nan"), 1)]), ("marker", [("1", 2)])])
def test_bad_shapes_are_refused(kind: str, points: list) -> None:
    with pytest.raises((ValueError, TypeError)):
        new_annotation(kind, points, "x", "r")


def test_a_damaged_file_is_set_aside(tmp_path: Path) -> None:
    path = tmp_path / "annotations.json"
    path.write_text('{"version": 1, "annotations": [', encoding="utf-8")
    got = AnnotationStore(path).load()
    assert got.items == [] and got.warnings
    assert list(tmp_path.glob("annotations.json.broken-*")) and not path.exists()
    good = new_annotation("marker", [(115.0, 27.0)], "ok", "r").to_json()
    path.write_text(json.dumps({"annotations": [good, {"id": "x", "kind": "marker",
                                                      "points": [[500, 1]]}]}),
                    encoding="utf-8")
    got = AnnotationStore(path).load()
    assert [a.note for a in got.items] == ["ok"] and got.kept_aside is not None
    with pytest.raises(ValueError):
        new_annotation("marker", [(1, 1)], "x" * 500, "r")


def test_layer_and_table_mask_phones_in_notes() -> None:
    notes = [new_annotation("polygon", [(115.0, 27.0), (115.1, 27.0), (115.1, 27.1)],
                            f"联系 {PHONE}", "r", "control_zone"),
             new_annotation("line", [(115.0, 27.0), (115.1, 27.1), (115.2, 27.0)], "路线",
                            "r", "other"),
             new_annotation("marker", [(115.05, 27.05)], "", "r", "assembly")]
    spec = annotation_layer(notes, "zh")
    kinds = [type(d) for d in spec.drawables]
    assert kinds.count(Polygons) == 1 and kinds.count(Lines) == 1 and kinds.count(Points) == 1
    lines = next(d for d in spec.drawables if isinstance(d, Lines))
    assert len(lines.x0) == 2  # a three-point line is two segments
    labels = [d for d in spec.drawables if isinstance(d, Labels)]
    assert [t for d in labels for t in d.texts] == ["联系 138****5678", "路线", "集结点"]
    assert [d.offset > 0 for d in labels] == [False, True]  # a marker's note sits above it
    table = annotation_table(notes, None, "zh")
    assert len(table.rows) == 3 and not any(PHONE in c for r in table.rows for c in r)
    assert annotation_layer([], "zh") is None


# --------------------------------------------------------------------------- the window
def test_drawing_on_the_map_survives_a_restart(qtbot, demo: Path) -> None:
    win = open_window(qtbot, demo)
    ctl = win.tools.annotations
    ctl.ask = lambda kind, current: ("control_zone", "临时管控区 A")
    square = town_square(win.extract, 0)
    ctl.start("polygon")
    vp = win.board.canvas.viewport()
    for lon, lat in square[:3]:
        qtbot.mouseClick(vp, Qt.MouseButton.LeftButton, pos=canvas_point(win, lon, lat))
    assert "annotations.draft" in win.board.canvas.layers()
    assert win.session.filters.state == FilterState()  # clicks were vertices, not selections
    # a double click as a mouse makes it: press, release, double click, release
    last = canvas_point(win, *square[3])
    qtbot.mouseClick(vp, Qt.MouseButton.LeftButton, pos=last)
    qtbot.mouseDClick(vp, Qt.MouseButton.LeftButton, pos=last)
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=last)
    assert ctl.drawing is None and "annotations.draft" not in win.board.canvas.layers()
    saved = AnnotationStore().of_region(win.extract.region_name)
    assert len(saved) == 1 and saved[0].kind == "polygon" and saved[0].note == "临时管控区 A"
    got = np.asarray(saved[0].points)
    assert len(got) >= 4 and np.abs(got[:4] - np.asarray(square)).max() < 0.002
    # too few points: a message, nothing stored
    ctl.start("line")
    qtbot.mouseClick(vp, Qt.MouseButton.LeftButton, pos=canvas_point(win, *square[0]))
    ctl.finish()
    assert ctl.drawing == "line" and len(AnnotationStore().load().items) == 1
    qtbot.keyClick(win, Qt.Key.Key_Escape)
    assert ctl.drawing is None
    # a marker from the map's context menu
    ctl.ask = lambda kind, current: ("checkpoint", "卡点 1")
    mx, my = _mercator(square[2])
    entries = dict(win.tools.map_menu.entries(mx, my))
    entries["在此添加标记…"]()
    assert {a.note for a in AnnotationStore().load().items} == {"临时管控区 A", "卡点 1"}
    wait_frame(qtbot, win)
    if SHOTS:
        win.board.canvas.grab().save(str(Path(SHOTS) / "annotations_map_dark.png"))
    win.close()

    again = open_window(qtbot, demo)
    layer = again.board.canvas.layers().get("annotations")
    assert layer is not None
    assert {t for d in layer.drawables if isinstance(d, Labels) for t in d.texts} == {
        "临时管控区 A", "卡点 1"}
    # the zone is found under the pointer and can be edited, then removed
    cx, cy = _mercator((sum(p[0] for p in square) / 4, sum(p[1] for p in square) / 4))
    hit = again.tools.annotations_overlay.at(cx, cy)
    assert hit is not None and hit.kind == "polygon"
    again.tools.annotations.ask = lambda kind, current: ("control_zone", "管控解除")
    labels = [label for label, _ in again.tools.map_menu.entries(cx, cy)]
    assert "编辑标注：临时管控区 A" in labels and "删除标注：临时管控区 A" in labels
    dict(again.tools.map_menu.entries(cx, cy))["编辑标注：临时管控区 A"]()
    assert AnnotationStore().load().items[0].note == "管控解除"
    dict(again.tools.map_menu.entries(cx, cy))["删除标注：管控解除"]()
    assert [a.note for a in AnnotationStore().load().items] == ["卡点 1"]


def _mercator(lonlat: tuple[float, float]) -> tuple[float, float]:
    from data.coords import lonlat_to_mercator

    x, y = lonlat_to_mercator([lonlat[0]], [lonlat[1]])
    return float(x[0]), float(y[0])


def test_the_wall_shows_annotations_of_its_region(qtbot, demo: Path) -> None:
    from tests.test_wall import _WALLS, open_wall

    ex = open_extract(demo)
    region = ex.region_name
    store = AnnotationStore()
    store.add(new_annotation("polygon", town_square(ex), "管控区", region, "control_zone"))
    store.add(new_annotation("marker", [(100.0, 30.0)], "别县的", "别的县", "checkpoint"))
    ex.close()
    win = open_wall(qtbot, demo)
    try:
        layer = win.board.canvas.layers().get("annotations")
        assert layer is not None
        texts = [t for d in layer.drawables if isinstance(d, Labels) for t in d.texts]
        assert texts == ["管控区"]
        # a desk adds one: the wall picks it up from the file
        store.add(new_annotation("marker", [town_square(ex)[0]], "集结", region, "assembly"))
        win.annotations._check_file()
        layer = win.board.canvas.layers()["annotations"]
        assert sorted(t for d in layer.drawables if isinstance(d, Labels)
                      for t in d.texts) == ["管控区", "集结"]
    finally:
        if win in _WALLS:
            _WALLS.remove(win)
        win.close()


# --------------------------------------------------------------------------- exports
@pytest.fixture()
def annotated(demo: Path):
    ex = open_extract(demo)
    notes = [new_annotation("polygon", town_square(ex, 0, 0.05), f"临时管控区 {PHONE}",
                            ex.region_name, "control_zone", who="值班员甲"),
             new_annotation("marker", [town_square(ex, 3)[0]], "卡点北口", ex.region_name,
                            "checkpoint", who="值班员乙")]
    for a in notes:
        AnnotationStore().add(a)
    yield ex, notes
    ex.close()


def test_pdf_draws_and_lists_annotations(annotated, tmp_path: Path) -> None:
    from exporters.pdf_briefing import export_pdf

    ex, _notes = annotated
    with_notes = export_pdf(ex, FilterState(), tmp_path / "a.pdf")
    assert with_notes["annotations"] == 2
    text = squeeze("".join(pages(tmp_path / "a.pdf")))
    assert "地图标注" in text and "卡点北口" in text and "值班员甲" in text
    assert "138****5678" in text and PHONE not in text
    without = export_pdf(ex, FilterState(), tmp_path / "b.pdf", annotations=())
    assert without["annotations"] == 0 and "地图标注" not in squeeze("".join(
        pages(tmp_path / "b.pdf")))
    # the situation map (page 2 on A4) differs only by the annotations' ink
    page = next(i for i, p in enumerate(pages(tmp_path / "a.pdf"), 1) if "态势" in p and
                "临时管控区" in p)
    w, h, a = render(tmp_path / "a.pdf", page, 60)
    _, _, b = render(tmp_path / "b.pdf", page, 60)
    pa = np.frombuffer(a, np.uint8).reshape(h, w, 3).astype(int)
    pb = np.frombuffer(b, np.uint8).reshape(h, w, 3).astype(int)
    changed = np.abs(pa - pb).sum(axis=2) > 60
    assert changed.sum() > 200
    red = (pa[..., 0] > pa[..., 1] + 60) & changed  # the zone's red outline and fill
    assert red.sum() > 50
    if SHOTS:
        import subprocess

        subprocess.run(["pdftoppm", "-png", "-r", "70", "-f", str(page), "-l", str(page),
                        str(tmp_path / "a.pdf"), str(Path(SHOTS) / "annotations_pdf")],
                       check=True)


def test_html_map_carries_annotations(annotated, tmp_path: Path) -> None:
    from exporters.html_map import export_html

    ex, _notes = annotated
    out = export_html(ex, FilterState(), tmp_path / "m.html")
    assert out["annotations"] == 2
    html = (tmp_path / "m.html").read_text(encoding="utf-8")
    data = page_data(html)["annotations"]
    assert {i["note"] for i in data["items"]} == {"临时管控区 138****5678", "卡点北口"}
    assert PHONE not in html
    assert data["labels"]["control_zone"] == "临时管控区"
    plain = export_html(ex, FilterState(), tmp_path / "n.html", annotations=())
    assert plain["annotations"] == 0 and page_data(
        (tmp_path / "n.html").read_text(encoding="utf-8"))["annotations"] is None


@pytest.mark.slow
def test_png_export_shows_annotations(annotated, demo: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    from PySide6.QtGui import QImage

    from tests.test_cockpit_window import grab_image

    root = Path(__file__).resolve().parents[1]

    def png(name: str) -> np.ndarray:
        out = subprocess.run([sys.executable, "main.py", "export", str(demo), "--png",
                              str(tmp_path / name), "--size", "1280x720"], cwd=root,
                             env=dict(os.environ), capture_output=True, text=True,
                             timeout=300)
        assert out.returncode == 0, out.stderr
        return grab_image(QImage(str(tmp_path / name)))

    shown = png("with.png")
    AnnotationStore().path.unlink()
    hidden = png("without.png")
    diff = np.abs(shown[..., :3].astype(int) - hidden[..., :3].astype(int)).sum(axis=2) > 60
    assert diff.sum() > 300  # the zone and the marker, nothing else moved
