"""The dashboard's figures by name: ``FIGURES`` maps each name to a small function
``(results, dataset) -> Figure`` that picks its numbers and translated labels and hands them to
a drawing function of :mod:`analysis.dashboard.figures` (matplotlib).

A figure whose numbers are not in the results document (a section that could not be computed
carries only its note) is drawn as "Not available: <note>" instead of failing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pandas as pd
from django.utils.dates import MONTHS_3
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from matplotlib.figure import Figure

from analysis import plan
from analysis.dashboard import figures
from analysis.dashboard.consort import OUTCOME_MISSING, Node, consort_flow
from analysis.dashboard.flowchart import flow_chart
from analysis.dashboard.labels import (
    adjustment_label,
    arm_labels,
    axis_label,
    screening_reason_label,
    table_labels,
    variable_label,
    withdrawal_reason_label,
)
from analysis.stats.common import format_p
from analysis.stats.longitudinal import trajectory as visit_means

TARGET_PATIENTS = 62
FORMATS = {"svg": "image/svg+xml", "png": "image/png"}
OUTCOMES = [plan.PRIMARY, *plan.KEY_SECONDARY, "b12_pmol_l"]

FigureBuilder = Callable[[dict[str, Any], Any], Figure]
FIGURES: dict[str, FigureBuilder] = {}


class NotAvailable(Exception):  # noqa: N818 - reads as what it says
    """The figure's numbers are not in the results document; ``note`` says why."""

    def __init__(self, title: str, note: str | None):
        super().__init__(note)
        self.title, self.note = title, note


def figure(name: str) -> Callable[[FigureBuilder], FigureBuilder]:
    """Register the decorated function as the builder of figure ``name``."""

    def register(builder: FigureBuilder) -> FigureBuilder:
        FIGURES[name] = builder
        return builder

    return register


def build_figure(name: str, results: dict[str, Any], dataset: Any) -> Figure:
    """Figure ``name`` (KeyError for a name that is not a figure), or a figure that says why
    it is not available."""
    builder = FIGURES[name]
    try:
        return builder(results, dataset)
    except NotAvailable as missing:
        reason = _(missing.note) if missing.note else _("not in the results document")
        return figures.note(missing.title, _("Not available: %(note)s") % {"note": reason})


def render_figure(
    name: str, results: dict[str, Any], dataset: Any, fmt: str = "svg"
) -> str | bytes:
    """Figure ``name`` as SVG text or PNG bytes (the background task stores both for every
    results document and language: ``analysis.services.draw_figures``)."""
    if fmt not in FORMATS:
        raise KeyError(fmt)
    drawn = build_figure(name, results, dataset)
    return figures.to_svg(drawn) if fmt == "svg" else figures.to_png(drawn)


def _section(results: dict[str, Any], key: str, title: str) -> dict[str, Any]:
    """A section that was computed; NotAvailable (with its note) for one that failed."""
    section = results.get(key)
    if not isinstance(section, dict) or "error" in section:
        note = section.get("note") if isinstance(section, dict) else None
        raise NotAvailable(title, note)
    return section


def _note_of(section: dict[str, Any], *parts: Any) -> str | None:
    for part in (section, *parts):
        if isinstance(part, dict) and part.get("note"):
            return part["note"]
    return None


# --- over visits ---------------------------------------------------------------------------


@figure("trajectory")
def _trajectory(results: dict[str, Any], dataset: Any) -> Figure:
    title = _("%(outcome)s by visit (mean, 95 %% CI)") % {"outcome": variable_label(plan.PRIMARY)}
    section = _section(results, "mixed_model", title)
    rows = section.get("trajectory") or []
    if not any(r.get("mean") is not None for r in rows):
        raise NotAvailable(title, _note_of(section))
    return figures.trajectory(
        [(variable_label(plan.PRIMARY), axis_label(plan.PRIMARY), rows)],
        title=title,
        arm_labels=arm_labels(),
    )


