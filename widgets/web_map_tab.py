"""The web-map tab: the exported HTML map in QtWebEngine, with a slim status line.

The tab only shows what it is given: ``show_building``, ``show_map(path, caption)``,
``show_error(text)``. It never queries; the desktop builds the page and decides when.
It says ``shown`` when it becomes visible, so the desktop can build only then.

QtWebEngine starts Chromium when the first view is created (about a second, and
memory): the ``WebMapView`` is made the first time the tab is shown, never with
the window, and again only when the base map changes (its profile is fixed at
creation).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWebEngineCore import QWebEngineLoadingInfo
from PySide6.QtWidgets import QLabel, QSizePolicy, QStackedWidget, QVBoxLayout, QWidget

from layers.i18n import tr

from .theme import DARK, Theme, css, make_font, qcolor
from .web_map import WebMapView

_Status = QWebEngineLoadingInfo.LoadStatus


def _zoom(scale: float) -> float:
    # The page's legend and labels are sized for 1920x1080; a 4K wall reads them at 2x.
    return max(0.5, min(4.0, scale))


class WebMapTab(QWidget):
    """``state`` is one of ``empty``, ``building``, ``shown``, ``error``."""

    shown = Signal()
    map_loaded = Signal(bool)  # the page of the last ``show_map`` loaded (or failed)
    request_blocked = Signal(str)

    def __init__(self, theme: Theme = DARK, scale: float = 1.0, lang: str = "zh",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lang = lang
        self.theme = theme
        self.scale = scale
        self.state = "empty"
        self.caption = ""
        self.seconds: float | None = None
        self.built_at: datetime | None = None
        self.path: Path | None = None
        """The page shown, or being loaded."""
        self.error: str | None = None
        self._message_key = "web_map_no_data"
        self._basemap: tuple[str | None, str | None, Path | None] = (None, None, None)
        self._view: WebMapView | None = None
        self._blocked = 0
        self._map_visible = False  # a loaded page is on screen (stays while the next builds)

        self.status = QLabel()
        # A long filter must not widen the map column: the line is cut, the tooltip has it all.
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.notice = QLabel()
        self.notice.setWordWrap(True)
        self.notice.hide()
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.message)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.status)
        layout.addWidget(self.notice)
        layout.addWidget(self.stack, 1)
        self.set_theme(theme, scale)
        self._render()

    # ------------------------------------------------------------------ the view
    @property
    def view(self) -> WebMapView | None:
        """The web view, once the tab has been shown (None before)."""
        return self._view

    def ensure_view(self) -> WebMapView:
        if self._view is None:
            _, prefix, mbtiles = self._basemap
            view = WebMapView(tile_prefix=prefix, mbtiles=mbtiles)
            # the theme's colour until the page paints, not a white flash on a wall
            view.page().setBackgroundColor(qcolor(self.theme.background))
            view.setZoomFactor(_zoom(self.scale))
            view.page().loadingChanged.connect(self._on_loading)
            view.request_blocked.connect(self._on_blocked)
            self.stack.addWidget(view)
            self._view = view
            self._blocked = 0
        return self._view

    def set_basemap(self, source: str | None, tile_prefix: str | None = None,
                    mbtiles: str | Path | None = None) -> None:
        """What the status line names as base map, and what the view serves or lets through.

        A change after the view exists replaces the view (at the next ``show_map``).
        """
        basemap = (source, tile_prefix, Path(mbtiles) if mbtiles is not None else None)
        if basemap == self._basemap:
            return
        self._basemap = basemap
        if self._view is not None:
            old, self._view = self._view, None
            self.stack.removeWidget(old)
            old.deleteLater()
            self._map_visible = False
            if self.state == "shown":
                self.state, self.path = "building", None
        self._render()

    # ------------------------------------------------------------------ states
    def show_message(self, key: str) -> None:
        """Nothing to show yet (e.g. no extract): the text of catalogue ``key``."""
        self.state, self._message_key, self.path = "empty", key, None
        self._render()

    def show_building(self, caption: str) -> None:
        """A new page is being built; a map already shown stays until it is replaced."""
        self.caption = caption
        self.error = None
        self.state = "building"
        self._message_key = "web_map_building"
        self._render()

    def show_map(self, path: str | Path, caption: str, seconds: float | None = None) -> None:
        """Load the page at ``path`` (from its file URL: any size)."""
        self.caption, self.seconds = caption, seconds
        self.built_at = datetime.now()
        self.error = None
        self.path = Path(path).resolve()
        self.state = "building"
        self._message_key = "web_map_building"
        view = self.ensure_view()
        self.stack.setCurrentWidget(view)
        self._render()
        view.load_map(self.path)

    def show_error(self, text: str) -> None:
        """Say in the tab (not in a dialog) why there is no map; a stale map is hidden."""
        self.error = text
        self.state = "error"
        self.path = None  # a late answer of the page that failed is not news
        self._map_visible = False
        self._render()

    def set_notice(self, text: str) -> None:
        """A warning under the status line (e.g. a settings problem); empty hides it."""
        self.notice.setText(text)
        self.notice.setVisible(bool(text))

    def set_language(self, lang: str) -> None:
        self.lang = lang
        self._render()

    def set_theme(self, theme: Theme, scale: float = 1.0) -> None:
        self.theme, self.scale = theme, scale
        pad = round(2 * scale)
        self.status.setFont(make_font(theme, 10, scale))
        self.status.setStyleSheet(f"color: {css(theme.muted)}; padding: {pad}px {pad * 2}px;")
        self.notice.setFont(make_font(theme, 10, scale))
        self.notice.setStyleSheet(f"color: {css(theme.bad)}; padding: 0 {pad * 2}px;")
        self.message.setFont(make_font(theme, 14, scale))
        if self._view is not None:
            self._view.page().setBackgroundColor(qcolor(theme.background))
            self._view.setZoomFactor(_zoom(scale))
        self._render()

    def status_text(self) -> str:
        return self.status.text()

    # ------------------------------------------------------------------ internals
    def _render(self) -> None:
        lang = self.lang
        parts: list[str] = []
        if self.state == "building":
            parts.append(tr("web_map_rebuilding" if self._map_visible
                            else "web_map_building", lang))
        if self.caption and self.state != "empty":
            parts.append(self.caption)
        if self.state == "shown" and self.built_at is not None:
            secs = f"{self.seconds:.2f}" if self.seconds is not None else "?"
            parts.append(tr("web_map_built", lang, time=self.built_at.strftime("%H:%M:%S"),
                            seconds=secs))
        source = self._basemap[0]
        parts.append(tr("web_map_basemap", lang, source=source) if source
                     else tr("web_map_no_basemap", lang))
        if self._blocked:
            parts.append(tr("web_map_blocked", lang, n=self._blocked))
        text = "  ·  ".join(parts)
        self.status.setText(text)
        self.status.setToolTip(text)
        if self.state == "error":
            self.message.setText(self.error or "")
            self.message.setStyleSheet(f"color: {css(self.theme.bad)};")
            self.stack.setCurrentWidget(self.message)
        elif self.state == "empty" or (self.state == "building" and self.path is None):
            self.message.setText(tr(self._message_key, lang))
            self.message.setStyleSheet(f"color: {css(self.theme.muted)};")
            self.stack.setCurrentWidget(self.message)

    def _on_loading(self, info: QWebEngineLoadingInfo) -> None:
        # Only the page asked for last: loading a newer one stops the older one (a failure
        # of that older load is not an error of the tab).
        if self.path is None or info.url() != QUrl.fromLocalFile(str(self.path)):
            return
        status = info.status()
        if status == _Status.LoadSucceededStatus:
            self.state = "shown"
            self._map_visible = True
            self._render()
            self.map_loaded.emit(True)
        elif status == _Status.LoadFailedStatus:
            self.show_error(tr("web_map_load_failed", self.lang,
                               error=info.errorString() or str(self.path)))
            self.map_loaded.emit(False)

    def _on_blocked(self, url: str) -> None:
        self._blocked += 1
        self._render()
        self.request_blocked.emit(url)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.shown.emit()
        if self._view is None:
            # after this event: the "building" text paints before Chromium starts
            QTimer.singleShot(0, self._create_if_visible)

    def _create_if_visible(self) -> None:
        if self.isVisible():
            self.ensure_view()
