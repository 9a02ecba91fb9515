"""Exports built from the analysis dataset and the models' field metadata: CSV (long, wide,
per-patient records), the data dictionary, SPSS and a ZIP bundle.

De-identified by default (no identity field exists in the dataset; dates become days since
randomisation); text cells that a spreadsheet would run as a formula are neutralised; CSV is
produced in chunks of patients so memory stays flat.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import translation

from analysis.dataset import PATIENT_FIELDS, RECORD_FIELDS, VISIT_VARIABLES, build_dataset
from analysis.plan import B12_DEFICIENT_BELOW_PMOL_L
from analysis.results import software_versions
from assessments.schedule import VISIT_CODES
from patients.models import Patient
from randomisation import allocation

DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CHUNK_PATIENTS = 2000
ANCHOR_NOTE = "dates are days since randomisation (day 0); before randomisation, since consent"

# date column -> its relative name
RELATIVE = {
    "visit_date": None,  # visit_day is already there
    "randomised_on": None,
    "consent_date": "consent_day",
    "withdrawn_on": "withdrawn_day",
    "lab_sample_date": "lab_sample_day",
    "onset_on": "onset_day",
    "ended_on": "end_day",
    "given_on": "given_day",
    "started_on": "start_day",
    "stopped_on": "stop_day",
}


@dataclass
class ExportOptions:
    sites: list[str] | None = None
    visits: list[str] | None = None
    forms: list[str] | None = None  # form codes (spasm, labs, rand36, hads, hdrs)
    study_ids: list[str] | None = None
    relative_dates: bool = True

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ExportResult:
    rows: dict[str, int] = field(default_factory=dict)


def _integer_variables() -> set[str]:
    kinds = {"PositiveSmallIntegerField", "PositiveIntegerField", "IntegerField"}
    names = {
        variable
        for model, mapping in VISIT_VARIABLES.items()
        for field_name, variable in mapping.items()
        if model._meta.get_field(field_name).get_internal_type() in kinds
    }
    return names | {"age", "disease_duration_months", "visit_day"}


INTEGER_VARIABLES = _integer_variables()


def integers_as_integers(frame: pd.DataFrame) -> pd.DataFrame:
    """Whole-number variables written as 3, not 3.0, even in columns with gaps."""
    columns = {
        c: frame[c].astype("Int64")
        for c in frame.columns
        if frame[c].dtype == float and (c.split("__")[0] in INTEGER_VARIABLES or c.endswith("_day"))
    }
    return frame.assign(**columns) if columns else frame


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix ' to text cells a spreadsheet would run as a formula; numbers stay numbers."""
    changed = {}
    for column in frame.columns:
        values = frame[column]
        if values.dtype != object and not pd.api.types.is_string_dtype(values):
            continue
        try:
            risky = values.str.startswith(DANGEROUS_PREFIXES, na=False)
        except AttributeError:  # no text at all in this column
            continue
        if risky.any():
            changed[column] = values.mask(risky, "'" + values.astype(str))
    return frame.assign(**changed) if changed else frame


def _reference(patients: pd.DataFrame) -> pd.Series:
    randomised = pd.to_datetime(patients.randomised_on)
    return randomised.fillna(pd.to_datetime(patients.consent_date))


def _relative(frame: pd.DataFrame, reference: pd.Series) -> pd.DataFrame:
    """Replace calendar dates by whole days since the patient's reference date."""
    out = frame.copy()
    for column, new in RELATIVE.items():
        if column not in out:
            continue
        if new is not None:
            days = (pd.to_datetime(out[column]) - reference).dt.days
            out.insert(out.columns.get_loc(column), new, days.astype("Int64"))
        out = out.drop(columns=[column])
    return out


def _form_columns(forms: list[str] | None) -> list[str]:
    from assessments.models import CRF_MODELS

    models = CRF_MODELS.values() if not forms else [CRF_MODELS[f] for f in forms]
    return [v for model in models for v in VISIT_VARIABLES[model].values()]


