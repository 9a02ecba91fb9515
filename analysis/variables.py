"""The analysis variables: which model field becomes which dataset column, per form, and the
names of the columns derived from them (form states, missing-data codes). Read by the dataset
builder (``analysis.dataset``, which re-exports them), the exports and the data dictionary."""

from __future__ import annotations

from assessments.models import (
    CRF_MODELS,
    AdverseEvent,
    ConcomitantMedication,
    Hads,
    Hdrs17,
    LabPanel,
    Rand36,
    SpasmAssessment,
    TreatmentExposure,
)

# model field -> analysis variable, per form (the model's verbose_name is the label).
VISIT_VARIABLES: dict[type, dict[str, str]] = {
    SpasmAssessment: {
        name: name
        for name in (
            "vas_frequency",
            "vas_intensity",
            "jankovic_severity",
            "jankovic_frequency",
            "jankovic_total",
            "spasm_count",
            "observation_minutes",
            "spasm_rate_per_min",
        )
    },
    LabPanel: {
        "b12_pmol_l": "b12_pmol_l",
        "cortisol_nmol_l": "cortisol_nmol_l",
        "dopamine_pmol_l": "dopamine_pmol_l",
        "sample_date": "lab_sample_date",
        "sample_time": "lab_sample_time",
        **{
            f"{a}_{part}": f"{a}_{part}"
            for a in ("b12", "cortisol", "dopamine")
            for part in ("value", "unit", "qualifier", "ref_low", "ref_high")
        },
        "dopamine_matrix": "dopamine_matrix",
    },
    Rand36: {
        **{s: f"rand36_{s}" for s in Rand36.SCALE_FIELDS},
        "pcs": "rand36_pcs",
        "mcs": "rand36_mcs",
        **{q: f"rand36_{q}" for q in Rand36.ITEMS},
    },
    Hads: {"anxiety": "hads_a", "depression": "hads_d", **{q: f"hads_{q}" for q in Hads.ITEMS}},
    Hdrs17: {
        "total": "hdrs_total",
        **{q: f"hdrs_{q}" for q in Hdrs17.ITEMS},
        "q16_not_assessed": "hdrs_q16_not_assessed",
    },
}
# Visit variables that the analysis never uses but exports and re-imports need.
RAW_ONLY = {
    "spasm_count",
    "observation_minutes",
    "lab_sample_date",
    "lab_sample_time",
    "dopamine_matrix",
    *(
        f"{a}_{part}"
        for a in ("b12", "cortisol", "dopamine")
        for part in ("value", "unit", "qualifier", "ref_low", "ref_high")
    ),
}
PATIENT_FIELDS = {
    "id": "patient_pk",
    "study_id": "study_id",
    "site__code": "site",
    "allocation__arm": "arm",
    "allocation__randomised_on": "randomised_on",
    "allocation__slot__b12_deficient": "stratum_b12_deficient",
    "age_at_consent": "age",
    "medical_history__sex": "sex",
    "medical_history__disease_duration_months": "disease_duration_months",
    "medical_history__affected_side": "affected_side",
    "medical_history__prior_botulinum_toxin": "prior_botulinum_toxin",
    "medical_history__prior_carbamazepine": "prior_carbamazepine",
    "medical_history__diabetes": "diabetes",
    "medical_history__hypertension": "hypertension",
    "withdrawal__withdrawn_on": "withdrawn_on",
    "withdrawal__reason": "withdrawal_reason",
    "withdrawal__reason_other": "withdrawal_reason_other",
    "consent__consent_date": "consent_date",
    "consent__information_sheet_version": "information_sheet_version",
    "medical_history__other_treatment": "other_treatment",
}
RECORD_FIELDS = {
    name: (model, list(model.FIELDS))
    for name, model in (
        ("adverse_events", AdverseEvent),
        ("treatment_exposure", TreatmentExposure),
        ("concomitant_medication", ConcomitantMedication),
    )
}
VISIT_LEVEL = [v for mapping in VISIT_VARIABLES.values() for v in mapping.values()]
ANALYSIS_LEVEL = [v for v in VISIT_LEVEL if v not in RAW_ONLY]

# Per visit and form: its status, its source data verification and its lock (issue 11.9).


def form_state_columns(model: type) -> list[str]:
    """``<form>_status``, ``<form>_verified`` and ``<form>_locked`` of one form."""
    return [f"{model.FORM_CODE}_{part}" for part in ("status", "verified", "locked")]


FORM_STATE_COLUMNS = [c for model in CRF_MODELS.values() for c in form_state_columns(model)]
# A field left empty on purpose carries a missing-data code: exported as "<variable>_code".
CODE_SUFFIX = "_code"


def code_column(variable: str) -> str:
    return f"{variable}{CODE_SUFFIX}"


# analysis variable of each codable entry field, per form
CODED_VARIABLES: dict[type, dict[str, str]] = {
    model: {name: mapping[name] for name in model.codable_fields() if name in mapping}
    for model, mapping in VISIT_VARIABLES.items()
}
