"""The assessments app's models, one module per kind, re-exported here for Django and callers."""

from __future__ import annotations

from assessments.models.base import CaseReportForm, FormStatus, MissingCode
from assessments.models.labs import LabPanel, Matrix, Qualifier
from assessments.models.questionnaires import Hads, Hdrs17, Rand36
from assessments.models.records import (
    AdverseEvent,
    ConcomitantMedication,
    PatientRecord,
    TreatmentExposure,
)
from assessments.models.spasm import SpasmAssessment
from assessments.models.visit import Visit

CRF_MODELS: dict[str, type[CaseReportForm]] = {
    model.FORM_CODE: model for model in (SpasmAssessment, LabPanel, Rand36, Hads, Hdrs17)
}

__all__ = [
    "CRF_MODELS",
    "AdverseEvent",
    "CaseReportForm",
    "ConcomitantMedication",
    "FormStatus",
    "Hads",
    "Hdrs17",
    "LabPanel",
    "Matrix",
    "MissingCode",
    "PatientRecord",
    "Qualifier",
    "Rand36",
    "SpasmAssessment",
    "TreatmentExposure",
    "Visit",
]
