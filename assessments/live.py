"""Scores, bands and unit conversions while the user types (htmx posts the form here).

The numbers come from the same pure modules that compute the stored scores on save
(``assessments.instruments``); nothing is saved here. Unparseable or out-of-range input is
simply left out: the form's own validation speaks on save.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from assessments import bands
from assessments.instruments import hads, hdrs, labs, rand36, spasm
from hfs_ecrf.access import requires


def _int(data: Any, name: str, low: int, high: int) -> int | None:
    try:
        value = int(str(data.get(name, "")).strip())
    except ValueError:
        return None
    return value if low <= value <= high else None


def _decimal(data: Any, name: str) -> Decimal | None:
    raw = str(data.get(name, "")).strip().replace(",", ".").replace(" ", "")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def spasm_scores(data: Any) -> dict[str, Any]:
    minutes = _decimal(data, "observation_minutes")
    count = _int(data, "spasm_count", 0, 10**6)
    return {
        "jankovic_total": spasm.jankovic_total(
            _int(data, "jankovic_severity", 0, 4), _int(data, "jankovic_frequency", 0, 4)
        ),
        "spasm_rate_per_min": spasm.spasm_rate(count, minutes if minutes and minutes > 0 else None),
    }


def rand36_scores(data: Any) -> dict[str, Any]:
    answers = {i: _int(data, f"q{i:02d}", 1, rand36.OPTIONS[i]) for i in range(1, 37)}
    pcs, mcs = rand36.composites(answers)
    return {**rand36.rand_scales(answers), "pcs": pcs, "mcs": mcs}


def hads_scores(data: Any) -> dict[str, Any]:
    anxiety, depression = hads.scores({i: _int(data, f"q{i:02d}", 0, 3) for i in range(1, 15)})
    return {
        "anxiety": anxiety,
        "anxiety_band": bands.band_label("hads", hads.band(anxiety)),
        "depression": depression,
        "depression_band": bands.band_label("hads", hads.band(depression)),
    }


def hdrs_scores(data: Any) -> dict[str, Any]:
    answers = {i: _int(data, f"q{i:02d}", 0, m) for i, m in hdrs.MAXIMA.items()}
    not_assessed = str(data.get("q16_not_assessed", "")).lower() in {"on", "true", "1"}
    if not_assessed:
        answers[16] = None
    total = hdrs.total(answers, item16_not_assessed=not_assessed)
    return {"total": total, "band": bands.band_label("hdrs", hdrs.band(total))}


def lab_conversions(data: Any) -> dict[str, Any]:
    rows = []
    for code, analyte in labs.ANALYTES.items():
        value = _decimal(data, f"{code}_value")
        unit = str(data.get(f"{code}_unit", analyte.canonical_unit))
        if value is None or unit not in analyte.units:
            continue
        canonical = labs.to_canonical(analyte, value, unit)
        if labs.hard_limit_error(analyte, canonical):
            continue
        rows.append(
            {
                "code": code,
                "value": value,
                "unit": unit,
                "canonical": canonical,
                "canonical_unit": analyte.canonical_unit,
                "status": bands.band_label("b12", labs.b12_status(canonical))
                if code == "b12"
                else "",
            }
        )
    return {"rows": rows}


SCORERS = {
    "spasm": spasm_scores,
    "rand36": rand36_scores,
    "hads": hads_scores,
    "hdrs": hdrs_scores,
    "labs": lab_conversions,
}


@require_POST
@requires("view_study_data")
def live_scores(request: HttpRequest, form_code: str) -> HttpResponse:
    scorer = SCORERS.get(form_code)
    if scorer is None:
        raise Http404
    return render(
        request,
        "assessments/live_scores.html",
        {"form_code": form_code, "s": scorer(request.POST)},
    )
