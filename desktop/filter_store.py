"""The one filter state of the window, as a Qt object that says when it changes.

Every view reads ``store.state`` and listens to ``changed``; every intent (a
click on a bar, an area, a chip, a dragged time range) goes through ``set``.
``changed`` fires only on a real change, so a view that re-emits the state it
was given cannot start a loop.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from data.filters import FilterState

HISTORY = 50


class FilterStore(QObject):
    changed = Signal(object)  # the new FilterState

    def __init__(self, state: FilterState | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._state = state or FilterState()
        self._history: list[FilterState] = []

    @property
    def state(self) -> FilterState:
        return self._state

    def set(self, state: FilterState, remember: bool = True) -> bool:
        """Make ``state`` current; False (and no signal) when nothing changed.

        ``remember=False`` leaves the undo history alone: the frames of a replay after its
        first are one change to undo, not one per frame."""
        if state == self._state:
            return False
        if remember:
            self._history = [*self._history[-HISTORY + 1:], self._state]
        self._state = state
        self.changed.emit(state)
        return True

    def reset(self, state: FilterState) -> bool:
        """Make ``state`` current and forget the history (a new region's extract)."""
        self._history = []
        if state == self._state:
            return False
        self._state = state
        self.changed.emit(state)
        return True

    def apply(self, transition: Callable[[FilterState], FilterState]) -> bool:
        return self.set(transition(self._state))

    def back(self) -> bool:
        """Undo the last change."""
        if not self._history:
            return False
        self._state = self._history.pop()
        self.changed.emit(self._state)
        return True

    def can_go_back(self) -> bool:
        return bool(self._history)
