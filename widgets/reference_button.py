"""The map toolbar's list of reference layers: one checkable entry per layer, in its colour.

A tool button (参考图层 ▾) opens a menu with each reference layer, a swatch of its colour
and a check mark; it only says what was asked (``layer_toggled``), the composition root
shows or hides the layer. Without reference layers the button hides itself.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QMenu, QToolButton, QWidget

from layers.drawables import LayerSpec
from layers.i18n import tr

from .theme import qcolor


def _swatch(spec: LayerSpec, size: int = 14) -> QIcon:
    pm = QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    entry = spec.legend[0] if spec.legend else None
    if entry is not None:
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(qcolor(entry.color))
        if entry.symbol == "line":
            p.drawRect(0, size // 2 - 2, size, 4)
        else:
            p.drawRect(1, 1, size - 2, size - 2)
    p.end()
    return QIcon(pm)


class ReferenceButton(QToolButton):
    layer_toggled = Signal(str, bool)  # layer name (reference.N), shown

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.setProperty("i18n", "layer_reference")
        self.setText(tr("layer_reference"))
        self._menu = QMenu(self)
        self.setMenu(self._menu)
        self.actions_by_name: dict[str, QAction] = {}
        self.hide()

    def set_layers(self, specs: Sequence[LayerSpec], hidden: set[str] = frozenset()) -> None:
        """The reference layers to list (``canvas.reference_layers().values()``)."""
        self._menu.clear()
        self.actions_by_name = {}
        for spec in specs:
            a = QAction(_swatch(spec), spec.title, self._menu)
            a.setCheckable(True)
            a.setChecked(spec.name not in hidden)
            a.toggled.connect(lambda on, n=spec.name: self.layer_toggled.emit(n, on))
            self._menu.addAction(a)
            self.actions_by_name[spec.name] = a
        self.setVisible(bool(specs))

    def set_language(self, lang: str) -> None:
        self.setText(tr("layer_reference", lang))
