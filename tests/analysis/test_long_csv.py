"""The long CSV written straight from the rows read (``long_csv``) is, byte for byte, the table
the pandas path builds (the datasets of ``dataset_chunks`` shaped by ``tables`` and written by
``to_csv_text``), whatever the options, the chunk size and the data: drafts, missing-data codes,
verified, changed and locked forms, withdrawals, text a spreadsheet would run."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from analysis.dataset import build_dataset, coded_variables, dataset_chunks
from analysis.exports.csv_tables import INTEGER_KINDS, INTEGER_VARIABLES, stream_csv, to_csv_text
from analysis.exports.options import ExportOptions, ExportResult, patient_queryset
from analysis.exports.shaping import tables
from assessments.models import CRF_MODELS, LabPanel, SpasmAssessment
from assessments.services import crf_save
from monitoring import services as monitoring
from patients.models import MedicalHistory, Patient
from tests.analysis.helpers import dm


def _pandas_long(options: ExportOptions, chunk: int) -> str:
    """The long table as the pandas path writes it."""
    patients = patient_queryset(options)
    coded = coded_variables(patients)
    texts, header = [], True
    for dataset in dataset_chunks(
        patients, restricted=bool(options.sites or options.study_ids), chunk=chunk
    ):
        texts.append(
            to_csv_text(tables(dataset, options, only="long", coded=coded)["long"], header)
        )
        header = False
    if header:
        dataset = build_dataset(patient_pks=[])
        texts.append(to_csv_text(tables(dataset, options, only="long", coded=coded)["long"]))
    return "".join(texts)


@pytest.fixture
def varied(cohort):
    """The seeded cohort with a draft, codes, a verified, a changed and locked forms, a visit
    lock, and text a spreadsheet would run."""
    monitor, manager = User.objects.get(username="monitor"), dm()
    complete = SpasmAssessment.objects.filter(status="complete").select_related("visit__patient")
    spasm = list(complete.order_by("pk")[:6])
    draft, coded, verified, changed, form_locked, visit_locked = spasm
    draft.vas_intensity = None
    crf_save(form=draft, user=manager, action="draft", reason="to re-check")
    coded.vas_frequency, coded.vas_intensity = None, None
    coded.missing_codes = {"vas_frequency": "UNK", "vas_intensity": "ND"}
    crf_save(form=coded, user=manager, action="complete", reason="coded", confirmed=True)
    for form in (verified, changed, form_locked):
        monitoring.form_verify(visit=form.visit, form_code="spasm", user=monitor)
    changed.vas_intensity = 20
    crf_save(form=changed, user=manager, action="complete", reason="re-read", confirmed=True)
    monitoring.record_lock(
        patient=form_locked.visit.patient, visit=form_locked.visit, form_code="spasm", user=manager
    )
    for code, model in CRF_MODELS.items():  # a visit is locked once its forms are verified
        form = model.objects.filter(visit=visit_locked.visit).first()
        if form is not None and form.status != "draft":
            monitoring.form_verify(visit=visit_locked.visit, form_code=code, user=monitor)
    monitoring.record_lock(
        patient=visit_locked.visit.patient, visit=visit_locked.visit, user=manager
    )
    panel = LabPanel.objects.filter(status="complete").order_by("pk").first()
    panel.b12_qualifier, panel.missing_codes = "<", {"dopamine_value": "NA"}
    panel.dopamine_value = None
    crf_save(form=panel, user=manager, action="complete", reason="coded", confirmed=True)
    history = MedicalHistory.objects.order_by("pk").first()
    history.other_treatment = "=HYPERLINK(1)"
    history.save_audited(user=manager, reason="risky text")
    return cohort


OPTIONS = [
    ExportOptions(),
    ExportOptions(relative_dates=False),
    ExportOptions(visits=["V0", "V3"], forms=["labs", "spasm"]),
    ExportOptions(sites=["TAS"]),
    ExportOptions(study_ids=["nobody"]),
]


@pytest.mark.parametrize("options", OPTIONS, ids=["all", "calendar", "some", "site", "none"])
def test_it_writes_what_the_pandas_path_writes(varied, options):
    assert Patient.objects.exists() and coded_variables()
    for chunk in (3, 2000):
        expected = _pandas_long(options, chunk)
        result = ExportResult()
        written = "".join(stream_csv("long", options, result, chunk=chunk))
        assert written == expected
        assert result.rows["long"] == expected.count("\r\n") - 1


def test_the_fixture_has_what_the_export_must_reproduce(varied):
    text = _pandas_long(ExportOptions(), 2000)
    for seen in ("draft", "changed", "'=HYPERLINK(1)", "UNK", ",<,", "True"):
        assert seen in text, seen


def test_every_whole_number_field_is_written_as_a_whole_number():
    """The pandas path writes a whole-number field with gaps as 3 only for the variables in
    INTEGER_VARIABLES; long_csv writes every one as 3: they must be the same set."""
    for model in CRF_MODELS.values():
        for field in model._meta.get_fields():
            if getattr(field, "get_internal_type", None) and field.get_internal_type() in (
                INTEGER_KINDS
            ):
                from analysis.dataset import VISIT_VARIABLES

                variable = VISIT_VARIABLES[model].get(field.name)
                assert variable is None or variable in INTEGER_VARIABLES, variable
