"""The one painter: what the screen and print both draw, drawn by the same code.

QtGui only (no widgets, no pyqtgraph), so that ``widgets/`` (the screen, the legend)
and ``exporters/`` (the PDF and PNG briefings) share it: symbol shapes
(``symbols``), the ink that reads on a coloured bar (``ink``), the funnel chart
(``funnel``) and the number format of counts (``numbers``).
"""
