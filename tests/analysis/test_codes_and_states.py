"""Issue 11.7 and 11.9 in the analysis layer: missing-data codes exported (CSV code columns,
SPSS user-missing values, data dictionary) and treated as missing; form status, verification,
lock and out-of-window columns read in a fixed number of queries; drafts left out and counted."""

from __future__ import annotations

import io
import re
import tempfile
import zipfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from analysis.dataset import build_dataset, draft_counts
from analysis.exports.bundle import bundle_bytes
from analysis.exports.csv_tables import stream_csv
from analysis.exports.dictionary import SPSS_MISSING_VALUES, dictionary
from analysis.exports.options import ExportOptions, ExportResult
from analysis.exports.spss import spss_bytes
from analysis.results import compute_results
from assessments.models import Hads, Hdrs17, LabPanel, Rand36, SpasmAssessment, Visit
from assessments.services import crf_save, visit_save
from monitoring import services as monitoring
from tests import factories
from tests.analysis.helpers import csv_rows
from tests.conftest import login
from tests.factories import SPASM


def _spasm(patient, user, code="V0", action="complete", **values) -> SpasmAssessment:
    visit = Visit.objects.get(patient=patient, code=code)
    form = SpasmAssessment(visit=visit, **{**{k: int(v) for k, v in SPASM.items()}, **values})
    return crf_save(form=form, user=user, action=action, confirmed=True)


@pytest.fixture
def trial(alice, site_a):
    """Three randomised SMR patients with a complete V0 spasm form each."""
    factories.allocation_list(["SMR"], per_stratum=10)
    patients = [factories.randomised(site_a, alice) for _ in range(3)]
    for patient in patients:
        _spasm(patient, alice)
    return patients


def _csv(name: str, **kwargs) -> list[dict[str, str]]:
    return csv_rows("".join(stream_csv(name, ExportOptions(), ExportResult(), **kwargs)))


# --- 11.9: what the analysis uses; status columns ---------------------------------------------


def test_verified_and_locked_forms_are_analysed_and_drafts_are_left_out_and_counted(
    trial, alice, mona, dana
):
    verified, locked, draft_patient = trial
    spasm = SpasmAssessment.objects.get(visit__patient=verified)
    monitoring.form_verify(visit=spasm.visit, form_code="spasm", user=mona)
    to_lock = SpasmAssessment.objects.get(visit__patient=locked)
    monitoring.form_verify(visit=to_lock.visit, form_code="spasm", user=mona)
    monitoring.record_lock(patient=locked, visit=to_lock.visit, form_code="spasm", user=dana)
    draft = SpasmAssessment.objects.get(visit__patient=draft_patient)
    draft.vas_intensity = None
    crf_save(form=draft, user=alice, action="draft", reason="value to re-check")

    dataset = build_dataset()
    v0 = dataset.long[dataset.long.visit == "V0"].set_index("study_id")
    # verification and locking leave the status "complete": those values are analysed
    assert v0.loc[verified.study_id, "vas_frequency"] == int(SPASM["vas_frequency"])
    assert v0.loc[locked.study_id, "vas_frequency"] == int(SPASM["vas_frequency"])
    assert pd.isna(v0.loc[draft_patient.study_id, "vas_frequency"])
    assert dataset.drafts_excluded["spasm"] == 1
    assert draft_counts()["spasm"] == 1
    assert compute_results(dataset)["drafts_excluded"]["by_form"]["spasm"] == 1
    # and the status columns say which is which
    assert v0.loc[
        verified.study_id, ["spasm_status", "spasm_verified", "spasm_locked"]
    ].tolist() == [
        "complete",
        "yes",
        False,
    ]
    assert v0.loc[locked.study_id, ["spasm_verified", "spasm_locked"]].tolist() == ["yes", True]
    assert v0.loc[draft_patient.study_id, ["spasm_status", "spasm_verified"]].tolist() == [
        "draft",
        "no",
    ]


def test_a_change_after_verification_and_a_patient_lock_show_in_the_columns(
    trial, alice, mona, dana
):
    changed, patient_locked, _other = trial
    form = SpasmAssessment.objects.get(visit__patient=changed)
    monitoring.form_verify(visit=form.visit, form_code="spasm", user=mona)
    form.vas_intensity = 20
    crf_save(form=form, user=alice, action="complete", reason="chart re-read")
    locked_form = SpasmAssessment.objects.get(visit__patient=patient_locked)
    monitoring.form_verify(visit=locked_form.visit, form_code="spasm", user=mona)
    # the patient lock needs every form complete or not done, and verified
    for model in (LabPanel, Rand36, Hads, Hdrs17):
        other = model.objects.filter(visit=locked_form.visit).first() or model(
            visit=locked_form.visit
        )
        crf_save(form=other, user=alice, action="not_done", not_done_reason="not collected")
        monitoring.form_verify(visit=other.visit, form_code=other.FORM_CODE, user=mona)
    monitoring.record_lock(patient=patient_locked, user=dana)

    v0 = build_dataset().long.query("visit == 'V0'").set_index("study_id")
    assert v0.loc[changed.study_id, "spasm_verified"] == "changed"
    assert v0.loc[changed.study_id, "vas_intensity"] == 20
    assert v0.loc[patient_locked.study_id, "spasm_locked"]
    assert v0.loc[patient_locked.study_id, "labs_status"] == "not_done"
    assert v0.loc[patient_locked.study_id, "labs_locked"]


