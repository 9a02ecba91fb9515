"""Exports: formats, de-identification, spreadsheet safety, streaming, logging, and the one
entry point (web page, admin action and command)."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from decimal import Decimal

import pyreadstat
import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.core.management import call_command
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone

from analysis.admin import PatientExportAdmin
from analysis.exports.files import export_file
from analysis.exports.options import ExportOptions
from analysis.models import ExportLog
from assessments.models import AdverseEvent, FormStatus, LabPanel, SpasmAssessment
from assessments.services import patient_record_save
from patients.admin import PatientAdmin
from patients.models import Identity, Patient
from tests.analysis.helpers import csv_rows, dm
from tests.conftest import login

DANGEROUS = ['=HYPERLINK("x")', "+1+1", "-2-2", "@SUM(A1)", "\tTAB", "\rCR"]


def _download(client, **params):
    response = client.get(reverse("analysis:export"), params)
    assert response.status_code == 200, response.content[:500]
    if isinstance(response, StreamingHttpResponse):
        return b"".join(response.streaming_content).decode("utf-8-sig")
    return response.content


def test_only_data_managers_may_export(cohort):
    for name in ("clinician_a", "monitor", "investigator"):
        client = login(User.objects.get(username=name))
        assert client.get(reverse("analysis:export")).status_code == 403
        assert client.get(reverse("analysis:export"), {"format": "csv-long"}).status_code == 403
    assert login(dm()).get(reverse("analysis:export")).status_code == 200
    assert not ExportLog.objects.exists()


def test_long_csv_streams_every_patient_visit_with_stored_values(cohort):
    client = login(dm())
    response = client.get(reverse("analysis:export"), {"format": "csv-long"})
    assert isinstance(response, StreamingHttpResponse)
    rows = csv_rows(b"".join(response.streaming_content).decode("utf-8-sig"))
    assert len(rows) == Patient.objects.count() * 4
    assert len({(r["study_id"], r["visit"]) for r in rows}) == len(rows)  # no duplicates
    by_key = {(r["study_id"], r["visit"]): r for r in rows}
    for form in SpasmAssessment.objects.select_related("visit__patient"):
        row = by_key[(form.visit.patient.study_id, form.visit.code)]
        # the export is the analysis dataset: a draft's values are left out by rule (SAP §4)
        stored = form.vas_frequency if form.status == FormStatus.COMPLETE else None
        assert row["vas_frequency"] == ("" if stored is None else str(stored))
        assert row["arm"] == form.visit.patient.allocation.arm  # patient vars on every row
    for panel in (
        LabPanel.objects.select_related("visit__patient")
        .filter(status=FormStatus.COMPLETE)
        .exclude(b12_value=None)
    ):
        row = by_key[(panel.visit.patient.study_id, panel.visit.code)]
        assert Decimal(row["b12_value"]) == panel.b12_value
        assert row["b12_unit"] == panel.b12_unit
    log = ExportLog.objects.get()
    assert (log.user, log.export_format, log.rows) == (dm(), "csv-long", len(rows))


def test_exports_are_de_identified_with_relative_dates_by_default(cohort):
    text = _download(login(dm()), format="csv-long")
    header = text.splitlines()[0].split(",")
    for column in (
        "full_name",
        "date_of_birth",
        "phone",
        "medical_record_number",
        "visit_date",
        "randomised_on",
        "consent_date",
    ):
        assert column not in header
    assert "visit_day" in header and "consent_day" in header
    for identity in Identity.objects.all():
        assert identity.full_name not in text and identity.medical_record_number not in text
    calendar = _download(login(dm()), format="csv-long", calendar_dates="on")
    assert "visit_date" in calendar.splitlines()[0]


def test_wide_csv_has_one_row_per_patient(cohort):
    rows = csv_rows(_download(login(dm()), format="csv-wide"))
    assert len(rows) == Patient.objects.count()
    assert "vas_frequency__V3" in rows[0] and "b12_pmol_l__V0" in rows[0]


def test_dangerous_text_is_neutralised_and_numbers_stay_numeric(cohort):
    patient = Patient.objects.filter(allocation__isnull=False).first()
    for term in DANGEROUS:
        patient_record_save(
            record=AdverseEvent(
                patient=patient,
                term=term,
                onset_on=timezone.localdate() - timedelta(days=2),
                severity="mild",
                relation="unlikely",
                outcome="recovered",
            ),
            user=dm(),
        )
    rows = csv_rows(_download(login(dm()), format="adverse_events"))
    terms = {r["term"] for r in rows if r["study_id"] == patient.study_id}
    for term in DANGEROUS:
        assert "'" + term in terms
    long_rows = csv_rows(_download(login(dm()), format="csv-long"))
    negatives = [r["consent_day"] for r in long_rows if r["consent_day"].startswith("-")]
    assert negatives and all(v.lstrip("-").isdigit() for v in negatives)


def test_unicode_newlines_quotes_empty_values_and_qualifiers_survive(cohort):
    patient = Patient.objects.filter(allocation__isnull=False).first()
    tricky = 'головокружение, "сильное"\nвторая строка'
    patient_record_save(
        record=AdverseEvent(
            patient=patient,
            term=tricky,
            onset_on=timezone.localdate() - timedelta(days=1),
            severity="moderate",
            relation="possible",
            outcome="recovering",
        ),
        user=dm(),
    )
    panel = LabPanel.objects.filter(visit__patient=patient, visit__code="V0").first()
    panel.dopamine_value, panel.dopamine_qualifier = Decimal("20"), "<"
    panel.save_audited(user=dm(), reason="below detection limit")
    ae_rows = csv_rows(_download(login(dm()), format="adverse_events"))
    assert tricky in {r["term"] for r in ae_rows}
    assert any(r["end_day"] == "" for r in ae_rows)
    long_rows = csv_rows(_download(login(dm()), format="csv-long"))
    v0 = next(r for r in long_rows if r["study_id"] == patient.study_id and r["visit"] == "V0")
    assert (v0["dopamine_qualifier"], v0["dopamine_value"]) == ("<", "20.0")


def test_dictionary_spss_and_bundle(cohort, tmp_path):
    client = login(dm())
    dictionary = csv_rows(
        client.get(reverse("analysis:export"), {"format": "dictionary"}).content.decode()
    )
    vas = next(r for r in dictionary if r["variable"] == "vas_frequency")
    assert (vas["label_en"], vas["label_ru"], vas["unit"], vas["allowed"]) == (
        "VAS spasm frequency",
        "ВАШ частоты спазма",
        "mm",
        "0–100",
    )
    q1 = next(r for r in dictionary if r["variable"] == "rand36_q01")
    assert "1=excellent" in q1["allowed"]
    sav = tmp_path / "x.sav"
    response = client.get(reverse("analysis:export"), {"format": "spss"})
    assert response.streaming  # read back from its temporary file, not held whole
    sav.write_bytes(b"".join(response.streaming_content))
    frame, meta = pyreadstat.read_sav(str(sav))
    assert len(frame) == Patient.objects.count() * 4
    assert meta.column_names_to_labels["vas_frequency"] == "VAS spasm frequency"
    assert meta.variable_value_labels["rand36_q01"][1.0] == "excellent"
    bundle = zipfile.ZipFile(
        io.BytesIO(client.get(reverse("analysis:export"), {"format": "bundle"}).content)
    )
    names = set(bundle.namelist())
    assert {
        "hfs_b12_long.csv",
        "hfs_b12_wide.csv",
        "patients.csv",
        "adverse_events.csv",
        "treatment_exposure.csv",
        "concomitant_medication.csv",
        "data_dictionary.csv",
        "hfs_b12_long.sav",
        "README.txt",
    } <= names
    readme = bundle.read("README.txt").decode()
    assert "data cut" in readme and "filters" in readme and "software" in readme
    assert ExportLog.objects.filter(export_format="bundle").exists()


def test_site_filter_and_admin_action(cohort):
    rows = csv_rows(_download(login(dm()), format="csv-long", sites="SMR"))
    assert {r["site"] for r in rows} == {"SMR"}
    chosen = list(Patient.objects.order_by("study_id")[:2])
    response = login(dm()).post(
        reverse("admin:patients_patient_changelist"),
        {"action": "export_selected", "_selected_action": [p.pk for p in chosen]},
    )
    bundle = zipfile.ZipFile(io.BytesIO(response.content))
    exported = {r["study_id"] for r in csv_rows(bundle.read("hfs_b12_long.csv").decode())}
    assert exported == {p.study_id for p in chosen}


def test_export_command_writes_each_format(cohort, tmp_path):
    for fmt, name in (
        ("csv-long", "l.csv"),
        ("csv-wide", "w.csv"),
        ("dictionary", "d.csv"),
        ("spss", "s.sav"),
        ("bundle", "b.zip"),
    ):
        call_command("export_data", "--format", fmt, "--out", str(tmp_path / name))
        assert (tmp_path / name).stat().st_size > 0
    assert ExportLog.objects.count() == 5


def test_web_and_command_get_the_same_file_from_the_one_entry_point(cohort, tmp_path):
    response = login(dm()).get(reverse("analysis:export"), {"format": "csv-long"})
    web = b"".join(response.streaming_content)
    call_command("export_data", "--format", "csv-long", "--out", str(tmp_path / "l.csv"))
    assert (tmp_path / "l.csv").read_bytes() == web
    assert web.startswith("\ufeff".encode())
    logs = list(ExportLog.objects.order_by("pk").values_list("user", "export_format", "rows"))
    rows = Patient.objects.count() * 4
    assert logs == [(dm().pk, "csv-long", rows), (None, "csv-long", rows)]


def test_a_streamed_table_is_logged_once_read_to_the_end(cohort):
    file = export_file("patients", ExportOptions(sites=["SMR"]), dm())
    assert file.streamed and file.filename.startswith("hfs_b12_patients_")
    assert not ExportLog.objects.exists()
    body = b"".join(file.chunks).decode("utf-8-sig")
    log = ExportLog.objects.get()
    expected = Patient.objects.filter(site__code="SMR").count()
    assert len(csv_rows(body)) == expected == log.rows == file.log.rows
    assert (log.user, log.export_format, log.filters["sites"]) == (dm(), "patients", ["SMR"])


def test_whole_files_are_logged_at_once_with_their_rows(cohort):
    file = export_file("dictionary", ExportOptions(), None)
    assert not file.streamed and file.content_type.startswith("text/csv")
    variables = csv_rows(b"".join(file.chunks).decode("utf-8"))
    log = ExportLog.objects.get()
    assert (log.user, log.export_format, log.rows) == (None, "dictionary", len(variables))


def test_an_unknown_format_is_refused_naming_the_allowed_ones(cohort):
    with pytest.raises(ValueError, match="'xlsx' is not an export format; allowed: csv-long"):
        export_file("xlsx", ExportOptions(), dm())
    response = login(dm()).get(reverse("analysis:export"), {"format": "xlsx"})
    assert response.status_code == 200 and b"xlsx" in response.content  # the form's error
    assert not ExportLog.objects.exists()


def test_the_export_action_is_added_by_analysis_not_written_in_patients():
    assert "export_selected" not in PatientAdmin.actions
    assert not hasattr(PatientAdmin, "export_selected")
    registered = admin.site.get_model_admin(Patient)
    assert isinstance(registered, PatientExportAdmin)
    assert "export_selected" in registered.actions
