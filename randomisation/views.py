"""Pages of randomisation: the allocation list (data managers), baseline B12, randomise."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from hfs_ecrf.access import requires
from hfs_ecrf.forms import attach_errors
from patients import selectors as patient_selectors
from patients.models import AllocationList
from randomisation import allocation, selectors, services
from randomisation.forms import AllocationGenerateForm, AllocationUploadForm, BaselineB12Form


@require_http_methods(["GET", "POST"])
@requires("enter_data")
def baseline_b12(request: HttpRequest, study_id: str) -> HttpResponse:
    patient = patient_selectors.patient_get(request.user, study_id)
    if patient.allocation_or_none is not None:
        messages.info(request, services.ALREADY_RANDOMISED)
        return redirect(patient)
    form = BaselineB12Form(request.POST or None, instance=selectors.baseline_panel(patient))
    if request.method == "POST" and form.is_valid():
        try:
            services.baseline_b12_save(
                patient=patient,
                panel=form.instance,
                user=request.user,
                confirmed=form.confirmed,
                base_version=form.cleaned_data.get("base_version"),
            )
        except ValidationError as error:
            attach_errors(form, error)
        else:
            messages.success(request, _("Baseline B12 saved."))
            return redirect(patient)
    return render(request, "randomisation/baseline_b12.html", {"patient": patient, "form": form})


@require_http_methods(["GET", "POST"])
@requires("randomise")
def randomise(request: HttpRequest, study_id: str) -> HttpResponse:
    """GET shows the confirmation page; POST takes the slot. The arm is shown only after."""
    patient = patient_selectors.patient_get(request.user, study_id)
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
    return render(
        request,
        "randomisation/randomise_confirm.html",
        {
            "patient": patient,
            "ready": services.randomisation_refusal(patient) is None,
            "prerequisites": services.randomisation_prerequisites(patient),
            "stratum": services.randomisation_stratum(patient),
        },
    )


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
    active = selectors.active_list()
    slots = []
    if active is not None:
        services.allocation_list_viewed(user=request.user, allocation_list=active, request=request)
        slots = active.slots.select_related("site", "allocation__patient").order_by(
            "site__code", "-b12_deficient", "sequence"
        )
    return render(
        request,
        "randomisation/allocation.html",
        {
            "active": active,
            "slots": slots,
            "generate_form": generate_form,
            "upload_form": upload_form,
            "strata_warnings": selectors.exhausted_strata(),
        },
    )


def _allocation_post(request, generate_form, upload_form):
    site_codes = [s.code for s in patient_selectors.sites_for(request.user)]
    try:
        if "generate" in request.POST and generate_form.is_valid():
            services.allocation_list_generate(
                sites=site_codes, user=request.user, **generate_form.cleaned_data
            )
        elif "upload" in request.POST and upload_form.is_valid():
            upload = upload_form.cleaned_data["file"]
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise allocation.AllocationListError(
                    [_("file: not UTF-8 text; save the list as CSV (UTF-8).")]
                ) from None
            slots = allocation.parse_csv(text, known_sites=site_codes)
            services.allocation_list_create(
                slots=slots,
                user=request.user,
                source=AllocationList.Source.UPLOADED,
                file_name=upload.name,
            )
        else:
            return None
    except allocation.AllocationListError as error:
        form = generate_form if "generate" in request.POST else upload_form
        for message in error.errors:
            form.add_error(None, message)
        return None
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("randomisation:allocation")
    messages.success(request, _("The new allocation list is active."))
    return redirect("randomisation:allocation")
