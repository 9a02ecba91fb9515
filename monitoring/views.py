"""Monitoring actions: data queries, source data verification, locks, signatures, database lock."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assessments.models import CRF_MODELS, Visit
from assessments.schedule import VISITS
from hfs_ecrf.access import arm_visible, can, requires
from hfs_ecrf.forms import attach_errors
from monitoring import casebook, selectors, services
from monitoring.forms import QueryMessageForm, QueryRaiseForm, ReasonForm, SignForm, StudyLockForm
from monitoring.guards import active_study_lock
from monitoring.models import DataQuery, RecordLock
from patients import selectors as patient_selectors


def _may_review(user) -> bool:
    """Monitors and data managers raise, close and re-open queries."""
    return can(user, "verify_data") or can(user, "lock_data")


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _target(request: HttpRequest, study_id: str, code: str = "", form_code: str = ""):
    patient = patient_selectors.patient_get(request.user, study_id)
    visit = None
    if code:
        if code not in VISITS:
            raise Http404
        visit = get_object_or_404(Visit, patient=patient, code=code)
    if form_code and (form_code not in CRF_MODELS or form_code not in VISITS[code].forms):
        raise Http404
    return patient, visit


def _back(request: HttpRequest, fallback: str) -> HttpResponse:
    target = request.POST.get("next", "")
    return redirect(target if target.startswith("/") and not target.startswith("//") else fallback)


@require_GET
@requires("view_study_data")
def casebook_download(request: HttpRequest, study_id: str) -> HttpResponse:
    """The casebook PDF: monitors, data managers and investigators of the patient's site."""
    _require(_may_review(request.user) or can(request.user, "sign_casebook"))
    patient = patient_selectors.patient_get(request.user, study_id)
    pdf = casebook.casebook_pdf(patient, user=request.user, show_arm=arm_visible(request.user))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="casebook-{patient.study_id}.pdf"'
    return response


@require_GET
@requires("view_study_data")
def query_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    queries = selectors.query_list(request.user)
    if status in DataQuery.Status.values:
        queries = queries.filter(status=status)
    return render(
        request,
        "monitoring/query_list.html",
        {"queries": queries[:500], "status": status, "statuses": DataQuery.Status.choices},
    )


@require_POST
@requires("view_study_data")
def query_raise(request: HttpRequest, study_id: str) -> HttpResponse:
    _require(_may_review(request.user))
    code = request.POST.get("visit", "")
    form_code = request.POST.get("form_code", "")
    patient, visit = _target(request, study_id, code, form_code)
    choices = []
    if form_code:
        model = CRF_MODELS[form_code]
        choices = [(n, model._meta.get_field(n).verbose_name) for n in model.ENTRY_FIELDS]
    form = QueryRaiseForm(request.POST, field_choices=choices)
    if form.is_valid():
        query = services.query_raise(
            patient=patient,
            visit=visit,
            form_code=form_code,
            field_name=form.cleaned_data["field_name"],
            user=request.user,
            text=form.cleaned_data["text"],
        )
        messages.success(request, _("Query #%(n)s raised.") % {"n": query.pk})
    else:
        messages.error(request, _("Write the question of the query."))
    return _back(request, patient.get_absolute_url())


@require_http_methods(["GET", "POST"])
@requires("view_study_data")
def query_detail(request: HttpRequest, pk: int) -> HttpResponse:
    query = get_object_or_404(selectors.query_list(request.user), pk=pk)
    form = QueryMessageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        action = form.cleaned_data["action"]
        text = form.cleaned_data["text"]
        if action == "answer":
            _require(can(request.user, "enter_data"))
        else:
            _require(_may_review(request.user))
        step = {
            "answer": services.query_answer,
            "close": services.query_close,
            "reopen": services.query_reopen,
        }[action]
        try:
            step(query=query, user=request.user, text=text)
        except ValidationError as error:
            attach_errors(form, error)
        else:
            messages.success(request, _("Query #%(n)s updated.") % {"n": query.pk})
            return redirect("monitoring:query", pk=query.pk)
    return render(
        request,
        "monitoring/query_detail.html",
        {
            "query": query,
            "thread": query.messages.select_related("author"),
            "form": form,
            "may_answer": can(request.user, "enter_data"),
            "may_review": _may_review(request.user),
        },
    )


@require_POST
@requires("verify_data")
def form_verify(request: HttpRequest, study_id: str, code: str, form_code: str) -> HttpResponse:
    _patient, visit = _target(request, study_id, code, form_code)
    try:
        services.form_verify(visit=visit, form_code=form_code, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Form verified."))
    return redirect("assessments:crf", study_id=study_id, code=code, form_code=form_code)


@require_POST
@requires("verify_data")
def field_verify(
    request: HttpRequest, study_id: str, code: str, form_code: str, field_name: str
) -> HttpResponse:
    _patient, visit = _target(request, study_id, code, form_code)
    try:
        services.field_verify(
            visit=visit, form_code=form_code, field_name=field_name, user=request.user
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Field verified."))
    return redirect("assessments:crf", study_id=study_id, code=code, form_code=form_code)


@require_POST
@requires("lock_data")
def record_lock(request: HttpRequest, study_id: str) -> HttpResponse:
    code = request.POST.get("visit", "")
    form_code = request.POST.get("form_code", "")
    patient, visit = _target(request, study_id, code, form_code)
    try:
        services.record_lock(patient=patient, visit=visit, form_code=form_code, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Locked."))
    return _back(request, patient.get_absolute_url())


@require_POST
@requires("lock_data")
def record_unlock(request: HttpRequest, pk: int) -> HttpResponse:
    lock = get_object_or_404(RecordLock, pk=pk, unlocked_at__isnull=True)
    form = ReasonForm(request.POST)
    try:
        services.record_unlock(lock=lock, user=request.user, reason=form.data.get("reason", ""))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Unlocked."))
    return _back(request, lock.patient.get_absolute_url())


@require_http_methods(["GET", "POST"])
@requires("sign_casebook")
def casebook_sign(request: HttpRequest, study_id: str, code: str = "") -> HttpResponse:
    patient, visit = _target(request, study_id, code)
    form = SignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.casebook_sign(
                request=request,
                user=request.user,
                password=form.cleaned_data["password"],
                meaning=form.cleaned_data["meaning"],
                patient=patient,
                visit=visit,
            )
        except ValidationError as error:
            attach_errors(form, error)
        else:
            messages.success(request, _("Signed."))
            return redirect(patient.get_absolute_url())
    return render(
        request,
        "monitoring/sign.html",
        {
            "patient": patient,
            "visit": visit,
            "form": form,
            "signer_name": request.user.get_full_name() or request.user.get_username(),
        },
    )


@require_http_methods(["GET", "POST"])
@requires("lock_data")
def study_lock(request: HttpRequest) -> HttpResponse:
    lock = active_study_lock()
    form = (ReasonForm if lock else StudyLockForm)(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            if lock:
                services.study_unlock(user=request.user, reason=form.cleaned_data["reason"])
            else:
                services.study_lock(
                    user=request.user,
                    reason=form.cleaned_data["reason"],
                    override=form.cleaned_data["override"],
                )
        except ValidationError as error:
            attach_errors(form, error)
        else:
            messages.success(request, _("Database unlocked.") if lock else _("Database locked."))
            return redirect("monitoring:study_lock")
    return render(
        request,
        "monitoring/study_lock.html",
        {"lock": lock, "form": form, "not_locked": services.unlocked_randomised_patients()},
    )
