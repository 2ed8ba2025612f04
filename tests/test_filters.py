"""FilterState transitions are pure and compare by value."""

from __future__ import annotations

from datetime import date

import pytest

from data.filters import FilterState


def test_states_compare_and_hash_by_value() -> None:
    a = FilterState().with_areas(["T1"]).with_set("incident_categories", ["fraud"])
    b = FilterState().with_set("incident_categories", ["fraud"]).with_areas(["T1"])
    assert a == b and hash(a) == hash(b)
    assert a != FilterState()


def test_transitions_return_new_states() -> None:
    s = FilterState()
    t = s.with_window(date(2025, 1, 1), date(2025, 1, 31))
    assert s.start is None and t.start == date(2025, 1, 1)
    with pytest.raises(AttributeError):
        t.start = None  # type: ignore[misc]


def test_reversed_window_is_ordered() -> None:
    s = FilterState().with_window(date(2025, 2, 1), date(2025, 1, 1))
    assert (s.start, s.end) == (date(2025, 1, 1), date(2025, 2, 1))


def test_toggle_and_clear() -> None:
    s = FilterState(as_of=date(2025, 6, 1)).toggle_area("T1").toggle("risk_levels", "major")
    assert s.areas == {"T1"} and s.risk_levels == {"major"}
    assert s.toggle_area("T1").areas == frozenset()
    assert [f for f, _ in s.active()] == ["areas", "risk_levels"]
    cleared = s.cleared()
    assert cleared == FilterState(as_of=date(2025, 6, 1))
    assert s.without("areas").areas == frozenset() and s.without("areas").risk_levels


def test_unknown_set_field_is_refused() -> None:
    with pytest.raises(ValueError):
        FilterState().with_set("areas_typo", ["x"])
