from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from assessments import blank_forms as paper
from assessments import flow, safety, selectors, services, status_grid
from assessments.filters import PatientFilter
from assessments.forms import PATIENT_RECORD_FORMS, QUESTIONNAIRES, VisitForm, crf_form_class
from assessments.models import CRF_MODELS, Visit
from assessments.schedule import SCHEDULE, VISITS
from hfs_ecrf.access import can, requires
from hfs_ecrf.forms import attach_errors
from hfs_ecrf.list_cache import cached_list_content, render_content
from hfs_ecrf.lists import paginate
from hfs_ecrf.views import render_history
from patients import selectors as patient_selectors


def _visit_or_none(patient, code: str) -> Visit | None:
    if code not in VISITS:
        raise Http404
    return Visit.objects.filter(patient=patient, code=code).first()


def _require_entry(request: HttpRequest) -> None:
    if request.method == "POST" and not can(request.user, "enter_data"):
        raise PermissionDenied


@require_http_methods(["GET", "POST"])
@requires("view_study_data")
def visit_detail(request: HttpRequest, study_id: str, code: str) -> HttpResponse:
    _require_entry(request)
    patient = patient_selectors.patient_get(request.user, study_id)
    visit = _visit_or_none(patient, code)
    instance = visit or Visit(patient=patient, code=code)
    form = VisitForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            services.visit_save(
                visit=form.instance,
                user=request.user,
                confirmed=form.confirmed,
                base_version=form.cleaned_data.get("base_version"),
                reason=form.cleaned_data.get("reason_for_change", ""),
            )
        except ValidationError as error:
            attach_errors(form, error)
        else:
            messages.success(request, _("Visit %(code)s saved.") % {"code": code})
            if request.GET.get("next") and form.instance.status == Visit.Status.DONE:
                return redirect(flow.first_open_form_url(study_id, form.instance))
            return redirect("assessments:visit", study_id=study_id, code=code)
    checklist = flow.visit_checklist(visit, code)
    return render(
        request,
        "assessments/visit_detail.html",
        {
            "patient": patient,
            "visit": visit,
            "code": code,
            "spec": VISITS[code],
            "form": form,
            "checklist": checklist,
            "progress": flow.progress(checklist),
            "can_enter": can(request.user, "enter_data"),
        },
    )


@require_http_methods(["GET", "POST"])
@requires("view_study_data")
def crf_edit(request: HttpRequest, study_id: str, code: str, form_code: str) -> HttpResponse:
    _require_entry(request)
    patient = patient_selectors.patient_get(request.user, study_id)
    visit = _visit_or_none(patient, code)
    model = CRF_MODELS.get(form_code)
    if model is None or form_code not in VISITS[code].forms or visit is None:
        raise Http404
    instance = model.objects.filter(visit=visit).first() or model(visit=visit)
    instance.visit = visit  # the visit just read (the save reads its code and patient)
    form_class = crf_form_class(model)
    form = form_class(request.POST or None, instance=instance)
    conflict = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.crf_save(
                form=form.instance,
                user=request.user,
                action=data["action"],
                base_version=data.get("base_version"),
                reason=data.get("reason_for_change", ""),
                not_done_reason=data.get("not_done_reason", ""),
                confirmed=form.confirmed,
            )
        except services.ConflictError as error:
            conflict = error.changes
            form.add_error(None, error.messages[0])
        except ValidationError as error:
            attach_errors(form, error)
        else:
            messages.success(request, _("%(form)s saved.") % {"form": model.TITLE})
            prompt = safety.crf_safety_prompt(form.instance)
            if prompt:
                messages.warning(request, prompt)
            if request.GET.get("next"):
                return redirect(flow.after_save_url(study_id, code, form_code))
            return redirect("assessments:crf", study_id=study_id, code=code, form_code=form_code)
    saved = model.objects.filter(visit=visit).first()
    return render(
        request,
        "assessments/crf_form.html",
        {
            "patient": patient,
            "visit": visit,
            "model": model,
            "form": form,
            "saved": saved,
            "conflict": conflict,
            "is_questionnaire": model in QUESTIONNAIRES,
            "item_fields": [form[name] for name in getattr(model, "ITEMS", ())],
            "field_rows": _layout(form, model),
            "can_enter": can(request.user, "enter_data"),
            **flow.crf_context(visit, form_code),
        },
    )


