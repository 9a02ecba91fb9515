"""Frame building: the dataset's DataFrames from the rows its queries read (``analysis.dataset``
reads them), one chunk of patients or the whole trial at once."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd
from django.utils import timezone

from analysis import plan
from analysis.digest import csv_sha256
from analysis.variables import (
    ANALYSIS_LEVEL,
    CODED_VARIABLES,
    FORM_STATE_COLUMNS,
    PATIENT_FIELDS,
    RECORD_FIELDS,
    VISIT_LEVEL,
    VISIT_VARIABLES,
    form_state_columns,
)
from assessments.models import FormStatus
from assessments.schedule import VISIT_CODES
from monitoring.models import FormVerification
from randomisation import allocation

# Per visit and form: its status, its source data verification and its lock (issue 11.9).
VERIFIED, NOT_VERIFIED, CHANGED = "yes", "no", "changed"


@dataclass
class Dataset:
    patients: pd.DataFrame
    long: pd.DataFrame
    screening: pd.DataFrame
    adverse_events: pd.DataFrame
    records: dict[str, pd.DataFrame] = field(default_factory=dict)
    data_cut: datetime = field(default_factory=timezone.now)
    # draft forms left out of ``long`` by rule (SAP §4), per form code
    drafts_excluded: dict[str, int] = field(default_factory=dict)
    # missing-data codes of the analysed forms: study_id, visit, variable, code (one row each)
    missing_codes: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["study_id", "visit", "variable", "code"])
    )

    def analysis_variables(self) -> list[str]:
        """The visit variables the analysis uses (the columns ``wide()`` spreads by visit)."""
        return [v for v in ANALYSIS_LEVEL if v in self.long]

    def wide(self, variables: list[str] | None = None) -> pd.DataFrame:
        """One row per patient; visit variables as ``<variable>__<visit>``."""
        variables = [v for v in (variables or self.analysis_variables()) if v in self.long]
        # one row per patient and visit, so a plain pivot (no aggregation) is exact
        pivot = self.long.pivot(index="study_id", columns="visit", values=variables)  # noqa: PD010
        pivot.columns = [f"{var}__{visit}" for var, visit in pivot.columns]
        return self.patients.set_index("study_id").join(pivot).reset_index()

    def sha256(self) -> str:
        # the data, not the monitoring state beside it (verification, locks); streamed
        return csv_sha256([(self.patients, []), (self.long, FORM_STATE_COLUMNS)])


VISIT_SOURCE = {
    "id": "visit_pk",
    "patient_id": "patient_pk",
    "code": "visit",
    "visit_date": "visit_date",
    "status": "visit_status",
    "missed_reason": "visit_missed_reason",
    "out_of_window": "visit_out_of_window",
}
EVENT_SOURCE = {
    "patient__study_id": "study_id",
    "term": "term",
    "severity": "severity",
    "serious": "serious",
    "relation": "relation",
    "onset_on": "onset_on",
}
SCREENING_SOURCE = {
    "outcome": "outcome",
    "failure_reasons": "failure_reasons",
    "site__code": "site",
    "screened_on": "screened_on",
}


def assemble(
    rows: dict[str, list[tuple]], *, records: bool, include_drafts: bool, data_cut: datetime
) -> Dataset:
    """The dataset of the rows read by the queries of ``_sources`` (and the screening rows)."""
    patients = rows_frame(rows["patients"], PATIENT_FIELDS)
    visits = rows_frame(rows["visits"], VISIT_SOURCE)
    verified = _verification(rows["verified"])
    locks = set(rows["locks"])
    drafts_excluded: dict[str, int] = {}
    codes: list[pd.DataFrame] = []
    for model, mapping in VISIT_VARIABLES.items():
        values = rows_frame(rows[model.FORM_CODE], form_source(model, mapping))
        visits = visits.merge(
            _form_states(model, values, visits, verified, locks), on="visit_pk", how="left"
        )
        drafts = values.form_status == FormStatus.DRAFT
        drafts_excluded[model.FORM_CODE] = int(drafts.sum())
        if not include_drafts:
            values = values[values.form_status.isin(plan.ANALYSABLE_FORM_STATUSES)]
        codes.append(_codes(values, CODED_VARIABLES[model]))
        visits = visits.merge(
            values.drop(columns=["form_status", "codes"]), on="visit_pk", how="left"
        )
    exposures = rows_frame(
        rows["exposures"],
        {"patient_id": "patient_pk", "records": "exposure_records", "b12_doses": "b12_doses"},
    )
    patients = _patient_flags(patients, visits, exposures)
    long = _long(patients, visits)
    screening = rows_frame(rows["screening"], SCREENING_SOURCE)
    events = rows_frame(rows["events"], EVENT_SOURCE)
    record_frames = {}
    if records:
        for name, (_model, fields) in RECORD_FIELDS.items():
            record_frames[name] = rows_frame(
                rows[name], {"patient__study_id": "study_id", **{f: f for f in fields}}
            )
    code_rows = pd.concat(codes, ignore_index=True).merge(
        visits[["visit_pk", "patient_pk", "visit"]], on="visit_pk"
    )
    code_rows["study_id"] = code_rows.patient_pk.map(patients.set_index("patient_pk").study_id)
    return Dataset(
        missing_codes=code_rows[["study_id", "visit", "variable", "code"]]
        .sort_values(["study_id", "visit", "variable"])
        .reset_index(drop=True),
        patients=patients.drop(columns=["patient_pk"]),
        long=long,
        screening=screening,
        adverse_events=events,
        records=record_frames,
        data_cut=data_cut,
        drafts_excluded={} if include_drafts else drafts_excluded,
    )


# read as text (parsed only when not empty) and as floats (no Decimal per value)
CODES_TEXT = "missing_codes_text"


def form_source(model: type, mapping: dict[str, str]) -> dict[str, str]:
    """A form's columns: {what is read: dataset column}."""
    read = {
        (
            f"{name}_float"
            if model._meta.get_field(name).get_internal_type() == "DecimalField"
            else name
        ): variable
        for name, variable in mapping.items()
    }
    return {"visit_id": "visit_pk", "status": "form_status", CODES_TEXT: "codes", **read}


