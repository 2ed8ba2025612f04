"""The map's context menu: what the tools wired to the map offer at the clicked place.

The records (the rows behind a density cell, a hot-spot cell, an area) and the
annotations (add, edit, remove) each register a provider; a right click on the map
asks every provider for its entries at that place and shows them in one menu.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QPoint
from PySide6.QtWidgets import QMenu, QWidget

Entry = tuple[str, Callable[[], None]]
Provider = Callable[[float, float], list[Entry]]


class MapMenu(QObject):
    def __init__(self, canvas: QWidget) -> None:
        super().__init__(canvas)
        self.canvas = canvas
        self.providers: list[Provider] = []
        self.menu: QMenu | None = None
        canvas.context_requested.connect(self.show)  # type: ignore[attr-defined]

    def add(self, provider: Provider) -> None:
        self.providers.append(provider)

    def entries(self, mx: float, my: float) -> list[Entry]:
        out: list[Entry] = []
        for provider in self.providers:
            out += provider(mx, my)
        return out

    def show(self, mx: float, my: float, pos: QPoint) -> None:
        entries = self.entries(mx, my)
        if not entries:
            return
        menu = QMenu(self.canvas)
        menu.setObjectName("map_menu")
        for label, action in entries:
            menu.addAction(label).triggered.connect(action)
        menu.aboutToHide.connect(menu.deleteLater)
        self.menu = menu
        menu.popup(pos)
