"""Exports: formats, de-identification, spreadsheet safety, streaming, logging; the import
that round-trips."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import timedelta
from decimal import Decimal

import pyreadstat
import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone

from analysis.models import ExportLog
from assessments.models import AdverseEvent, FormStatus, LabPanel, SpasmAssessment
from assessments.services import patient_record_save
from hfs_ecrf.demo import seed_accounts, seed_cohort
from patients.models import Identity, Patient
from tests.conftest import login

DANGEROUS = ['=HYPERLINK("x")', "+1+1", "-2-2", "@SUM(A1)", "\tTAB", "\rCR"]


@pytest.fixture
def cohort(db):
    sites = seed_accounts("cohort-password-1")
    seed_cohort(patients=8, seed=3, sites=sites)
    return sites


def _dm():
    return User.objects.get(username="datamanager")


def _download(client, **params):
    response = client.get(reverse("analysis:export"), params)
    assert response.status_code == 200, response.content[:500]
    if isinstance(response, StreamingHttpResponse):
        return b"".join(response.streaming_content).decode("utf-8-sig")
    return response.content


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_only_data_managers_may_export(cohort):
    for name in ("clinician_a", "monitor", "investigator"):
        client = login(User.objects.get(username=name))
        assert client.get(reverse("analysis:export")).status_code == 403
        assert client.get(reverse("analysis:export"), {"format": "csv-long"}).status_code == 403
    assert login(_dm()).get(reverse("analysis:export")).status_code == 200
    assert not ExportLog.objects.exists()


def test_long_csv_streams_every_patient_visit_with_stored_values(cohort):
    client = login(_dm())
    response = client.get(reverse("analysis:export"), {"format": "csv-long"})
    assert isinstance(response, StreamingHttpResponse)
    rows = _rows(b"".join(response.streaming_content).decode("utf-8-sig"))
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
    assert (log.user, log.export_format, log.rows) == (_dm(), "csv-long", len(rows))


def test_exports_are_de_identified_with_relative_dates_by_default(cohort):
    text = _download(login(_dm()), format="csv-long")
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
    calendar = _download(login(_dm()), format="csv-long", calendar_dates="on")
    assert "visit_date" in calendar.splitlines()[0]


def test_wide_csv_has_one_row_per_patient(cohort):
    rows = _rows(_download(login(_dm()), format="csv-wide"))
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
            user=_dm(),
        )
    rows = _rows(_download(login(_dm()), format="adverse_events"))
    terms = {r["term"] for r in rows if r["study_id"] == patient.study_id}
    for term in DANGEROUS:
        assert "'" + term in terms
    long_rows = _rows(_download(login(_dm()), format="csv-long"))
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
        user=_dm(),
    )
    panel = LabPanel.objects.filter(visit__patient=patient, visit__code="V0").first()
    panel.dopamine_value, panel.dopamine_qualifier = Decimal("20"), "<"
    panel.save_audited(user=_dm(), reason="below detection limit")
    ae_rows = _rows(_download(login(_dm()), format="adverse_events"))
    assert tricky in {r["term"] for r in ae_rows}
    assert any(r["end_day"] == "" for r in ae_rows)
    long_rows = _rows(_download(login(_dm()), format="csv-long"))
    v0 = next(r for r in long_rows if r["study_id"] == patient.study_id and r["visit"] == "V0")
    assert (v0["dopamine_qualifier"], v0["dopamine_value"]) == ("<", "20.0")


def test_dictionary_spss_and_bundle(cohort, tmp_path):
    client = login(_dm())
    dictionary = _rows(
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
    sav.write_bytes(client.get(reverse("analysis:export"), {"format": "spss"}).content)
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
    rows = _rows(_download(login(_dm()), format="csv-long", sites="SMR"))
    assert {r["site"] for r in rows} == {"SMR"}
    chosen = list(Patient.objects.order_by("study_id")[:2])
    response = login(_dm()).post(
        reverse("admin:patients_patient_changelist"),
        {"action": "export_selected", "_selected_action": [p.pk for p in chosen]},
    )
    bundle = zipfile.ZipFile(io.BytesIO(response.content))
    exported = {r["study_id"] for r in _rows(bundle.read("hfs_b12_long.csv").decode())}
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


@pytest.mark.django_db(transaction=True)
def test_export_import_export_gives_identical_csv_files(tmp_path):
    sites = seed_accounts("cohort-password-1")
    seed_cohort(patients=8, seed=4, sites=sites)
    first = tmp_path / "first.zip"
    call_command("export_data", "--format", "bundle", "--out", str(first))
    call_command("flush", interactive=False)
    seed_accounts("cohort-password-1")
    call_command("import_data", str(first), "--user", "datamanager", "--accept-warnings")
    second = tmp_path / "second.zip"
    call_command("export_data", "--format", "bundle", "--out", str(second))
    a, b = zipfile.ZipFile(first), zipfile.ZipFile(second)
    csv_files = [n for n in a.namelist() if n.endswith(".csv")]
    assert len(csv_files) == 7
    for name in csv_files:
        assert a.read(name) == b.read(name), name
    imported = Patient.objects.filter(allocation__imported_from="first.zip")
    assert imported.exists()
    form = SpasmAssessment.objects.first()
    assert form.history.latest().history_change_reason == "imported from first.zip"


def _bundle_with(tmp_path, edit) -> str:
    from analysis import export

    data, _rows_ = export.bundle_bytes(export.ExportOptions(), data_cut="test")
    source = zipfile.ZipFile(io.BytesIO(data))
    path = tmp_path / "edited.zip"
    with zipfile.ZipFile(path, "w") as target:
        for name in source.namelist():
            content = source.read(name)
            if name == "hfs_b12_long.csv":
                content = edit(content.decode("utf-8")).encode("utf-8")
            target.writestr(name, content)
    return str(path)


@pytest.mark.django_db(transaction=True)  # flush needs a real transaction
def test_a_hard_error_aborts_the_whole_import_with_a_report(cohort, tmp_path, capsys):
    def break_one_value(text: str) -> str:
        rows = _rows(text)
        header = list(rows[0])
        target = next(r for r in rows if r["vas_frequency"])
        target["vas_frequency"] = "150"
        target["study_id"] = target["study_id"]
        out = io.StringIO()
        writer = csv.DictWriter(out, header, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue()

    path = _bundle_with(tmp_path, break_one_value)
    call_command("flush", interactive=False)
    seed_accounts("cohort-password-1")
    with pytest.raises(CommandError, match="nothing saved"):
        call_command("import_data", path, "--user", "datamanager", "--accept-warnings")
    err = capsys.readouterr().err
    assert "vas_frequency='150'" in err and "row " in err
    assert not Patient.objects.exists()


def test_import_refuses_patients_that_already_have_an_allocation(cohort, tmp_path, capsys):
    path = _bundle_with(tmp_path, lambda text: text)
    with pytest.raises(CommandError):
        call_command("import_data", path, "--user", "datamanager", "--accept-warnings")
    from patients.services import ALREADY_ALLOCATED

    expected = str(ALREADY_ALLOCATED) % {"study_id": Patient.objects.order_by("study_id")[0]}
    assert expected in capsys.readouterr().err


@pytest.mark.django_db(transaction=True)  # flush needs a real transaction
def test_dry_run_saves_nothing_and_warnings_need_accepting(cohort, tmp_path):
    path = _bundle_with(tmp_path, lambda text: text)
    call_command("flush", interactive=False)
    seed_accounts("cohort-password-1")
    call_command("import_data", path, "--user", "datamanager", "--dry-run", "--accept-warnings")
    assert not Patient.objects.exists()
