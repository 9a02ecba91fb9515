"""The CONSORT diagram drawn from a :class:`~analysis.dashboard.consort.Flow` (its boxes and
arrows; every arrow drawn is an edge of the flow). No Django imports; box texts come from the
caller, translated.

Layout (inches, y downwards): the enrolment column in the middle-left with its exclusion boxes
to the right of the trunk; below ``randomised`` one column per arm: allocation, follow-up, then
analysed and excluded from analysis side by side.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, Rectangle

from analysis.dashboard.consort import Flow, Node
from analysis.dashboard.figures import new_figure, style, wrap

WIDTH = 10.0
LINE = 0.17  # inches per text line at 8.5 pt
PAD = 0.12
GAP = 0.32
CHAR = 0.068  # inches per character, for wrapping
MAIN_X, MAIN_W = 2.4, 3.2
SIDE_X, SIDE_W = 6.1, 3.7
ARM_X = {"standard": 0.15, "b12": 5.1}
ARM_W = 4.75


@dataclass
class Box:
    x: float
    y: float
    w: float
    h: float
    text: str

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def bottom(self) -> float:
        return self.y + self.h

    @property
    def mid(self) -> float:
        return self.y + self.h / 2


def _box(x: float, y: float, w: float, text: str, lines: int | None = None) -> Box:
    wrapped = wrap(text, max(12, int((w - 2 * PAD) / CHAR)))
    count = lines if lines is not None else wrapped.count("\n") + 1
    return Box(x, y, w, count * LINE + 2 * PAD, wrapped)


def _lines(x: float, w: float, text: str) -> int:
    return _box(x, 0, w, text).text.count("\n") + 1


def layout(flow: Flow, text: Callable[[Node], str]) -> dict[str, Box]:
    """Where each node's box goes."""
    boxes: dict[str, Box] = {}
    y = 0.2
    main = [n for n in flow.nodes if n.arm is None and not n.side]
    for node in main:
        boxes[node.key] = _box(MAIN_X, y, MAIN_W, text(node))
        y = boxes[node.key].bottom + GAP
        sides = [c for c in flow.children(node.key) if c.side]
        for side in sides:
            boxes[side.key] = _box(SIDE_X, y, SIDE_W, text(side))
            y = boxes[side.key].bottom + GAP / 2
        if sides:
            y += GAP / 2
    y += GAP / 2  # room for the split into arms
    for stage in ("allocation", "follow_up", "analysis"):
        row = [n for n in flow.nodes if n.arm and n.stage == stage]
        widths = {n.key: (ARM_W if stage != "analysis" else ARM_W / 2 - 0.08) for n in row}
        lines = max(_lines(0, widths[n.key], text(n)) for n in row)
        for node in row:
            x = ARM_X[node.arm] + (ARM_W / 2 + 0.08 if node.side else 0.0)
            boxes[node.key] = _box(x, y, widths[node.key], text(node), lines)
        y = max(boxes[n.key].bottom for n in row) + GAP
    return boxes


def _arrow(ax, points: list[tuple[float, float]], gid: str) -> None:
    """An orthogonal line through ``points`` ending in an arrow head."""
    for (x0, y0), (x1, y1) in zip(points[:-2], points[1:-1], strict=True):
        ax.plot([x0, x1], [y0, y1], color="#333333", linewidth=1, gid=f"{gid}-segment")
    arrow = FancyArrowPatch(
        points[-2],
        points[-1],
        arrowstyle="-|>",
        mutation_scale=10,
        color="#333333",
        lw=1,
        shrinkA=0,
        shrinkB=0,
    )
    arrow.set_gid(gid)
    ax.add_patch(arrow)


def edge_id(a: str, b: str) -> str:
    return f"edge-{a}-{b}".replace(":", "-")


def node_id(key: str) -> str:
    return f"node-{key}".replace(":", "-")


def flow_chart(flow: Flow, text: Callable[[Node], str], *, title: str) -> Figure:
    """The diagram as a matplotlib Figure."""
    boxes = layout(flow, text)
    height = max(b.bottom for b in boxes.values()) + 0.3
    with style():
        figure = new_figure(WIDTH, height + 0.5)
        figure.set_layout_engine("none")
        ax = figure.add_axes((0, 0, 1, height / (height + 0.5)))
        ax.set_xlim(0, WIDTH)
        ax.set_ylim(height, 0)
        ax.set_axis_off()
        figure.suptitle(title, y=1 - 0.12 / (height + 0.5), va="top", fontweight="bold")
        for key, box in boxes.items():
            node = flow.node(key)
            ax.add_patch(
                Rectangle(
                    (box.x, box.y),
                    box.w,
                    box.h,
                    facecolor="#f8f9fa" if not node.side else "#ffffff",
                    edgecolor="#333333",
                    linewidth=1,
                    gid=node_id(key),
                )
            )
            centred = not node.side and node.arm is None
            ax.text(
                box.cx if centred else box.x + PAD,
                box.y + PAD,
                box.text,
                ha="center" if centred else "left",
                va="top",
                fontsize=8.5,
                linespacing=1.25,
            )
        for a, b in flow.edges:
            start, end, child = boxes[a], boxes[b], flow.node(b)
            if child.side and child.arm is None:  # off the trunk, to the right
                _arrow(ax, [(start.cx, end.mid), (end.x, end.mid)], edge_id(a, b))
            else:
                turn = (start.bottom + end.y) / 2
                _arrow(
                    ax,
                    [(start.cx, start.bottom), (start.cx, turn), (end.cx, turn), (end.cx, end.y)],
                    edge_id(a, b),
                )
    return figure
