"""The floor of the dataset build: one SQL query, read into pandas, giving the same frame as
``build_dataset().long`` — every patient × scheduled visit, the same columns in the same order
with the same values: visit and form variables (drafts' values left out), each form's status,
verification and lock, the patient's variables and the derived flags (stratum, baseline
deficiency, ITT/mITT/per-protocol, withdrawn, allocation received, male). The benchmark checks
that the two frames are equal before it times anything.
"""

from __future__ import annotations

import pandas as pd
from django.db import connection

from analysis import plan
from analysis.dataset import FORM_STATE_COLUMNS, PATIENT_FIELDS, VISIT_LEVEL, VISIT_VARIABLES
from assessments.models import CRF_MODELS
from bench._export_floor import ALIASES, ANALYSABLE, _patient_field, long_rows_sql
from randomisation import allocation

HIDDEN = {"patient_pk", "stratum_b12_deficient"}


def _visit_value(variable: str) -> str:
    """SQL of one visit-level variable on the long row (NULL unless the form is analysed)."""
    for model, mapping in VISIT_VARIABLES.items():
        for field_name, name in mapping.items():
            if name == variable:
                t = f"f_{model.FORM_CODE}"
                field = model._meta.get_field(field_name)
                value = f"{t}.{field.column}"
                if field.get_internal_type() == "DecimalField":
                    value += "::float8"
                return f"CASE WHEN {t}.status IN ({ANALYSABLE}) THEN {value} END"
    raise KeyError(variable)


def floor_sql() -> str:
    primary = plan.PRIMARY
    v0, v_primary = plan.BASELINE_VISIT, plan.PRIMARY_VISIT
    doses = plan.PER_PROTOCOL_DOSE_FRACTION * plan.PLANNED_B12_DOSES
    b12 = _visit_value("b12_pmol_l").replace("f_labs.", "bl.")
    both = (
        f"(bp0.{primary} IS NOT NULL AND bp0.status IN ({ANALYSABLE}) "
        f"AND bp3.{primary} IS NOT NULL AND bp3.status IN ({ANALYSABLE}))"
    )
    columns = {
        "study_id": "p.study_id",
        "site": "s.code",
        "arm": "a.arm",
        "visit": "g.code",
        "visit_date": "v.visit_date",
        "visit_day": "(v.visit_date - a.randomised_on)::float8",
        "visit_status": "v.status",
        "visit_missed_reason": "v.missed_reason",
        "visit_out_of_window": "v.out_of_window",
    }
    for variable in VISIT_LEVEL:
        columns[variable] = _visit_value(variable)
    for model in CRF_MODELS.values():
        code, t = model.FORM_CODE, f"f_{model.FORM_CODE}"
        status, verified, locked = (f"{code}_{p}" for p in ("status", "verified", "locked"))
        columns[status] = f"{t}.status"
        columns[verified] = (
            f"CASE WHEN {t}.id IS NULL THEN NULL WHEN fv_{code}.status = 'verified' THEN 'yes' "
            f"WHEN fv_{code}.status IS NOT NULL THEN 'changed' ELSE 'no' END"
        )
        columns[locked] = (
            f"CASE WHEN {t}.id IS NULL THEN NULL ELSE (pl.patient_id IS NOT NULL OR "
            f"vl.visit_id IS NOT NULL OR fl_{code}.visit_id IS NOT NULL) END"
        )
    assert list(columns)[9:] == [*VISIT_LEVEL, *FORM_STATE_COLUMNS]
    for path, name in PATIENT_FIELDS.items():
        if name not in columns and name not in HIDDEN:
            columns[name] = _patient_field(path)[0]
    columns |= {
        "exposure_records": "coalesce(ex.records, 0)",
        "b12_doses": "coalesce(ex.b12_doses, 0)",
        "stratum": (
            f"CASE WHEN a.arm IS NOT NULL THEN s.code || '/' || CASE WHEN sl.b12_deficient "
            f"THEN '{allocation.DEFICIENT}' ELSE '{allocation.NOT_DEFICIENT}' END END"
        ),
        "b12_deficient_baseline": (
            f"CASE WHEN ({b12}) IS NOT NULL THEN "
            f"(({b12}) < {plan.B12_DEFICIENT_BELOW_PMOL_L})::int::float8 END"
        ),
        "itt": "(a.arm IS NOT NULL)::int",
        "mitt": f"(a.arm IS NOT NULL AND {both})::int",
        "pp": (
            f"(a.arm IS NOT NULL AND {both} AND (a.arm <> 'b12' "
            f"OR coalesce(ex.b12_doses, 0) >= {doses}))::int"
        ),
        "withdrawn": "(w.withdrawn_on IS NOT NULL)::int",
        "received_allocation": "(a.arm IS NOT NULL AND coalesce(ex.records, 0) > 0)::int",
        "male": "CASE WHEN h.sex IS NOT NULL THEN (h.sex = 'male')::int::float8 END",
    }
    spasm = CRF_MODELS["spasm"]._meta.db_table
    labs = CRF_MODELS["labs"]._meta.db_table
    select = [f'{expr} AS "{name}"' for name, expr in columns.items()]
    assert set(ALIASES.values()) <= {"p", "s", "a", "sl", "h", "w", "c"}
    return long_rows_sql(
        select,
        patient_joins=f"""LEFT JOIN (
  SELECT patient_id, count(*) AS records, count(*) FILTER (WHERE is_study_b12) AS b12_doses
  FROM assessments_treatmentexposure GROUP BY patient_id
) ex ON ex.patient_id = p.id
LEFT JOIN assessments_visit v0 ON v0.patient_id = p.id AND v0.code = '{v0}'
LEFT JOIN assessments_visit v3 ON v3.patient_id = p.id AND v3.code = '{v_primary}'
LEFT JOIN {spasm} bp0 ON bp0.visit_id = v0.id
LEFT JOIN {spasm} bp3 ON bp3.visit_id = v3.id
LEFT JOIN {labs} bl ON bl.visit_id = v0.id""",
    )


def floor_frame() -> pd.DataFrame:
    with connection.cursor() as cursor:
        cursor.execute(floor_sql())
        names = [c.name for c in cursor.description]
        return pd.DataFrame.from_records(cursor.fetchall(), columns=names)
