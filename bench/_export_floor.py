"""The floor of the long CSV export: one PostgreSQL ``COPY (SELECT …) TO STDOUT`` that writes the
same rows, columns, order and values as ``export_file("csv-long", ExportOptions(), …)`` — every
patient × scheduled visit, the patient's variables on each row, days since randomisation (or
consent) instead of calendar dates, drafts' values left out, the ``<variable>_code`` columns of
the variables that carry a code, each form's status, verification and lock, text a spreadsheet
would run prefixed with ', whole numbers without ".0", floats as Python writes them.

The SELECT list is generated from the same model metadata the export uses (column names and
field types); the work (joins, formatting, CSV) is done by PostgreSQL. The benchmark checks
that both outputs parse to identical rows before it times anything.
"""

from __future__ import annotations

from django.db import connection

from analysis import plan
from analysis.dataset import CODED_VARIABLES, PATIENT_FIELDS, VISIT_VARIABLES, code_column
from analysis.exports.shaping import RELATIVE, patient_columns
from assessments.models import CRF_MODELS
from assessments.schedule import VISIT_CODES
from patients.models import Patient
from randomisation import allocation

ALIASES = {
    "": "p",
    "site": "s",
    "allocation": "a",
    "allocation__slot": "sl",
    "medical_history": "h",
    "withdrawal": "w",
    "consent": "c",
}
INTEGERS = {"PositiveSmallIntegerField", "PositiveIntegerField", "IntegerField", "BigAutoField"}
REFERENCE = "coalesce(a.randomised_on, c.consent_date)"
ANALYSABLE = ", ".join(f"'{s}'" for s in plan.ANALYSABLE_FORM_STATUSES)


def fmt(expr: str, kind: str) -> str:
    """``expr`` as the export writes a value of this field type (NULL: an empty cell)."""
    if kind in INTEGERS:
        return f"({expr})::text"
    if kind == "BooleanField":
        return f"CASE WHEN {expr} THEN 'True' WHEN NOT {expr} THEN 'False' END"
    if kind in {"FloatField", "DecimalField"}:
        x = f"({expr})::float8"
        # Python's repr of a float: shortest round-trip digits, whole numbers with ".0"
        return (
            f"CASE WHEN {x} = trunc({x}) AND abs({x}) < 1e16 "
            f"THEN trunc({x})::bigint::text || '.0' ELSE {x}::text END"
        )
    if kind == "TimeField":
        return f"({expr})::text"
    # text: empty as missing; a formula-like start neutralised with '
    return f"CASE WHEN {expr} ~ '^[-=+@\\t\\r]' THEN '''' || {expr} ELSE nullif({expr}, '') END"


def _patient_field(path: str) -> tuple[str, str]:
    """(SQL column, field type) of a PATIENT_FIELDS path."""
    model, parts = Patient, path.split("__")
    for part in parts[:-1]:
        model = model._meta.get_field(part).related_model
    field = model._meta.get_field(parts[-1])
    return f"{ALIASES['__'.join(parts[:-1])]}.{field.column}", field.get_internal_type()


def coded_variables_sql() -> set[str]:
    """The variables carrying a code on an analysed form, read by SQL."""
    found: set[str] = set()
    with connection.cursor() as cursor:
        for model, variables in CODED_VARIABLES.items():
            cursor.execute(
                f"SELECT DISTINCT jsonb_object_keys(missing_codes) FROM {model._meta.db_table} "
                f"WHERE status IN ({ANALYSABLE})"
            )
            found.update(variables[name] for (name,) in cursor.fetchall() if name in variables)
    return found


