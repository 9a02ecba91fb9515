"""Adverse-event follow-up, acknowledgement of serious events, review of HDRS item 3 alerts."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assessments import safety, services
from assessments.forms import AdverseEventForm
from assessments.models import Hdrs17
from assessments.models.records import AdverseEvent
from hfs_ecrf.access import can, requires
from hfs_ecrf.forms import attach_errors
from hfs_ecrf.views import render_history
from patients import selectors as patient_selectors


def _event_for_user(request: HttpRequest, study_id: str, pk: int) -> AdverseEvent:
    patient = patient_selectors.patient_get(request.user, study_id)
    return get_object_or_404(AdverseEvent.objects.select_related("patient"), patient=patient, pk=pk)


def _back(request: HttpRequest, fallback: str) -> HttpResponse:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect(fallback)


@require_http_methods(["GET", "POST"])
@requires("view_study_data")
def ae_edit(request: HttpRequest, study_id: str, pk: int) -> HttpResponse:
    """Follow-up of one adverse event: outcome, end date, seriousness…; versioned, with reason."""
    if request.method == "POST" and not can(request.user, "enter_data"):
        raise PermissionDenied
    event = _event_for_user(request, study_id, pk)
    form = AdverseEventForm(request.POST or None, instance=event)
    conflict = None
    if request.method == "POST" and form.is_valid():
        try:
            services.adverse_event_save(
                event=form.instance,
                user=request.user,
                reason=form.cleaned_data.get("reason_for_change", ""),
                base_version=form.cleaned_data.get("base_version"),
            )
        except services.ConflictError as error:
            conflict = error.changes
            form.add_error(None, error.messages[0])
        except ValidationError as error:
            attach_errors(form, error)
        else:
            messages.success(request, _("Adverse event saved."))
            return redirect("assessments:records", study_id=study_id, kind="ae")
    saved = AdverseEvent.objects.select_related("acknowledged_by").get(pk=event.pk)
    return render(
        request,
        "assessments/ae_form.html",
        {
            "patient": event.patient,
            "event": saved,
            "form": form,
            "conflict": conflict,
            "can_enter": can(request.user, "enter_data"),
            "can_acknowledge": safety.may_acknowledge(request.user),
        },
    )


@require_GET
@requires("view_study_data")
def ae_history(request: HttpRequest, study_id: str, pk: int) -> HttpResponse:
    event = _event_for_user(request, study_id, pk)
    return render_history(request, event, f"{event.patient.study_id} · {event.term}")


@require_POST
@requires("view_study_data")
def ae_acknowledge(request: HttpRequest, study_id: str, pk: int) -> HttpResponse:
    if not safety.may_acknowledge(request.user):
        raise PermissionDenied
    event = _event_for_user(request, study_id, pk)
    try:
        services.adverse_event_acknowledge(event=event, user=request.user)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(
            request,
            _("Serious adverse event %(study_id)s “%(term)s” acknowledged.")
            % {"study_id": study_id, "term": event.term},
        )
    return _back(request, "home")


@require_POST
@requires("view_study_data")
def suicide_item_review(request: HttpRequest, study_id: str, code: str) -> HttpResponse:
    if not safety.may_review_suicide_item(request.user):
        raise PermissionDenied
    patient = patient_selectors.patient_get(request.user, study_id)
    form = get_object_or_404(Hdrs17, visit__patient=patient, visit__code=code)
    try:
        services.suicide_item_review(form=form, user=request.user)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(
            request,
            _("HDRS item 3 of %(study_id)s at %(code)s reviewed.")
            % {"study_id": study_id, "code": code},
        )
    return _back(request, "home")
