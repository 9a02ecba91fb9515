"""The dashboard's figures by name: ``FIGURES`` maps each name to a small function
``(results, dataset) -> SVG`` that picks its numbers and translated labels and hands them to
a drawing function of :mod:`analysis.dashboard.figures`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _

from analysis.dashboard import figures
from analysis.dashboard.labels import arm_labels, table_labels
from analysis.stats.common import ARMS

TARGET_PATIENTS = 62

FigureBuilder = Callable[[dict[str, Any], Any], str]
FIGURES: dict[str, FigureBuilder] = {}


def figure(name: str) -> Callable[[FigureBuilder], FigureBuilder]:
    """Register the decorated function as the builder of figure ``name``."""

    def register(builder: FigureBuilder) -> FigureBuilder:
        FIGURES[name] = builder
        return builder

    return register


def render_figure(name: str, results: dict[str, Any], dataset: Any) -> str:
    """The SVG of figure ``name``; KeyError for a name that is not a figure."""
    return FIGURES[name](results, dataset)


@figure("trajectory")
def _trajectory(results: dict[str, Any], dataset: Any) -> str:
    return figures.trajectory(
        results["mixed_model"]["trajectory"],
        # xgettext:no-python-format
        title=_("VAS spasm frequency by visit (mean, 95 % CI)"),
        y_label="mm",
        arm_labels=arm_labels(),
    )


def _scatter(visit: str) -> FigureBuilder:
    def build(results: dict[str, Any], dataset: Any) -> str:
        x, y = f"b12_pmol_l__{visit}", f"vas_frequency__{visit}"
        wide = dataset.wide(["b12_pmol_l", "vas_frequency"])
        rows = wide[wide.arm.notna()].dropna(subset=[x, y])
        points = [(float(r[x]), float(r[y]), r.arm) for _, r in rows.iterrows()]
        return figures.scatter(
            points,
            title=_("Serum B12 and spasm frequency at %(visit)s") % {"visit": visit},
            x_label="B12, pmol/L",
            y_label=_("VAS frequency, mm"),
            arm_labels=arm_labels(),
        )

    return build


FIGURES["scatter_v0"] = _scatter("V0")
FIGURES["scatter_v3"] = _scatter("V3")


@figure("heatmap")
def _heatmap(results: dict[str, Any], dataset: Any) -> str:
    matrix = results["correlation_matrix"]
    return figures.heatmap(
        matrix["variables"],
        matrix["cells"],
        title=_("Correlations of changes V0→V3 (* BH-adjusted p < 0.05)"),
    )


@figure("forest")
def _forest(results: dict[str, Any], dataset: Any) -> str:
    sub = results["subgroups"]
    t = table_labels()
    rows = [
        (t[k], sub[k]["estimate"], sub[k]["ci_low"], sub[k]["ci_high"])
        for k in ("overall", "deficient", "not_deficient")
    ]
    return figures.forest(
        rows,
        title=_("Arm difference in VAS frequency at V3 by subgroup"),
        # xgettext:no-python-format
        x_label=_("b12 − standard, mm (95 % CI)"),
    )


@figure("consort")
def _consort(results: dict[str, Any], dataset: Any) -> str:
    c = results["consort"]
    arms = arm_labels()
    arms_row = [
        _(
            "%(arm)s\nallocated %(a)s, received %(r)s\nlost %(l)s, discontinued %(d)s\n"
            "analysed %(n)s"
        )
        % {
            "arm": arms[arm],
            "a": c["arms"][arm]["allocated"],
            "r": c["arms"][arm]["received_allocation"],
            "l": c["arms"][arm]["lost_to_follow_up"],
            "d": sum(c["arms"][arm]["discontinued"].values()),
            "n": c["arms"][arm]["analysed"],
        }
        for arm in ARMS
    ]
    boxes = [
        [_("Screened: %(n)s") % {"n": c["screened"]}],
        [
            _("Not eligible: %(n)s") % {"n": c["not_eligible"]},
            _("Declined: %(n)s") % {"n": c["declined"]},
            _("Enrolled: %(n)s") % {"n": c["enrolled"]},
        ],
        [_("Randomised: %(n)s") % {"n": c["randomised"]}],
        arms_row,
    ]
    return figures.flow_diagram(boxes, title=_("CONSORT flow"))


@figure("enrolment")
def _enrolment(results: dict[str, Any], dataset: Any) -> str:
    dates = [str(d) for d in dataset.patients.randomised_on.dropna()]
    return figures.cumulative(
        dates,
        target=TARGET_PATIENTS,
        title=_("Patients randomised over time (target %(n)s)") % {"n": TARGET_PATIENTS},
        y_label=_("patients"),
    )
