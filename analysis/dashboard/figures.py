"""The dashboard's charts, drawn by matplotlib (Agg, no internet, DejaVu Sans as shipped with
matplotlib, which covers Cyrillic). No Django imports: every label arrives translated.

Each function returns a matplotlib ``Figure``; :func:`to_svg` and :func:`to_png` turn it into
the file the server sends. The CONSORT diagram is in :mod:`analysis.dashboard.flowchart`.
"""

from __future__ import annotations

import io
import math
import re
import textwrap
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from datetime import date

import matplotlib

matplotlib.use("Agg")  # before anything else of matplotlib: no display, no GUI toolkit

import matplotlib.dates as mdates  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

COLOURS = {"standard": "#6c757d", "b12": "#0d6efd", "target": "#dc3545", "line": "#333333"}
MARKERS = {"standard": "o", "b12": "s"}
PNG_DPI = 150
STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.unicode_minus": True,
    "svg.fonttype": "none",  # text stays text in the SVG: searchable, selectable, small
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
}
NICE_STEPS = [1, 2, 2.5, 5, 10]
MINUS = "\u2212"


# --- ticks -------------------------------------------------------------------------------


def nice_locator(*, integer: bool = False, bins: int = 6) -> MaxNLocator:
    """At most ``bins`` intervals on round steps (1, 2, 2.5, 5 × 10^k)."""
    return MaxNLocator(nbins=bins, steps=NICE_STEPS, integer=integer)


def tick_text(value: float) -> str:
    """A tick value as people write it: no float noise, no trailing zeros, a real minus."""
    rounded = round(float(value), 9)
    if rounded == 0:
        return "0"
    text = f"{rounded:.10g}"
    return text.replace("-", MINUS)


def nice_ticks(low: float, high: float, *, integer: bool = False) -> list[float]:
    """The ticks the charts use for data from ``low`` to ``high`` (inside the range)."""
    values = nice_locator(integer=integer).tick_values(low, high)
    return [float(v) for v in values if low - 1e-9 <= v <= high + 1e-9]


def _nice_axes(ax, *, x: bool = True, y: bool = True, integer_y: bool = False) -> None:
    formatter = FuncFormatter(lambda value, _pos: tick_text(value))
    if y:
        ax.yaxis.set_major_locator(nice_locator(integer=integer_y))
        ax.yaxis.set_major_formatter(formatter)
    if x:
        ax.xaxis.set_major_locator(nice_locator())
        ax.xaxis.set_major_formatter(formatter)


# --- output ------------------------------------------------------------------------------


@contextmanager
def style():
    with matplotlib.rc_context(STYLE):
        yield


def new_figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


_PROLOG = re.compile(r"^.*?(?=<svg)", re.DOTALL)


def to_svg(figure: Figure) -> str:
    """The figure as an SVG document starting at ``<svg`` (fit to embed in a page)."""
    buffer = io.StringIO()
    with style():
        figure.savefig(buffer, format="svg")
    return _PROLOG.sub("", buffer.getvalue(), count=1)


def to_png(figure: Figure, dpi: int = PNG_DPI) -> bytes:
    buffer = io.BytesIO()
    with style():
        figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.fill(line, width) for line in text.split("\n"))


# --- charts ------------------------------------------------------------------------------


def note(title: str, message: str) -> Figure:
    """A figure that says why there is nothing to draw."""
    with style():
        figure = new_figure(6.4, 2.4)
        ax = figure.add_subplot()
        ax.set_axis_off()
        ax.set_title(wrap(title, 60))
        ax.text(0.5, 0.5, wrap(message, 80), ha="center", va="center", wrap=True, gid="note")
    return figure


