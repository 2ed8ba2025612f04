"""The JavaScript and CSS of an exported map, inlined so the file works offline.

Command-centre networks are closed (design principle 1): folium's template loads
Leaflet, jQuery, Bootstrap and Font Awesome from CDNs, which would leave the
map blank there and tell the outside world that someone opened it. The few
libraries the map needs are vendored under ``assets/`` (from their npm packages,
licences beside them, see ``assets/README.md``) and written into the page
itself; images referenced by the CSS become ``data:`` URIs; source-map comments
are dropped. Nothing else is linked.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

from branca.element import Element, Figure

ASSETS = Path(__file__).with_name("assets")

# name → (CSS files, JS files), relative to ASSETS, in load order.
BUNDLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "leaflet": (("leaflet/leaflet.css",), ("leaflet/leaflet.js",)),
    "markercluster": (("leaflet.markercluster/MarkerCluster.css",
                       "leaflet.markercluster/MarkerCluster.Default.css"),
                      ("leaflet.markercluster/leaflet.markercluster.js",)),
    "heat": ((), ("leaflet.heat/leaflet-heat.js",)),
    "cockpit": (("cockpit/cockpit_map.css",), ("cockpit/cockpit_map.js",)),
}

_SOURCE_MAP = re.compile(r"^\s*(//|/\*)#\s*sourceMappingURL=.*$", re.MULTILINE)
_CSS_URL = re.compile(r"url\(\s*(['\"]?)([^'\")]+)\1\s*\)")
_MIME = {".png": "image/png", ".svg": "image/svg+xml", ".gif": "image/gif"}


def _data_uri(path: Path) -> str:
    mime = _MIME.get(path.suffix.lower(), "application/octet-stream")
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


@cache
def css_text(rel: str) -> str:
    """A vendored stylesheet with its relative images inlined as data: URIs."""
    path = ASSETS / rel
    text = _SOURCE_MAP.sub("", path.read_text(encoding="utf-8"))

    def inline(m: re.Match[str]) -> str:
        target = m.group(2).strip()
        if target.startswith(("data:", "#")):  # data URIs and IE's url(#default#VML)
            return m.group(0)
        local = (path.parent / target).resolve()
        if not local.is_file() or ASSETS.resolve() not in local.parents:
            raise ValueError(f"{rel}: url({target}) is neither inline nor a vendored file")
        return f'url("{_data_uri(local)}")'

    return _CSS_URL.sub(inline, text)


@cache
def js_text(rel: str) -> str:
    """A vendored script, safe to place inside a <script> element."""
    text = _SOURCE_MAP.sub("", (ASSETS / rel).read_text(encoding="utf-8"))
    if "</script" in text.lower():
        raise ValueError(f"{rel} contains '</script' and cannot be inlined as is")
    return text


class InlineAssets(Element):
    """<style> and <script> blocks for the named bundles, placed in the page header."""

    def __init__(self, bundles: Iterable[str]) -> None:
        super().__init__()
        self._name = "InlineAssets"
        self.bundles = tuple(bundles)
        unknown = [b for b in self.bundles if b not in BUNDLES]
        if unknown:
            raise ValueError(f"unknown asset bundles: {unknown}")

    def render(self, **kwargs: object) -> str:
        parts: list[str] = []
        for name in self.bundles:
            css, js = BUNDLES[name]
            parts += [f'<style data-asset="{f}">\n{css_text(f)}\n</style>' for f in css]
            parts += [f'<script data-asset="{f}">\n{js_text(f)}\n</script>' for f in js]
        return "\n".join(parts)


def drop_cdn_links(root: Element) -> None:
    """Stop every element under ``root`` (folium's map, plugins) from linking CDN files.

    folium keeps the links in class attributes; instance attributes shadow them,
    so the classes (shared with any other folium user in the process) stay intact.
    """
    stack = [root]
    while stack:
        item = stack.pop()
        if hasattr(item, "default_js"):
            item.default_js = []
        if hasattr(item, "default_css"):
            item.default_css = []
        stack.extend(getattr(item, "_children", {}).values())


def add_inline_assets(figure: Figure, bundles: Iterable[str]) -> None:
    """Put the bundles first in the header, before any script that uses ``L``."""
    figure.header.add_child(InlineAssets(bundles), name="cockpit_assets", index=0)


_REMOTE = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
"""A URL that names a host: ``http://``, ``https://``, ``ftp://``, protocol-relative ``//``."""
_STYLE_REF = re.compile(r"""(?:url\(\s*|@import\s+)(['"]?)([^'")\s;]+)""", re.IGNORECASE)


class _References(HTMLParser):
    """Every URL a browser would fetch by itself: tag attributes and CSS references.

    Script bodies are not markup (the parser keeps them as raw text), so a string
    inside Leaflet's code is not mistaken for a link in the page.
    """

    URL_ATTRS = frozenset({"src", "href", "srcset", "action", "poster", "data", "background",
                           "formaction", "manifest", "xlink:href", "ping", "cite"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name in self.URL_ATTRS:
                self.urls += [v.strip().split(" ")[0] for v in value.split(",")] \
                    if name == "srcset" else [value.strip()]
            elif name == "style":
                self.urls += [m.group(2) for m in _STYLE_REF.finditer(value)]
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.urls += [m.group(2) for m in _STYLE_REF.finditer(data)]


def page_references(html: str) -> list[str]:
    """The URLs the page's markup and stylesheets point at (not those built by scripts)."""
    parser = _References()
    parser.feed(html)
    parser.close()
    return parser.urls


def remote_references(html: str, allowed: Iterable[str] = ()) -> list[str]:
    """The references of ``html`` that would reach another machine.

    ``allowed`` holds URL prefixes the user configured (an intranet tile server).
    """
    allow = tuple(a for a in allowed if a)
    return [u for u in page_references(html)
            if _REMOTE.match(u) and not (allow and u.startswith(allow))]