def patient_columns() -> list[str]:
    skip = {"patient_pk", "stratum_b12_deficient"}
    return [c for c in PATIENT_FIELDS.values() if c not in skip] + ["stratum"]


def tables(dataset, options: ExportOptions, only: str | None = None) -> dict[str, pd.DataFrame]:
    """The export tables of one dataset (one chunk of patients, or all); ``only`` skips the
    work for the others."""
    patients = dataset.patients[patient_columns()].copy()
    reference = _reference(patients).set_axis(patients.study_id)
    visit_columns = [
        "visit",
        "visit_date",
        "visit_day",
        "visit_status",
        "visit_missed_reason",
        *_form_columns(options.forms),
    ]
    long = dataset.long
    if options.visits:
        long = long[long.visit.isin(options.visits)]
    long = long[["study_id", *visit_columns]].merge(patients, on="study_id", how="left")
    long = long[["study_id", *[c for c in patients.columns if c != "study_id"], *visit_columns]]
    out = {"long": long, "patients": patients}
    for name in RECORD_FIELDS:
        if name in dataset.records:
            out[name] = dataset.records[name]
    if only is not None:
        out = {
            k: v
            for k, v in out.items()
            if k == only or (only == "wide" and k in {"long", "patients"})
        }
    if options.relative_dates:
        for name, frame in out.items():
            ref = frame.study_id.map(reference)
            out[name] = _relative(frame, ref.reset_index(drop=True).set_axis(frame.index))
    if only not in (None, "wide"):
        return {name: neutralise(frame) for name, frame in out.items()}
    wide_source = out["long"]
    wide = wide_source.pivot(  # noqa: PD010 - one row per patient and visit, no aggregation
        index="study_id",
        columns="visit",
        values=[c for c in wide_source.columns if c not in patients.columns and c != "visit"],
    )
    wide.columns = [f"{var}__{visit}" for var, visit in wide.columns]
    ordered = [
        f"{var}__{visit}"
        for var in dict.fromkeys(c.split("__")[0] for c in wide.columns)
        for visit in VISIT_CODES
        if f"{var}__{visit}" in wide.columns
    ]
    out["wide"] = out["patients"].merge(wide[ordered].reset_index(), on="study_id", how="left")
    return {name: neutralise(frame) for name, frame in out.items()}


def patient_pks(options: ExportOptions) -> list[int]:
    qs = Patient.objects.order_by("study_id")
    if options.sites:
        qs = qs.filter(site__code__in=options.sites)
    if options.study_ids:
        qs = qs.filter(study_id__in=options.study_ids)
    return list(qs.values_list("pk", flat=True))


def stream_csv(
    name: str, options: ExportOptions, result: ExportResult, chunk: int = CHUNK_PATIENTS
) -> Iterator[str]:
    """One CSV table, built and written chunk by chunk of patients."""
    pks = patient_pks(options)
    header_done = False
    result.rows[name] = 0
    for start in range(0, max(len(pks), 1), chunk):
        part = pks[start : start + chunk]
        dataset = build_dataset(patient_pks=part, records=name in RECORD_FIELDS)
        frame = tables(dataset, options, only=name)[name]
        result.rows[name] += len(frame)
        text = to_csv_text(frame, header=not header_done)
        header_done = True
        yield text


