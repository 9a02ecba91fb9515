"""The one path from stored visits to pandas: tidy DataFrames with the SAP's variable names.

A fixed number of queries whatever the number of patients; identity data never enters.
Every consumer (results, dashboards, exports, data dictionary) reads from here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from django.db.models import Count, FloatField, Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from analysis import plan
from analysis.frames import (  # re-exported: the exports read rows as the dataset does
    CHANGED,
    CODES_TEXT,
    EVENT_SOURCE,
    NOT_VERIFIED,
    SCREENING_SOURCE,
    VERIFIED,
    VISIT_SOURCE,
    Dataset,
    assemble,
    form_source,
    rows_frame,
)
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
    "CHANGED",
    "NOT_VERIFIED",
    "VERIFIED",
    "VISIT_SOURCE",
    "Dataset",
    "build_dataset",
    "chunk_rows",
    "code_column",
    "coded_variables",
    "dataset_chunks",
    "draft_counts",
    "form_source",
    "form_state_columns",
]


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
            form_source(model, mapping),
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
    return assemble(rows, records=records, include_drafts=include_drafts, data_cut=data_cut)


def _whole_in_chunks(chunk: int, data_cut: datetime) -> Dataset | None:
    """The whole trial's dataset assembled ``chunk`` patients at a time (None: no patients).
    Screening and adverse events (not needed to assemble the rest) are read whole."""
    count = Patient.objects.count()  # room for every row (more would still fit: the stacks grow)
    stacks = {"patients": Stack(count), "long": Stack(count * len(VISIT_CODES)), "codes": Stack()}
    drafts: dict[str, int] = {}
    names = set(_sources(Patient.objects.all(), {}, False)) - {"events"}
    for rows in chunk_rows(Patient.objects.all(), restricted=False, chunk=chunk, sources=names):
        part = assemble(
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
    events = rows_frame(
        list(_sources(Patient.objects.all(), {}, False)["events"].rows.values_list(*EVENT_SOURCE)),
        EVENT_SOURCE,
    )
    screening = rows_frame(
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
        yield assemble(rows, records=records, include_drafts=False, data_cut=data_cut)


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


def _as_read(model: type, mapping: dict[str, str]) -> dict[str, Any]:
    """Annotations reading a form's codes as JSON text and its decimals as floats."""
    floats = {
        f"{name}_float": Cast(name, FloatField())
        for name in mapping
        if model._meta.get_field(name).get_internal_type() == "DecimalField"
    }
    return {CODES_TEXT: Cast("missing_codes", TextField()), **floats}


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
