"""The briefing's written summary (layers.summary) against independent computations.

Every figure a sentence states is checked against pandas on the raw extract
(tests/oracle.py), the plain-Python rectification oracle (tests/test_rectification.py),
the brute-force repeat places (tests/test_repeats.py) or a brute-force haversine
coverage computed here; none of them uses the cockpit's own modules.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from factory import (
    EXTRACTED_AT,
    full_tables,
    meta_rows,
    resource,
    standard_areas,
    write_extract,
)
from oracle import INCIDENT_CATS, expected_report, is_under, load_raw
from test_rectification import expected as rect_expected
from test_rectification import read_raw
from test_repeats import AREAS as REPEAT_AREAS
from test_repeats import brute_places, build_rows

from data.analysis.window_change import window_change, window_change_by
from data.extract import open_extract
from data.filters import FilterState
from data.queries import Query
from layers.briefing import briefing_figures
from layers.summary import Summary, summarize

WINDOW = (date(2026, 1, 1), date(2026, 3, 31))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    from demo import generate_demo

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    generate_demo(path, incidents=20_000, seed=11)
    return path, load_raw(path)


def _summary(path: Path, state: FilterState, lang: str = "zh") -> Summary:
    q = Query(open_extract(path))
    return summarize(briefing_figures(q, state), lang)


# --------------------------------------------------------------------------- the oracle
def _minus_year(d: date) -> date:
    try:
        return d.replace(year=d.year - 1)
    except ValueError:
        return d.replace(year=d.year - 1, day=28)


def _spans(raw: dict[str, Any], start: date, end: date | None
           ) -> tuple[tuple[datetime, datetime], tuple[datetime, datetime]]:
    """(window, same dates a year earlier) by the definition in window_change's docstring."""
    as_of, at = raw["as_of"], raw["extracted_at"]
    last = min(end or as_of, as_of)
    day0 = datetime.combine(last, datetime.min.time())
    stop = day0 + timedelta(days=1)
    if at.date() == last:
        stop = min(stop, at)
    ly_last = datetime.combine(_minus_year(last), datetime.min.time())
    return ((datetime.combine(start, datetime.min.time()), stop),
            (datetime.combine(_minus_year(start), datetime.min.time()), ly_last + (stop - day0)))


def _month_spans(as_of: date) -> tuple[tuple[datetime, datetime], tuple[datetime, datetime]]:
    first = (as_of.replace(day=1) - timedelta(days=1)).replace(day=1)
    nxt = (first + timedelta(days=32)).replace(day=1)
    return ((datetime.combine(first, datetime.min.time()),
             datetime.combine(nxt, datetime.min.time())),
            (datetime.combine(first.replace(year=first.year - 1), datetime.min.time()),
             datetime.combine(nxt.replace(year=nxt.year - 1), datetime.min.time())))


def _incidents(raw: dict[str, Any], area: str | None = None) -> pd.DataFrame:
    inc = raw["incidents"]
    inc = inc.assign(cat=inc["category"].where(inc["category"].isin(INCIDENT_CATS), "other"))
    if area:
        inc = inc[inc["area"].map(lambda a: is_under(raw["parent"], a, area))]
    return inc


def _by_cat(inc: pd.DataFrame, span: tuple[datetime, datetime]) -> dict[str, int]:
    m = (inc["reported_at"] >= span[0]) & (inc["reported_at"] < span[1])
    return {k: int(v) for k, v in inc[m]["cat"].value_counts().items()}


def _moves(cur: dict[str, int], ly: dict[str, int], sign: int) -> list[tuple]:
    keys = set(cur) | set(ly)
    moved = [k for k in keys if sign * (cur.get(k, 0) - ly.get(k, 0)) > 0]
    moved.sort(key=lambda k: (-abs(cur.get(k, 0) - ly.get(k, 0)), INCIDENT_CATS.index(k)))

    def pct(k: str) -> float | None:
        return round((cur.get(k, 0) - ly[k]) / ly[k] * 100, 1) if ly.get(k) else None

    return [(k, cur.get(k, 0), ly.get(k, 0), pct(k)) for k in moved[:2]]


def _fmt(n: int) -> str:
    return f"{n:,}"


