"""The HTML map export: offline, bounded, the same figures as the extract, no script injection.

The file is read as a browser would (markup and stylesheets parsed here, not by
the exporter's own checker); counts are compared with plain DuckDB / pandas on
the raw extract (tests/oracle.py); the injection test loads the page in a real
QtWebEngine and opens the popups of the hostile records.
"""

from __future__ import annotations

import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import duckdb
import factory
import numpy as np
import pytest
from oracle import expected_report, load_raw

os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--disable-gpu")

from PySide6.QtCore import QUrl
from PySide6.QtWebEngineCore import QWebEnginePage, QWebEngineProfile

from data.extract import open_extract
from data.filters import FilterState
from exporters.html_map import CLUSTER_LIMIT, DATA_ID, export_html

XSS = "<script>alert(1)</script>"
IMG_XSS = "<img src=x onerror=alert(2)>"


# --------------------------------------------------------------------------- reading
class _Page(HTMLParser):
    """Tags, URL attributes, stylesheet text and the data block of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.styles: list[str] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.text: list[str] = []
        self._open: tuple[str, dict[str, str | None]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._open = (tag, dict(attrs)) if tag in ("style", "script") else None

    def handle_endtag(self, tag: str) -> None:
        self._open = None

    def handle_data(self, data: str) -> None:
        if self._open and self._open[0] == "style":
            self.styles.append(data)
        elif self._open and self._open[0] == "script":
            self.scripts.append((self._open[1], data))
        else:
            self.text.append(data)


def parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    return page


def page_data(html: str) -> dict[str, Any]:
    blocks = [body for attrs, body in parse(html).scripts if attrs.get("id") == DATA_ID]
    assert len(blocks) == 1
    return json.loads(blocks[0])


def remote_urls(html: str) -> list[str]:
    page = parse(html)
    urls = [v for _, attrs in page.tags for k, v in attrs.items()
            if v and k in ("src", "href", "srcset", "action", "poster", "data")]
    css = page.styles + [a.get("style") or "" for _, a in page.tags]
    urls += [m.group(1) for text in css
             for m in re.finditer(r"""url\(\s*['"]?([^'")]+)""", text)]
    urls += [m.group(1) for text in css for m in re.finditer(r"@import\s+['\"]?([^'\";]+)", text)]
    return [u for u in urls if re.match(r"\s*([a-z][a-z0-9+.-]*:)?//", u, re.IGNORECASE)]


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from demo import generate_demo

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    generate_demo(path, incidents=20_000, seed=11)
    return path


