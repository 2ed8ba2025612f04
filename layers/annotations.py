"""Annotations as a map layer and as a table: what the canvas, the PDF painter and the
HTML map draw, and what the PDF briefing lists.

The layer uses the ordinary drawables (``Polygons`` for zones, ``Lines`` for routes,
``Points`` for markers, ``Labels`` for the notes), so every renderer draws it with the
code it already has. Each purpose has a colour and a marker symbol (临时管控区 red,
卡点 orange, 集结点 green, other cyan). Notes are free text typed by an operator: phone
numbers in them are masked on the map and in print, like every free text.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from data.annotations import PURPOSES, Annotation
from data.coords import lonlat_to_mercator
from data.extract import Extract
from data.privacy import mask_text

from .drawables import Drawable, LayerSpec, LegendEntry, Lines, Points, Polygons
from .drawables import Labels as LabelsDrawable
from .i18n import code_label, tr
from .panels import TableSpec

LAYER = "annotations"
COLORS = {"control_zone": (229, 57, 53, 255), "checkpoint": (255, 145, 0, 255),
          "assembly": (0, 200, 83, 255), "other": (0, 184, 212, 255)}
SYMBOLS = {"control_zone": "s", "checkpoint": "t", "assembly": "star", "other": "d"}
FILL_ALPHA = 56


def _xy(points: Sequence[tuple[float, float]]) -> np.ndarray:
    lon, lat = zip(*points, strict=True)
    mx, my = lonlat_to_mercator(list(lon), list(lat))
    return np.column_stack([np.asarray(mx, float), np.asarray(my, float)])


def label_text(a: Annotation, lang: str | None = None) -> str:
    """The words on the map: the note, else the purpose."""
    return mask_text(a.note) or code_label("annotation_purpose", a.purpose, lang)


def annotation_layer(annotations: Sequence[Annotation], lang: str | None = None,
                     name: str = LAYER) -> LayerSpec | None:
    """One layer with every annotation (None when there is none)."""
    if not annotations:
        return None
    drawables: list[Drawable] = []
    for purpose in PURPOSES:  # zones first: lines and markers are drawn over them
        polys = [a for a in annotations if a.kind == "polygon" and a.purpose == purpose]
        if polys:
            fill = np.array([(*COLORS[purpose][:3], FILL_ALPHA)] * len(polys), np.uint8)
            drawables.append(Polygons(f"{name}.zones.{purpose}",
                                      tuple((_xy(a.points),) for a in polys),
                                      tuple(a.id for a in polys), COLORS[purpose], 2.4, fill,
                                      tuple(label_text(a, lang) for a in polys), z=37))
    for purpose in PURPOSES:
        lines = [a for a in annotations if a.kind == "line" and a.purpose == purpose]
        if lines:
            segs = [(p[i], p[i + 1]) for p in (_xy(a.points) for a in lines)
                    for i in range(len(p) - 1)]
            a0 = np.array([s[0] for s in segs])
            a1 = np.array([s[1] for s in segs])
            drawables.append(Lines(f"{name}.lines.{purpose}", a0[:, 0], a0[:, 1], a1[:, 0],
                                   a1[:, 1], COLORS[purpose], 3.0, z=38))
        marks = [a for a in annotations if a.kind == "marker" and a.purpose == purpose]
        if marks:
            xy = np.vstack([_xy(a.points) for a in marks])
            drawables.append(Points(f"{name}.markers.{purpose}", xy[:, 0], xy[:, 1],
                                    np.tile(np.array([COLORS[purpose]], np.uint8),
                                            (len(marks), 1)),
                                    np.full(len(marks), 16.0), SYMBOLS[purpose],
                                    tuple(a.id for a in marks),
                                    tuple(label_text(a, lang) for a in marks),
                                    outline=(255, 255, 255, 255), z=39))
    for lifted in (False, True):  # a marker's note sits above it, a zone's in it
        mine = [a for a in annotations if (a.kind == "marker") == lifted]
        if mine:
            xy = _xy([a.anchor() for a in mine])
            drawables.append(LabelsDrawable(
                f"{name}.notes{'.markers' if lifted else ''}", xy[:, 0], xy[:, 1],
                tuple(label_text(a, lang) for a in mine), np.full(len(mine), 5.0), size=9.0,
                color=(255, 255, 255, 255), halo=(0, 0, 0, 200), z=41,
                offset=16.0 if lifted else 0.0))
    shown = [p for p in PURPOSES if any(a.purpose == p for a in annotations)]
    legend = tuple(LegendEntry(code_label("annotation_purpose", p, lang), COLORS[p], SYMBOLS[p])
                   for p in shown)
    return LayerSpec(name, "annotations", tr("layer_annotations", lang), tuple(drawables),
                     legend)


def where_text(extract: Extract | None, a: Annotation) -> str:
    """Where an annotation is: the area under its anchor (town and village) and lon/lat."""
    lon, lat = a.anchor()
    place = ""
    if extract is not None:
        idx = int(extract.areas.locate(np.array([lon]), np.array([lat]))[0])
        if idx >= 0:
            areas = extract.areas
            town = int(areas.ancestor_at("town")[idx])
            place = (f"{areas.names[town]} {areas.names[idx]}" if 0 <= town != idx
                     else areas.names[idx])
    coords = f"{lon:.5f}, {lat:.5f}"
    return f"{place} ({coords})" if place else coords


def annotation_table(annotations: Sequence[Annotation], extract: Extract | None,
                     lang: str | None = None) -> TableSpec:
    """The briefing's list: kind, note, who, when, where (newest first)."""
    rows = []
    for a in sorted(annotations, key=lambda a: a.updated_at or a.created_at, reverse=True):
        kind = (f"{code_label('annotation_purpose', a.purpose, lang)} · "
                f"{code_label('annotation_kind', a.kind, lang)}")
        who = a.updated_by or a.created_by
        when = (a.updated_at or a.created_at).replace("T", " ")[:16]
        rows.append((kind, mask_text(a.note) or "—", who or "—", when or "—",
                     where_text(extract, a)))
    return TableSpec("annotations", tr("table_annotations", lang),
                     tuple(tr(k, lang) for k in ("col_annotation", "col_note", "col_who",
                                                 "col_when", "col_where")),
                     tuple(rows), tuple(a.id for a in annotations))
