"""Words for the bands the scoring modules return as codes (never shown as codes)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

HADS_BANDS = {
    "normal": _("normal (0–7)"),
    "borderline": _("borderline (8–10)"),
    "abnormal": _("abnormal (11–21)"),
}
HDRS_BANDS = {
    "none": _("no depression (0–7)"),
    "mild": _("mild (8–13)"),
    "moderate": _("moderate (14–18)"),
    "severe": _("severe (19–22)"),
    "very_severe": _("very severe (23 and above)"),
}
B12_STATUS = {
    "deficient": _("deficient (below 148 pmol/L)"),
    "borderline": _("borderline (148–221 pmol/L)"),
    "normal": _("normal (above 221 pmol/L)"),
}
ALL = {"hads": HADS_BANDS, "hdrs": HDRS_BANDS, "b12": B12_STATUS}


def band_label(kind: str, code: str | None) -> str:
    if code is None:
        return "—"
    return str(ALL[kind].get(code, code))


UNIT_LABELS = {
    "pmol/L": _("pmol/L"),
    "nmol/L": _("nmol/L"),
    "pg/mL": _("pg/mL"),
    "µg/dL": _("µg/dL"),
}


def unit_label(unit: str) -> str:
    return str(UNIT_LABELS.get(unit, unit))
