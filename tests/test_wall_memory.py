"""What a wall redraws all day must not pile up: each test drives a real widget through
many redraws and counts what stays behind (connections, items), independently of the
widget's own bookkeeping (``weakref.getweakrefs``, the view box's items).

The soak (``bench/soak_wall.py``) measures the memory slope over an hour; these tests
pin the causes it found, in seconds.
"""

from __future__ import annotations

import weakref

from layers.panels import LineSpec
from widgets.charts import LineChart


def _line_spec(k: int, series: int = 1) -> LineSpec:
    n = 20 + k % 5
    xs = tuple(float(i) for i in range(n))
    return LineSpec("t", f"T{k}", xs, tuple(str(i) for i in range(n)),
                    tuple(tuple(float((i * (k + s)) % 7) for i in range(n))
                          for s in range(series)),
                    tuple(f"s{s}" for s in range(series)),
                    tuple((200, 40 * s, 0, 255) for s in range(series)))


def test_line_chart_redraws_leave_no_connections_behind(qtbot) -> None:
    """The timeline's selection region stays in the plot: re-added at every redraw, PySide
    kept a weak reference per connection of it and its two edges to the view (4 per
    redraw each, never freed) and the wall grew by thousands of them an hour."""
    chart = LineChart(None, selectable=True)
    qtbot.addWidget(chart)
    chart.resize(500, 260)
    chart.show()
    chart.set_spec(_line_spec(0))
    chart.set_region(3.0, 8.0)
    region, edge = chart._region, chart._region.lines[0]
    before = len(weakref.getweakrefs(region)), len(weakref.getweakrefs(edge))
    vb = chart.view_box()
    for k in range(1, 60):
        chart.set_spec(_line_spec(k, series=1 + k % 3))
        if k % 10 == 0:
            chart.set_spec(None)  # no data: the panel says so, and then draws again
    chart.set_spec(_line_spec(61, series=2))
    assert (len(weakref.getweakrefs(region)), len(weakref.getweakrefs(edge))) == before
    # what the plot holds: the region and one curve per series, nothing left over
    data_items = [i for i in vb.addedItems if i is not region]
    assert len(data_items) == 2
    # the selection survived the redraws, on the data drawn last
    assert chart.region() == (3.0, 8.0)