def trajectory(
    panels: Sequence[tuple[str, str, list[dict]]],
    *,
    title: str,
    arm_labels: dict[str, str],
    visits: Sequence[str] = ("V0", "V1", "V2", "V3"),
    empty: str = "—",
) -> Figure:
    """Mean and 95 % CI per arm over the visits, one panel per outcome:
    ``panels`` = (panel title, y label, rows of arm, visit, mean, ci_low, ci_high)."""
    columns = 1 if len(panels) == 1 else 2
    rows = math.ceil(len(panels) / columns)
    with style():
        figure = new_figure(6.4 if columns == 1 else 9.0, 3.6 if rows == 1 else 2.6 * rows)
        axes = figure.subplots(rows, columns, squeeze=False).ravel()
        for number, (ax, (panel_title, y_label, data)) in enumerate(
            zip(axes, panels, strict=False)
        ):
            drawn = False
            for offset, arm in ((-0.06, "standard"), (0.06, "b12")):
                points = [
                    r
                    for r in data
                    if r["arm"] == arm and r.get("mean") is not None and r["visit"] in visits
                ]
                if not points:
                    continue
                drawn = True
                x = np.array([visits.index(r["visit"]) for r in points], dtype=float) + offset
                mean = np.array([r["mean"] for r in points], dtype=float)
                low = np.array([_or(r.get("ci_low"), r["mean"]) for r in points], dtype=float)
                high = np.array([_or(r.get("ci_high"), r["mean"]) for r in points], dtype=float)
                drawn_line = ax.errorbar(
                    x,
                    mean,
                    yerr=[mean - low, high - mean],
                    color=COLOURS[arm],
                    marker=MARKERS[arm],
                    markersize=5,
                    capsize=3,
                    linewidth=1.6,
                    label=arm_labels[arm],
                )
                drawn_line.lines[0].set_gid(f"mean-{arm}-{number}")
            ax.set_xticks(range(len(visits)), list(visits))
            ax.set_xlim(-0.4, len(visits) - 0.6)
            _nice_axes(ax, x=False)
            ax.set_title(wrap(panel_title, 45 if columns == 2 else 70), fontsize=9.5)
            ax.set_ylabel(y_label)
            if not drawn:
                ax.text(0.5, 0.5, empty, transform=ax.transAxes, ha="center", va="center")
        for ax in axes[len(panels) :]:
            ax.set_axis_off()
        handles, labels = axes[0].get_legend_handles_labels()
        if handles:
            figure.legend(handles, labels, loc="outside lower center", ncols=2, frameon=False)
        figure.suptitle(wrap(title, 90), fontweight="bold")
    return figure


def _or(value, default):
    return default if value is None else value


def fitted_line(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float] | None:
    """Least-squares intercept and slope; None with fewer than two distinct x."""
    if len(xs) < 2 or len(set(xs)) < 2:
        return None
    slope, intercept = np.polyfit(np.asarray(xs, float), np.asarray(ys, float), 1)
    return float(intercept), float(slope)


def scatter(
    points: list[tuple[float, float, str]],
    *,
    title: str,
    x_label: str,
    y_label: str,
    arm_labels: dict[str, str],
    fit_label: str,
    empty: str,
) -> Figure:
    """Patients coloured by arm with the least-squares line of each arm."""
    with style():
        figure = new_figure(6.4, 5.0)
        ax = figure.add_subplot()
        for arm, label in arm_labels.items():
            sub = [(x, y) for x, y, a in points if a == arm]
            if not sub:
                continue
            xs, ys = [p[0] for p in sub], [p[1] for p in sub]
            ax.scatter(
                xs,
                ys,
                s=22,
                alpha=0.75,
                color=COLOURS[arm],
                marker=MARKERS[arm],
                label=f"{label} (n = {len(sub)})",
                gid=f"points-{arm}",
            )
            fit = fitted_line(xs, ys)
            if fit:
                grid = np.linspace(min(xs), max(xs), 2)
                ax.plot(
                    grid,
                    fit[0] + fit[1] * grid,
                    color=COLOURS[arm],
                    linewidth=2,
                    label=f"{label}: {fit_label}",
                    gid=f"fit-{arm}",
                )
        if not points:
            ax.text(0.5, 0.5, empty, transform=ax.transAxes, ha="center", va="center")
        else:
            figure.legend(
                loc="outside lower center", ncols=1, frameon=False, fontsize=8, markerscale=1.5
            )
        _nice_axes(ax)
        ax.set_xlabel(x_label)
        ax.set_ylabel(y_label)
        ax.set_title(wrap(title, 60))
    return figure


def heatmap(
    labels: list[str],
    matrix: list[list[float | None]],
    stars: list[list[bool]],
    *,
    title: str,
    colour_label: str,
) -> Figure:
    """A correlation matrix: blue negative, red positive, the value in each cell, * where the
    adjusted p < 0.05."""
    size = len(labels)
    values = np.array([[np.nan if v is None else v for v in row] for row in matrix], float)
    with style():
        figure = new_figure(max(6.4, 0.62 * size + 3.2), max(4.8, 0.55 * size + 2.4))
        ax = figure.add_subplot()
        colours = matplotlib.colormaps["RdBu_r"].with_extremes(bad="#e9ecef")
        image = ax.imshow(values, cmap=colours, vmin=-1, vmax=1, gid="cells")
        for i in range(size):
            for j in range(size):
                if np.isnan(values[i, j]):
                    continue
                star = "*" if i != j and stars[i][j] else ""
                text = f"{values[i, j]:.2f}".replace("-", MINUS) + star
                ax.text(
                    j,
                    i,
                    text,
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if abs(values[i, j]) > 0.6 else "black",
                )
        ax.set_xticks(range(size), [wrap(label, 22) for label in labels], rotation=60, ha="right")
        ax.set_yticks(range(size), [wrap(label, 30) for label in labels])
        ax.spines[:].set_visible(False)
        colourbar = figure.colorbar(image, ax=ax, shrink=0.8)
        colourbar.set_label(colour_label)
        colourbar.set_ticks([-1, -0.5, 0, 0.5, 1])
        colourbar.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: tick_text(v)))
        ax.set_title(wrap(title, 60))
    return figure


