from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from assessments.models import FormStatus, LabPanel
from assessments.selectors import visit_grid
from assessments.services import crf_save, visit_get_or_create
from hfs_ecrf.access import arm_visible, can, requires, sites_for
from hfs_ecrf.forms import attach_errors
from hfs_ecrf.views import render_history
from patients import allocation as allocation_rules
from patients import selectors, services
from patients.forms import (
    AllocationGenerateForm,
    AllocationUploadForm,
    BaselineB12Form,
    ConsentForm,
    IdentityForm,
    MedicalHistoryForm,
    ScreeningForm,
    WithdrawalForm,
)
from patients.models import AllocationList, Withdrawal


@require_GET
@requires("view_study_data")
def patient_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "patients/patient_list.html",
        {"patients": selectors.patient_list(request.user), "show_arm": arm_visible(request.user)},
    )


@require_GET
@requires("view_study_data")
def patient_detail(request: HttpRequest, study_id: str) -> HttpResponse:
    patient = selectors.patient_get(request.user, study_id)
    context = {
        "patient": patient,
        "show_arm": arm_visible(request.user),
        "identity": patient.identity if can(request.user, "view_identity") else None,
        "history": getattr(patient, "medical_history", None),
        "baseline_b12": services.baseline_b12(patient),
        "refusal": services.randomisation_refusal(patient),
        "can_enter": can(request.user, "enter_data"),
        "can_randomise": can(request.user, "randomise"),
        "visit_rows": visit_grid([patient])[0]["cells"],
    }
    return render(request, "patients/patient_detail.html", context)


@require_GET
@requires("view_study_data")
def patient_history(request: HttpRequest, study_id: str) -> HttpResponse:
    patient = selectors.patient_get(request.user, study_id)
    return render_history(request, patient, patient.study_id)


@require_GET
@requires("view_study_data")
def screening_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "patients/screening_list.html",
        {"screenings": selectors.screening_list(request.user)},
    )


@require_http_methods(["GET", "POST"])
@requires("enter_data")
def screening_new(request: HttpRequest) -> HttpResponse:
    sites = sites_for(request.user)
    form = ScreeningForm(request.POST or None, sites=sites)
    if request.method == "POST" and form.is_valid():
        try:
            screening = services.screening_record(screening=form.instance, user=request.user)
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
def baseline_b12(request: HttpRequest, study_id: str) -> HttpResponse:
    patient = selectors.patient_get(request.user, study_id)
    if patient.allocation_or_none is not None:
        messages.info(
            request, _("The patient is randomised; edit the baseline labs in the visit forms.")
        )
        return redirect(patient)
    panel = LabPanel.objects.filter(visit__patient=patient, visit__code="V0").first()
    form = BaselineB12Form(request.POST or None, instance=panel)
    if request.method == "POST" and form.is_valid():
        form.instance.visit = visit_get_or_create(patient=patient, code="V0", user=request.user)
        warnings = form.instance.soft_warnings()
        if form.apply_soft_warnings(warnings):
            # The same save as the visit's lab form (versioned, audited); a panel already
            # marked complete stays complete.
            panel = form.instance
            try:
                crf_save(
                    form=panel,
                    user=request.user,
                    action="complete" if panel.status == FormStatus.COMPLETE else "draft",
                    confirmed_warnings=form.confirmation_text(warnings),
                )
            except ValidationError as error:
                attach_errors(form, error)
            else:
                messages.success(request, _("Baseline B12 saved."))
                return redirect(patient)
    return render(request, "patients/baseline_b12.html", {"patient": patient, "form": form})


@require_http_methods(["GET", "POST"])
@requires("randomise")
def randomise(request: HttpRequest, study_id: str) -> HttpResponse:
    """GET shows the confirmation page; POST takes the slot. The arm is shown only after."""
    patient = selectors.patient_get(request.user, study_id)
    if request.method == "POST":
        try:
            allocation = services.patient_randomise(patient=patient, user=request.user)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(
                request,
                _("%(study_id)s randomised: %(arm)s.")
                % {"study_id": patient, "arm": allocation.get_arm_display()},
            )
        return redirect(patient)
    refusal = services.randomisation_refusal(patient)
    return render(
        request, "patients/randomise_confirm.html", {"patient": patient, "refusal": refusal}
    )


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
@requires("manage_allocation")
def allocation_list(request: HttpRequest) -> HttpResponse:
    """The allocation list (data managers only; every view of it is logged)."""
    generate_form = AllocationGenerateForm(
        request.POST if "generate" in request.POST else None, prefix="gen"
    )
    upload_form = AllocationUploadForm(
        request.POST if "upload" in request.POST else None,
        request.FILES if "upload" in request.POST else None,
        prefix="up",
    )
    if request.method == "POST":
        result = _allocation_post(request, generate_form, upload_form)
        if result is not None:
            return result
    active = AllocationList.objects.filter(is_active=True).first()
    slots = []
    if active is not None:
        services.allocation_list_viewed(user=request.user, allocation_list=active, request=request)
        slots = active.slots.select_related("site", "allocation__patient").order_by(
            "site__code", "-b12_deficient", "sequence"
        )
    return render(
        request,
        "patients/allocation.html",
        {
            "active": active,
            "slots": slots,
            "generate_form": generate_form,
            "upload_form": upload_form,
            "strata_warnings": selectors.exhausted_strata(),
        },
    )


def _allocation_post(request, generate_form, upload_form):
    site_codes = [s.code for s in sites_for(request.user)]
    try:
        if "generate" in request.POST and generate_form.is_valid():
            data = generate_form.cleaned_data
            slots = allocation_rules.generate_list(
                seed=data["seed"],
                sites=site_codes,
                per_stratum=data["per_stratum"],
                block_sizes=data["block_sizes"],
            )
            services.allocation_list_create(
                slots=slots,
                user=request.user,
                source="generated",
                seed=data["seed"],
                per_stratum=data["per_stratum"],
                block_sizes=",".join(map(str, data["block_sizes"])),
            )
        elif "upload" in request.POST and upload_form.is_valid():
            upload = upload_form.cleaned_data["file"]
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise allocation_rules.AllocationListError(
                    [_("file: not UTF-8 text; save the list as CSV (UTF-8).")]
                ) from None
            slots = allocation_rules.parse_csv(text, known_sites=site_codes)
            services.allocation_list_create(
                slots=slots, user=request.user, source="uploaded", file_name=upload.name
            )
        else:
            return None
    except allocation_rules.AllocationListError as error:
        form = generate_form if "generate" in request.POST else upload_form
        for message in error.errors:
            form.add_error(None, message)
        return None
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("patients:allocation")
    messages.success(request, _("The new allocation list is active."))
    return redirect("patients:allocation")
