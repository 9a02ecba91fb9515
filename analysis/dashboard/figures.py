"""Figures as self-contained SVG strings (no internet, no plotting library). No Django imports.

Every figure is drawn from numbers of the results document; the page offers it as SVG and,
converted in the browser, as PNG.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 640, 360
MARGIN = {"left": 64, "right": 20, "top": 36, "bottom": 48}
COLOURS = {"standard": "#6c757d", "b12": "#0d6efd", "pooled": "#198754"}


def _svg(body: str, title: str, width: int = WIDTH, height: int = HEIGHT) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">'
        f'<rect width="100%" height="100%" fill="white"/>'
        f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14" '
        f'font-weight="bold">{escape(title)}</text>{body}</svg>'
    )


class _Scale:
    def __init__(self, low: float, high: float, out_low: float, out_high: float):
        if high == low:
            high = low + 1
        self.low, self.high, self.out_low, self.out_high = low, high, out_low, out_high

    def __call__(self, value: float) -> float:
        share = (value - self.low) / (self.high - self.low)
        return self.out_low + share * (self.out_high - self.out_low)

    def ticks(self, count: int = 5) -> list[float]:
        step = (self.high - self.low) / count
        return [self.low + i * step for i in range(count + 1)]


def _axes(x_label: str, y_label: str, y: _Scale, x_ticks: Sequence[tuple[float, str]]) -> str:
    left, bottom = MARGIN["left"], HEIGHT - MARGIN["bottom"]
    parts = [
        f'<line x1="{left}" y1="{MARGIN["top"]}" x2="{left}" y2="{bottom}" stroke="#333"/>',
        f'<line x1="{left}" y1="{bottom}" x2="{WIDTH - MARGIN["right"]}" y2="{bottom}" '
        'stroke="#333"/>',
    ]
    for tick in y.ticks():
        pos = y(tick)
        parts.append(
            f'<line x1="{left - 4}" y1="{pos:.1f}" x2="{left}" y2="{pos:.1f}" '
            'stroke="#333"/>'
            f'<text x="{left - 6}" y="{pos + 4:.1f}" text-anchor="end">{tick:.4g}</text>'
        )
    for pos, label in x_ticks:
        parts.append(
            f'<text x="{pos:.1f}" y="{bottom + 16}" text-anchor="middle">{escape(label)}</text>'
        )
    parts.append(
        f'<text x="{WIDTH / 2}" y="{HEIGHT - 8}" text-anchor="middle">{escape(x_label)}</text>'
    )
    parts.append(
        f'<text x="14" y="{HEIGHT / 2}" text-anchor="middle" '
        f'transform="rotate(-90 14 {HEIGHT / 2})">{escape(y_label)}</text>'
    )
    return "".join(parts)


def _legend(labels: dict[str, str]) -> str:
    parts, x = [], MARGIN["left"] + 10
    for key, label in labels.items():
        colour = COLOURS.get(key, "#000")
        parts.append(
            f'<rect x="{x}" y="{MARGIN["top"] - 6}" width="10" height="10" '
            f'fill="{colour}"/><text x="{x + 14}" y="{MARGIN["top"] + 3}">'
            f"{escape(label)}</text>"
        )
        x += 20 + 7 * len(label)
    return "".join(parts)


def trajectory(
    rows: list[dict],
    *,
    title: str,
    y_label: str,
    arm_labels: dict[str, str],
    visits: Sequence[str] = ("V0", "V1", "V2", "V3"),
) -> str:
    """Mean and 95 % CI per arm and visit."""
    values = [
        v for r in rows for v in (r.get("ci_low"), r.get("ci_high"), r.get("mean")) if v is not None
    ]
    y = _Scale(
        min(values, default=0),
        max(values, default=1),
        HEIGHT - MARGIN["bottom"],
        MARGIN["top"] + 14,
    )
    span = (WIDTH - MARGIN["left"] - MARGIN["right"]) / (len(visits) + 1)
    x = {visit: MARGIN["left"] + span * (i + 1) for i, visit in enumerate(visits)}
    parts = [_axes("", y_label, y, [(x[v], v) for v in visits])]
    for offset, arm in ((-5, "standard"), (5, "b12")):
        points = [r for r in rows if r["arm"] == arm and r.get("mean") is not None]
        colour = COLOURS[arm]
        path = " ".join(f"{x[r['visit']] + offset:.1f},{y(r['mean']):.1f}" for r in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for r in points:
            cx = x[r["visit"]] + offset
            if r.get("ci_low") is not None:
                parts.append(
                    f'<line x1="{cx:.1f}" y1="{y(r["ci_low"]):.1f}" x2="{cx:.1f}" '
                    f'y2="{y(r["ci_high"]):.1f}" stroke="{colour}"/>'
                )
            parts.append(f'<circle cx="{cx:.1f}" cy="{y(r["mean"]):.1f}" r="3.5" fill="{colour}"/>')
    parts.append(_legend(arm_labels))
    return _svg("".join(parts), title)


def scatter(
    points: list[tuple[float, float, str]],
    *,
    title: str,
    x_label: str,
    y_label: str,
    arm_labels: dict[str, str],
) -> str:
    """Points coloured by arm with a least-squares line per arm."""
    if not points:
        return _svg('<text x="50%" y="50%" text-anchor="middle">—</text>', title)
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x = _Scale(min(xs), max(xs), MARGIN["left"] + 6, WIDTH - MARGIN["right"] - 6)
    y = _Scale(min(ys), max(ys), HEIGHT - MARGIN["bottom"] - 6, MARGIN["top"] + 14)
    ticks = [(x(t), f"{t:.4g}") for t in x.ticks()]
    parts = [_axes(x_label, y_label, y, ticks)]
    for px, py, arm in points:
        parts.append(
            f'<circle cx="{x(px):.1f}" cy="{y(py):.1f}" r="3" '
            f'fill="{COLOURS.get(arm, "#000")}" fill-opacity="0.7"/>'
        )
    for arm in arm_labels:
        sub = [(px, py) for px, py, a in points if a == arm]
        if len(sub) < 2:
            continue
        mx = sum(p[0] for p in sub) / len(sub)
        my = sum(p[1] for p in sub) / len(sub)
        sxx = sum((p[0] - mx) ** 2 for p in sub)
        if sxx == 0:
            continue
        slope = sum((p[0] - mx) * (p[1] - my) for p in sub) / sxx
        lo, hi = min(p[0] for p in sub), max(p[0] for p in sub)
        parts.append(
            f'<line x1="{x(lo):.1f}" y1="{y(my + slope * (lo - mx)):.1f}" '
            f'x2="{x(hi):.1f}" y2="{y(my + slope * (hi - mx)):.1f}" '
            f'stroke="{COLOURS[arm]}" stroke-width="2"/>'
        )
    parts.append(_legend(arm_labels))
    return _svg("".join(parts), title)


def heatmap(variables: list[str], cells: list[dict], *, title: str) -> str:
    """Correlation matrix: blue negative, red positive; * where the BH-adjusted p < 0.05."""
    size, left, top = 34, 150, 40
    width = left + size * len(variables) + 20
    height = top + size * len(variables) + 120
    lookup = {}
    for c in cells:
        lookup[(c["x"], c["y"])] = lookup[(c["y"], c["x"])] = c
    parts = []
    for i, a in enumerate(variables):
        parts.append(
            f'<text x="{left - 6}" y="{top + i * size + size / 2 + 4}" '
            f'text-anchor="end">{escape(a)}</text>'
        )
        parts.append(
            f'<text x="{left + i * size + size / 2}" y="{top + len(variables) * size + 8}"'
            f' transform="rotate(60 {left + i * size + size / 2} '
            f'{top + len(variables) * size + 8})">{escape(a)}</text>'
        )
        for j, b in enumerate(variables):
            cell = lookup.get((a, b))
            r = 1.0 if a == b else (cell or {}).get("r")
            fill = (
                "#eee"
                if r is None
                else (
                    f"rgb(255,{int(255 * (1 - r))},{int(255 * (1 - r))})"
                    if r >= 0
                    else f"rgb({int(255 * (1 + r))},{int(255 * (1 + r))},255)"
                )
            )
            star = "*" if cell and (cell.get("p_adjusted") or 1) < 0.05 else ""
            label = "" if r is None else f"{r:.2f}{star}"
            parts.append(
                f'<rect x="{left + j * size}" y="{top + i * size}" width="{size}" '
                f'height="{size}" fill="{fill}" stroke="white"/>'
                f'<text x="{left + j * size + size / 2}" y="{top + i * size + size / 2 + 3}"'
                f' text-anchor="middle" font-size="9">{label}</text>'
            )
    return _svg("".join(parts), title, width=width, height=height)


def forest(
    rows: list[tuple[str, float | None, float | None, float | None]], *, title: str, x_label: str
) -> str:
    """Estimates with 95 % CIs on one axis, a line at zero."""
    values = [v for _, e, lo, hi in rows for v in (e, lo, hi) if v is not None] + [0.0]
    left = 200
    x = _Scale(min(values), max(values), left, WIDTH - MARGIN["right"] - 10)
    row_h = 36
    height = MARGIN["top"] + row_h * len(rows) + 60
    parts = [
        f'<line x1="{x(0):.1f}" y1="{MARGIN["top"]}" x2="{x(0):.1f}" '
        f'y2="{MARGIN["top"] + row_h * len(rows)}" stroke="#999" stroke-dasharray="4"/>'
    ]
    for i, (label, est, lo, hi) in enumerate(rows):
        cy = MARGIN["top"] + row_h * i + row_h / 2
        parts.append(f'<text x="{left - 10}" y="{cy + 4}" text-anchor="end">{escape(label)}</text>')
        if est is None:
            continue
        if lo is not None and hi is not None:
            parts.append(
                f'<line x1="{x(lo):.1f}" y1="{cy}" x2="{x(hi):.1f}" y2="{cy}" '
                'stroke="#333" stroke-width="2"/>'
            )
        parts.append(
            f'<rect x="{x(est) - 5:.1f}" y="{cy - 5}" width="10" height="10" fill="#0d6efd"/>'
        )
    axis_y = MARGIN["top"] + row_h * len(rows) + 6
    for tick in x.ticks(4):
        parts.append(
            f'<text x="{x(tick):.1f}" y="{axis_y + 12}" text-anchor="middle">{tick:.4g}</text>'
        )
    parts.append(
        f'<text x="{(left + WIDTH) / 2}" y="{axis_y + 34}" text-anchor="middle">'
        f"{escape(x_label)}</text>"
    )
    return _svg("".join(parts), title, height=int(height))


def flow_diagram(boxes: list[list[str]], *, title: str) -> str:
    """CONSORT-style boxes: each inner list is one row of boxes, top to bottom."""
    row_h, box_h = 84, 62
    height = 40 + row_h * len(boxes)
    parts = []
    for i, row in enumerate(boxes):
        width = (WIDTH - 40) / len(row)
        for j, text in enumerate(row):
            bx, by = 20 + j * width + 6, 34 + i * row_h
            parts.append(
                f'<rect x="{bx:.1f}" y="{by}" width="{width - 12:.1f}" '
                f'height="{box_h}" fill="#f8f9fa" stroke="#333"/>'
            )
            for k, line in enumerate(text.split("\n")[:4]):
                parts.append(
                    f'<text x="{bx + (width - 12) / 2:.1f}" y="{by + 16 + 14 * k}" '
                    f'text-anchor="middle" font-size="11">{escape(line)}</text>'
                )
            if i:
                parts.append(
                    f'<line x1="{bx + (width - 12) / 2:.1f}" y1="{by - row_h + box_h}" '
                    f'x2="{bx + (width - 12) / 2:.1f}" y2="{by}" stroke="#333"/>'
                )
    return _svg("".join(parts), title, height=height)


def cumulative(dates: list[str], *, target: int, title: str, y_label: str) -> str:
    """Patients randomised over time against the target."""
    if not dates:
        return _svg('<text x="50%" y="50%" text-anchor="middle">—</text>', title)
    ordered = sorted(dates)
    y = _Scale(0, max(target, len(ordered)), HEIGHT - MARGIN["bottom"], MARGIN["top"] + 14)
    x = _Scale(0, max(len(ordered) - 1, 1), MARGIN["left"] + 6, WIDTH - MARGIN["right"] - 6)
    ticks = [(x(0), ordered[0]), (x(len(ordered) - 1), ordered[-1])]
    path = " ".join(f"{x(i):.1f},{y(i + 1):.1f}" for i in range(len(ordered)))
    body = (
        _axes("", y_label, y, ticks)
        + f'<polyline points="{path}" fill="none" stroke="#0d6efd" stroke-width="2"/>'
        + f'<line x1="{MARGIN["left"]}" y1="{y(target):.1f}" x2="{WIDTH - MARGIN["right"]}" '
        f'y2="{y(target):.1f}" stroke="#dc3545" stroke-dasharray="6"/>'
        + f'<text x="{WIDTH - MARGIN["right"] - 4}" y="{y(target) - 4:.1f}" '
        f'text-anchor="end" fill="#dc3545">{target}</text>'
    )
    return _svg(body, title)