# --------------------------------------------------------------------------- incidents
@pytest.mark.parametrize("end", [WINDOW[1], None], ids=["closed", "to-as-of"])
def test_window_against_last_year_equals_pandas(demo: tuple[Path, dict], end: date | None
                                                ) -> None:
    path, raw = demo
    state = FilterState().with_window(WINDOW[0], end)
    s = _summary(path, state)
    cur_span, ly_span = _spans(raw, WINDOW[0], end)
    inc = _incidents(raw)
    cur, ly = _by_cat(inc, cur_span), _by_cat(inc, ly_span)
    total = expected_report(path, WINDOW[0], end)["incidents"]["total"]
    f = s.get("incidents").figures
    assert f["period"] == "window" and f["total"] == total > 0
    assert (f["current"], f["last_year"]) == (sum(cur.values()), sum(ly.values()))
    assert f["change_pct"] == round((sum(cur.values()) - sum(ly.values())) / sum(ly.values())
                                    * 100, 1)
    text = s.get("incidents").text
    assert _fmt(total) in text and _fmt(sum(ly.values())) in text
    assert f"{abs(f['change_pct']):.1f}%" in text
    assert ("上升" if f["change_pct"] > 0 else "下降") in text
    cats = s.get("categories").figures
    assert cats["rose"] == _moves(cur, ly, 1) and cats["fell"] == _moves(cur, ly, -1)
    assert cats["rose"] and cats["fell"]  # the demo has both: the test can fail
    for k, n, _, _ in cats["rose"] + cats["fell"]:
        assert _fmt(n) in s.get("categories").text, k


def test_all_dates_compare_the_last_full_month(demo: tuple[Path, dict]) -> None:
    path, raw = demo
    s = _summary(path, FilterState(), "en")
    rep = expected_report(path)["incidents"]
    f = s.get("incidents").figures
    assert f["period"] == "month" and f["span"] == rep["yoy"]["month"]
    assert (f["total"], f["current"], f["last_year"]) == (rep["total"], rep["yoy"]["current"],
                                                         rep["yoy"]["previous"])
    assert f["change_pct"] == pytest.approx(round(rep["yoy"]["change_pct"], 1))
    cur_span, ly_span = _month_spans(raw["as_of"])
    inc = _incidents(raw)
    cats = s.get("categories").figures
    assert cats["rose"] == _moves(_by_cat(inc, cur_span), _by_cat(inc, ly_span), 1)
    assert cats["fell"] == _moves(_by_cat(inc, cur_span), _by_cat(inc, ly_span), -1)
    text = s.text
    assert "incidents reported" in text and _fmt(rep["total"]) in text
    assert not re.search(r"[\u3000-\u303f\uff01-\uff5e]", text)  # no CJK punctuation in English


def test_area_filter_and_towns(demo: tuple[Path, dict]) -> None:
    path, raw = demo
    state = FilterState().with_window(*WINDOW).with_areas(["T03"])
    s = _summary(path, state)
    total = expected_report(path, *WINDOW, "T03")["incidents"]["total"]
    cur_span, ly_span = _spans(raw, *WINDOW)
    inc = _incidents(raw, "T03")
    f = s.get("incidents").figures
    assert f["total"] == total and f["current"] == sum(_by_cat(inc, cur_span).values())
    assert f["last_year"] == sum(_by_cat(inc, ly_span).values())
    assert s.get("towns") is None  # one town in view: nothing to rank
    whole = _summary(path, FilterState().with_window(*WINDOW)).get("towns")
    towns: dict[str, list[int]] = {}
    all_inc = _incidents(raw)
    for span, k in ((cur_span, 0), (ly_span, 1)):
        m = (all_inc["reported_at"] >= span[0]) & (all_inc["reported_at"] < span[1])
        for t, n in all_inc[m]["town"].value_counts().items():
            towns.setdefault(t, [0, 0])[k] += int(n)
    rose = sorted((t for t, (a, b) in towns.items() if a > b),
                  key=lambda t: (-(towns[t][0] - towns[t][1]), t))[:2]
    assert [r[0] for r in whole.figures["rose"]] == rose


def test_window_change_by_area_rolls_up_to_towns(demo: tuple[Path, dict]) -> None:
    path, raw = demo
    q = Query(open_extract(path))
    state = FilterState().with_window(*WINDOW)
    got = window_change_by(q, state, "area", "town")
    cur_span, ly_span = _spans(raw, *WINDOW)
    inc = _incidents(raw)
    for span, attr in ((cur_span, "current"), (ly_span, "last_year")):
        m = (inc["reported_at"] >= span[0]) & (inc["reported_at"] < span[1])
        want = {t: int(n) for t, n in inc[m]["town"].value_counts().items()}
        assert {k: getattr(c, attr) for k, c in got.items() if getattr(c, attr)} == want


def test_empty_window_before_the_data(demo: tuple[Path, dict]) -> None:
    path, _ = demo
    q = Query(open_extract(path))
    state = FilterState(as_of=date(2020, 1, 1)).with_window(date(2020, 6, 1), None)
    c = window_change(q, state)
    assert (c.current, c.last_year, c.yoy_pct) == (0, 0, None)
    s = summarize(briefing_figures(q, state), "zh")
    assert "无可比数据" in s.get("incidents").text and s.get("categories") is None