@figure("outcomes")
def _outcomes(results: dict[str, Any], dataset: Any) -> Figure:
    # xgettext:no-python-format
    title = _("Outcomes by visit and arm (mean, 95 % CI)")
    long = dataset.long[dataset.long.arm.notna()]
    panels = [
        (variable_label(v), axis_label(v), visit_means(long, y=v)) for v in OUTCOMES if v in long
    ]
    if not panels:
        raise NotAvailable(title, None)
    return figures.trajectory(panels, title=title, arm_labels=arm_labels(), empty=_("no data"))


# --- B12 and spasm frequency ---------------------------------------------------------------


def b12_frequency_points(dataset: Any, visit: str) -> list[tuple[float, float, str]]:
    """(B12, VAS frequency, arm) of each randomised patient with both values at ``visit``."""
    x, y = f"b12_pmol_l__{visit}", f"vas_frequency__{visit}"
    wide = dataset.wide(["b12_pmol_l", "vas_frequency"])
    if x not in wide or y not in wide:
        return []
    rows = wide[wide.arm.notna()].dropna(subset=[x, y])
    return [(float(a), float(b), arm) for a, b, arm in zip(rows[x], rows[y], rows.arm, strict=True)]


def _scatter(visit: str) -> FigureBuilder:
    def build(results: dict[str, Any], dataset: Any) -> Figure:
        return figures.scatter(
            b12_frequency_points(dataset, visit),
            title=capfirst(
                _("%(x)s and %(y)s at %(visit)s, with the least-squares line per arm")
                % {
                    "x": variable_label("b12_pmol_l"),
                    "y": variable_label("vas_frequency"),
                    "visit": visit,
                }
            ),
            x_label=axis_label("b12_pmol_l"),
            y_label=axis_label("vas_frequency"),
            arm_labels=arm_labels(),
            fit_label=_("fitted line"),
            empty=_("no patient with both values"),
        )

    return build


FIGURES["scatter_v0"] = _scatter("V0")
FIGURES["scatter_v3"] = _scatter("V3")


@figure("heatmap")
def _heatmap(results: dict[str, Any], dataset: Any) -> Figure:
    title = _("Correlations of changes V0→V3 (* p < 0.05 after %(method)s adjustment)")
    matrix = _section(results, "correlation_matrix", title)
    variables = matrix.get("variables") or []
    title %= {"method": adjustment_label(matrix.get("adjustment", "fdr_bh"))}
    if not variables:
        raise NotAvailable(title, _note_of(matrix))
    index = {v: i for i, v in enumerate(variables)}
    size = len(variables)
    values: list[list[float | None]] = [[None] * size for _ in range(size)]
    stars = [[False] * size for _ in range(size)]
    for i in range(size):
        values[i][i] = 1.0
    for cell in matrix.get("cells", []):
        i, j = index[cell["x"]], index[cell["y"]]
        values[i][j] = values[j][i] = cell.get("r")
        stars[i][j] = stars[j][i] = (cell.get("p_adjusted") or 1) < 0.05
    return figures.heatmap(
        [variable_label(v) for v in variables],
        values,
        stars,
        title=title,
        colour_label=_("Pearson r"),
    )


# --- subgroups -----------------------------------------------------------------------------


@figure("forest")
def _forest(results: dict[str, Any], dataset: Any) -> Figure:
    title = _("Arm difference in %(outcome)s at %(visit)s by subgroup") % {
        "outcome": variable_label(plan.PRIMARY),
        "visit": plan.PRIMARY_VISIT,
    }
    sub = _section(results, "subgroups", title)
    t = table_labels()
    keys = ("overall", "deficient", "not_deficient")
    rows = [
        (t[k], *((sub.get(k) or {}).get(f) for f in ("estimate", "ci_low", "ci_high")))
        for k in keys
    ]
    if all(r[1] is None for r in rows):
        raise NotAvailable(title, _note_of(sub, *(sub.get(k) for k in keys)))
    interaction = (sub.get("interaction") or {}).get("p")
    if interaction is not None:
        title += "\n" + _("interaction p = %(p)s") % {"p": format_p(interaction)}
    return figures.forest(
        rows,
        title=title,
        # xgettext:no-python-format
        x_label=_("difference B12 − standard, mm (95 % CI)"),
        favours_left=_("favours B12"),
        favours_right=_("favours standard"),
        empty=_("not estimable"),
    )


