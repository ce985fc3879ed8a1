"""Tiny hand-written inline SVG charts for the feedback page and the class dashboard.

Why hand-written: the pages must be self-contained (no scripts, no fonts, no network), and
the two charts we need -- a log-log cost plot and a histogram -- are a few dozen elements.
Every piece of text that ends up in the SVG goes through ``html.escape``; the functions
return ``markupsafe.Markup`` so Jinja's autoescaping leaves the finished SVG alone.

Accessibility: each chart is ``role="img"`` with a ``<title>`` and ``<desc>`` referenced by
``aria-labelledby``; lines differ by dash pattern as well as color.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

# Colors chosen for >= 3:1 contrast against white (non-text graphics); text uses --fg.
MEASURED = "#0550ae"
LINEAR = "#1a7f37"
QUADRATIC = "#9a3412"
GRID = "#d0d7de"
AXIS = "#57606a"
TEXT = "#1f2328"

def _f(x: float) -> str:
    """Compact coordinate formatting (keeps the SVG small and diff-stable)."""
    return f"{x:.1f}".rstrip("0").rstrip(".")


# ---------------------------------------------------------------------------------------
# Value formatting
# ---------------------------------------------------------------------------------------

def metric_label(metric: str) -> str:
    """Human axis label for an efficiency metric name (unknown names are shown as given)."""
    known = {
        "peak_bytes": "peak memory",
        "bytes": "memory",
        "time_s": "time",
        "seconds": "time",
        "time": "time",
        "times": "time",
        "flops": "operations",
    }
    return known.get(metric, metric.replace("_", " "))


def format_value(metric: str, v: float) -> str:
    """Format a measured value with a unit that fits the metric (bytes, seconds, or plain)."""
    if "byte" in metric:
        for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
            if abs(v) >= scale:
                return f"{v / scale:.3g} {unit}"
        return f"{v:.0f} B" if v >= 1 else f"{v:.3g} B"
    if metric.startswith("time") or metric == "seconds":
        for unit, step in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
            if abs(v) >= step:
                return f"{v / step:.3g} {unit}"
        return f"{v / 1e-9:.3g} ns"
    return f"{v:.3g}"


def format_size(n: float) -> str:
    """Sizes are usually powers of two: print them as integers, with k/M for big ones."""
    if n >= 10_000_000:
        return f"{n / 1e6:.3g}M"
    if n >= 10_000:
        return f"{n / 1e3:.3g}k"
    return f"{n:.0f}" if float(n).is_integer() else f"{n:.3g}"


# ---------------------------------------------------------------------------------------
# Log-log efficiency plot
# ---------------------------------------------------------------------------------------

def _log_ticks(lo: float, hi: float) -> list[float]:
    """Tick values for a log axis spanning [lo, hi] (both > 0): decades, or 1-2-5 steps."""
    ticks: list[float] = []
    for mult in ((1.0,), (1.0, 2.0, 5.0)):
        ticks = []
        for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1):
            for m in mult:
                t = m * 10.0**e
                if lo <= t * (1 + 1e-9) and t <= hi * (1 + 1e-9):
                    ticks.append(t)
        if len(ticks) >= 3:
            break
    return ticks


def efficiency_plot(eff: dict, *, uid: str = "plot", label: str = "") -> Markup | None:
    """Measured cost vs size on log-log axes, with linear and quadratic guides.

    ``eff`` is a test's ``efficiency`` dict from the result JSON (``metric``, ``sizes``,
    ``values``, ``slope``, ...). Both guides go through the first measured point, so a
    student sees at a glance which one their curve follows. Returns None when there are
    fewer than two positive points (nothing meaningful to draw on log axes).
    """
    metric = str(eff.get("metric") or "cost")
    pairs = [
        (float(s), float(v))
        for s, v in zip(eff.get("sizes") or [], eff.get("values") or [])
        if _positive(s) and _positive(v)
    ]
    if len(pairs) < 2:
        return None
    pairs.sort()
    xs = [p[0] for p in pairs]
    ys = [p[1] for p in pairs]
    x0, y0 = xs[0], ys[0]
    lin = [y0 * (x / x0) for x in xs]
    quad = [y0 * (x / x0) ** 2 for x in xs]

    # Plot area and the data ranges it maps (padded by a little on log scale).
    W, H = 520, 360
    left, right, top, plot_bottom = 76, 16, 14, 250
    lx_lo, lx_hi = math.log10(min(xs)), math.log10(max(xs))
    all_y = ys + lin + quad
    ly_lo, ly_hi = math.log10(min(all_y)), math.log10(max(all_y))
    pad_x = max(0.05 * (lx_hi - lx_lo), 0.05)
    pad_y = max(0.05 * (ly_hi - ly_lo), 0.05)
    lx_lo, lx_hi, ly_lo, ly_hi = lx_lo - pad_x, lx_hi + pad_x, ly_lo - pad_y, ly_hi + pad_y

    def px(x: float) -> float:
        return left + (math.log10(x) - lx_lo) / (lx_hi - lx_lo) * (W - left - right)

    def py(y: float) -> float:
        return plot_bottom - (math.log10(y) - ly_lo) / (ly_hi - ly_lo) * (plot_bottom - top)

    slope = eff.get("slope")
    slope_txt = f"{float(slope):.2f}" if isinstance(slope, (int, float)) else "n/a"
    ylabel = metric_label(metric)
    tid, did = escape(f"{uid}-title"), escape(f"{uid}-desc")
    title = f"{ylabel.capitalize()} vs input size{' — ' + label if label else ''}"
    points_txt = ", ".join(f"n={format_size(x)}: {format_value(metric, y)}" for x, y in pairs)
    desc = (
        f"Log-log plot. Measured points: {points_txt}. Fitted slope {slope_txt}; "
        "a linear algorithm has slope 1, a quadratic one slope 2."
    )

    out: list[str] = [
        (f'<svg class="chart" viewBox="0 0 {W} {H}" role="img" '
         f'aria-labelledby="{tid} {did}" preserveAspectRatio="xMidYMid meet">'),
        f'<title id="{tid}">{escape(title)}</title>',
        f'<desc id="{did}">{escape(desc)}</desc>',
    ]
    # Grid + tick labels.
    x_ticks = xs if len(xs) <= 8 else _log_ticks(min(xs), max(xs))
    for t in x_ticks:
        x = px(t)
        out.append(f'<line x1="{_f(x)}" y1="{top}" x2="{_f(x)}" y2="{plot_bottom}" '
                   f'stroke="{GRID}" stroke-width="1"/>')
        out.append(f'<text x="{_f(x)}" y="{plot_bottom + 16}" font-size="11" '
                   f'text-anchor="middle" fill="{TEXT}">{escape(format_size(t))}</text>')
    y_lo, y_hi = 10**ly_lo, 10**ly_hi
    for t in _log_ticks(y_lo, y_hi):
        y = py(t)
        out.append(f'<line x1="{left}" y1="{_f(y)}" x2="{W - right}" y2="{_f(y)}" '
                   f'stroke="{GRID}" stroke-width="1"/>')
        out.append(f'<text x="{left - 6}" y="{_f(y + 4)}" font-size="11" '
                   f'text-anchor="end" fill="{TEXT}">{escape(format_value(metric, t))}</text>')
    # Axes and their labels.
    out.append(f'<path d="M{left} {top} V{plot_bottom} H{W - right}" fill="none" '
               f'stroke="{AXIS}" stroke-width="1.5"/>')
    out.append(f'<text class="axis-label" x="{_f((left + W - right) / 2)}" '
               f'y="{plot_bottom + 36}" font-size="12" text-anchor="middle" '
               f'fill="{TEXT}">input size n (log scale)</text>')
    cy = (top + plot_bottom) / 2
    out.append(f'<text class="axis-label" x="14" y="{_f(cy)}" font-size="12" '
               f'text-anchor="middle" fill="{TEXT}" transform="rotate(-90 14 {_f(cy)})">'
               f'{escape(ylabel)} (log scale)</text>')

    def polyline(vals: list[float], color: str, dash: str, width: float) -> str:
        pts = " ".join(f"{_f(px(x))},{_f(py(y))}" for x, y in zip(xs, vals))
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        return (f'<polyline points="{pts}" fill="none" stroke="{color}" '
                f'stroke-width="{width}"{dash_attr}/>')

    out.append(polyline(quad, QUADRATIC, "2 4", 2))
    out.append(polyline(lin, LINEAR, "8 5", 2))
    out.append(polyline(ys, MEASURED, "", 2.5))
    for x, y in pairs:
        out.append(f'<circle cx="{_f(px(x))}" cy="{_f(py(y))}" r="4" fill="{MEASURED}"/>')

    # Legend under the plot (never overlaps the data, and stays readable on phones).
    legend = [
        (MEASURED, "", f"measured (fitted slope {slope_txt})", True),
        (LINEAR, "8 5", "linear guide (slope 1)", False),
        (QUADRATIC, "2 4", "quadratic guide (slope 2)", False),
    ]
    ly = plot_bottom + 60
    out.append('<g class="legend">')
    for i, (color, dash, text, dot) in enumerate(legend):
        y = ly + i * 18
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<line x1="{left}" y1="{y}" x2="{left + 34}" y2="{y}" stroke="{color}" '
                   f'stroke-width="2.5"{dash_attr}/>')
        if dot:
            out.append(f'<circle cx="{left + 17}" cy="{y}" r="4" fill="{color}"/>')
        out.append(f'<text x="{left + 42}" y="{y + 4}" font-size="12" fill="{TEXT}">'
                   f'{escape(text)}</text>')
    out.append("</g></svg>")
    return Markup("".join(out))


def _positive(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v > 0


# ---------------------------------------------------------------------------------------
# Histogram (dashboard)
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Bin:
    """One histogram bar: scores in [lo, hi) percent (the last bin includes 100)."""

    lo: float
    hi: float
    count: int

    @property
    def label(self) -> str:
        return f"{self.lo:.0f}–{self.hi:.0f}%"


def histogram_bins(percents: Sequence[float], bins: int = 10) -> list[Bin]:
    """Count scores (in percent, 0..100) into equal bins; out-of-range values are clamped."""
    width = 100.0 / bins
    counts = [0] * bins
    for p in percents:
        i = int(min(max(p, 0.0), 100.0) // width)
        counts[min(i, bins - 1)] += 1
    return [Bin(i * width, (i + 1) * width, c) for i, c in enumerate(counts)]


def histogram(bins: Sequence[Bin], *, uid: str = "hist", title: str = "Score distribution",
              counted: str = "submissions") -> Markup:
    """A bar chart of ``bins`` with the count printed above every bar; ``counted`` names
    what the bars count (the y axis)."""
    W, H = 560, 260
    left, right, top, bottom = 44, 10, 20, 212
    n = max(len(bins), 1)
    peak = max((b.count for b in bins), default=0) or 1
    slot = (W - left - right) / n
    tid, did = escape(f"{uid}-title"), escape(f"{uid}-desc")
    desc = "; ".join(f"{b.label}: {b.count}" for b in bins)
    out = [
        (f'<svg class="chart" viewBox="0 0 {W} {H}" role="img" '
         f'aria-labelledby="{tid} {did}" preserveAspectRatio="xMidYMid meet">'),
        f'<title id="{tid}">{escape(title)}</title>',
        f'<desc id="{did}">Number of {escape(counted)} per score range: {escape(desc)}.</desc>',
    ]
    for tick in sorted({0, peak // 2, peak}):
        y = bottom - tick / peak * (bottom - top)
        out.append(f'<line x1="{left}" y1="{_f(y)}" x2="{W - right}" y2="{_f(y)}" '
                   f'stroke="{GRID}"/>')
        out.append(f'<text x="{left - 6}" y="{_f(y + 4)}" font-size="11" text-anchor="end" '
                   f'fill="{TEXT}">{tick}</text>')
    for i, b in enumerate(bins):
        h = b.count / peak * (bottom - top)
        x = left + i * slot + 3
        out.append(f'<rect class="hist-bar" data-bin="{escape(b.label)}" data-count="{b.count}" '
                   f'x="{_f(x)}" y="{_f(bottom - h)}" width="{_f(slot - 6)}" height="{_f(h)}" '
                   f'fill="{MEASURED}"/>')
        if b.count:
            out.append(f'<text x="{_f(x + (slot - 6) / 2)}" y="{_f(bottom - h - 4)}" '
                       f'font-size="11" text-anchor="middle" fill="{TEXT}">{b.count}</text>')
    # Tick labels on the bin edges (0, 10, ..., 100), so each bar sits between its bounds.
    edges = [b.lo for b in bins] + ([bins[-1].hi] if bins else [])
    for i, edge in enumerate(edges):
        out.append(f'<text x="{_f(left + i * slot)}" y="{bottom + 15}" font-size="10" '
                   f'text-anchor="middle" fill="{TEXT}">{edge:.0f}</text>')
    out.append(f'<path d="M{left} {top} V{bottom} H{W - right}" fill="none" stroke="{AXIS}"/>')
    out.append(f'<text class="axis-label" x="{(left + W - right) / 2:.0f}" y="{bottom + 36}" '
               f'font-size="12" text-anchor="middle" fill="{TEXT}">'
               f'score (% of the maximum)</text>')
    cy = (top + bottom) / 2
    out.append(f'<text class="axis-label" x="12" y="{_f(cy)}" font-size="12" '
               f'text-anchor="middle" fill="{TEXT}" transform="rotate(-90 12 {_f(cy)})">'
               f'{escape(counted)}</text>')
    out.append("</svg>")
    return Markup("".join(out))
