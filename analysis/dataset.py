"""The one path from stored visits to pandas: tidy DataFrames with the SAP's variable names.

A fixed number of queries whatever the number of patients; identity data never enters.
Every consumer (results, dashboards, exports, data dictionary) reads from here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from django.db.models import Count, FloatField, Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from analysis import plan
from analysis.digest import csv_sha256
from analysis.pieces import Stack, shared_objects
from analysis.variables import (  # re-exported: the dataset's names are read from here
    ANALYSIS_LEVEL,
    CODE_SUFFIX,
    CODED_VARIABLES,
    FORM_STATE_COLUMNS,
    PATIENT_FIELDS,
    RAW_ONLY,
    RECORD_FIELDS,
    VISIT_LEVEL,
    VISIT_VARIABLES,
    code_column,
    form_state_columns,
)
from assessments.models import AdverseEvent, FormStatus, TreatmentExposure, Visit
from assessments.schedule import VISIT_CODES
from monitoring.models import FormVerification, RecordLock
from patients.models import Patient, Screening
from randomisation import allocation

__all__ = [
    "ANALYSIS_LEVEL",
    "CODE_SUFFIX",
    "CODED_VARIABLES",
    "FORM_STATE_COLUMNS",
    "PATIENT_FIELDS",
    "RAW_ONLY",
    "RECORD_FIELDS",
    "VISIT_LEVEL",
    "VISIT_VARIABLES",
    "Dataset",
    "build_dataset",
    "chunk_rows",
    "code_column",
    "coded_variables",
    "dataset_chunks",
    "draft_counts",
    "form_state_columns",
]
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


@dataclass(frozen=True)
class Source:
    """One query of the dataset: its rows, their columns ({ORM path: name}) and the path to the
    patient's study ID (the order in which a chunked read takes them)."""

    rows: Any
    columns: dict[str, str]
    key: str


def _sources(patients_qs: Any, patient_filter: dict[str, Any], records: bool) -> dict[str, Source]:
    """Every per-patient query of the dataset (screening is not per patient)."""
    visit_filter = {f"visit__{k}": v for k, v in patient_filter.items()}
    sources = {
        "patients": Source(patients_qs, PATIENT_FIELDS, "study_id"),
        "visits": Source(Visit.objects.filter(**patient_filter), VISIT_SOURCE, "patient__study_id"),
        "verified": Source(
            FormVerification.objects.filter(**visit_filter),
            {"visit_id": "visit_pk", "form_code": "form_code", "status": "status"},
            "visit__patient__study_id",
        ),
        "locks": Source(
            RecordLock.objects.filter(unlocked_at__isnull=True, **patient_filter),
            {"patient_id": "patient_pk", "visit_id": "visit_pk", "form_code": "form_code"},
            "patient__study_id",
        ),
        "exposures": Source(
            TreatmentExposure.objects.filter(**patient_filter)
            .values("patient_id", "patient__study_id")
            .annotate(records=Count("id"), b12_doses=Count("id", filter=Q(is_study_b12=True))),
            {"patient_id": "patient_pk", "records": "exposure_records", "b12_doses": "b12_doses"},
            "patient__study_id",
        ),
        "events": Source(
            AdverseEvent.objects.filter(**patient_filter), EVENT_SOURCE, "patient__study_id"
        ),
    }
    for model, mapping in VISIT_VARIABLES.items():
        sources[model.FORM_CODE] = Source(
            model.objects.filter(**visit_filter).annotate(**_as_read(model, mapping)),
            _form_source(model, mapping),
            "visit__patient__study_id",
        )
    if records:
        for name, (model, fields) in RECORD_FIELDS.items():
            sources[name] = Source(
                model.objects.filter(**patient_filter),
                {"patient__study_id": "study_id", **{f: f for f in fields}},
                "patient__study_id",
            )
    return sources


CHUNK_PATIENTS = 2_500  # patients per chunk of the whole trial's dataset


