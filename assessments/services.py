"""Writes of visits and case report forms, shared by the UI, the seeder and the importer."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from assessments.models import LabPanel, Visit
from patients.models import Patient, Withdrawal

WITHDRAWN_NO_NEW_VISITS = _(
    "The patient has withdrawn: no new visits can be opened. Data already entered stay."
)


def visit_get_or_create(*, patient: Patient, code: str, user: Any) -> Visit:
    visit = Visit.objects.filter(patient=patient, code=code).first()
    if visit is None:
        if Withdrawal.objects.filter(patient=patient).exists():
            raise ValidationError(WITHDRAWN_NO_NEW_VISITS)
        visit = Visit(patient=patient, code=code)
        visit.save_audited(user=user, reason="visit opened")
    return visit


@transaction.atomic
def lab_panel_save(*, panel: LabPanel, user: Any, reason: str = "") -> LabPanel:
    panel.updated_by = user
    panel.full_clean()
    panel.save_audited(user=user, reason=reason)
    return panel