def floor_sql(coded: set[str]) -> str:
    by_variable = {v: k for k, v in PATIENT_FIELDS.items()}
    select = []
    for name in patient_columns():
        if name == "stratum":
            select.append(
                f"CASE WHEN a.arm IS NOT NULL THEN s.code || '/' || CASE WHEN sl.b12_deficient "
                f"THEN '{allocation.DEFICIENT}' ELSE '{allocation.NOT_DEFICIENT}' END END"
            )
            continue
        column, kind = _patient_field(by_variable[name])
        if kind == "DateField":
            new = RELATIVE[name]
            if new is not None:
                select.append(f"({column} - {REFERENCE})::text")
            continue
        select.append(fmt(column, kind))
    select += [
        "g.code",
        "(v.visit_date - a.randomised_on)::text",
        fmt("v.status", "CharField"),
        fmt("v.missed_reason", "CharField"),
        fmt("v.out_of_window", "BooleanField"),
    ]
    for model in CRF_MODELS.values():
        code, t = model.FORM_CODE, f"f_{model.FORM_CODE}"
        analysed = f"{t}.status IN ({ANALYSABLE})"
        for field_name, variable in VISIT_VARIABLES[model].items():
            field = model._meta.get_field(field_name)
            kind = field.get_internal_type()
            value = f"{t}.{field.column}"
            if kind == "DateField":
                select.append(f"CASE WHEN {analysed} THEN ({value} - {REFERENCE})::text END")
            else:
                select.append(f"CASE WHEN {analysed} THEN {fmt(value, kind)} END")
            if variable in coded:
                select.append(f"CASE WHEN {analysed} THEN {t}.missing_codes ->> '{field_name}' END")
        select += [
            f"{t}.status",
            f"CASE WHEN {t}.id IS NULL THEN NULL WHEN fv_{code}.status = 'verified' THEN 'yes' "
            f"WHEN fv_{code}.status IS NOT NULL THEN 'changed' ELSE 'no' END",
            f"CASE WHEN {t}.id IS NULL THEN NULL WHEN pl.patient_id IS NOT NULL OR "
            f"vl.visit_id IS NOT NULL OR fl_{code}.visit_id IS NOT NULL THEN 'True' "
            "ELSE 'False' END",
        ]
    return f"COPY ({long_rows_sql(select)}) TO STDOUT WITH CSV"


def long_rows_sql(select: list[str], patient_joins: str = "") -> str:
    """One row per patient and scheduled visit in study-ID and visit order: the patient's
    tables (aliases p, s, a, sl, h, w, c, plus ``patient_joins``), the visit (v, with the
    patient lock pl and visit lock vl) and each form with its verification and lock
    (f_<code>, fv_<code>, fl_<code>), selecting ``select``. Both floors read this."""
    joins = []
    for model in CRF_MODELS.values():
        code, t = model.FORM_CODE, f"f_{model.FORM_CODE}"
        joins += [
            f"LEFT JOIN {model._meta.db_table} {t} ON {t}.visit_id = v.id",
            f"LEFT JOIN monitoring_formverification fv_{code} "
            f"ON fv_{code}.visit_id = v.id AND fv_{code}.form_code = '{code}'",
            f"LEFT JOIN locks fl_{code} ON fl_{code}.visit_id = v.id "
            f"AND fl_{code}.form_code = '{code}'",
        ]
    visits = ", ".join(f"('{c}')" for c in VISIT_CODES)
    body = ",\n  ".join(select)
    return f"""
WITH locks AS (
  SELECT patient_id, visit_id, form_code FROM monitoring_recordlock WHERE unlocked_at IS NULL
)
SELECT
  {body}
FROM patients_patient p
JOIN patients_site s ON s.id = p.site_id
LEFT JOIN patients_allocation a ON a.patient_id = p.id
LEFT JOIN patients_allocationslot sl ON sl.id = a.slot_id
LEFT JOIN patients_medicalhistory h ON h.patient_id = p.id
LEFT JOIN patients_withdrawal w ON w.patient_id = p.id
LEFT JOIN patients_consent c ON c.patient_id = p.id
{patient_joins}
CROSS JOIN (VALUES {visits}) g(code)
LEFT JOIN assessments_visit v ON v.patient_id = p.id AND v.code = g.code
LEFT JOIN (SELECT DISTINCT patient_id FROM locks WHERE visit_id IS NULL AND form_code = '') pl
  ON pl.patient_id = p.id
LEFT JOIN (SELECT DISTINCT visit_id FROM locks WHERE visit_id IS NOT NULL AND form_code = '') vl
  ON vl.visit_id = v.id
{chr(10).join(joins)}
ORDER BY p.study_id COLLATE "C", g.code COLLATE "C"
"""


def header(coded: set[str]) -> list[str]:
    """The export's header, as the floor's columns are named."""
    names = [
        RELATIVE.get(n, n) if n in RELATIVE else n
        for n in patient_columns()
        if not (n in RELATIVE and RELATIVE[n] is None)
    ]
    names += ["visit", "visit_day", "visit_status", "visit_missed_reason", "visit_out_of_window"]
    for model in CRF_MODELS.values():
        for variable in VISIT_VARIABLES[model].values():
            names.append(RELATIVE.get(variable) or variable)
            if variable in coded:
                names.append(code_column(variable))
        names += [f"{model.FORM_CODE}_{p}" for p in ("status", "verified", "locked")]
    return names