def build_dataset(
    *,
    site_codes: list[str] | None = None,
    patient_pks: list[int] | None = None,
    records: bool = False,
    include_drafts: bool = False,
    chunk: int | None = CHUNK_PATIENTS,
) -> Dataset:
    """Read everything the analysis needs; ``site_codes`` or ``patient_pks`` restrict it;
    ``records`` adds the per-patient records.

    The whole trial's dataset (no restriction, no records, no drafts) is read and assembled
    ``chunk`` patients at a time and the chunks' frames combined (``analysis.pieces``): the
    same dataset (columns, types, values, order) as read in one go (``chunk=None``), without
    ever holding every row read as Python objects beside the frames built from them.

    Only forms whose status is in ``plan.ANALYSABLE_FORM_STATUSES`` (complete, or later
    verified/locked) contribute values: a draft's values are left out as if not entered, and
    the drafts left out are counted per form in ``drafts_excluded``. ``include_drafts`` keeps
    drafts' values (for data-management views of everything entered, never for the analysis).
    """
    data_cut = timezone.now()
    whole = site_codes is None and patient_pks is None and not records and not include_drafts
    if whole and chunk:
        built = _whole_in_chunks(chunk, data_cut)
        if built is not None:
            return built
    patients_qs = Patient.objects.all()
    if site_codes is not None:
        patients_qs = patients_qs.filter(site__code__in=site_codes)
    if patient_pks is not None:
        patients_qs = patients_qs.filter(pk__in=patient_pks)
    restricted = site_codes is not None or patient_pks is not None
    if patient_pks is not None and site_codes is None:
        # the patients' own rows by index, not a scan of every visit
        patient_filter: dict[str, Any] = {"patient__in": list(patient_pks)}
    else:
        patient_filter = {"patient__in": patients_qs} if restricted else {}
    rows = {}
    for name, source in _sources(patients_qs, patient_filter, records).items():
        rows[name] = list(_ordered(name, source).values_list(*source.columns))
    screening = _screening_rows(site_codes, patients_qs if patient_pks is not None else None)
    rows["screening"] = list(screening.values_list(*SCREENING_SOURCE))
    return _assemble(rows, records=records, include_drafts=include_drafts, data_cut=data_cut)


def _whole_in_chunks(chunk: int, data_cut: datetime) -> Dataset | None:
    """The whole trial's dataset assembled ``chunk`` patients at a time (None: no patients).
    Screening and adverse events (not needed to assemble the rest) are read whole."""
    count = Patient.objects.count()  # room for every row (more would still fit: the stacks grow)
    stacks = {"patients": Stack(count), "long": Stack(count * len(VISIT_CODES)), "codes": Stack()}
    drafts: dict[str, int] = {}
    names = set(_sources(Patient.objects.all(), {}, False)) - {"events"}
    for rows in chunk_rows(Patient.objects.all(), restricted=False, chunk=chunk, sources=names):
        part = _assemble(
            {**rows, "events": []}, records=False, include_drafts=False, data_cut=data_cut
        )
        del rows
        stacks["patients"].add(part.patients)
        stacks["long"].add(part.long)
        stacks["codes"].add(part.missing_codes)
        for code, forms in part.drafts_excluded.items():
            drafts[code] = drafts.get(code, 0) + forms
        del part
    if not stacks["patients"].length:
        return None
    frames = {name: stack.frame() for name, stack in stacks.items()}
    del stacks
    long = frames["long"]
    if not long.study_id.is_monotonic_increasing:  # the database sorts IDs as pandas does not
        long = long.sort_values(["study_id", "visit"]).reset_index(drop=True)
    events = _frame(
        list(_sources(Patient.objects.all(), {}, False)["events"].rows.values_list(*EVENT_SOURCE)),
        EVENT_SOURCE,
    )
    screening = _frame(
        list(_screening_rows(None, None).values_list(*SCREENING_SOURCE)), SCREENING_SOURCE
    )
    return Dataset(
        missing_codes=frames["codes"]
        .sort_values(["study_id", "visit", "variable"])
        .reset_index(drop=True),
        patients=frames["patients"],
        long=long,
        screening=_shared(screening),
        adverse_events=_shared(events),
        data_cut=data_cut,
        drafts_excluded=drafts,
    )


def _shared(frame: pd.DataFrame) -> pd.DataFrame:
    for name in frame.columns:
        frame[name] = shared_objects(frame[name])
    return frame


ORDERED = {"patients", *RECORD_FIELDS}  # sources whose order the dataset keeps


def _ordered(name: str, source: Source) -> Any:
    """Patients by study ID, records by study ID and entry; the others as they come."""
    if name == "patients":
        return source.rows.order_by(source.key)
    if name in RECORD_FIELDS:
        return source.rows.order_by(source.key, "pk")
    return source.rows


def dataset_chunks(
    patients_qs: Any, *, restricted: bool, chunk: int, records: bool = False
) -> Iterator[Dataset]:
    """The datasets of consecutive chunks of ``chunk`` patients in study ID order, for the
    exports: each table is read once (one query each, streamed in study ID order by a
    server-side cursor on PostgreSQL), so the cost is linear in the number of patients and the
    number of queries does not depend on it. A chunk's dataset has no screening rows."""
    data_cut = timezone.now()
    for rows in chunk_rows(patients_qs, restricted=restricted, chunk=chunk, records=records):
        yield _assemble(rows, records=records, include_drafts=False, data_cut=data_cut)