def dictionary() -> pd.DataFrame:
    """Variable, form, label (en, ru), type, unit, allowed range or choices, derivation."""
    rows = []
    for model, mapping in VISIT_VARIABLES.items():
        for field_name, variable in mapping.items():
            rows.append(
                _describe(
                    model._meta.get_field(field_name),
                    variable,
                    model._meta.model_name,
                    level="visit",
                )
            )
    for path, variable in PATIENT_FIELDS.items():
        if variable in {"patient_pk", "stratum_b12_deficient"}:
            continue
        field = _resolve(Patient, path)
        rows.append(_describe(field, variable, field.model._meta.model_name, level="patient"))
    rows += [
        {
            "variable": "visit",
            "form": "visit",
            "level": "visit",
            "label_en": "visit",
            "label_ru": "визит",
            "type": "string",
            "unit": "",
            "allowed": ", ".join(VISIT_CODES),
            "derivation": "",
        },
        {
            "variable": "visit_day",
            "form": "visit",
            "level": "visit",
            "label_en": "days since randomisation",
            "label_ru": "дней от рандомизации",
            "type": "integer",
            "unit": "days",
            "allowed": "",
            "derivation": "visit date − day 0",
        },
        {
            "variable": "stratum",
            "form": "allocation",
            "level": "patient",
            "label_en": "randomisation stratum",
            "label_ru": "страта рандомизации",
            "type": "string",
            "unit": "",
            "allowed": ", ".join(
                allocation.stratum_label("site", deficient) for deficient in (True, False)
            ),
            "derivation": (
                f"site and baseline B12 < {B12_DEFICIENT_BELOW_PMOL_L:g} pmol/L at randomisation"
            ),
        },
    ]
    for name, (model, fields) in RECORD_FIELDS.items():
        for field_name in fields:
            rows.append(
                _describe(model._meta.get_field(field_name), field_name, name, level="record")
            )
    return pd.DataFrame(rows)


def _resolve(model, path: str):
    field = None
    for part in path.split("__"):
        field = model._meta.get_field(part)
        model = field.related_model or model
    return field


DERIVATIONS = {
    "jankovic_total": "severity + frequency",
    "spasm_rate_per_min": "spasm count / observation minutes",
    "b12_pmol_l": "value × 0.7378 when entered in pg/mL",
    "cortisol_nmol_l": "value × 27.59 when entered in µg/dL",
    "dopamine_pmol_l": "value × 6.528 when entered in pg/mL",
    "rand36_pcs": "1990 US-norm coefficients",
    "rand36_mcs": "1990 US-norm coefficients",
    "hads_a": "mean of answered odd items × 7 (≥ 4 of 7)",
    "hads_d": "mean of answered even items × 7 (≥ 4 of 7)",
    "hdrs_total": "sum of items 1–17",
    "age": "completed years at consent",
}


def _describe(field, variable: str, form: str, level: str) -> dict[str, Any]:
    with translation.override("en"):
        label_en, choices_en, help_en = (
            str(field.verbose_name),
            _choices(field),
            str(field.help_text or ""),
        )
    with translation.override("ru"):
        label_ru = str(field.verbose_name)
    declared = field._validators  # those written on the model, not the database's own limits
    low = next((v.limit_value for v in declared if isinstance(v, MinValueValidator)), None)
    high = next((v.limit_value for v in declared if isinstance(v, MaxValueValidator)), None)
    allowed = choices_en or (f"{low}–{high}" if low is not None or high is not None else "")
    derivation = DERIVATIONS.get(variable, "")
    if not derivation and variable.startswith("rand36_") and not variable.startswith("rand36_q"):
        derivation = "RAND-36 scale: mean of recoded answered items (half rule)"
    return {
        "variable": variable,
        "form": form,
        "level": level,
        "label_en": label_en,
        "label_ru": label_ru,
        "type": _TYPES.get(field.get_internal_type(), "string"),
        "unit": _unit(variable),
        "allowed": allowed,
        "derivation": derivation,
        "help": help_en,
    }


_TYPES = {
    "PositiveSmallIntegerField": "integer",
    "PositiveIntegerField": "integer",
    "IntegerField": "integer",
    "BigAutoField": "integer",
    "FloatField": "number",
    "DecimalField": "number",
    "BooleanField": "boolean (True/False)",
    "DateField": "date",
    "TimeField": "time",
    "CharField": "string",
    "TextField": "string",
    "ForeignKey": "string",
    "DateTimeField": "datetime",
}
_UNITS = {
    "vas_frequency": "mm",
    "vas_intensity": "mm",
    "observation_minutes": "min",
    "spasm_rate_per_min": "1/min",
    "b12_pmol_l": "pmol/L",
    "cortisol_nmol_l": "nmol/L",
    "dopamine_pmol_l": "pmol/L",
    "age": "years",
    "disease_duration_months": "months",
    "dose_ug": "µg",
}


