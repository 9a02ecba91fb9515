"""The floor of bench/lists_load.py: each list page's rows fetched by one hand-written SQL query.

Same rows, same columns, same order and the same total as the page shows (the benchmark asserts
it before timing): the patient list (study ID, site, status, arm, next visit and its target
date, open queries), the screening log (site, number, date, outcome, reasons, study ID) and the
record status grid (study ID, open queries, then per visit each form's state, out of window,
open queries of the visit).
"""

from __future__ import annotations

from typing import Any

from assessments.schedule import SCHEDULE

FORMS = {spec.code: spec.forms for spec in SCHEDULE}
TABLES = {
    "spasm": "assessments_spasmassessment",
    "labs": "assessments_labpanel",
    "rand36": "assessments_rand36",
    "hads": "assessments_hads",
    "hdrs": "assessments_hdrs17",
}
UNRESOLVED = "('open', 'answered')"
FORM_JOINS = " ".join(
    f"LEFT JOIN {table} f_{code} ON f_{code}.visit_id = v.id" for code, table in TABLES.items()
)
VISIT_DAYS = ", ".join(f"('{spec.code}', {spec.day})" for spec in SCHEDULE)

PATIENTS = f"""
WITH base AS (
  SELECT p.id, p.study_id, s.code AS site, a.arm, a.randomised_on, (w.id IS NOT NULL) AS withdrawn,
    CASE WHEN w.id IS NOT NULL THEN 'withdrawn'
         WHEN EXISTS (SELECT 1 FROM assessments_visit v WHERE v.patient_id = p.id
                      AND v.code = '{SCHEDULE[-1].code}' AND v.status = 'done') THEN 'completed'
         WHEN a.id IS NOT NULL THEN 'randomised'
         ELSE 'enrolled' END AS status
  FROM patients_patient p
  JOIN patients_site s ON s.id = p.site_id
  LEFT JOIN patients_allocation a ON a.patient_id = p.id
  LEFT JOIN patients_withdrawal w ON w.patient_id = p.id
),
filtered AS (SELECT * FROM base WHERE {{where}}),
page AS (SELECT * FROM filtered ORDER BY study_id LIMIT %s OFFSET %s)
"""

PATIENT_LIST = (
    PATIENTS
    + f"""
SELECT (SELECT COUNT(*) FROM filtered), page.study_id, page.site, page.status, page.arm,
  nv.code, page.randomised_on + nv.day,
  (SELECT COUNT(*) FROM monitoring_dataquery q
   WHERE q.patient_id = page.id AND q.status IN {UNRESOLVED})
FROM page
LEFT JOIN LATERAL (
  SELECT c.code, c.day FROM (VALUES {VISIT_DAYS}) c(code, day)
  WHERE page.arm IS NOT NULL AND NOT page.withdrawn AND NOT EXISTS (
    SELECT 1 FROM assessments_visit v WHERE v.patient_id = page.id AND v.code = c.code
    AND v.status IN ('done', 'missed'))
  ORDER BY c.code LIMIT 1
) nv ON true
ORDER BY page.study_id
"""
)

STATUS_GRID = (
    PATIENTS
    + f"""
SELECT (SELECT COUNT(*) FROM filtered), page.study_id,
  (SELECT COUNT(*) FROM monitoring_dataquery q
   WHERE q.patient_id = page.id AND q.status IN {UNRESOLVED}),
  c.code, v.id IS NOT NULL, v.status, v.out_of_window,
  {", ".join(f"f_{code}.status" for code in TABLES)},
  (SELECT COUNT(*) FROM monitoring_dataquery q
   WHERE q.visit_id = v.id AND q.status IN {UNRESOLVED})
FROM page
CROSS JOIN (VALUES {", ".join(f"('{code}')" for code in FORMS)}) c(code)
LEFT JOIN assessments_visit v ON v.patient_id = page.id AND v.code = c.code
{FORM_JOINS}
ORDER BY page.study_id, c.code
"""
)

