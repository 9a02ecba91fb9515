"""The import of an export bundle: the round trip, all-or-nothing on hard errors, soft
warnings reported and saved only when accepted."""

from __future__ import annotations

import zipfile

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from assessments.models import Hads, SpasmAssessment
from demo.seed import seed_accounts, seed_cohort
from patients.models import Patient
from tests import dbroles
from tests.analysis.helpers import bundle_with, csv_rows, csv_text, dm


@pytest.mark.django_db(transaction=True)
def test_export_import_export_gives_identical_csv_files(tmp_path):
    sites = seed_accounts("cohort-password-1")
    seed_cohort(patients=8, seed=4, sites=sites)
    first = tmp_path / "first.zip"
    call_command("export_data", "--format", "bundle", "--out", str(first))
    with dbroles.as_owner():  # emptying the database is the owner's (tests/dbroles.py)
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


@pytest.mark.django_db(transaction=True)  # flush needs a real transaction
def test_a_hard_error_aborts_the_whole_import_with_a_report(cohort, tmp_path, capsys):
    def break_one_value(text: str) -> str:
        rows = csv_rows(text)
        target = next(r for r in rows if r["vas_frequency"])
        target["vas_frequency"] = "150"
        return csv_text(rows)

    path = bundle_with(tmp_path, break_one_value)
    with dbroles.as_owner():  # emptying the database is the owner's (tests/dbroles.py)
        call_command("flush", interactive=False)
    seed_accounts("cohort-password-1")
    with pytest.raises(CommandError, match="nothing saved"):
        call_command("import_data", path, "--user", "datamanager", "--accept-warnings")
    err = capsys.readouterr().err
    assert "vas_frequency='150'" in err and "row " in err
    assert not Patient.objects.exists()


def test_import_refuses_patients_that_already_have_an_allocation(cohort, tmp_path, capsys):
    path = bundle_with(tmp_path, lambda text: text)
    with pytest.raises(CommandError):
        call_command("import_data", path, "--user", "datamanager", "--accept-warnings")
    from patients.services import ALREADY_ALLOCATED

    expected = str(ALREADY_ALLOCATED) % {"study_id": Patient.objects.order_by("study_id")[0]}
    assert expected in capsys.readouterr().err


@pytest.mark.django_db(transaction=True)  # flush needs a real transaction
def test_dry_run_saves_nothing(cohort, tmp_path):
    path = bundle_with(tmp_path, lambda text: text)
    with dbroles.as_owner():  # emptying the database is the owner's (tests/dbroles.py)
        call_command("flush", interactive=False)
    seed_accounts("cohort-password-1")
    call_command("import_data", path, "--user", "datamanager", "--dry-run", "--accept-warnings")
    assert not Patient.objects.exists()


def _large_vas_change(text: str) -> tuple[str, dict[str, str]]:
    """One patient's VAS frequency 100 at V0 and 0 from V1 on: a change of more than 50 mm
    (a soft warning) at V1 only. Returns the edited CSV and the warning expected."""
    rows = csv_rows(text)
    by_visit = {}
    for number, row in enumerate(rows, start=2):  # the header is row 1
        by_visit.setdefault(row["study_id"], {})[row["visit"]] = (number, row)
    study_id = next(
        s
        for s, visits in by_visit.items()
        if all(visits[v][1]["vas_frequency"] for v in ("V0", "V1"))
    )
    for code, (_number, row) in by_visit[study_id].items():
        if row["vas_frequency"]:
            row["vas_frequency"] = "100" if code == "V0" else "0"
    number = by_visit[study_id]["V1"][0]
    return csv_text(rows), {"row": number, "study_id": study_id}


@pytest.mark.django_db(transaction=True)  # flush needs a real transaction
def test_warnings_are_reported_and_nothing_saved_until_accepted(cohort, tmp_path, capsys):
    expected = {}

    def edit(text: str) -> str:
        edited, found = _large_vas_change(text)
        expected.update(found)
        return edited

    path = bundle_with(tmp_path, edit)
    with dbroles.as_owner():  # emptying the database is the owner's (tests/dbroles.py)
        call_command("flush", interactive=False)
    seed_accounts("cohort-password-1")
    warning = (
        f"WARNING hfs_b12_long.csv row {expected['row']}: vas_frequency='0': "
        "Changed by more than 50 mm since the previous visit (100 → 0 mm)."
    )

    with (
        translation.override("en"),
        pytest.raises(CommandError, match="Re-run with --accept-warnings") as refused,
    ):
        call_command("import_data", path, "--user", "datamanager")
    err = capsys.readouterr().err
    assert warning in err
    assert "ERROR" not in err and "0 errors" in str(refused.value)
    assert not Patient.objects.exists() and not SpasmAssessment.objects.exists()

    with translation.override("en"):
        call_command("import_data", path, "--user", "datamanager", "--accept-warnings")
    assert f"WARNING (accepted) {warning.removeprefix('WARNING ')}" in capsys.readouterr().out
    form = SpasmAssessment.objects.get(
        visit__patient__study_id=expected["study_id"], visit__code="V1"
    )
    assert form.vas_frequency == 0


@pytest.mark.django_db(transaction=True)  # flush needs a real transaction
def test_missing_data_codes_survive_export_import_export(tmp_path):
    from assessments.services import crf_save

    sites = seed_accounts("cohort-password-1")
    seed_cohort(patients=8, seed=4, sites=sites)
    user = dm()
    spasm = SpasmAssessment.objects.filter(status="complete").order_by("pk").first()
    spasm.vas_intensity, spasm.missing_codes = None, {"vas_intensity": "REF"}
    crf_save(form=spasm, user=user, action="complete", reason="refused", confirmed=True)
    hads = Hads.objects.filter(status="complete").order_by("pk").first()
    hads.q03, hads.q04 = None, None
    hads.missing_codes = {"q03": "UNK", "q04": "NA"}
    crf_save(form=hads, user=user, action="complete", reason="coded", confirmed=True)
    expected = {
        (spasm.visit.patient.study_id, spasm.visit.code, "spasm"): {"vas_intensity": "REF"},
        (hads.visit.patient.study_id, hads.visit.code, "hads"): {"q03": "UNK", "q04": "NA"},
    }

    first = tmp_path / "first.zip"
    call_command("export_data", "--format", "bundle", "--out", str(first))
    with dbroles.as_owner():  # emptying the database is the owner's (tests/dbroles.py)
        call_command("flush", interactive=False)
    seed_accounts("cohort-password-1")
    call_command("import_data", str(first), "--user", "datamanager", "--accept-warnings")
    second = tmp_path / "second.zip"
    call_command("export_data", "--format", "bundle", "--out", str(second))

    stored = {
        (f.visit.patient.study_id, f.visit.code, f.FORM_CODE): f.missing_codes
        for model in (SpasmAssessment, Hads)
        for f in model.objects.exclude(missing_codes={}).select_related("visit__patient")
    }
    assert stored == expected
    assert all(
        f.status == "complete"
        for model in (SpasmAssessment, Hads)
        for f in model.objects.exclude(missing_codes={})
    )
    a, b = zipfile.ZipFile(first), zipfile.ZipFile(second)
    long = a.read("hfs_b12_long.csv").decode("utf-8-sig")
    assert "vas_intensity_code" in long.splitlines()[0] and "hads_q03_code" in long
    for name in [n for n in a.namelist() if n.endswith(".csv")]:
        assert a.read(name) == b.read(name), name