def _verification(rows: list[tuple]) -> dict[tuple[int, str], str]:
    """(visit pk, form code) -> "yes" or "changed"."""
    return {
        (visit_id, form_code): VERIFIED if status == FormVerification.Status.VERIFIED else CHANGED
        for visit_id, form_code, status in rows
    }


def _form_states(
    model: type,
    values: pd.DataFrame,
    visits: pd.DataFrame,
    verified: dict[tuple[int, str], str],
    locks: set[tuple[int, int | None, str]],
) -> pd.DataFrame:
    """Per visit with this form: its status, verification and lock (form, visit or patient)."""
    status, verification, locked = form_state_columns(model)
    code = model.FORM_CODE
    forms = values[["visit_pk", "form_status"]].merge(
        visits[["visit_pk", "patient_pk"]], on="visit_pk"
    )
    return pd.DataFrame(
        {
            "visit_pk": forms.visit_pk,
            status: forms.form_status,
            verification: [verified.get((v, code), NOT_VERIFIED) for v in forms.visit_pk.tolist()],
            locked: [
                (p, v, code) in locks or (p, v, "") in locks or (p, None, "") in locks
                for p, v in zip(forms.patient_pk.tolist(), forms.visit_pk.tolist(), strict=True)
            ],
        },
        columns=["visit_pk", status, verification, locked],
    )


def _codes(values: pd.DataFrame, variables: dict[str, str]) -> pd.DataFrame:
    """One row per coded field: visit pk, analysis variable, code."""
    rows = [
        (visit_pk, variables[name], code)
        for visit_pk, codes in zip(values.visit_pk, values.codes, strict=True)
        if codes and codes != "{}"
        for name, code in json.loads(codes).items()
        if name in variables
    ]
    return pd.DataFrame(rows, columns=["visit_pk", "variable", "code"])


