"""The web-map tab: the exported HTML map shown in QtWebEngine, sealed off from the network.

``WebMapView`` loads a file written by ``exporters.html_map.export_html`` from a
file URL (``setHtml`` would show a blank page above ~2 MB). It has its own
off-the-record profile, so nothing is cached or stored on disk, and a request
interceptor (``RequestGuard``) that lets through only ``file:``, ``data:``,
``blob:`` and the program's own ``cockpit-tiles:`` scheme, plus the intranet tile
server the user configured. Everything else is blocked and recorded
(``blocked_requests``, ``request_blocked``): closed networks must see nothing,
and a test can prove it.

Base maps from a local MBTiles file are served on ``cockpit-tiles://tiles/{z}/{x}/{y}.png``
by ``MBTilesHandler``. The scheme has to be registered before QtWebEngine
starts: importing this module does it (``register_schemes``), so the desktop
imports it before creating the QApplication.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import ClassVar

from PySide6.QtCore import QBuffer, QByteArray, QObject, QUrl, Signal
from PySide6.QtWebEngineCore import (
    QWebEnginePage,
    QWebEngineProfile,
    QWebEngineSettings,
    QWebEngineUrlRequestInfo,
    QWebEngineUrlRequestInterceptor,
    QWebEngineUrlRequestJob,
    QWebEngineUrlScheme,
    QWebEngineUrlSchemeHandler,
)
from PySide6.QtWebEngineWidgets import QWebEngineView
from PySide6.QtWidgets import QWidget

TILE_SCHEME = "cockpit-tiles"
TILE_TEMPLATE = f"{TILE_SCHEME}://tiles/{{z}}/{{x}}/{{y}}.png"
"""The XYZ template to give ``export_html(tiles=...)`` for tiles from an MBTiles file."""
LOCAL_SCHEMES = frozenset({"file", "data", "blob", TILE_SCHEME})

_registered = False


def register_schemes() -> None:
    """Declare ``cockpit-tiles:`` to QtWebEngine; must run before it starts (idempotent)."""
    global _registered
    if _registered:
        return
    scheme = QWebEngineUrlScheme(TILE_SCHEME.encode())
    scheme.setSyntax(QWebEngineUrlScheme.Syntax.Host)
    scheme.setFlags(QWebEngineUrlScheme.Flag.LocalScheme
                    | QWebEngineUrlScheme.Flag.LocalAccessAllowed
                    | QWebEngineUrlScheme.Flag.CorsEnabled)
    QWebEngineUrlScheme.registerScheme(scheme)
    _registered = True


register_schemes()


def webengine_environment() -> None:
    """Chromium flags for a machine without GPU; as root it also needs no sandbox.

    Only defaults are set: a user's own QTWEBENGINE_* variables win. Call before
    the QApplication exists.
    """
    os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--disable-gpu")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")


class RequestGuard(QWebEngineUrlRequestInterceptor):
    """Blocks every request that would leave the machine, and remembers it.

    ``allowed_prefixes`` are URL prefixes let through as well (the intranet tile
    server of the user's settings). ``block=False`` only records: for tests that
    want to see what a page asks for.
    """

    request_blocked = Signal(str)

    def __init__(self, allowed_prefixes: tuple[str, ...] = (), block: bool = True,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.allowed_prefixes = tuple(p for p in allowed_prefixes if p)
        self.block = block
        self.requests: list[str] = []
        """Every URL seen, in order."""
        self.blocked: list[str] = []
        """The URLs refused (or, with ``block=False``, that would have been)."""

    def allows(self, url: QUrl) -> bool:
        text = url.toString()
        return url.scheme().lower() in LOCAL_SCHEMES or (
            bool(self.allowed_prefixes) and text.startswith(self.allowed_prefixes))

    def interceptRequest(self, info: QWebEngineUrlRequestInfo) -> None:
        url = info.requestUrl()
        text = url.toString()
        self.requests.append(text)
        if self.allows(url):
            return
        if self.block:
            info.block(True)
        self.blocked.append(text)
        self.request_blocked.emit(text)


class MBTilesHandler(QWebEngineUrlSchemeHandler):
    """Serves ``cockpit-tiles://tiles/z/x/y.png`` from an MBTiles file (SQLite, TMS rows)."""

    _MIME: ClassVar[dict[str, bytes]] = {
        "png": b"image/png", "jpg": b"image/jpeg", "jpeg": b"image/jpeg", "webp": b"image/webp"}

    def __init__(self, path: str | Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        uri = Path(path).resolve().as_uri() + "?mode=ro"
        self._con = sqlite3.connect(uri, uri=True, check_same_thread=False)
        fmt = self._metadata().get("format", "png").lower()
        self.mime = self._MIME.get(fmt, b"image/png")

    def _metadata(self) -> dict[str, str]:
        try:
            return {str(k): str(v) for k, v in
                    self._con.execute("SELECT name, value FROM metadata").fetchall()}
        except sqlite3.Error:
            return {}

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        """The tile at XYZ ``z/x/y``; MBTiles counts rows from the south (TMS)."""
        row = self._con.execute(
            "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? "
            "AND tile_row = ?", (z, x, (1 << z) - 1 - y)).fetchone()
        return bytes(row[0]) if row else None

    def requestStarted(self, job: QWebEngineUrlRequestJob) -> None:
        parts = job.requestUrl().path().strip("/").split("/")
        try:
            z, x = int(parts[0]), int(parts[1])
            y = int(parts[2].split(".")[0])
            data = self.tile(z, x, y) if 0 <= z <= 30 else None
        except (IndexError, ValueError, sqlite3.Error):
            data = None
        if data is None:
            job.fail(QWebEngineUrlRequestJob.Error.UrlNotFound)
            return
        buf = QBuffer(job)  # lives as long as the job that reads it
        buf.setData(QByteArray(data))
        buf.open(QBuffer.OpenModeFlag.ReadOnly)
        job.reply(self.mime, buf)

    def close(self) -> None:
        self._con.close()


class WebMapView(QWebEngineView):
    """A QWebEngineView for exported maps: private profile, no network, blocked requests kept.

    ``tile_prefix``: the intranet tile server to let through (e.g.
    ``http://10.1.2.3/tiles/``); ``mbtiles``: a local MBTiles file served on
    ``TILE_TEMPLATE``.
    """

    map_loaded = Signal(bool)
    request_blocked = Signal(str)

    def __init__(self, parent: QWidget | None = None, tile_prefix: str | None = None,
                 mbtiles: str | Path | None = None) -> None:
        super().__init__(parent)
        # No storage name: off the record (no cache, cookies or history on disk).
        profile = QWebEngineProfile()
        self.guard = RequestGuard((tile_prefix,) if tile_prefix else (), parent=profile)
        profile.setUrlRequestInterceptor(self.guard)
        self.tiles: MBTilesHandler | None = None
        if mbtiles is not None:
            self.tiles = MBTilesHandler(mbtiles, parent=profile)
            profile.installUrlSchemeHandler(TILE_SCHEME.encode(), self.tiles)
        page = QWebEnginePage(profile, self)
        # The page must go before its profile: as the page's child the profile is
        # deleted after the page's own destructor has run.
        profile.setParent(page)
        settings = page.settings()
        # Chromium's own file-to-remote block would drop requests before the guard sees
        # them (none recorded) and would also stop the intranet tile server: the guard
        # is the one gate, and so every attempt is on record.
        settings.setAttribute(QWebEngineSettings.WebAttribute.LocalContentCanAccessRemoteUrls,
                              True)
        settings.setAttribute(QWebEngineSettings.WebAttribute.LocalContentCanAccessFileUrls,
                              True)
        settings.setAttribute(QWebEngineSettings.WebAttribute.PluginsEnabled, False)
        self.setPage(page)
        self.guard.request_blocked.connect(self.request_blocked)
        self.loadFinished.connect(self.map_loaded)

    @property
    def blocked_requests(self) -> list[str]:
        """URLs this view refused to fetch, oldest first."""
        return list(self.guard.blocked)

    def load_map(self, path: str | Path) -> None:
        """Show an exported map file (read through a file URL, any size)."""
        self.setUrl(QUrl.fromLocalFile(str(Path(path).resolve())))


if __name__ == "__main__":  # a look at one exported map: python3 -m widgets.web_map MAP.html
    import sys

    webengine_environment()
    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv)
    view = WebMapView()
    view.request_blocked.connect(lambda url: print("blocked:", url, file=sys.stderr))
    view.resize(1400, 900)
    view.load_map(sys.argv[1])
    view.show()
    sys.exit(app.exec())