def _layout(form, model) -> list[list]:
    """Rows of bound fields: the model's LAYOUT, else three per row (items are a grid)."""
    items = set(getattr(model, "ITEMS", ()))
    names = [n for n in model.ENTRY_FIELDS if n not in items]
    rows = getattr(model, "LAYOUT", None) or [names[i : i + 3] for i in range(0, len(names), 3)]
    return [[form[name] for name in row] for row in rows]


@require_GET
@requires("view_study_data")
def crf_history(request: HttpRequest, study_id: str, code: str, form_code: str) -> HttpResponse:
    patient = patient_selectors.patient_get(request.user, study_id)
    visit = _visit_or_none(patient, code)
    model = CRF_MODELS.get(form_code)
    obj = model.objects.filter(visit=visit).first() if model and visit else None
    if obj is None:
        raise Http404
    return render_history(request, obj, f"{patient.study_id} {code} {model.TITLE}")


@require_GET
@requires("view_study_data")
def blank_forms(request: HttpRequest, code: str) -> HttpResponse:
    """Every form of one visit on paper: labels, units, allowed values and empty boxes."""
    if code not in VISITS:
        raise Http404
    return render(
        request,
        "assessments/blank_forms.html",
        {**paper.visit_paper(code), "schedule": SCHEDULE},
    )


@require_GET
@requires("view_study_data")
def record_status(request: HttpRequest) -> HttpResponse:
    """Patients × visits, each form's state: what REDCap users call the record status dashboard.
    One page of patients, searched and filtered in SQL like the patient list."""

    def content() -> str:
        filterset = PatientFilter(
            request.GET, queryset=selectors.patients_for_lists(request.user), user=request.user
        )
        page = paginate(request, filterset.rows)
        patients = list(page.object_list)
        visits = selectors.visits_by_patient([p.pk for p in patients])
        return render_content(
            request,
            "assessments/_record_status_content.html",
            {
                "grid": status_grid.with_badges(selectors.visit_grid(patients, visits)),
                "schedule": SCHEDULE,
                "page": page,
                "filter": filterset,
            },
        )

    return render(
        request,
        "assessments/record_status.html",
        {"content": cached_list_content(request, "status", content)},
    )


@require_http_methods(["GET", "POST"])
@requires("view_study_data")
def patient_records(request: HttpRequest, study_id: str, kind: str) -> HttpResponse:
    """Treatment exposure, concomitant medication and adverse events: listed and added."""
    _require_entry(request)
    form_class = PATIENT_RECORD_FORMS.get(kind)
    if form_class is None:
        raise Http404
    patient = patient_selectors.patient_get(request.user, study_id)
    model = form_class._meta.model
    form = form_class(request.POST or None, instance=model(patient=patient))
    if request.method == "POST" and form.is_valid():
        try:
            services.patient_record_save(
                record=form.instance,
                user=request.user,
                submission_token=form.cleaned_data.get("submission_token"),
                confirmed=getattr(form, "confirmed", False),
            )
        except ValidationError as error:
            attach_errors(form, error)
        else:
            messages.success(
                request, _("%(what)s saved.") % {"what": model._meta.verbose_name.capitalize()}
            )
            return redirect("assessments:records", study_id=study_id, kind=kind)
    return render(
        request,
        "assessments/patient_records.html",
        {
            "patient": patient,
            "kind": kind,
            "form": form,
            "records": model.objects.filter(patient=patient),
            "headers": [
                model._meta.get_field(name).verbose_name for name in model.display_fields()
            ],
            "title": model._meta.verbose_name_plural,
            "fields": form_class._meta.fields,
            "can_enter": can(request.user, "enter_data"),
        },
    )
