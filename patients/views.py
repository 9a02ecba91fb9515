from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from hfs_ecrf.access import requires
from hfs_ecrf.forms import attach_errors
from hfs_ecrf.list_cache import cached_list_content, render_content
from hfs_ecrf.lists import UrlPattern, paginate
from hfs_ecrf.views import render_history
from patients import selectors, services
from patients.filters import ScreeningFilter
from patients.forms import (
    ConsentForm,
    IdentityForm,
    MedicalHistoryForm,
    ScreeningForm,
    WithdrawalForm,
)
from patients.models import Screening, Withdrawal


@require_GET
@requires("view_study_data")
def screening_list(request: HttpRequest) -> HttpResponse:

    def content() -> str:
        filterset = ScreeningFilter(
            request.GET, queryset=selectors.screening_log(request.user), user=request.user
        )
        page = paginate(request, filterset.rows)
        return render_content(
            request,
            "patients/_screening_list_content.html",
            {
                "screenings": _screening_rows(page.object_list),
                "page": page,
                "filter": filterset,
            },
        )

    return render(
        request,
        "patients/screening_list.html",
        {"content": cached_list_content(request, "screening", content)},
    )


def _screening_rows(screenings: list[Screening]) -> list[dict[str, Any]]:
    """What each row of the screening log shows, as plain strings: one ``reverse()`` and one
    translation per label for the page, not per row."""
    patient_url = UrlPattern("monitoring:patient_detail", 1)
    outcomes = {value: str(label) for value, label in Screening.Outcome.choices}
    rows = []
    for s in screenings:
        day = s.screened_on
        try:
            patient = s.patient  # joined: no query
        except ObjectDoesNotExist:
            patient = None
        rows.append(
            {
                "pk": s.pk,
                "site": s.site.code,
                "number": s.screening_number,
                "date": f"{day.year:04d}-{day.month:02d}-{day.day:02d}" if day else "",
                "outcome": outcomes.get(s.outcome, s.outcome),
                "eligible": s.outcome == Screening.Outcome.ELIGIBLE,
                "failure_reasons": s.failure_reasons,
                "patient": patient.study_id if patient else "",
                "patient_url": patient_url(patient.study_id) if patient else "",
            }
        )
    return rows


@require_http_methods(["GET", "POST"])
@requires("enter_data")
def screening_new(request: HttpRequest) -> HttpResponse:
    sites = selectors.sites_for(request.user)
    form = ScreeningForm(request.POST or None, sites=sites)
    if request.method == "POST" and form.is_valid():
        try:
            screening = services.screening_record(
                screening=form.instance,
                user=request.user,
                submission_token=form.cleaned_data.get("submission_token"),
            )
        except ValidationError as error:
            attach_errors(form, error)
        else:
            messages.success(
                request,
                _("Screening %(number)s saved: %(outcome)s.")
                % {
                    "number": screening.screening_number,
                    "outcome": screening.get_outcome_display(),
                },
            )
            if screening.outcome == screening.Outcome.ELIGIBLE:
                return redirect("patients:enrol", pk=screening.pk)
            return redirect("patients:screening_list")
    return render(request, "patients/screening_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
@requires("enter_data")
def enrol(request: HttpRequest, pk: int) -> HttpResponse:
    screening = get_object_or_404(selectors.screening_list(request.user), pk=pk)
    data = request.POST or None
    forms = {
        "identity": IdentityForm(data, prefix="identity"),
        "consent": ConsentForm(data, prefix="consent"),
        "history": MedicalHistoryForm(data, prefix="history"),
    }
    if request.method == "POST" and all([f.is_valid() for f in forms.values()]):
        try:
            with transaction.atomic():
                patient = services.patient_enrol(
                    screening=screening,
                    identity=forms["identity"].instance,
                    consent=forms["consent"].instance,
                    history=forms["history"].instance,
                    user=request.user,
                )
        except ValidationError as error:
            owners = {"date_of_birth": "identity", "consent_date": "consent"}
            if hasattr(error, "error_dict"):
                for field, errors in error.error_dict.items():
                    forms[owners.get(field, "consent")].add_error(
                        field if field in owners else None, errors
                    )
            else:
                forms["consent"].add_error(None, error)
        else:
            messages.success(request, _("%(study_id)s enrolled.") % {"study_id": patient})
            return redirect(patient)
    return render(request, "patients/enrol.html", {"screening": screening, **forms})


@require_http_methods(["GET", "POST"])
@requires("enter_data")
def withdraw(request: HttpRequest, study_id: str) -> HttpResponse:
    patient = selectors.patient_get(request.user, study_id)
    if patient.withdrawal_or_none is not None:
        messages.info(request, _("The patient is already withdrawn."))
        return redirect(patient)
    form = WithdrawalForm(request.POST or None, instance=Withdrawal(patient=patient))
    if request.method == "POST" and form.is_valid():
        try:
            services.patient_withdraw(withdrawal=form.instance, user=request.user)
        except ValidationError as error:
            attach_errors(form, error)
        else:
            messages.success(request, _("Withdrawal recorded."))
            return redirect(patient)
    return render(request, "patients/withdraw.html", {"patient": patient, "form": form})


@require_http_methods(["GET", "POST"])
@requires("enter_data")
@requires("view_identity")
def identity_add(request: HttpRequest, study_id: str) -> HttpResponse:
    """The identity of a patient imported without one, added by a clinician of the site."""
    patient = selectors.patient_get(request.user, study_id)
    if patient.identity_or_none is not None:
        messages.info(request, _("The identity of this patient is already recorded."))
        return redirect(patient)
    form = IdentityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.identity_record(patient=patient, identity=form.instance, user=request.user)
        except ValidationError as error:
            attach_errors(form, error)
        else:
            messages.success(request, _("Identity recorded."))
            return redirect(patient)
    return render(request, "patients/identity_form.html", {"patient": patient, "form": form})


@require_GET
@requires("view_study_data")
def site_history(request: HttpRequest, code: str) -> HttpResponse:
    site = get_object_or_404(selectors.sites_for(request.user), code=code)
    return render_history(request, site, str(site))
