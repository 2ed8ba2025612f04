"""Cell values as stations write them (data/importer/values.py, times.py), against Python's own
datetime and hand-computed answers."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from data.importer import times as T
from data.importer import values as V


def _ts(values: list, **kw) -> list:
    return T.parse_timestamp(pa.array(values, pa.string()), **kw).values.to_pylist()


SPELLINGS = [
    ("2024-05-02 13:04:05", dt.datetime(2024, 5, 2, 13, 4, 5)),
    ("2024/5/2 13:04", dt.datetime(2024, 5, 2, 13, 4)),
    ("2024年5月2日 13时04分", dt.datetime(2024, 5, 2, 13, 4)),
    ("2024年05月02日13时04分05秒", dt.datetime(2024, 5, 2, 13, 4, 5)),
    ("２０２４年５月２日　１３：０４", dt.datetime(2024, 5, 2, 13, 4)),
    ("20240502130405", dt.datetime(2024, 5, 2, 13, 4, 5)),
    ("202405021304", dt.datetime(2024, 5, 2, 13, 4)),
    ("20240502", dt.datetime(2024, 5, 2)),
    ("2024-05-02T13:04:05", dt.datetime(2024, 5, 2, 13, 4, 5)),
    ("2024-05-02T13:04:05Z", dt.datetime(2024, 5, 2, 13, 4, 5)),
    ("2024-05-02 13:04:05.250", dt.datetime(2024, 5, 2, 13, 4, 5, 250000)),
    ("2024/5/2 下午 1:04:05", dt.datetime(2024, 5, 2, 13, 4, 5)),
    ("2024/5/2 上午 12:30", dt.datetime(2024, 5, 2, 0, 30)),
    ("2024.5.2", dt.datetime(2024, 5, 2)),
    ("5/2/2024 13:04", dt.datetime(2024, 5, 2, 13, 4)),
    ("1100420", dt.datetime(2021, 4, 20)),  # ROC year 110
    ("110/04/20", dt.datetime(2021, 4, 20)),
    ("民國110年4月20日", dt.datetime(2021, 4, 20)),
    ("45414.5", dt.datetime(2024, 5, 2, 12, 0)),  # Excel serial day 45414 = 2024-05-02
]


@pytest.mark.parametrize(("text", "want"), SPELLINGS)
def test_each_spelling(text: str, want: dt.datetime) -> None:
    assert _ts([text]) == [want]


def test_blanks_and_placeholders_are_null_not_failures() -> None:
    p = T.parse_timestamp(pa.array(["", " ", "无", "不详", "未知", "-", "/", "NULL", "N/A", None]))
    assert p.values.null_count == 10
    assert (p.reasons == V.BLANK).all()


def test_unreadable_values_say_why() -> None:
    p = T.parse_timestamp(pa.array(["2024-02-30", "2024-13-01", "昨天", "1899-01-01 00:00"]))
    assert p.values.null_count == 4
    assert [V.REASONS[r] for r in p.reasons] == [
        "impossible date or time", "impossible date or time", "not a date/time",
        "year before 1900 or after 2100"]


def test_leap_day_and_month_ends() -> None:
    assert _ts(["2024-02-29", "2023-02-29", "2024/4/31", "2024/12/31 23:59:59"]) == [
        dt.datetime(2024, 2, 29), None, None, dt.datetime(2024, 12, 31, 23, 59, 59)]


def test_roc_six_digits_only_with_the_hint() -> None:
    assert _ts(["110420"]) == [None]
    assert _ts(["110420", "1100420"], hint="roc") == [dt.datetime(2021, 4, 20)] * 2


def test_day_first_hint() -> None:
    assert _ts(["2/5/2024"]) == [dt.datetime(2024, 2, 5)]
    assert _ts(["2/5/2024"], hint="dmy") == [dt.datetime(2024, 5, 2)]
    assert T.guess_time_hint(pa.array(["13/5/2024", "2/5/2024"])) == "dmy"
    assert T.guess_time_hint(pa.array(["1100420", "1040101"])) == "roc"


def test_strptime_hint() -> None:
    assert _ts(["02|05|2024 13h04"], hint="%d|%m|%Y %Hh%M") == [dt.datetime(2024, 5, 2, 13, 4)]


def test_offsets_dropped_or_converted() -> None:
    assert _ts(["2014/01/01 14:14:00+00"]) == [dt.datetime(2014, 1, 1, 14, 14)]
    # 14:14 UTC is 09:14 in New York in winter (EST, UTC-5)
    assert _ts(["2014/01/01 14:14:00+00"], timezone="America/New_York") == [
        dt.datetime(2014, 1, 1, 9, 14)]
    assert _ts(["2024-07-01T12:00:00+08:00"], timezone="Asia/Shanghai") == [
        dt.datetime(2024, 7, 1, 12, 0)]


def test_native_dates_pass_through() -> None:
    arr = pa.array([dt.datetime(2024, 5, 2, 13, 4), None], pa.timestamp("ms"))
    assert T.parse_timestamp(arr).values.to_pylist() == [dt.datetime(2024, 5, 2, 13, 4), None]
    d = pa.array([dt.date(2024, 5, 2)], pa.date32())
    assert T.parse_timestamp(d).values.to_pylist() == [dt.datetime(2024, 5, 2)]


@settings(max_examples=60, deadline=None)
@given(st.datetimes(min_value=dt.datetime(1950, 1, 1), max_value=dt.datetime(2099, 12, 31)),
       st.integers(0, 5))
def test_any_time_round_trips_in_every_spelling(t: dt.datetime, k: int) -> None:
    t = t.replace(microsecond=0)
    spellings = [t.strftime("%Y-%m-%d %H:%M:%S"), f"{t.year}/{t.month}/{t.day} {t:%H:%M:%S}",
                 f"{t.year}年{t.month}月{t.day}日 {t.hour}时{t.minute}分{t.second}秒",
                 t.strftime("%Y%m%d%H%M%S"), t.isoformat(),
                 f"{t.year}/{t.month}/{t.day} {'下午' if t.hour >= 12 else '上午'} "
                 f"{(t.hour - 1) % 12 + 1}:{t:%M:%S}"]
    assert _ts([spellings[k]]) == [t]


def test_time_of_day_and_bands() -> None:
    p = T.parse_time_of_day(pa.array(["13:04", "1304", "13时04分", "18~20", "23-01", "0.5",
                                      "下午1点", "9", "", "x", "25:00"]))
    hours = [None if v is None else v / 3.6e9 for v in p.values.to_pylist()]
    assert hours[:8] == [13 + 4 / 60, 13 + 4 / 60, 13 + 4 / 60, 18, 23, 12, 13, 9]
    assert [V.REASONS[r] for r in p.reasons[8:]] == ["blank", "not a date/time",
                                                     "impossible date or time"]


def test_date_and_time_in_two_columns() -> None:
    date = T.parse_timestamp(pa.array(["2024-05-02", "2024年5月3日", "2024/5/4", None]))
    time = T.parse_time_of_day(pa.array(["13:04:05", "bad", None, "10:00"]))
    got = T.combine_date_time(date, time)
    assert got.values.to_pylist() == [dt.datetime(2024, 5, 2, 13, 4, 5),
                                      dt.datetime(2024, 5, 3), dt.datetime(2024, 5, 4), None]
    assert [V.REASONS[r] for r in got.reasons] == [
        "read", "time column unreadable, date kept", "read", "blank"]


def test_five_columns() -> None:
    got = T.timestamp_from_parts({k: pa.array(v) for k, v in {
        "year": ["2020", "2020", "2020"], "month": ["6", "13", "2"], "day": ["19", "1", "29"],
        "hour": ["3", "0", ""], "minute": ["40", "0", "5"]}.items()})
    assert got.values.to_pylist() == [dt.datetime(2020, 6, 19, 3, 40), None,
                                      dt.datetime(2020, 2, 29, 0, 5)]


def test_coordinates_numbers_text_and_dms() -> None:
    p = V.parse_coordinate(pa.array(["114.5", "１１４.５", "114°30'15.2\"", "114度30分15.2秒",
                                     "E114°30.25'", "30°15′N", "S30°30'", "-12.5", "abc", "",
                                     "1,234.5"]))
    v = p.values.to_pylist()
    dms = 114 + 30 / 60 + 15.2 / 3600
    assert v[0] == v[1] == 114.5
    assert v[2] == pytest.approx(dms) and v[3] == pytest.approx(dms)
    assert v[4] == pytest.approx(114 + 30.25 / 60) and v[5] == pytest.approx(30.25)
    assert v[6] == pytest.approx(-30.5) and v[7] == -12.5 and v[10] == 1234.5
    assert v[8] is None and V.REASONS[p.reasons[8]] == "not a number"
    assert v[9] is None and p.reasons[9] == V.BLANK


def test_codes_through_a_map_and_unknowns_counted() -> None:
    p = V.map_codes(pa.array(["刑事", " Criminal ", "ＦＲＡＵＤ", "奇怪", None, "-"]),
                    {"刑事": "criminal"}, ("criminal", "fraud", "other"), "other")
    assert p.values.to_pylist() == ["criminal", "criminal", "fraud", "other", None, None]
    assert [V.REASONS[r] for r in p.reasons] == ["read", "read", "read", "unknown value",
                                                 "blank", "blank"]


def test_booleans_and_integers() -> None:
    assert V.parse_bool(pa.array(["是", "否", "可用", "1", "x"])).values.to_pylist() == [
        True, False, True, True, None]
    assert V.parse_integer(pa.array(["12人", "1,234", "3.0", "3.5", "x"])).values.to_pylist() \
        == [12, 1234, 3, None, None]


def test_text_keeps_full_width_characters() -> None:
    p = V.parse_text(pa.array(["交通事故（伤人）", "  城关镇 ", "无", None]))
    assert p.values.to_pylist() == ["交通事故（伤人）", "城关镇", None, None]


def test_as_text_numbers_and_dates() -> None:
    got = V.as_text(pa.array([1.0, 2.5, None, 201400000017.0])).to_pylist()
    assert got == ["1", "2.5", None, "201400000017"]
    assert V.as_text(pa.array([dt.datetime(2024, 5, 2, 13, 4)])).to_pylist() == [
        "2024-05-02 13:04:00"]


def test_batch_split_does_not_change_results() -> None:
    rng = np.random.default_rng(3)
    texts = [s for s, _ in SPELLINGS] + ["x", "", "2024-02-30"]
    col = pa.array([texts[i] for i in rng.integers(0, len(texts), 500)])
    whole = T.parse_timestamp(col)
    parts = [T.parse_timestamp(col.slice(i, 37)) for i in range(0, 500, 37)]
    assert pa.concat_arrays([p.values for p in parts]).equals(whole.values)
    assert np.array_equal(np.concatenate([p.reasons for p in parts]), whole.reasons)