@pytest.fixture(scope="module")
def exported(demo: Path, tmp_path_factory: pytest.TempPathFactory
             ) -> tuple[Path, dict[str, Any], str]:
    mp = pytest.MonkeyPatch()
    mp.setenv("COCKPIT_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    try:
        ex = open_extract(demo)
        out = tmp_path_factory.mktemp("html") / "map.html"
        summary = export_html(ex, FilterState(), out)
        ex.close()
    finally:
        mp.undo()
    return out, summary, out.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- offline
def test_no_remote_urls_and_leaflet_inline(exported: tuple[Path, dict, str]) -> None:
    path, summary, html = exported
    assert remote_urls(html) == []
    page = parse(html)
    assert not [t for t, a in page.tags if t == "link"]  # every stylesheet is inline
    assert not [a for t, a in page.tags if t == "script" and a.get("src")]
    for host in ("cdn.jsdelivr.net", "code.jquery.com", "cdnjs.cloudflare.com",
                 "netdna.bootstrapcdn.com", "openstreetmap"):
        assert host not in html
    assert "Leaflet 1.9.4" in html and "L.heatLayer=" in html
    assert "bootstrap" not in html.lower() and "jquery" not in html.lower()
    assert "sourceMappingURL" not in html
    assert summary["bytes"] == path.stat().st_size < 5_000_000
    assert summary["incident_mode"] == "heat"


def test_figures_match_the_raw_extract(exported: tuple[Path, dict, str], demo: Path) -> None:
    _, summary, html = exported
    data = page_data(html)
    raw = load_raw(demo)
    want = expected_report(demo)
    stop = np.datetime64(raw["as_of"]) + np.timedelta64(1, "D")

    # Hazards: the derived states of an independent computation.
    hz = data["hazards"]
    assert len(hz["id"]) == len(set(hz["id"])) == want["hazards"]["total"] == summary["hazards"]
    states = {s: hz["state"].count(s) for s in set(hz["state"])}
    assert states == {k: v for k, v in want["hazards"]["by_state"].items() if v}
    assert sum(hz["overdue"]) == want["hazards"]["overdue"]

    # Resources by kind and availability, straight from the raw table.
    con = duckdb.connect(str(demo), read_only=True)
    try:
        by_kind = dict(con.execute("SELECT kind, count(*) FROM resources "
                                   "WHERE lon IS NOT NULL GROUP BY 1").fetchall())
        unavailable = con.execute("SELECT count(*) FROM resources WHERE lon IS NOT NULL "
                                  "AND available = false").fetchone()[0]
        located = con.execute("SELECT count(*) FROM incidents WHERE lon IS NOT NULL AND "
                              "reported_at < ?", [stop.astype(object)]).fetchone()[0]
    finally:
        con.close()
    rs = data["resources"]
    assert {k: rs["kind"].count(k) for k in set(rs["kind"])} == by_kind
    assert rs["available"].count(False) == unavailable == summary["resources_unavailable"]

    # Incidents: the heat cells add up to every located incident (weights are square roots).
    assert summary["incidents"] == located
    weights = np.array([p[2] for p in data["heat"]["points"]])
    assert (weights ** 2).sum() == pytest.approx(located, rel=1e-3)
    assert len(weights) == summary["heat_cells"] < 0.6 * located

    # Town tooltips: incidents per town, as the oracle places them.
    inc = raw["incidents"]
    per_town = inc[inc["reported_at"] < stop]["town"].value_counts().to_dict()
    towns = {f["properties"]["id"]: f["properties"]["count"]
             for f in data["areas"]["town"]["geojson"]["features"]}
    assert towns == {t: per_town.get(t, 0) for t in towns}
    assert len(towns) == 15 and len(data["areas"]["village"]["geojson"]["features"]) == 300


def test_personal_data_masked_by_default(exported: tuple[Path, dict, str], demo: Path,
                                         tmp_path: Path) -> None:
    _, _, html = exported
    con = duckdb.connect(str(demo), read_only=True)
    try:
        people = con.execute("SELECT name, phone FROM resources WHERE kind IN "
                             "('officer', 'auxiliary', 'mediator') AND phone IS NOT NULL "
                             "LIMIT 50").fetchall()
    finally:
        con.close()
    assert people
    for name, phone in people:
        assert phone not in html
        assert f'"{name}"' not in html
    rs = page_data(html)["resources"]
    phones = [p for p in rs["phone"] if p]
    assert phones and all(p.count("*") >= 4 and sum(c.isdigit() for c in p) <= 7
                          for p in phones)
    ex = open_extract(demo)
    try:
        export_html(ex, FilterState(), tmp_path / "open.html", masked=False)
    finally:
        ex.close()
    text = (tmp_path / "open.html").read_text(encoding="utf-8")
    assert people[0][1] in text and "含未脱敏个人信息" in text


def test_few_incidents_are_clustered_in_english(tmp_path: Path) -> None:
    tables = factory.full_tables(60)
    path = factory.write_extract(tmp_path / "few.duckdb", tables)
    ex = open_extract(path)
    try:
        summary = export_html(ex, FilterState(), tmp_path / "few.html", lang="en")
    finally:
        ex.close()
    html = (tmp_path / "few.html").read_text(encoding="utf-8")
    data = page_data(html)
    assert summary["incident_mode"] == "cluster" and CLUSTER_LIMIT >= 60
    assert len(data["cluster"]["id"]) == summary["incident_markers"] == 60
    assert data["heat"] is None and "L.heatLayer=" not in html
    assert "L.MarkerClusterGroup" in html and remote_urls(html) == []
    assert "Rectification state" in html and "风险隐患图" not in html


def test_tiles_only_when_configured(tmp_path: Path) -> None:
    path = factory.write_extract(tmp_path / "t.duckdb", factory.full_tables(10))
    ex = open_extract(path)
    try:
        with pytest.raises(ValueError):
            export_html(ex, FilterState(), tmp_path / "bad.html", tiles="javascript:alert(1)")
        export_html(ex, FilterState(), tmp_path / "none.html")
        url = "http://10.1.2.3/tiles/{z}/{x}/{y}.png"
        export_html(ex, FilterState(), tmp_path / "tiles.html", tiles=url)
    finally:
        ex.close()
    assert "L.tileLayer(" not in (tmp_path / "none.html").read_text(encoding="utf-8")
    assert url in (tmp_path / "tiles.html").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- injection
@pytest.fixture()
def hostile(tmp_path: Path) -> Path:
    tables = factory.full_tables(10)
    tables["meta"] = factory.meta_rows(region_name="<i>县</i>")
    at = factory.village_point(0, 0, 0.5, 0.5)
    tables["hazards"] = [factory.hazard(0, *at, name=XSS, risk_level="major"),
                         factory.hazard(1, *factory.village_point(1, 1), name="普通隐患")]
    tables["resources"] = [factory.resource(0, *factory.village_point(1, 0), kind="social_org",
                                            name=IMG_XSS)]
    areas = factory.standard_areas()
    areas[1] = ("T1", "<b onmouseover=alert(3)>东镇</b>", *areas[1][2:])
    tables["areas"] = areas
    return factory.write_extract(tmp_path / "hostile.duckdb", tables)


class AlertPage(QWebEnginePage):
    """A page that records every alert() instead of showing a dialog."""

    def __init__(self, profile: QWebEngineProfile) -> None:
        super().__init__(profile)
        self.alerts: list[str] = []

    def javaScriptAlert(self, origin: QUrl, msg: str) -> None:
        self.alerts.append(msg)


def run_js(qtbot, page: QWebEnginePage, script: str, timeout: int = 5000) -> Any:
    box: list[Any] = []
    page.runJavaScript(script, 0, box.append)
    qtbot.waitUntil(lambda: bool(box), timeout=timeout)
    return box[0]


def test_extract_text_is_shown_as_text_never_run(hostile: Path, tmp_path: Path,
                                                 qtbot) -> None:
    ex = open_extract(hostile)
    try:
        export_html(ex, FilterState(), tmp_path / "x.html")
    finally:
        ex.close()
    html = (tmp_path / "x.html").read_text(encoding="utf-8")
    assert XSS not in html and IMG_XSS not in html and "<b onmouseover" not in html
    assert "&lt;i&gt;县&lt;/i&gt;" in html  # the title
    data = page_data(html)
    assert XSS in data["hazards"]["name"] and IMG_XSS in data["resources"]["name"]

    profile = QWebEngineProfile()
    page = AlertPage(profile)
    try:
        with qtbot.waitSignal(page.loadFinished, timeout=20_000) as done:
            page.load(QUrl.fromLocalFile(str(tmp_path / "x.html")))
        assert done.args == [True]
        shown = run_js(qtbot, page, """(function () { try {
            var out = {};
            var find = function (group, name) {
                var hit = null;
                group.eachLayer(function (l) {
                    var d = l.ckIndex === undefined ? null : l;
                    if (d && (cockpit.data.hazards.name[l.ckIndex] === name ||
                              cockpit.data.resources.name[l.ckIndex] === name)) { hit = l; }
                });
                return hit;
            };
            cockpit.map.addLayer(cockpit.groups.hazards);  // off when the page opens
            var h = find(cockpit.groups.hazards, HAZARD_NAME);
            h.openPopup();
            out.popup = document.querySelector('.leaflet-popup-content').textContent;
            h.openTooltip();
            out.tooltip = document.querySelector('.leaflet-tooltip:not(.ck-area-label)')
                .textContent;
            cockpit.map.addLayer(cockpit.groups.resources.social_org);
            var r = find(cockpit.groups.resources.social_org, RESOURCE_NAME);
            cockpit.map.closePopup();
            r.openPopup();
            out.resource = Array.from(document.querySelectorAll('.leaflet-popup-content'))
                .map(function (e) { return e.textContent; }).join(" | ");
            out.title = document.getElementById('ck-title').textContent;
            out.labels = Array.from(document.querySelectorAll('.ck-area-label'))
                .map(function (e) { return e.textContent; });
            out.bad = document.querySelectorAll('.leaflet-pane img:not(.leaflet-tile), ' +
                '.leaflet-pane b, .leaflet-pane i, body > i').length;
            out.scripts = Array.from(document.scripts)
                .filter(function (s) { return s.textContent.trim() === 'alert(1)'; }).length;
            return JSON.stringify(out);
        } catch (e) { return "error: " + e; } })()""".replace("HAZARD_NAME", json.dumps(XSS))
                       .replace("RESOURCE_NAME", json.dumps(IMG_XSS)))
        assert not shown.startswith("error"), shown
        shown = json.loads(shown)
        qtbot.wait(300)  # an injected onerror handler would have fired by now
        assert XSS in shown["popup"] and XSS in shown["tooltip"]
        assert IMG_XSS in shown["resource"]
        assert "<i>县</i>" in shown["title"]
        assert "<b onmouseover=alert(3)>东镇</b>" in shown["labels"]
        assert shown["bad"] == 0 and shown["scripts"] == 0
        assert page.alerts == []
    finally:
        page.deleteLater()
        qtbot.wait(50)


def test_area_filter_frames_that_area_and_counts_in_it(tmp_path: Path) -> None:
    path = factory.write_extract(tmp_path / "a.duckdb", factory.full_tables(40))
    ex = open_extract(path)
    try:
        summary = export_html(ex, FilterState().with_areas(["T1"]), tmp_path / "t1.html")
    finally:
        ex.close()
    data = page_data((tmp_path / "t1.html").read_text(encoding="utf-8"))
    (lat0, lon0), (lat1, lon1) = data["bounds"]
    x0, y0, step = factory.X0, factory.Y0, factory.STEP  # T1 is the western column
    assert x0 - 0.02 < lon0 < x0 and x0 + step < lon1 < x0 + step + 0.02
    assert y0 - 0.02 < lat0 < y0 and y0 + 2 * step < lat1 < y0 + 2 * step + 0.02
    towns = {f["properties"]["id"]: f["properties"]["count"]
             for f in data["areas"]["town"]["geojson"]["features"]}
    assert towns == {"T1": 20, "T2": 0} and summary["incidents"] == 20
    assert all(lon < x0 + step for lon in data["cluster"]["lon"])
