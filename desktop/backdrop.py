"""The base map and the reference layers of the settings, for a canvas or for an export.

``BackdropController(canvas, settings)`` is what a window needs: the base map attached
(``desktop.basemap``) and the reference files read once on a worker thread, then given
to the canvas, which draws them under every scene and simplifies them per zoom. Files
that cannot be used are skipped with a notice (``warnings``); ``changed`` says when the
reference layers arrived, so the legend and the layer list can be refreshed.

``load_backdrop(settings)`` (``desktop.backdrop_files``, Qt-free) is the same
synchronously, for headless exports (PDF, HTML).
"""

from __future__ import annotations

import contextlib
import threading

from PySide6.QtCore import QObject, Signal

from data.reference import ReferenceLayer, load_references
from layers.backdrop import Backdrop
from layers.drawables import LegendEntry
from layers.i18n import tr
from widgets.map_canvas import MapCanvas
from widgets.reference_button import ReferenceButton

from .backdrop_files import basemap_failed, load_backdrop, reference_failed
from .basemap import BasemapController, attach_basemap
from .settings import Notice, Settings

__all__ = ["BackdropController", "load_backdrop"]


class _Relay(QObject):
    done = Signal(object, object)  # layers, notices


class BackdropController(QObject):
    """The settings' base map and reference layers on one canvas."""

    changed = Signal()

    def __init__(self, canvas: MapCanvas, settings: Settings,
                 extent: tuple[float, float, float, float] | None = None) -> None:
        super().__init__(canvas)
        self.canvas = canvas
        self.settings = settings
        self.warnings: list[Notice] = []
        self.basemap: BasemapController | None = None
        self.reference: tuple[ReferenceLayer, ...] = ()
        self.basemap, warning = attach_basemap(canvas, settings.tiles, extent)
        if warning:
            self.warnings.append(basemap_failed(warning))
        self.button: ReferenceButton | None = None
        self._relay = _Relay()
        self._relay.done.connect(self._loaded)
        self._thread: threading.Thread | None = None
        if settings.reference_layers:
            self._thread = threading.Thread(target=self._load, name="cockpit-reference",
                                            daemon=True)
            self._thread.start()

    def _load(self) -> None:
        try:
            layers, failed = load_references(self.settings.reference_layers)
            notes = [reference_failed(s, r) for s, r in failed]
        except Exception as exc:  # an unforeseen failure: a notice, not a crash
            layers, notes = [], [Notice("reference_failed", (
                ("name", "*"), ("path", ""), ("error", f"{type(exc).__name__}: {exc}")))]
        with contextlib.suppress(RuntimeError):  # the window closed meanwhile
            self._relay.done.emit(layers, notes)

    def _loaded(self, layers: list[ReferenceLayer], notes: list[Notice]) -> None:
        self._thread = None
        self.reference = tuple(layers)
        self.warnings += notes
        self.canvas.set_reference(self.reference)
        self._fill_button()
        self.changed.emit()

    # ------------------------------------------------------------------ the layer list
    def bind(self, button: ReferenceButton) -> None:
        """``button`` lists the reference layers and shows or hides them on the canvas."""
        self.button = button
        button.layer_toggled.connect(self._toggle)
        self._fill_button()

    def _fill_button(self) -> None:
        if self.button is not None:
            refs = self.canvas.reference_layers()
            self.button.set_layers(list(refs.values()), {n for n in refs
                                                         if not self.canvas.layer_visible(n)})

    def _toggle(self, name: str, on: bool) -> None:
        self.canvas.set_layer_visible(name, on)
        self.changed.emit()

    def legend_section(self, lang: str | None = None
                       ) -> list[tuple[str, tuple[LegendEntry, ...]]]:
        """The legend's section for the reference layers shown (none: an empty list)."""
        entries = tuple(e for name, spec in self.canvas.reference_layers().items()
                        if self.canvas.layer_visible(name) for e in spec.legend)
        return [(tr("layer_reference", lang), entries)] if entries else []

    def loading(self) -> bool:
        return self._thread is not None

    def idle(self) -> bool:
        """No worker of this backdrop is reading a file or decoding a tile."""
        return not self.loading() and (self.basemap is None or self.basemap.idle())

    def settled(self) -> bool:
        """Reference layers read and the view's tiles all drawn (or known gaps)."""
        return not self.loading() and self.canvas.basemap_settled()

    def backdrop(self) -> Backdrop:
        """The same pieces for an export made from this window (PDF, HTML)."""
        b = self.basemap
        return Backdrop(b.source if b is not None else None,
                        b.info.datum if b is not None else "wgs84",
                        b.info.attribution if b is not None else None, self.reference)

    def close(self) -> None:
        if self._thread is not None:
            self._thread.join(30.0)
        if self.basemap is not None:
            self.basemap.close()
