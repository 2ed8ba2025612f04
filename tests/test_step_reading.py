"""The mediation funnel against a pandas recomputation from the steps, both conventions.

The oracle follows ../shared/extract-schema.md (dispute_steps): a step's level is the
level that holds the dispute after the step, so ``(town, escalated)`` took it from
village to town; a producer of the other convention writes ``(village, escalated)`` for
the same move. It is told which convention each extract was written in; the cockpit
has to find out by itself (``data/step_reading.py``) and say so in the load report.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb
import numpy as np
import pytest
from factory import EXTRACTED_AT, incident, meta_rows, standard_areas, village_point, write_extract

from data.analysis.mediation import mediation
from data.extract import open_extract
from data.filters import FilterState
from data.queries import Query
from layers.dashboard import mediation_funnel
from layers.load_notes import finding_lines

LEVELS = ("village", "town", "county")
RANK = {lv: k for k, lv in enumerate(LEVELS)}


def pandas_funnel(path: Path, reading: str) -> dict[str, object]:
    """reached per level and outcomes per end level, from the raw file with pandas."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        steps = con.execute("SELECT rowid AS r, * FROM dispute_steps").df()
        d = con.execute("SELECT dispute_id, level, status FROM disputes").df()
    finally:
        con.close()
    steps = steps[steps["level"].isin(LEVELS)].copy()
    lv = steps["level"].map(RANK).astype(int)
    esc = steps["action"].eq("escalated")
    if reading == "to":  # held after the step: its level; before an escalation: one below
        steps["held"], steps["before"] = lv, np.where(esc, (lv - 1).clip(lower=0), lv)
    else:  # the level it left: held after an escalation is one up
        steps["held"], steps["before"] = np.where(esc, (lv + 1).clip(upper=2), lv), lv
    g = steps.groupby("dispute_id").agg(entry=("before", "min"), end=("held", "max"))
    m = d.merge(g, left_on="dispute_id", right_index=True, how="left")
    m["entry"] = m["entry"].fillna(0)  # no usable step: village up to the current level
    m["end"] = m["end"].fillna(m["level"].map(RANK).fillna(0).astype(float))
    m["outcome"] = m["status"].where(m["status"].isin(["resolved", "failed", "referred"]),
                                     "open")
    out: dict[str, object] = {
        f"reached_{lv}": int(((m["entry"] <= k) & (m["end"] >= k)).sum())
        for lv, k in RANK.items()}
    for o in ("resolved", "failed", "referred", "open"):
        counts = m[m["outcome"] == o].groupby("end").size()
        out[o] = {lv: int(counts.get(k, 0)) for lv, k in RANK.items()}
    return out


def got_funnel(q: Query) -> dict[str, object]:
    f = mediation(q, FilterState()).funnel.to_json()
    return {k: f[k] for k in ("reached_village", "reached_town", "reached_county",
                              "resolved", "failed", "referred", "open")}


# --------------------------------------------------------------------------- extracts