SCREENING_LOG = """
WITH filtered AS (
  SELECT sc.id, s.code AS site, sc.screening_number, sc.screened_on, sc.outcome,
         sc.failure_reasons, p.study_id
  FROM patients_screening sc
  JOIN patients_site s ON s.id = sc.site_id
  LEFT JOIN patients_patient p ON p.screening_id = sc.id
  WHERE {where}
),
page AS (SELECT * FROM filtered ORDER BY screened_on DESC, id DESC LIMIT %s OFFSET %s)
SELECT (SELECT COUNT(*) FROM filtered), site, screening_number, screened_on, outcome,
       failure_reasons, study_id
FROM page ORDER BY screened_on DESC, id DESC
"""


def _patient_where(params: dict[str, str]) -> tuple[str, list[Any]]:
    clauses, args = ["TRUE"], []
    if params.get("q"):
        clauses.append("study_id ILIKE %s")
        args.append(f"%{params['q']}%")
    for name, column in (("site", "site"), ("arm", "arm"), ("status", "status")):
        if params.get(name):
            clauses.append(f"{column} = %s")
            args.append(params[name])
    if params.get("open_queries"):
        clauses.append(
            f"EXISTS (SELECT 1 FROM monitoring_dataquery q WHERE q.patient_id = base.id"
            f" AND q.status IN {UNRESOLVED})"
        )
    state = params.get("visit_state")
    if state:
        code = "AND v.code = %s" if params.get("visit") else ""
        if state == "out_of_window":
            condition = "v.out_of_window"
        elif state == "not_started":
            condition = None
        else:
            condition = "v.status = %s"
        exists = f"EXISTS (SELECT 1 FROM assessments_visit v WHERE v.patient_id = base.id {code}"
        if condition is None:
            clauses.append(f"NOT {exists})")
        else:
            clauses.append(f"{exists} AND {condition})")
        if params.get("visit"):
            args.append(params["visit"])
        if condition == "v.status = %s":
            args.append(state)
    return " AND ".join(clauses), args


def _screening_where(params: dict[str, str]) -> tuple[str, list[Any]]:
    clauses, args = ["TRUE"], []
    if params.get("q"):
        clauses.append("sc.screening_number ILIKE %s")
        args.append(f"%{params['q']}%")
    if params.get("site"):
        clauses.append("s.code = %s")
        args.append(params["site"])
    if params.get("outcome"):
        clauses.append("sc.outcome = %s")
        args.append(params["outcome"])
    if params.get("enrolled"):
        clauses.append("p.id IS NOT NULL" if params["enrolled"] == "yes" else "p.id IS NULL")
    return " AND ".join(clauses), args


def floor_rows(connection: Any, kind: str, params: dict[str, str], per_page: int):
    """(total, rows) of the page ``params`` asks for, in one query."""
    offset = (int(params.get("page", 1)) - 1) * per_page
    if kind == "screening":
        where, args = _screening_where(params)
        sql = SCREENING_LOG.format(where=where)
    else:
        where, args = _patient_where(params)
        sql = (PATIENT_LIST if kind == "patients" else STATUS_GRID).format(where=where)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*args, per_page, offset])
        fetched = cursor.fetchall()
    total = fetched[0][0] if fetched else 0
    if kind != "status":
        return total, [tuple(row[1:]) for row in fetched]
    rows: list[tuple] = []
    current: list[Any] | None = None
    for _, study_id, patient_open, code, has_visit, status, late, *states, visit_open in fetched:
        if current is None or current[0] != study_id:
            current = [study_id, patient_open]
            rows.append(current)  # type: ignore[arg-type]
        by_form = dict(zip(TABLES, states, strict=True))
        forms = tuple(
            "not_started"
            if not has_visit
            else "missed"
            if status == "missed"
            else by_form[form] or "not_started"
            for form in FORMS[code]
        )
        current.append((forms, bool(has_visit and late), visit_open if has_visit else 0))
    return total, [tuple(row) for row in rows]