def rows_frame(rows: list[tuple], columns: dict[str, str]) -> pd.DataFrame:
    """A DataFrame of rows read as tuples (no dict per row) in the order of ``columns``."""
    frame = pd.DataFrame.from_records(rows, columns=list(columns.values()))
    for name in frame.columns:
        if frame[name].dtype == object and len(frame) and _is_decimal(frame[name]):
            frame[name] = pd.to_numeric(frame[name], errors="coerce").astype(float)
    return frame


def _is_decimal(series: pd.Series) -> bool:
    from decimal import Decimal

    first = series.dropna()
    return len(first) > 0 and isinstance(first.iloc[0], Decimal)


def _patient_flags(
    patients: pd.DataFrame, visits: pd.DataFrame, exposures: pd.DataFrame
) -> pd.DataFrame:
    def at(visit: str, variable: str) -> pd.Series:
        rows = visits[visits.visit == visit].set_index("patient_pk")[variable]
        return patients.patient_pk.map(rows)

    patients = patients.merge(exposures, on="patient_pk", how="left")
    patients[["exposure_records", "b12_doses"]] = (
        patients[["exposure_records", "b12_doses"]].fillna(0).astype(int)
    )
    randomised = patients.arm.notna()
    b12_v0 = at(plan.BASELINE_VISIT, "b12_pmol_l")
    both = (
        at(plan.BASELINE_VISIT, plan.PRIMARY).notna() & at(plan.PRIMARY_VISIT, plan.PRIMARY).notna()
    )
    enough_doses = (patients.arm != "b12") | (
        patients.b12_doses >= plan.PER_PROTOCOL_DOSE_FRACTION * plan.PLANNED_B12_DOSES
    )
    patients = patients.assign(
        stratum=np.where(
            randomised,
            patients.site
            + "/"
            + np.where(
                patients.stratum_b12_deficient.eq(True),
                allocation.DEFICIENT,
                allocation.NOT_DEFICIENT,
            ),
            None,
        ),
        b12_deficient_baseline=np.where(
            b12_v0.notna(), (b12_v0 < plan.B12_DEFICIENT_BELOW_PMOL_L).astype(float), np.nan
        ),
        itt=randomised.astype(int),
        mitt=(randomised & both).astype(int),
        pp=(randomised & both & enough_doses).astype(int),
        withdrawn=patients.withdrawn_on.notna().astype(int),
        received_allocation=(randomised & (patients.exposure_records > 0)).astype(int),
        male=np.where(patients.sex.notna(), (patients.sex == "male").astype(float), np.nan),
    )
    return patients.drop(columns=["stratum_b12_deficient"])


def _long(patients: pd.DataFrame, visits: pd.DataFrame) -> pd.DataFrame:
    """Every enrolled patient × scheduled visit (a visit not yet held is a row of blanks)."""
    grid = patients[["patient_pk"]].merge(pd.DataFrame({"visit": list(VISIT_CODES)}), how="cross")
    long = grid.merge(visits, on=["patient_pk", "visit"], how="left")
    patient_columns = [c for c in patients.columns if c != "patient_pk"]
    long = long.merge(patients[["patient_pk", *patient_columns]], on="patient_pk")
    day = pd.to_datetime(long.visit_date) - pd.to_datetime(long.randomised_on)
    long = long.copy()  # one block per dtype again after the many merges
    long["visit_day"] = day.dt.days
    ordered = [
        "study_id",
        "site",
        "arm",
        "visit",
        "visit_date",
        "visit_day",
        "visit_status",
        "visit_missed_reason",
        "visit_out_of_window",
        *VISIT_LEVEL,
        *FORM_STATE_COLUMNS,
    ]
    rest = [c for c in long.columns if c not in ordered and c not in {"patient_pk", "visit_pk"}]
    return long[ordered + rest].sort_values(["study_id", "visit"]).reset_index(drop=True)
