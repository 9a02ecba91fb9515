"""Pages that show several apps at once: each role's home, the patient list and patient page.

They live here, the lowest layer that may import everything they show (patients, visits and
forms from assessments, baseline B12 and randomisation state from randomisation).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from assessments import safety
from assessments.filters import PatientFilter
from assessments.models import CRF_MODELS
from assessments.selectors import (
    patient_progress,
    patients_for_lists,
    patients_with_visits,
    visit_grid,
    visits_by_patient,
)
from hfs_ecrf.access import arm_visible, can, requires, role_of
from hfs_ecrf.list_cache import cached_list_content, render_content
from hfs_ecrf.lists import UrlPattern, paginate
from monitoring import selectors, worklists
from monitoring.forms import AuditFilterForm
from monitoring.guards import active_study_lock
from monitoring.patient_audit import patient_audit
from patients.models import Arm, PatientStatus
from randomisation import selectors as randomisation_selectors
from randomisation import services as randomisation_services


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Each role lands on a page that shows what it works with."""
    strata_warnings = (
        randomisation_selectors.exhausted_strata() if can(request.user, "manage_allocation") else []
    )
    return render(
        request,
        "monitoring/home.html",
        {
            "role": role_of(request.user),
            "strata_warnings": strata_warnings,
            **safety.home_context(request.user),
            "work": worklists.for_user(request.user),
            "study_lock": active_study_lock(),
        },
    )


@require_GET
@requires("view_study_data")
def patient_list(request: HttpRequest) -> HttpResponse:
    """One page of the user's patients, searched and filtered in SQL; progress for its rows."""

    def content() -> str:
        filterset = PatientFilter(
            request.GET, queryset=patients_for_lists(request.user), user=request.user
        )
        page = paginate(request, filterset.rows)
        patients = list(page.object_list)
        visits = visits_by_patient([p.pk for p in patients])
        show_arm = arm_visible(request.user)
        return render_content(
            request,
            "monitoring/_patient_list_content.html",
            {
                "rows": _patient_rows(patients, visits, show_arm),
                "page": page,
                "filter": filterset,
                "show_arm": show_arm,
            },
        )

    return render(
        request,
        "monitoring/patient_list.html",
        {"content": cached_list_content(request, "patients", content)},
    )


def _patient_rows(
    patients: list[Any], visits: dict[int, list[Any]], show_arm: bool
) -> list[dict[str, Any]]:
    """Each row of the patient list as HTML (``html``), laid out as the template wrote it: one
    ``reverse()`` and one translation per label for the page, not per row; unresolved queries
    in one query. Every value is escaped here."""
    url = UrlPattern("monitoring:patient_detail", 1)
    queries = selectors.open_query_counts([p.pk for p in patients]) if patients else {}
    status_labels = {value: escape(label) for value, label in PatientStatus.choices}
    arm_labels = {value: escape(label) for value, label in Arm.choices}
    rows = []
    for patient in patients:
        progress = patient_progress(patient, visits[patient.pk])
        allocation = patient.allocation_or_none
        nxt = progress.next_visit
        study_id = escape(patient.study_id)
        arm = ""
        if show_arm:
            shown = arm_labels.get(allocation.arm, escape(allocation.arm)) if allocation else "—"
            arm = f"<td>{shown}</td>"
        n = queries.get(patient.pk, 0)
        badge = f'<span class="badge text-bg-danger">{n}</span>' if n else ""
        next_visit = escape(f"{nxt[0]} · {nxt[1]:%Y-%m-%d}") if nxt else "—"
        html = (
            f'\n    <tr data-testid="patient-row" data-study-id="{study_id}">'
            f'\n      <td><a href="{escape(url(patient.study_id))}">{study_id}</a></td>'
            f"\n      <td>{escape(patient.site.code)}</td>"
            f"\n      <td>{status_labels[progress.status]}</td>"
            f"\n      {arm}"
            f"\n      <td>{next_visit}</td>"
            f'\n      <td data-testid="open-queries">{badge}</td>'
            "\n    </tr>"
        )
        rows.append({"study_id": patient.study_id, "html": mark_safe(html)})  # noqa: S308 - escaped
    return rows


@require_GET
@requires("view_study_data")
def patient_detail(request: HttpRequest, study_id: str) -> HttpResponse:
    patient = get_object_or_404(patients_with_visits(request.user), study_id=study_id)
    context = {
        "patient": patient,
        "progress": patient_progress(patient),
        "show_arm": arm_visible(request.user),
        "identity": patient.identity_or_none if can(request.user, "view_identity") else None,
        "can_view_identity": can(request.user, "view_identity"),
        "history": getattr(patient, "medical_history", None),
        "baseline_b12": randomisation_selectors.baseline_b12(patient),
        "refusal": randomisation_services.randomisation_refusal(patient),
        "prerequisites": randomisation_services.randomisation_prerequisites(patient),
        "can_enter": can(request.user, "enter_data"),
        "can_randomise": can(request.user, "randomise"),
        "visit_rows": visit_grid([patient])[0]["cells"],
    }
    return render(request, "monitoring/patient_detail.html", context)


@require_GET
@requires("view_study_data")
def patient_history(request: HttpRequest, study_id: str) -> HttpResponse:
    """Every change of the patient's study data in one list, filterable by form and date."""
    patient = get_object_or_404(patients_with_visits(request.user), study_id=study_id)
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    rows = []
    if not form.is_bound or form.is_valid():
        rows = patient_audit(
            patient,
            form_code=filters.get("form") or "",
            since=filters.get("since"),
            until=filters.get("until"),
            with_allocation=arm_visible(request.user),
        )
    return render(
        request,
        "monitoring/patient_history.html",
        {"patient": patient, "form": form, "rows": rows, "titles": CRF_MODELS},
    )
