"""Analysis on top of the query API: hotspots, repeats, coverage, rectification,
mediation, change over time, alerts and the safety index.

Each module takes a ``Query`` and a ``FilterState`` and returns small frozen
dataclasses with a ``to_json()`` for ``report --json``; the window, the
exports and the report all call these same functions.
"""