def _unit(variable: str) -> str:
    if variable.endswith(("_value", "_ref_low", "_ref_high")):
        return "see the matching _unit column"
    return _UNITS.get(variable, "")


def _choices(field) -> str:
    if not field.choices:
        return ""
    return "; ".join(f"{value}={label}" for value, label in field.flatchoices if value != "")


def spss_bytes(options: ExportOptions) -> tuple[bytes, int]:
    """The long table as SPSS .sav with variable labels and value labels (pyreadstat)."""
    import tempfile
    from pathlib import Path

    import pyreadstat

    dataset = build_dataset(patient_pks=patient_pks(options))
    frame = tables(dataset, options)["long"]
    meta = dictionary().drop_duplicates("variable").set_index("variable")
    labels = {c: str(meta.label_en.get(c, c)) for c in frame.columns}
    value_labels = {}
    for column in frame.columns:
        allowed = meta.allowed.get(column, "")
        if "=" in allowed and frame[column].dtype != object:
            pairs = [p.split("=", 1) for p in allowed.split("; ")]
            try:
                value_labels[column] = {float(k): v for k, v in pairs}
            except ValueError:
                continue
    for column in frame.columns:  # SPSS has no nullable integers or booleans
        if str(frame[column].dtype) in {"Int64", "boolean", "bool"}:
            frame[column] = frame[column].astype("float64")
        elif frame[column].dtype == object:
            frame[column] = frame[column].map(
                lambda v: v if v is None or isinstance(v, str) else str(v)
            )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "hfs_b12.sav"
        pyreadstat.write_sav(
            frame, str(path), column_labels=labels, variable_value_labels=value_labels
        )
        return path.read_bytes(), len(frame)


BUNDLE_FILES = {
    "long": "hfs_b12_long.csv",
    "wide": "hfs_b12_wide.csv",
    "patients": "patients.csv",
    "adverse_events": "adverse_events.csv",
    "treatment_exposure": "treatment_exposure.csv",
    "concomitant_medication": "concomitant_medication.csv",
}


def bundle_bytes(options: ExportOptions, *, data_cut: str) -> tuple[bytes, dict[str, int]]:
    """ZIP with every CSV, the dictionary, the SPSS file and a README."""
    result = ExportResult()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, filename in BUNDLE_FILES.items():
            archive.writestr(filename, "".join(stream_csv(name, options, result)))
        dictionary_csv = dictionary().to_csv(index=False, lineterminator="\r\n")
        archive.writestr("data_dictionary.csv", dictionary_csv)
        sav, _rows = spss_bytes(options)
        archive.writestr("hfs_b12_long.sav", sav)
        archive.writestr("README.txt", readme(options, data_cut=data_cut, rows=result.rows))
    return buffer.getvalue(), result.rows


def readme(options: ExportOptions, *, data_cut: str, rows: dict[str, int]) -> str:
    versions = ", ".join(f"{k} {v}" for k, v in software_versions().items())
    lines = [
        "HFS-B12 eCRF export",
        f"data cut: {data_cut}",
        f"filters: {options.as_dict()}",
        f"software: {versions}",
        "de-identified: no names, phone numbers, record numbers or birth dates; "
        + (ANCHOR_NOTE if options.relative_dates else "calendar dates"),
        "files:",
        *[f"  {BUNDLE_FILES.get(k, k)}: {n} rows" for k, n in rows.items()],
        "  data_dictionary.csv: variables, labels (en, ru), units, allowed values",
        "  hfs_b12_long.sav: SPSS, the long table with variable and value labels",
    ]
    return "\n".join(lines) + "\n"


def to_csv_text(frame: pd.DataFrame, header: bool = True) -> str:
    """RFC 4180 CSV (CRLF, minimal quoting), raw codes, whole numbers without '.0'."""
    return integers_as_integers(frame).to_csv(
        index=False, header=header, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL
    )


def log_export(*, user: Any, export_format: str, options: ExportOptions, rows: int) -> None:
    from analysis.models import ExportLog

    ExportLog.objects.create(
        user=user, export_format=export_format, filters=options.as_dict(), rows=rows
    )