# --- recruitment ---------------------------------------------------------------------------


@figure("consort")
def _consort(results: dict[str, Any], dataset: Any) -> Figure:
    title = _("CONSORT flow diagram")
    section = _section(results, "consort", title)
    try:
        flow = consort_flow(section)
    except (KeyError, TypeError) as missing:
        raise NotAvailable(title, _note_of(section)) from missing
    return flow_chart(flow, consort_text, title=title)


def consort_text(node: Node) -> str:
    """The translated text of a CONSORT box."""
    n = {"n": node.count}
    arms = arm_labels()
    if node.key == "allocated:" + str(node.arm):
        return "\n".join(
            [
                arms[node.arm],
                _("Allocated (n = %(n)s)") % n,
                "• "
                + _("received the allocated intervention (n = %(n)s)")
                % {"n": node.reasons["received"]},
                "• " + _("did not receive it (n = %(n)s)") % {"n": node.reasons["not_received"]},
            ]
        )
    if node.stage == "follow_up":
        lost = node.reasons.get("lost_to_follow_up", 0)
        other = {k: v for k, v in node.reasons.items() if k != "lost_to_follow_up"}
        lines = [
            _("Lost to follow-up (n = %(n)s)") % {"n": lost},
            _("Discontinued (n = %(n)s)") % {"n": sum(other.values())},
        ]
        return "\n".join(lines + _reasons(other, withdrawal_reason_label))
    if node.key.startswith("analysed:"):
        return "\n".join([_("Analysed (n = %(n)s)") % n, _("mITT: VAS frequency at V0 and V3")])
    if node.key.startswith("excluded:"):
        lines = [_("Excluded from analysis (n = %(n)s)") % n]
        return "\n".join(lines + _reasons(node.reasons, _exclusion_label))
    texts = {
        "screened": _("Assessed for eligibility (n = %(n)s)"),
        "not_eligible": _("Not eligible (n = %(n)s)"),
        "declined": _("Eligible, declined to take part (n = %(n)s)"),
        "not_enrolled": _("Eligible, not enrolled yet (n = %(n)s)"),
        "enrolled": _("Enrolled (n = %(n)s)"),
        "not_randomised": _("Enrolled, not randomised (n = %(n)s)"),
        "randomised": _("Randomised (n = %(n)s)"),
    }
    lines = [texts[node.key] % n]
    if node.key == "not_eligible" and node.reasons:
        lines += _reasons(node.reasons, screening_reason_label)
        if sum(node.reasons.values()) > node.count:
            lines.append(_("(a person may fail more than one criterion)"))
    return "\n".join(lines)


def _reasons(reasons: dict[str, int], label: Callable[[str], str]) -> list[str]:
    return [f"• {label(code)}: {count}" for code, count in reasons.items()]


def _exclusion_label(code: str) -> str:
    if code == OUTCOME_MISSING:
        return _("VAS frequency missing at V0 or V3, not withdrawn")
    return _("withdrawn: %(reason)s") % {"reason": withdrawal_reason_label(code)}


def randomisation_dates(patients: pd.DataFrame) -> list[date]:
    """The randomisation date of every randomised patient."""
    return [d.date() for d in pd.to_datetime(patients.randomised_on.dropna())]


@figure("enrolment")
def _enrolment(results: dict[str, Any], dataset: Any) -> Figure:
    return figures.cumulative(
        randomisation_dates(dataset.patients),
        target=TARGET_PATIENTS,
        title=_("Patients randomised over time (target %(n)s)") % {"n": TARGET_PATIENTS},
        y_label=_("patients randomised"),
        x_label=_("date of randomisation"),
        line_label=_("randomised so far"),
        target_label=_("target: %(n)s patients") % {"n": TARGET_PATIENTS},
        empty=_("no patient randomised yet"),
        date_text=_date_text,
    )


def _date_text(day: date) -> str:
    """'Jul 2026' on the first of a month, '15 Jul' otherwise, in the reader's language."""
    month = str(MONTHS_3[day.month]).capitalize()
    return f"{month} {day.year}" if day.day == 1 else f"{day.day} {month}"