def _paths(n: int, seed: int) -> list[list[tuple[str, str]]]:
    """Per dispute, its moves as (level, action) in the schema's reading."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        moves = [("village", "accepted")]
        for k, lv in enumerate(LEVELS):
            r = rng.random()
            if k < 2 and r < 0.35:
                moves.append((LEVELS[k + 1], "escalated"))
                if rng.random() < 0.6:  # acceptance on record (else still waiting)
                    moves.append((LEVELS[k + 1], "accepted"))
                    continue
                break
            if r < 0.75:
                moves.append((lv, "resolved"))
            elif r < 0.85:
                moves.append((lv, ("failed", "referred")[int(rng.random() < 0.5)]))
            break
        out.append(moves)
    return out


def _tables(paths: list[list[tuple[str, str]]], convention: str) -> dict[str, list]:
    disputes, steps = [], []
    for i, moves in enumerate(paths):
        did = f"D{i:04d}"
        t0 = EXTRACTED_AT - timedelta(days=60 - i % 50)
        last_lv, last_act = moves[-1]
        status = last_act if last_act in ("resolved", "failed", "referred") else (
            "pending" if last_act == "escalated" else "mediating")
        done = t0 + timedelta(days=len(moves)) if status not in ("pending", "mediating") \
            else None
        disputes.append((did, t0, "neighbor", *village_point(i % 2, (i // 2) % 2), None,
                         last_lv, "people_mediator", status, done, None))
        for k, (lv, act) in enumerate(moves):
            if convention == "from" and act == "escalated":
                lv = LEVELS[RANK[lv] - 1]  # the level it left
            steps.append((did, t0 + timedelta(days=k), lv, act))
    return {"meta": meta_rows(), "areas": standard_areas(),
            "incidents": [incident(0, *village_point(0, 0))],
            "disputes": disputes, "dispute_steps": steps}


def _open(tmp_path: Path, name: str, tables: dict[str, list]) -> tuple[Query, Path]:
    path = write_extract(tmp_path / f"{name}.duckdb", tables)
    return Query(open_extract(path)), path


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COCKPIT_CACHE_DIR", str(tmp_path / "cache"))


@pytest.mark.parametrize("convention", ["to", "from"])
def test_funnel_equals_pandas_for_both_conventions(tmp_path: Path, convention: str) -> None:
    paths = _paths(80, seed=3)
    q, path = _open(tmp_path, convention, _tables(paths, convention))
    want = pandas_funnel(path, convention)
    assert got_funnel(q) == want
    f = mediation(q, FilterState()).funnel
    assert f.reading == convention and f.refused is None and f.level_disagreements == 0
    assert want["reached_county"] > 0 and want["resolved"]["town"] > 0
    # the same disputes, read each in its own convention, give the same funnel
    other = "from" if convention == "to" else "to"
    assert pandas_funnel(path, other) != want  # the readings differ on this data
    doc = q.extract.report.to_json()["dispute_steps"]["findings"]["level_reading"]
    assert doc["reading"] == convention
    lines = finding_lines(q.extract.report, "zh") + finding_lines(q.extract.report, "en")
    if convention == "from":
        assert any("来源层级" in s for s in lines) and any("level they left" in s for s in lines)
    else:
        assert lines == []


def test_both_conventions_give_one_funnel(tmp_path: Path) -> None:
    paths = _paths(60, seed=8)
    q_to, _ = _open(tmp_path, "a", _tables(paths, "to"))
    q_from, _ = _open(tmp_path, "b", _tables(paths, "from"))
    assert got_funnel(q_to) == got_funnel(q_from)


def test_mixed_producers_refuse_the_funnel(tmp_path: Path) -> None:
    paths = _paths(80, seed=5)
    half = _tables(paths[:40], "to")
    rest = _tables(paths[40:], "from")
    rest["disputes"] = [(f"X{r[0]}", *r[1:]) for r in rest["disputes"]]
    rest["dispute_steps"] = [(f"X{r[0]}", *r[1:]) for r in rest["dispute_steps"]]
    half["disputes"] += rest["disputes"]
    half["dispute_steps"] += rest["dispute_steps"]
    q, _ = _open(tmp_path, "mixed", half)
    med = mediation(q, FilterState())
    assert med.funnel.reading == "unclear" and med.funnel.refused == "step_levels_mixed"
    doc = med.to_json()
    assert doc["funnel"]["reached_county"] is None and doc["funnel"]["resolved"] is None
    assert doc["funnel"]["received"] == med.total == 80
    assert med.resolved_at_lowest_level_share is None
    spec = mediation_funnel(med, "zh")
    assert spec.stages == () and "无法计算" in (spec.message or "")
    assert finding_lines(q.extract.report, "en")


def test_last_steps_fitting_neither_reading_refuse(tmp_path: Path) -> None:
    tables = _tables(_paths(40, seed=2), "to")
    # every dispute claims to be at county although its steps never leave the village
    tables["disputes"] = [(*r[:6], "county", *r[7:]) if r[6] == "village" else r
                          for r in tables["disputes"]]
    q, _ = _open(tmp_path, "neither", tables)
    f = mediation(q, FilterState()).funnel
    assert f.refused == "step_levels_neither"
    assert "neither" in finding_lines(q.extract.report, "en")[0]


def test_demo_funnel_equals_pandas(tmp_path: Path) -> None:
    from demo import generate_demo

    path = tmp_path / "demo.duckdb"
    generate_demo(path, incidents=5_000, seed=4)
    q = Query(open_extract(path))
    assert mediation(q, FilterState()).funnel.reading == "to"
    want = pandas_funnel(path, "to")
    assert got_funnel(q) == want and want["reached_county"] > 0
    assert mediation(q, FilterState()).funnel.level_disagreements == 0
