"""Series -> SVG charts: labelled axes, a legend, and the Okabe–Ito colour-blind-safe palette.

The SVG is built as text and every label is escaped, so it can be inlined in a page.
"""

from app.web.charts.envelope import Envelope, envelope_chart
from app.web.charts.frame import OKABE_ITO, Frame, Series
from app.web.charts.line import line_chart
from app.web.charts.scatter import labelled_scatter
from app.web.charts.surface import MapPath, surface_map
from app.web.charts.xy import Marker, xy_chart

__all__ = [
    "OKABE_ITO", "Envelope", "Frame", "MapPath", "Marker", "Series", "envelope_chart",
    "labelled_scatter", "line_chart", "surface_map", "xy_chart",
]  # fmt: skip