def test_out_of_window_visits_are_flagged(trial, alice):
    patient = trial[0]
    late = Visit(
        patient=patient,
        code="V1",
        status=Visit.Status.DONE,
        visit_date=patient.allocation.randomised_on + timedelta(days=40),  # V1: day 28 ± 4
    )
    visit_save(visit=late, user=alice, confirmed=True)
    factories.visit(trial[1], alice, "V1")
    long = build_dataset().long.set_index(["study_id", "visit"])
    assert long.loc[(patient.study_id, "V1"), "visit_out_of_window"]
    assert not long.loc[(trial[1].study_id, "V1"), "visit_out_of_window"]


def test_the_status_columns_cost_one_query_per_source_whatever_the_number_of_patients(
    alice, site_a, mona
):
    factories.allocation_list(["SMR"], per_stratum=10)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            build_dataset(records=True)
        return len(captured.captured_queries)

    first = factories.randomised(site_a, alice)
    form = _spasm(first, alice)
    monitoring.form_verify(visit=form.visit, form_code="spasm", user=mona)
    few = queries()
    for _ in range(4):
        patient = factories.randomised(site_a, alice)
        form = _spasm(patient, alice)
        monitoring.form_verify(visit=form.visit, form_code="spasm", user=mona)
    assert queries() == few


def test_long_and_wide_csv_and_the_dictionary_carry_the_status_columns(trial, mona):
    form = SpasmAssessment.objects.get(visit__patient=trial[0])
    monitoring.form_verify(visit=form.visit, form_code="spasm", user=mona)
    long = _csv("long")
    row = next(r for r in long if r["study_id"] == trial[0].study_id and r["visit"] == "V0")
    assert (row["spasm_status"], row["spasm_verified"], row["spasm_locked"]) == (
        "complete",
        "yes",
        "False",
    )
    assert row["visit_out_of_window"] == "False"
    assert {"labs_status", "hads_verified", "hdrs_locked"} <= set(row)
    wide = {r["study_id"]: r for r in _csv("wide")}
    assert wide[trial[0].study_id]["spasm_verified__V0"] == "yes"
    assert wide[trial[1].study_id]["spasm_verified__V0"] == "no"
    described = dictionary().set_index("variable")
    for column in ("visit_out_of_window", "spasm_status", "spasm_verified", "labs_locked"):
        assert column in described.index, column
        assert described.loc[column, "label_ru"], column
    assert "changed" in described.loc["spasm_verified", "allowed"]


def test_the_bundle_readme_and_the_export_page_report_the_drafts_left_out(trial, alice, dana):
    form = SpasmAssessment.objects.get(visit__patient=trial[2])
    form.vas_intensity = None
    crf_save(form=form, user=alice, action="draft", reason="to re-check")
    drafts = draft_counts()
    total = sum(drafts.values())
    assert total >= 1  # the spasm draft, and the baseline lab panels awaiting their values
    data, _rows = bundle_bytes(ExportOptions(), data_cut="test")
    readme = zipfile.ZipFile(io.BytesIO(data)).read("README.txt").decode()
    assert f"{total} drafts excluded" in readme and f"spasm {drafts['spasm']}" in readme
    page = login(dana).get(reverse("analysis:export")).content.decode()
    assert 'data-testid="drafts-excluded"' in page
    assert re.search(rf'data-testid="drafts-excluded">[^<]*\b{total}\b', page)


# --- 11.7: missing-data codes ------------------------------------------------------------------


def _code(patient, user, **codes) -> SpasmAssessment:
    form = SpasmAssessment.objects.get(visit__patient=patient, visit__code="V0")
    for name in codes:
        setattr(form, name, None)
    form.missing_codes = codes
    return crf_save(form=form, user=user, action="complete", reason="coded", confirmed=True)