def forest(
    rows: list[tuple[str, float | None, float | None, float | None]],
    *,
    title: str,
    x_label: str,
    favours_left: str,
    favours_right: str,
    empty: str,
) -> Figure:
    """Estimates with 95 % CIs on one axis, a line at no difference, and which side favours
    which arm."""
    with style():
        figure = new_figure(6.4, 1.9 + 0.45 * len(rows))
        ax = figure.add_subplot()
        ys = list(range(len(rows)))[::-1]
        for y, (_label, estimate, low, high) in zip(ys, rows, strict=True):
            if estimate is None:
                ax.text(0, y, empty, ha="center", va="center")
                continue
            if low is not None and high is not None:
                ax.plot([low, high], [y, y], color=COLOURS["line"], linewidth=1.8, gid=f"ci-{y}")
            ax.plot(
                [estimate], [y], marker="s", markersize=7, color=COLOURS["b12"], gid=f"estimate-{y}"
            )
        ax.axvline(0, color="#999999", linestyle="--", linewidth=1, gid="no-difference")
        ax.set_yticks(ys, [wrap(row[0], 32) for row in rows])
        ax.set_ylim(-0.7, len(rows) + 0.1)
        _nice_axes(ax, y=False)
        values = [v for row in rows for v in row[1:] if v is not None] + [0.0]
        span = max(values) - min(values) or 1.0
        ax.set_xlim(min(values) - 0.08 * span, max(values) + 0.08 * span)
        ax.set_xlabel(x_label)
        ax.spines["left"].set_visible(False)
        ax.tick_params(axis="y", length=0)
        ax.set_title(wrap(title, 60))
        for text, sign, align in ((favours_left, -1, "right"), (favours_right, 1, "left")):
            arrow = "\u2190 " + text if sign < 0 else text + " \u2192"
            ax.annotate(
                arrow,
                xy=(0, len(rows) - 0.25),
                xytext=(sign * 6, 0),
                textcoords="offset points",
                ha=align,
                va="center",
                fontsize=8,
                color="#555555",
                gid=f"favours-{'left' if sign < 0 else 'right'}",
            )
    return figure


def cumulative(
    dates: list[date],
    *,
    target: int,
    title: str,
    y_label: str,
    x_label: str,
    line_label: str,
    target_label: str,
    empty: str,
    date_text: Callable[[date], str] | None = None,
) -> Figure:
    """Patients randomised so far against calendar time, with the target line; ``date_text``
    writes a tick's date in the reader's language."""
    with style():
        figure = new_figure(6.4, 3.8)
        ax = figure.add_subplot()
        ordered = sorted(dates)
        if ordered:
            counts = np.arange(1, len(ordered) + 1)
            ax.step(
                [*ordered, ordered[-1]],
                [*counts, counts[-1]],
                where="post",
                color=COLOURS["b12"],
                linewidth=2,
                label=line_label,
                gid="randomised",
            )
            locator = mdates.AutoDateLocator(minticks=3, maxticks=7)
            ax.xaxis.set_major_locator(locator)
            if date_text is None:
                ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
            else:
                ax.xaxis.set_major_formatter(
                    FuncFormatter(lambda value, _pos: date_text(mdates.num2date(value).date()))
                )
        else:
            ax.text(0.5, 0.5, empty, transform=ax.transAxes, ha="center", va="center")
            ax.set_xticks([])
        ax.axhline(
            target,
            color=COLOURS["target"],
            linestyle="--",
            linewidth=1.2,
            label=target_label,
            gid="target",
        )
        ax.set_ylim(0, max(target, len(ordered)) * 1.22)  # room for the legend above the target
        _nice_axes(ax, x=False, integer_y=True)
        ax.set_ylabel(y_label)
        ax.set_xlabel(x_label)
        ax.legend(frameon=False, loc="upper left", ncols=2)
        ax.set_title(wrap(title, 60))
    return figure
