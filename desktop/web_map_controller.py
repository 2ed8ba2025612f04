"""Drives the web-map tab: builds the exported HTML map of the session's filter, when seen.

The board's centre becomes two tabs, the native map (the default) and the web
map. The controller observes the ``CockpitSession``: while the web map is visible,
a change of filter, extract or language builds the page again with
``exporters.html_map.export_html`` in a background job of the session (slot
``webmap``: the latest request wins, its own callbacks receive the page). While
it is hidden nothing is built; the difference between what is shown and what
the session holds is noticed, and built, when the tab is shown again.

Pages are written to a private temporary folder under the cache directory
(``webmap-*``, mode 0700, removed when the board closes; folders left by a
crash are removed by the next start after a day). Only the page shown and any
page still being built are kept. The base map comes from ``desktop.settings``,
read the first time the tab is shown.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QTabWidget, QWidget

from data.cache import cache_dir
from data.reference import ReferenceLayer
from layers.filter_text import filter_chips, window_text
from layers.i18n import tr
from widgets.theme import Theme, css
from widgets.web_map import TILE_TEMPLATE
from widgets.web_map_tab import WebMapTab

from .jobs import JobContext
from .session import CockpitSession, ViewOptions
from .settings import Settings

JOB = "webmap"
DIR_PREFIX = "webmap-"
STALE_SECONDS = 24 * 3600
_PAGE = re.compile(r"^\.?map-(\d+)\.html(\.tmp)?$")


def remove_stale_dirs(root: Path, keep: Path | None = None,
                      older_than: float = STALE_SECONDS) -> None:
    """Remove page folders of earlier runs that were not cleaned up (a crash, a kill)."""
    now = time.time()
    for d in root.glob(DIR_PREFIX + "*"):
        with contextlib.suppress(OSError):
            if d != keep and d.is_dir() and now - d.stat().st_mtime > older_than:
                shutil.rmtree(d, ignore_errors=True)


class WebMapController(QObject):
    """Owns the tab widget of the board's centre, the web-map tab and its page folder."""

    def __init__(self, session: CockpitSession, native: QWidget,
                 reference: Callable[[], Sequence[ReferenceLayer]] = tuple,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.reference = reference
        """The reference layers the native map has read (the same files, read once)."""
        self.settings: Settings | None = None
        """The session's settings, taken when the tab is first shown (None before)."""
        lang = session.lang
        self.tab = WebMapTab(lang=lang)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.tabBar().setDrawBase(False)  # no light rule across a dark wall
        self.tabs.addTab(native, tr("tab_map", lang))
        self.tabs.addTab(self.tab, tr("tab_web_map", lang))
        self.directory: Path | None = None
        self.builds = 0
        """Pages asked for (tests and benchmarks read it)."""
        self._seq = 0
        self._wanted: tuple[Any, ...] | None = None  # token of the page built or being built
        self._pending: dict[str, Any] | None = None  # built while the tab was hidden
        self.tab.shown.connect(self._on_shown)
        self.tab.map_loaded.connect(self._on_loaded)
        session.filters.changed.connect(self._refresh)
        session.extract_changed.connect(self._refresh)
        session.options.changed.connect(self._on_options)

    # ------------------------------------------------------------------ public
    def show_tab(self) -> None:
        self.tabs.setCurrentWidget(self.tab)

    def _on_options(self, new: ViewOptions, old: ViewOptions) -> None:
        if new.lang != old.lang:
            self.set_language(new.lang)

    def set_language(self, lang: str) -> None:
        self.tabs.setTabText(0, tr("tab_map", lang))
        self.tabs.setTabText(1, tr("tab_web_map", lang))
        self.tab.set_language(lang)
        self._show_notices()
        self._refresh()

    def set_theme(self, theme: Theme, scale: float) -> None:
        s = scale
        self.tabs.setStyleSheet(
            f"QTabWidget::pane {{ border: none; }}"
            f"QTabBar::tab {{ color: {css(theme.muted)}; background: {css(theme.background)};"
            f" padding: {round(3 * s)}px {round(14 * s)}px; border: none;"
            f" font-size: {10 * s:.1f}pt; font-weight: bold; }}"
            f"QTabBar::tab:selected {{ color: {css(theme.text)}; background: {css(theme.panel)};"
            f" border-bottom: {max(1, round(2 * s))}px solid {css(theme.accent)}; }}")
        self.tab.set_theme(theme, scale)

    def close(self) -> None:
        """Remove the page folder (the board is closing; the session's jobs have ended)."""
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None

    # ------------------------------------------------------------------ building
    def _token(self) -> tuple[Any, ...]:
        s = self.session
        tiles = self.settings.tiles if self.settings else None
        return (id(s.extract), s.filters.state, s.lang, tiles)

    def _folder(self) -> Path:
        if self.directory is None or not self.directory.is_dir():
            root = cache_dir()
            self.directory = Path(tempfile.mkdtemp(prefix=DIR_PREFIX, dir=root))
            remove_stale_dirs(root, keep=self.directory)
        return self.directory

    def _refresh(self, *_: object) -> None:
        """Build the page of the session's current state if the tab is seen and it differs."""
        if not self.tab.isVisible():
            return  # compared again when the tab is shown
        s = self.session
        ex = s.extract
        if ex is None:
            self.tab.show_message("web_map_no_data")
            return
        token = self._token()
        if token == self._wanted:
            return
        self._wanted = token
        self._seq += 1
        self.builds += 1
        state, lang, seq = s.filters.state, s.lang, self._seq
        chips = [c.label for c in filter_chips(state, ex, lang) if c.field != "start"]
        caption = "  ·  ".join([ex.region_name, window_text(state, lang), *chips])
        tiles = self.settings.tiles if self.settings else None
        template = TILE_TEMPLATE if tiles and tiles.mbtiles else (tiles.xyz if tiles else None)
        attribution = tiles.attribution if tiles else None
        reference = self.reference()
        try:
            path = self._folder() / f"map-{seq:05d}.html"
        except OSError as exc:
            self._wanted = None
            self.tab.show_error(tr("web_map_error", lang, error=str(exc)))
            return

        def work(_ctx: JobContext) -> dict[str, Any]:
            # folium and pandas load on the first build, not with the window (1 s of start-up)
            from exporters.html_map import export_html

            summary = export_html(ex, state, path, lang, tiles=template, masked=True,
                                  tile_attribution=attribution, reference=reference)
            return {**summary, "caption": caption, "seq": seq}
        self.tab.show_building(caption)
        s.jobs.submit(JOB, token, work, self._on_built, self._on_failed)

    def _on_built(self, result: Any) -> None:
        if self.tab.isVisible():
            self._show(result)
        else:
            self._pending = result

    def _on_failed(self, error: str) -> None:
        self._wanted = None  # tried again at the next change or showing
        self.tab.show_error(tr("web_map_error", self.session.lang,
                               error=error.splitlines()[0]))

    def _show(self, result: dict[str, Any]) -> None:
        self._pending = None
        lang = self.session.lang
        n = f"{result['incidents']:,}"
        what = {"heat": tr("web_map_heat", lang, n=n), "cluster": tr("web_map_points", lang, n=n)
                }.get(result["incident_mode"], tr("web_map_no_incidents", lang))
        self.tab.show_map(result["path"], f"{result['caption']}  ·  {what}", result["seconds"])

    def _on_shown(self) -> None:
        if self.settings is None:
            self.settings = self.session.settings
            tiles = self.settings.tiles
            # before the tab creates its view: the view's profile is fixed at creation
            self.tab.set_basemap(tiles.source, tiles.tile_prefix, tiles.mbtiles)
            self._show_notices()
        if self._pending is not None:
            self._show(self._pending)
        self._refresh()

    def _show_notices(self) -> None:
        if self.settings is not None:
            self.tab.set_notice("\n".join(n.text(self.session.lang)
                                          for n in self.settings.warnings))

    def _on_loaded(self, ok: bool) -> None:
        """Keep the page shown and any newer one still being built; remove the rest."""
        shown = self.tab.path
        if not ok or shown is None or self.directory is None:
            return
        m = _PAGE.match(shown.name)
        if m is None:
            return
        for f in self.directory.iterdir():
            mf = _PAGE.match(f.name)
            if mf is not None and int(mf.group(1)) < int(m.group(1)):
                with contextlib.suppress(OSError):
                    f.unlink()
