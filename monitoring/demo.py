"""Monitoring demo data: open, answered and closed queries, verified and locked forms, so a
newcomer sees the workflow at once. Called by the demo seeder after the cohort exists."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from assessments.models import CRF_MODELS, FormStatus
from monitoring import selectors, services
from monitoring.models import DataQuery


@transaction.atomic
def seed_monitoring(
    *, monitor: str = "monitor", data_manager: str = "datamanager", clinicians=None
) -> int:
    """Idempotent: does nothing once a manual query exists. Returns the forms verified."""
    if DataQuery.objects.filter(origin=DataQuery.Origin.MANUAL).exists():
        return 0
    mon = User.objects.get(username=monitor)
    dm = User.objects.get(username=data_manager)
    clinicians = clinicians or {"SMR": "clinician_a", "TAS": "clinician_b"}
    forms = [
        form
        for model in CRF_MODELS.values()
        for form in model.objects.filter(status=FormStatus.COMPLETE)
        .select_related("visit", "visit__patient", "visit__patient__site")
        .order_by("visit__patient__study_id", "visit__code")[:6]
    ]
    if len(forms) < 4:
        return 0

    def answerer(form):
        return User.objects.get(username=clinicians[form.visit.patient.site.code])

    def ask(form, text):
        field = form.ENTRY_FIELDS[0]
        return services.query_raise(
            patient=form.visit.patient,
            visit=form.visit,
            form_code=form.FORM_CODE,
            field_name=field,
            user=mon,
            text=text,
        )

    ask(forms[0], "Please check this value against the source document.")
    answered = ask(forms[1], "The value differs from the clinic chart; please confirm.")
    services.query_answer(query=answered, user=answerer(forms[1]), text="Checked: chart is right.")
    closed = ask(forms[2], "Date looks transposed, please confirm.")
    services.query_answer(query=closed, user=answerer(forms[2]), text="Confirmed as entered.")
    services.query_close(query=closed, user=mon, text="Thank you.")
    verified = 0
    for form in forms[2:]:
        services.form_verify(visit=form.visit, form_code=form.FORM_CODE, user=mon)
        verified += 1
    for form in forms[2:]:
        if not selectors.form_lock_problems(form.visit, form.FORM_CODE):
            services.record_lock(
                patient=form.visit.patient, visit=form.visit, form_code=form.FORM_CODE, user=dm
            )
            break
    return verified