def chunk_rows(
    patients_qs: Any,
    *,
    restricted: bool,
    chunk: int,
    records: bool = False,
    sources: set[str] | None = None,
) -> Iterator[dict[str, list[tuple]]]:
    """The rows (tuples, columns as in ``_sources``) of consecutive chunks of ``chunk``
    patients in study ID order, one query per table; ``sources`` (names of ``_sources``, the
    patients always) reads only those tables. ``dataset_chunks`` assembles them."""
    patient_filter = {"patient__in": patients_qs.order_by().values("pk")} if restricted else {}
    streams = {}
    for name, source in _sources(patients_qs.order_by(), patient_filter, records).items():
        if sources is not None and name != "patients" and name not in sources:
            continue
        columns = list(source.columns)
        fetched = [*columns] if source.key in columns else [source.key, *columns]
        ordered = _ordered(name, source) if name in ORDERED else source.rows.order_by(source.key)
        rows = ordered.values_list(*fetched).iterator(chunk_size=chunk)
        streams[name] = (_Peekable(rows), fetched.index(source.key), source.key not in columns)
    patients, key_at, _ = streams.pop("patients")
    while True:
        part = patients.take(chunk)
        if not part:
            return
        keys = {row[key_at] for row in part}
        rows = {"patients": part, "screening": []}
        for name, (stream, at, drop_key) in streams.items():
            taken = stream.take_while(at, keys)
            rows[name] = [row[1:] for row in taken] if drop_key else taken
        yield rows


class _Peekable:
    """Rows of an iterator taken by count, or while their key is one of a set."""

    def __init__(self, rows: Iterator[tuple]) -> None:
        self._rows = rows
        self._next: tuple | None = next(rows, None)

    def take(self, count: int) -> list[tuple]:
        out = []
        while self._next is not None and len(out) < count:
            out.append(self._next)
            self._next = next(self._rows, None)
        return out

    def take_while(self, at: int, keys: set) -> list[tuple]:
        """The next rows whose ``at``-th value is in ``keys``."""
        out = []
        while self._next is not None and self._next[at] in keys:
            out.append(self._next)
            self._next = next(self._rows, None)
        return out


def _assemble(
    rows: dict[str, list[tuple]], *, records: bool, include_drafts: bool, data_cut: datetime
) -> Dataset:
    """The dataset of the rows read by the queries of ``_sources`` (and the screening rows)."""
    patients = _frame(rows["patients"], PATIENT_FIELDS)
    visits = _frame(rows["visits"], VISIT_SOURCE)
    verified = _verification(rows["verified"])
    locks = set(rows["locks"])
    drafts_excluded: dict[str, int] = {}
    codes: list[pd.DataFrame] = []
    for model, mapping in VISIT_VARIABLES.items():
        values = _frame(rows[model.FORM_CODE], _form_source(model, mapping))
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
    exposures = _frame(
        rows["exposures"],
        {"patient_id": "patient_pk", "records": "exposure_records", "b12_doses": "b12_doses"},
    )
    patients = _patient_flags(patients, visits, exposures)
    long = _long(patients, visits)
    screening = _frame(rows["screening"], SCREENING_SOURCE)
    events = _frame(rows["events"], EVENT_SOURCE)
    record_frames = {}
    if records:
        for name, (_model, fields) in RECORD_FIELDS.items():
            record_frames[name] = _frame(
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


def _as_read(model: type, mapping: dict[str, str]) -> dict[str, Any]:
    """Annotations reading a form's codes as JSON text and its decimals as floats."""
    floats = {
        f"{name}_float": Cast(name, FloatField())
        for name in mapping
        if model._meta.get_field(name).get_internal_type() == "DecimalField"
    }
    return {CODES_TEXT: Cast("missing_codes", TextField()), **floats}


def _form_source(model: type, mapping: dict[str, str]) -> dict[str, str]:
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


def _screening_rows(site_codes: list[str] | None, patients_qs: Any) -> Any:
    """Every screening (the CONSORT flow), or those of the chosen sites, or only the chosen
    patients' own screenings (an export chunk reads no one else's)."""
    rows = Screening.objects.all()
    if site_codes is not None:
        rows = rows.filter(site__code__in=site_codes)
    if patients_qs is not None:
        rows = rows.filter(pk__in=patients_qs.values("screening_id"))
    return rows


def coded_variables(patients: Any = None) -> set[str]:
    """The variables that carry a missing-data code on some analysed form of ``patients`` (a
    queryset; None: everyone). One query per form: the export's ``<variable>_code`` columns are
    fixed before it is written chunk by chunk."""
    found: set[str] = set()
    for model, variables in CODED_VARIABLES.items():
        forms = model.objects.filter(status__in=plan.ANALYSABLE_FORM_STATUSES).exclude(
            missing_codes={}
        )
        if patients is not None:
            forms = forms.filter(visit__patient__in=patients.values("pk"))
        for codes in forms.values_list("missing_codes", flat=True):
            found.update(variables[name] for name in codes or {} if name in variables)
    return found


def draft_counts(patients: Any = None) -> dict[str, int]:
    """Draft forms per form code (left out of the analysis files), one query per form."""
    counts = {}
    for model in VISIT_VARIABLES:
        forms = model.objects.filter(status=FormStatus.DRAFT)
        if patients is not None:
            forms = forms.filter(visit__patient__in=patients.values("pk"))
        counts[model.FORM_CODE] = forms.count()
    return counts


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


def _frame(rows: list[tuple], columns: dict[str, str]) -> pd.DataFrame:
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