# --------------------------------------------------------------------------- other sections
def test_rectification_sentence_equals_the_oracle(demo: tuple[Path, dict]) -> None:
    path, _ = demo
    want = rect_expected(read_raw(path))
    s = _summary(path, FilterState())
    f = s.get("rectification").figures
    assert f["total"] == want["total"] > 0 and f["overdue"] == want["overdue_count"] > 0
    assert f["rate"] == pytest.approx(want["rectification_rate"])
    assert f["major_rate"] == pytest.approx(want["major_rectification_rate"])
    assert f["longest_days"] == max(r["days_overdue"] for r in want["overdue"])
    units = [(u["responsible_unit"], u["overdue"]) for u in want["by_unit"] if u["overdue"]][:3]
    assert f["units"] == units
    text = s.get("rectification").text
    for unit, n in units:
        assert f"{unit}（{n} 项）" in text
    assert f"{want['rectification_rate'] * 100:.1f}%" in text


def test_mediation_sentence_equals_the_report_oracle(demo: tuple[Path, dict]) -> None:
    path, _ = demo
    want = expected_report(path, *WINDOW)["disputes"]
    s = _summary(path, FilterState().with_window(*WINDOW), "en")
    f = s.get("mediation").figures
    assert f["total"] == want["total"] > 0
    assert f["success_rate"] == pytest.approx(want["success_rate"])
    assert f"{want['success_rate'] * 100:.1f}%" in s.get("mediation").text


def _hav(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * 6371008.8 * math.asin(math.sqrt(min(1.0, a)))


def test_coverage_sentence_equals_brute_force(tmp_path: Path) -> None:
    tables = full_tables()
    # Few forces, one of them beside two hazards: some hazards are covered, most are not.
    tables["resources"] = [*tables["resources"][:3],
                           resource(50, 115.071, 27.021, kind="patrol_unit")]
    path = write_extract(tmp_path / "cov.duckdb", tables)
    con = duckdb.connect(str(path), read_only=True)
    hz = con.execute("SELECT risk_level, lon, lat FROM hazards WHERE discovered_at < ?",
                     [datetime.combine(EXTRACTED_AT.date() + timedelta(days=1),
                                       datetime.min.time())]).fetchall()
    rs = con.execute("SELECT lon, lat FROM resources WHERE coalesce(available, TRUE) "
                     "AND lon IS NOT NULL").fetchall()
    con.close()
    far = [h for h in hz if min(_hav(h[1], h[2], r[0], r[1]) for r in rs) > 3000]
    s = _summary(path, FilterState())
    f = s.get("coverage").figures
    assert 0 < len(far) < len(hz)
    assert (f["gaps"], f["checked"], f["major"]) == (len(far), len(hz),
                                                     sum(h[0] == "major" for h in far))
    assert f"{len(far)} 处隐患 3 公里内无可用力量" in s.get("coverage").text


def test_repeats_sentence_equals_brute_force(tmp_path: Path) -> None:
    rows = build_rows()
    path = write_extract(tmp_path / "rep.duckdb", {"meta": meta_rows(), "areas": REPEAT_AREAS,
                                                   "incidents": rows})
    want = brute_places(rows)
    s = _summary(path, FilterState())
    f = s.get("repeats").figures
    assert f["places"] == len(want) > 0
    assert f["incidents"] == sum(p["count"] for p in want.values())
    assert f["top_count"] == max(p["count"] for p in want.values())
    assert f"{len(want):,} 处" in s.get("repeats").text


# --------------------------------------------------------------------------- little data
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_little_or_no_data_reads_sensibly(tmp_path: Path, lang: str) -> None:
    path = write_extract(tmp_path / "bare.duckdb", {"meta": meta_rows(),
                                                    "areas": standard_areas(),
                                                    "incidents": []})
    s = _summary(path, FilterState(), lang)
    keys = [x.key for x in s.sentences]
    assert keys[0] == "incidents" and "categories" not in keys
    assert s.get("incidents").figures["total"] == 0
    assert s.get("rectification").figures["total"] == 0
    no = {"zh": ("无可比数据", "无隐患数据", "无矛盾纠纷数据"),
          "en": ("No comparable data", "No hazard data", "No dispute data")}[lang]
    for phrase in no:
        assert phrase.lower() in s.text.lower(), phrase
    assert "nan" not in s.text.lower() and "None" not in s.text


def test_sentences_are_plain_data(demo: tuple[Path, dict]) -> None:
    path, _ = demo
    s = _summary(path, FilterState().with_window(*WINDOW))
    assert [x.key for x in s.sentences] == ["incidents", "categories", "towns", "hotspots",
                                           "repeats", "rectification", "mediation", "coverage"]
    for x in s.sentences:
        assert x.text == x.text.strip() and x.text.endswith("。"), x.key
        for v in x.figures.values():
            assert v is None or isinstance(v, int | float | str | list), (x.key, v)