def test_a_code_column_follows_only_the_variables_that_carry_a_code(trial, alice):
    _code(trial[1], alice, vas_frequency="UNK")
    rows = _csv("long")
    header = list(rows[0])
    assert "vas_frequency_code" in header
    assert header.index("vas_frequency_code") == header.index("vas_frequency") + 1
    assert "vas_intensity_code" not in header
    coded = next(r for r in rows if r["study_id"] == trial[1].study_id and r["visit"] == "V0")
    assert (coded["vas_frequency"], coded["vas_frequency_code"]) == ("", "UNK")
    other = next(r for r in rows if r["study_id"] == trial[0].study_id and r["visit"] == "V0")
    assert (other["vas_frequency"], other["vas_frequency_code"]) == (SPASM["vas_frequency"], "")
    wide = {r["study_id"]: r for r in _csv("wide")}
    assert wide[trial[1].study_id]["vas_frequency_code__V0"] == "UNK"


def test_chunks_of_patients_share_one_header_with_the_code_columns(trial, alice):
    _code(trial[2], alice, jankovic_severity="NA")  # only in the last chunk
    whole = "".join(stream_csv("long", ExportOptions(), ExportResult()))
    chunked = "".join(stream_csv("long", ExportOptions(), ExportResult(), chunk=1))
    assert chunked == whole
    assert "jankovic_severity_code" in whole.splitlines()[0]


def test_the_analysis_treats_a_coded_value_as_missing(trial, alice):
    _code(trial[0], alice, vas_frequency="REF")
    dataset = build_dataset()
    wide = dataset.wide().set_index("study_id")
    assert pd.isna(wide.loc[trial[0].study_id, "vas_frequency__V0"])
    assert wide.loc[trial[1].study_id, "vas_frequency__V0"] == int(SPASM["vas_frequency"])
    missing = compute_results(dataset)["primary"]["missing"]
    v0_missing = sum(r["missing"] for r in missing if r["visit"] == "V0")
    expected = int(dataset.long.query("visit == 'V0'").vas_frequency.isna().sum())
    assert v0_missing == expected >= 1
    assert dataset.missing_codes.to_dict("records") == [
        {"study_id": trial[0].study_id, "visit": "V0", "variable": "vas_frequency", "code": "REF"}
    ]


def test_codes_of_a_draft_stay_out_of_the_analysis_files_with_its_values(trial, alice):
    form = SpasmAssessment.objects.get(visit__patient=trial[0])
    form.vas_frequency, form.missing_codes = None, {"vas_frequency": "ND"}
    crf_save(form=form, user=alice, action="draft", reason="not measured")
    assert build_dataset().missing_codes.empty
    assert "vas_frequency_code" not in _csv("long")[0]


def test_spss_declares_the_codes_as_user_missing_values(trial, alice):
    _code(trial[0], alice, vas_frequency="UNK", vas_intensity="ND")
    data, _rows = spss_bytes(ExportOptions())
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.sav"
        path.write_bytes(data)
        kept, meta = pyreadstat.read_sav(str(path), user_missing=True)
        plain, _meta = pyreadstat.read_sav(str(path))
    row = (kept.study_id == trial[0].study_id) & (kept.visit == "V0")
    assert kept.loc[row, "vas_frequency"].item() == SPSS_MISSING_VALUES["UNK"]
    assert kept.loc[row, "vas_intensity"].item() == SPSS_MISSING_VALUES["ND"]
    assert pd.isna(plain.loc[row, "vas_frequency"].item())  # missing for SPSS statistics
    assert meta.missing_ranges["vas_frequency"] == [{"lo": -94.0, "hi": -91.0}]
    assert "unknown" in meta.variable_value_labels["vas_frequency"][-92.0]
    other = (kept.study_id == trial[1].study_id) & (kept.visit == "V0")
    assert kept.loc[other, "vas_frequency"].item() == int(SPASM["vas_frequency"])


def test_the_dictionary_documents_the_code_scheme_and_lists_the_codes():
    described = dictionary().set_index("variable")
    row = described.loc["<variable>_code"]
    assert row["allowed"] == (
        "ND=not done; UNK=unknown / not available; NA=not applicable; REF=refused"
    )
    assert "only when some form" in row["derivation"] and "-91" in row["derivation"]
    assert row["label_ru"] and row["label_ru"] != row["label_en"]


def test_labs_codes_go_to_the_entered_variable(trial, alice):
    panel = LabPanel.objects.get(visit__patient=trial[0], visit__code="V0")
    panel.cortisol_value, panel.dopamine_value = Decimal("400"), None
    panel.missing_codes = {"dopamine_value": "ND"}
    panel.sample_time = panel.sample_time or __import__("datetime").time(9, 0)
    crf_save(form=panel, user=alice, action="complete", reason="no dopamine kit", confirmed=True)
    row = next(r for r in _csv("long") if r["study_id"] == trial[0].study_id and r["visit"] == "V0")
    assert (row["dopamine_value"], row["dopamine_value_code"], row["dopamine_pmol_l"]) == (
        "",
        "ND",
        "",
    )
    assert Hads.objects.count() == 0  # nothing else touched
