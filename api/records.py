"""Record export in REDCap's shapes (flat and EAV) from the de-identified export tables.

One path from the database: ``analysis.dataset`` through the exports' ``tables`` (relative
dates, no identity data, formula-safe text), restricted to the caller's sites.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import pandas as pd

from analysis.dataset import RECORD_FIELDS, build_dataset
from analysis.exports.csv_tables import integers_as_integers
from analysis.exports.options import ExportOptions, patient_pks
from analysis.exports.shaping import tables
from api import project
from assessments.models import CRF_MODELS

KEYS = [
    project.RECORD_ID,
    "redcap_event_name",
    "redcap_repeat_instrument",
    "redcap_repeat_instance",
]


@dataclass
class RecordQuery:
    site_codes: list[str] | None  # None: every site
    records: list[str] | None = None
    fields: list[str] | None = None
    forms: list[str] | None = None
    events: list[str] | None = None
    raw_or_label: str = "raw"
    show_arm: bool = True


def _booleans_as_codes(frame: pd.DataFrame) -> pd.DataFrame:
    changed = {}
    for column in frame.columns:
        values = frame[column]
        if values.dtype == bool or str(values.dtype) == "boolean":
            changed[column] = values.map({True: 1, False: 0}).astype("Int64")
        elif values.dtype == object and values.map(lambda v: isinstance(v, bool)).any():
            changed[column] = values.map(
                lambda v: 1 if v is True else 0 if v is False else None
            ).astype("Int64")
    return frame.assign(**changed) if changed else frame


def _statuses(pks: list[int]) -> dict[tuple[str, str, str], str]:
    """(study_id, visit, form) -> REDCap completion code."""
    out = {}
    for code, model in CRF_MODELS.items():
        rows = model.objects.filter(visit__patient_id__in=pks).values_list(
            "visit__patient__study_id", "visit__code", "status"
        )
        for study_id, visit, status in rows:
            out[(study_id, visit, code)] = project.COMPLETE.get(status, "0")
    return out


def flat_frame(query: RecordQuery) -> pd.DataFrame:
    """One row per record and event (and per repeating instance), every field a column."""
    if query.site_codes is not None and not query.site_codes:
        pks: list[int] = []
    else:
        pks = patient_pks(ExportOptions(sites=query.site_codes, study_ids=query.records))
    instruments = project.instruments()
    columns = [*KEYS]
    for instrument in instruments:
        columns += [f.name for f in instrument.fields if f.name != project.RECORD_ID]
        columns.append(f"{instrument.name}_complete")
    if not pks:
        return pd.DataFrame(columns=columns)
    dataset = build_dataset(patient_pks=pks, records=True)
    out = tables(dataset, ExportOptions(), only=None)
    statuses = _statuses(pks)
    long = integers_as_integers(_booleans_as_codes(out["long"])).copy()
    enrolment = [f.name for f in instruments[0].fields if f.name != project.RECORD_ID]
    parts = []
    for code in project.EVENT_TO_VISIT.values():
        rows = long[long.visit == code]
        new: dict[str, object] = {}
        if code != "V0":
            rows = rows[rows.visit_status.notna() & (rows.visit_status != "")]
            new.update(dict.fromkeys(enrolment))
        new["enrolment_complete"] = "2" if code == "V0" else ""
        new["visit_complete"] = rows.visit_status.map(
            lambda s: "2" if s in ("done", "missed") else "0" if isinstance(s, str) else ""
        )
        forms_here = project.expected_forms(code)
        for form in CRF_MODELS:
            if form in forms_here:
                new[f"{form}_complete"] = rows.study_id.map(
                    lambda s, f=form, c=code: statuses.get((s, c, f), "")
                )
            else:
                new[f"{form}_complete"] = ""
                new.update(dict.fromkeys(f.name for f in _instrument(instruments, form).fields))
        new["redcap_event_name"] = project.event_name(code)
        new["redcap_repeat_instrument"] = ""
        new["redcap_repeat_instance"] = None
        added = pd.DataFrame(new, index=rows.index)
        parts.append(pd.concat([rows.drop(columns=[c for c in new if c in rows]), added], axis=1))
    for name in RECORD_FIELDS:
        frame = out.get(name)
        if frame is None or frame.empty:
            continue
        frame = integers_as_integers(_booleans_as_codes(frame))
        parts.append(
            frame.assign(
                redcap_event_name=project.REPEATING_EVENT,
                redcap_repeat_instrument=name,
                redcap_repeat_instance=frame.groupby("study_id").cumcount() + 1,
                **{f"{name}_complete": "2"},
            )
        )
    flat = pd.concat(parts, ignore_index=True).reindex(columns=columns).copy()
    event_order = {e: i for i, e in enumerate(project.event_names())}
    flat = flat.assign(
        redcap_repeat_instance=flat["redcap_repeat_instance"].astype("Int64"),
        _event=flat.redcap_event_name.map(event_order),
    )
    flat = flat.sort_values(
        [project.RECORD_ID, "_event", "redcap_repeat_instrument", "redcap_repeat_instance"],
        kind="stable",
    )
    return integers_as_integers(flat[columns].reset_index(drop=True))


def _instrument(instruments, name):
    return next(i for i in instruments if i.name == name)


def select(flat: pd.DataFrame, query: RecordQuery) -> pd.DataFrame:
    """Apply the fields, forms and events filters (REDCap keeps the key columns)."""
    frame = flat
    if query.events:
        frame = frame[frame.redcap_event_name.isin(query.events)]
    if not query.show_arm and "arm" in frame:
        frame = frame.assign(arm=None)
    if query.fields or query.forms:
        instruments = project.instrument_map()
        wanted: list[str] = []
        for form in query.forms or ():
            wanted += [f.name for f in instruments[form].fields] + [f"{form}_complete"]
        wanted += list(query.fields or ())
        keep = [c for c in frame.columns if c in KEYS or c in set(wanted)]
        frame = frame[keep]
        data_columns = [c for c in keep if c not in KEYS]
        if data_columns:  # rows left with nothing of what was asked for are dropped
            has_data = frame[data_columns].apply(lambda s: s.notna() & (s != "")).any(axis=1)
            frame = frame[has_data]
    return frame.reset_index(drop=True)


def as_labels(frame: pd.DataFrame) -> pd.DataFrame:
    fields = project.field_map()
    changed = {}
    for column in frame.columns:
        f = fields.get(column)
        if f is None:
            continue
        choices = dict(project.choices_of(f))
        if choices and column != "site":
            changed[column] = frame[column].map(
                lambda v, c=choices: c.get(str(v), v) if v is not None and v == v else v
            )
    return frame.assign(**changed) if changed else frame


def to_csv(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)


def to_rows(frame: pd.DataFrame) -> list[dict[str, str]]:
    """Every value as REDCap gives it in JSON: a string, blank for missing."""
    text = to_csv(frame)
    if not text.strip():
        return []
    parsed = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    return parsed.to_dict("records")


def to_eav(frame: pd.DataFrame) -> list[dict[str, str]]:
    out = []
    for row in to_rows(frame):
        keys = {
            "record": row[project.RECORD_ID],
            "redcap_event_name": row.get("redcap_event_name", ""),
            "redcap_repeat_instrument": row.get("redcap_repeat_instrument", ""),
            "redcap_repeat_instance": row.get("redcap_repeat_instance", ""),
        }
        for name, value in row.items():
            if name in KEYS or value == "":
                continue
            out.append({**keys, "field_name": name, "value": value})
    return out


def record_ids(frame: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(frame[project.RECORD_ID].astype(str))) if len(frame) else []


def export(query: RecordQuery) -> pd.DataFrame:
    frame = select(flat_frame(query), query)
    return as_labels(frame) if query.raw_or_label == "label" else frame
