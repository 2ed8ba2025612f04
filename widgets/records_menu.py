"""The 查看明细 intent shared by the views whose figures have records behind them.

A figure's records are asked for with Ctrl+click (``wants_records``) or from a small
context menu (``offer_records``); the view then emits its ``records_requested`` intent
and never queries anything itself.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QMenu, QWidget

from layers.i18n import tr

RECORDS_MODIFIER = Qt.KeyboardModifier.ControlModifier


def wants_records(modifiers: Qt.KeyboardModifier) -> bool:
    """A click with the records modifier (Ctrl) asks for the records, not a filter."""
    return bool(modifiers & RECORDS_MODIFIER)


def offer_records(parent: QWidget, global_pos: QPoint, on_choose: Callable[[], None],
                  extra: tuple[tuple[str, Callable[[], None]], ...] = ()) -> QMenu:
    """A context menu with 查看明细 (and ``extra`` (label, action) entries), not blocking."""
    menu = QMenu(parent)
    menu.setObjectName("records_menu")
    menu.addAction(tr("records_open")).triggered.connect(on_choose)
    for label, action in extra:
        menu.addAction(label).triggered.connect(action)
    menu.aboutToHide.connect(menu.deleteLater)
    menu.popup(global_pos)
    return menu
