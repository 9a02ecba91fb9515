"""Monitoring state on the lower layers' pages (forms, visits, patients, lists), added by
template includes, so those apps' views need not import monitoring."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from assessments.models import CRF_MODELS
from hfs_ecrf.access import can
from monitoring import selectors
from monitoring.guards import active_study_lock
from monitoring.models import DataQuery

register = template.Library()


@register.filter
def lookup(mapping: dict, key: Any) -> Any:
    return mapping.get(key, 0) if mapping else 0


@register.simple_tag
def grid_open_queries(grid: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The grid of ``assessments.status_grid`` with each row's unresolved queries (``queries``)
    and its cells as HTML (``cells_html``: each cell's ``html``, its visit's unresolved queries,
    the closing tag, laid out as the template wrote them): one query for the whole page."""
    by_patient, by_visit = selectors.open_query_counts_by_patient_and_visit(
        [row["patient"].pk for row in grid]
    )
    title = escape(gettext("Open queries"))
    for row in grid:
        row["queries"] = by_patient.get(row["patient"].pk, 0)
        cells = []
        for cell in row["cells"]:
            visit = cell["visit"]
            n = by_visit.get(visit.pk, 0) if visit is not None else 0
            badge = f'<span class="badge text-bg-danger" title="{title}">?{n}</span>' if n else ""
            cells.append(f"\n      {cell['html']}{badge}\n      </td>\n      ")
        row["cells_html"] = mark_safe("".join(cells))  # noqa: S308 - cells from format_html, counts
    return grid


@register.simple_tag(takes_context=True)
def form_monitoring(context, patient, visit, model) -> dict[str, Any]:
    user = context["request"].user
    form_code = model.FORM_CODE
    queries = selectors.form_queries(visit, form_code) if visit else []
    by_field: dict[str, int] = {}
    for q in queries:
        if q.status in DataQuery.UNRESOLVED:
            by_field[q.field_name] = by_field.get(q.field_name, 0) + 1
    locks = selectors.active_locks(patient)
    marks = selectors.field_verifications_of(visit, form_code)
    return {
        "queries": queries,
        "open": sum(by_field.values()),
        "by_field": by_field,
        "verification": selectors.verification_of(visit, form_code),
        "lock": selectors.lock_covering(locks, visit_id=visit.pk, form_code=form_code)
        if visit
        else None,
        "form_lock": next(
            (lk for lk in locks if lk.visit_id == visit.pk and lk.form_code == form_code), None
        )
        if visit
        else None,
        "study_lock": active_study_lock(),
        "fields": [(n, model._meta.get_field(n).verbose_name) for n in model.ENTRY_FIELDS],
        "field_marks": [
            (n, model._meta.get_field(n).verbose_name, marks.get(n)) for n in model.ENTRY_FIELDS
        ],
        "fields_verified": sum(1 for m in marks.values() if m.status == m.Status.VERIFIED),
        "may_verify": can(user, "verify_data"),
        "may_review": can(user, "verify_data") or can(user, "lock_data"),
        "may_lock": can(user, "lock_data"),
    }


@register.simple_tag(takes_context=True)
def visit_monitoring(context, patient, visit) -> dict[str, Any]:
    user = context["request"].user
    if visit is None:
        return {}
    locks = selectors.active_locks(patient)
    counts = selectors.open_query_counts_by_visit([patient.pk])
    return {
        "open": counts.get((visit.pk, ""), 0),
        "form_counts": {code: counts.get((visit.pk, code), 0) for code in CRF_MODELS if code},
        "lock": selectors.lock_covering(locks, visit_id=visit.pk, form_code=None),
        "visit_lock": next(
            (lk for lk in locks if lk.visit_id == visit.pk and not lk.form_code), None
        ),
        "may_lock": can(user, "lock_data"),
        "may_sign": can(user, "sign_casebook"),
    }


@register.simple_tag(takes_context=True)
def casebook_monitoring(context, patient) -> dict[str, Any]:
    user = context["request"].user
    locks = selectors.active_locks(patient)
    return {
        "signatures": selectors.signatures_of(patient),
        "patient_lock": next((lk for lk in locks if lk.visit_id is None), None),
        "open": selectors.open_query_counts([patient.pk]).get(patient.pk, 0),
        "may_lock": can(user, "lock_data"),
        "may_sign": can(user, "sign_casebook"),
        "may_review": can(user, "verify_data") or can(user, "lock_data"),
        "may_download": can(user, "verify_data")
        or can(user, "lock_data")
        or can(user, "sign_casebook"),
    }
