"""Sentences about feeds that stopped (数据停更), from ``data.period.freshness``.

The report's notes, the window's header and the KPI tiles say them in the user's
language; the figures themselves (newest row, lag in days) come from ``data.period``.
"""

from __future__ import annotations

from data.extract import Extract
from data.period import Freshness, freshness

from .i18n import tr


def lag_text(f: Freshness, lang: str | None = None) -> str:
    """"警情数据截至 2019-12-31，比提取时间早 15 天" for one lagging table."""
    assert f.newest is not None and f.lag_days is not None
    return tr("feed_lags", lang, table=tr(f"feed_{f.table}", lang),
              day=f.newest.date().isoformat(), days=f"{f.lag_days:,.0f}")


def feed_notes(extract: Extract, lang: str | None = None) -> tuple[str, ...]:
    """One sentence per lagging feed, incidents first."""
    return tuple(lag_text(f, lang) for f in freshness(extract).values() if f.lags)
