"""The REDCap-compatible API driven by the real PyCap package against a live server."""

from __future__ import annotations

import csv
import gc
import io

import pytest
import redcap
from django.contrib.auth.models import User

from analysis.dataset import VISIT_VARIABLES, form_state_columns
from analysis.exports import csv_tables, dictionary, options, shaping
from api.models import ApiCall
from api.tokens import token_create, token_revoke
from assessments.models import ConcomitantMedication, SpasmAssessment
from assessments.schedule import VISITS
from demo.seed import seed_accounts, seed_cohort
from patients.models import Patient

pytestmark = pytest.mark.django_db(transaction=True)
EN = {"headers": {"Accept-Language": "en"}}


@pytest.fixture
def cohort():
    sites = seed_accounts("cohort-password-1")
    seed_cohort(patients=6, seed=3, sites=sites)
    return sites


@pytest.fixture(autouse=True)
def _pycap_connection_closed():
    """PyCap sends every request through one module-wide requests session, which keeps its HTTP
    connection to the live server open; the server thread answering it, with its database
    connection (kept: CONN_MAX_AGE), would then live until the process ends and block dropping
    the test database. Closed after each test, so the thread ends and Django closes its database
    connections (ThreadedWSGIServer.close_request). The socket is only released once nothing
    refers to it any more: a caught RedcapError's traceback still does (a reference cycle)."""
    yield
    redcap.request._session.close()  # noqa: SLF001 - PyCap takes no session of ours
    gc.collect()


def _project(live_server, username: str) -> redcap.Project:
    _row, token = token_create(user=User.objects.get(username=username))
    return redcap.Project(f"{live_server.url}/api/", token, **EN)


def _long_csv() -> list[dict[str, str]]:
    result = options.ExportResult()
    text = "".join(csv_tables.stream_csv("long", options.ExportOptions(), result))
    return list(csv.DictReader(io.StringIO(text)))


def test_metadata_field_names_events_and_mappings(cohort, live_server):
    project = _project(live_server, "datamanager")
    assert project.is_longitudinal and project.def_field == "study_id"
    assert str(project.export_version()) == "14.0.0"
    metadata = project.export_metadata()
    by_name = {row["field_name"]: row for row in metadata}
    vas = by_name["vas_frequency"]
    assert (vas["form_name"], vas["field_type"], vas["field_label"]) == (
        "spasm",
        "text",
        "VAS spasm frequency",
    )
    assert (vas["text_validation_type_or_show_slider_number"], vas["text_validation_min"]) == (
        "integer",
        "0",
    )
    assert vas["text_validation_max"] == "100" and vas["required_field"] == "y"
    assert "mm" in vas["field_note"]
    q1 = by_name["rand36_q01"]
    assert q1["field_type"] == "dropdown"
    assert q1["select_choices_or_calculations"].startswith("1, excellent | 2, very good")
    assert by_name["jankovic_total"]["field_annotation"] == "@READONLY"
    assert by_name["prior_botulinum_toxin"]["field_type"] == "yesno"
    # every variable of the data dictionary is there (calendar dates as days since day 0)
    variables = set(dictionary.dictionary().variable)
    relative = {k: v for k, v in shaping.RELATIVE.items() if v}
    expected = {relative.get(v, v) for v in variables} - {"visit", "randomised_on", "visit_date"}
    # form states, SDV, locks and missing-data codes: not REDCap fields (REDCap keeps its own
    # <form>_complete, exported as such)
    workflow = {"visit_out_of_window"} | {
        name for model in VISIT_VARIABLES for name in form_state_columns(model)
    }
    expected = {v for v in expected - workflow if not v.endswith("_code")}
    # the visit's status and missed reason are CSV columns the dictionary does not list
    assert expected | {"visit_status", "visit_missed_reason"} == set(by_name)
    frame = project.export_metadata(format_type="df")
    assert frame.loc["vas_intensity", "form_name"] == "spasm"
    names = project.export_field_names()
    assert {
        "original_field_name": "spasm_complete",
        "choice_value": "",
        "export_field_name": "spasm_complete",
    } in names  # noqa: E501
    mapping = project.export_instrument_event_mappings()
    for code, spec in VISITS.items():
        forms = {m["form"] for m in mapping if m["unique_event_name"] == f"{code.lower()}_arm_1"}
        assert forms - {"visit", "enrolment"} == set(spec.forms)
    repeating = {m["form"] for m in mapping if m["unique_event_name"] == "ongoing_arm_1"}
    assert repeating == {"adverse_events", "treatment_exposure", "concomitant_medication"}
    events = project.export_events()
    assert [e["unique_event_name"] for e in events][:4] == [
        "v0_arm_1",
        "v1_arm_1",
        "v2_arm_1",
        "v3_arm_1",
    ]
    instruments = {i["instrument_name"] for i in project.export_instruments()}
    assert {"spasm", "labs", "rand36", "hads", "hdrs", "adverse_events"} <= instruments
    assert project.export_project_info()["is_longitudinal"] == 1


def test_records_flat_df_and_eav_agree_with_the_long_csv(cohort, live_server):
    project = _project(live_server, "datamanager")
    frame = project.export_records(format_type="df")
    assert frame.index.names == ["study_id", "redcap_event_name"]
    long = _long_csv()
    compared = 0
    for row in long:
        key = (row["study_id"], f"{row['visit'].lower()}_arm_1")
        if not row["visit_status"]:  # a visit not held has no row (V0 holds the enrolment)
            assert row["visit"] == "V0" or key not in frame.index
            continue
        got = frame.loc[[key]]
        got = got[got.redcap_repeat_instrument.isna()].iloc[0]
        for name in ("vas_frequency", "b12_pmol_l", "hads_a", "visit_day"):
            if row[name] == "":
                assert got[name] != got[name]  # NaN
            else:
                assert float(got[name]) == float(row[name]), (key, name)
                compared += 1
    assert compared > 20
    # identity data never leave
    assert not {"full_name", "phone", "date_of_birth", "visit_date"} & set(frame.columns)

    first = long[0]["study_id"]
    eav = project.export_records(
        record_type="eav", records=[first], fields=["vas_frequency"], events=["v0_arm_1"]
    )
    assert {r["record"] for r in eav} == {first}
    assert {r["field_name"] for r in eav} <= {"vas_frequency", "study_id"}
    v0 = next(r for r in long if r["study_id"] == first and r["visit"] == "V0")
    assert (
        next(r["value"] for r in eav if r["field_name"] == "vas_frequency") == v0["vas_frequency"]
    )
    spasm_only = project.export_records(forms=["spasm"], events=["v1_arm_1"])
    assert {r["redcap_event_name"] for r in spasm_only} == {"v1_arm_1"}
    assert "b12_value" not in spasm_only[0] and "vas_frequency" in spasm_only[0]
    labelled = project.export_records(records=[first], fields=["sex"], raw_or_label="label")
    sex = next(r["sex"] for r in labelled if r["sex"])
    assert sex in {"female", "male"} or sex[0].isupper() or " " in sex
    raw = project.export_records(records=[first], fields=["sex"])
    assert next(r["sex"] for r in raw if r["sex"]) in {"female", "male"}
    csv_text = project.export_records(format_type="csv", records=[first])
    assert csv_text.splitlines()[0].startswith(
        "study_id,redcap_event_name,redcap_repeat_instrument,redcap_repeat_instance"
    )
    log = ApiCall.objects.filter(method="record").order_by("at").last()
    assert log.user.username == "datamanager" and log.records == [first] and log.status == 200


def test_a_clinician_token_sees_only_its_site_and_a_revoked_token_is_refused(cohort, live_server):
    project = _project(live_server, "clinician_a")
    records = project.export_records()
    assert records and {r["study_id"][:3] for r in records} == {"SMR"}
    assert Patient.objects.filter(site__code="TAS").exists()
    user = User.objects.get(username="clinician_b")
    row, token = token_create(user=user)
    other = redcap.Project(f"{live_server.url}/api/", token, **EN)
    assert {r["study_id"][:3] for r in other.export_records()} == {"TAS"}
    token_revoke(token=row)
    with pytest.raises(redcap.RedcapError, match="permissions to use the API"):
        other.export_records()


def _spasm_target():
    """A complete V1 spasm form at SMR, and a VAS close to its V0 value (no soft warning)."""
    form = (
        SpasmAssessment.objects.filter(
            visit__code="V1",
            visit__patient__site__code="SMR",
            visit__patient__withdrawal__isnull=True,
            status="complete",
        )
        .exclude(vas_frequency=None)
        .select_related("visit__patient")
        .first()
    )
    v0 = SpasmAssessment.objects.get(visit__patient=form.visit.patient, visit__code="V0")
    new = v0.vas_frequency if v0.vas_frequency != form.vas_frequency else v0.vas_frequency + 1
    return form, min(new, 100)


def test_import_a_valid_batch_lands_with_its_audit_rows(cohort, live_server):
    project = _project(live_server, "clinician_a")
    form, new_vas = _spasm_target()
    study_id = form.visit.patient.study_id
    before = ConcomitantMedication.objects.filter(patient=form.visit.patient).count()
    batch = [
        {"study_id": study_id, "redcap_event_name": "v1_arm_1", "vas_frequency": str(new_vas)},
        {
            "study_id": study_id,
            "redcap_event_name": "ongoing_arm_1",
            "redcap_repeat_instrument": "concomitant_medication",
            "redcap_repeat_instance": str(before + 1),
            "medication": "Carbamazepine",
            "indication": "spasm",
            "start_day": "3",
        },
    ]
    assert project.import_records(batch) == {"count": 1}
    form.refresh_from_db()
    assert form.vas_frequency == new_vas and form.status == "complete"
    latest = form.history.latest()
    assert latest.history_user.username == "clinician_a"
    assert "imported through the API" in latest.history_change_reason
    medication = ConcomitantMedication.objects.filter(patient=form.visit.patient).last()
    assert medication.medication == "Carbamazepine"
    day0 = form.visit.patient.allocation.randomised_on
    assert (medication.started_on - day0).days == 3
    assert medication.history.latest().history_user.username == "clinician_a"
    # what the API exports it imports back unchanged (no new audit rows)
    rows = project.export_records(records=[study_id])
    count = form.history.count()
    assert project.import_records(rows) == {"count": 1}
    assert form.history.count() == count
    logging = project.export_logging()
    assert any(
        r["record"] == study_id
        and r["username"] == "clinician_a"
        and "vas_frequency" in r["details"]
        for r in logging
    )


def test_an_invalid_batch_lands_nothing_and_returns_the_error(cohort, live_server):
    project = _project(live_server, "clinician_a")
    form, new_vas = _spasm_target()
    study_id = form.visit.patient.study_id
    history, original = form.history.count(), form.vas_frequency
    batch = [
        {"study_id": study_id, "redcap_event_name": "v1_arm_1", "vas_frequency": str(new_vas)},
        {"study_id": study_id, "redcap_event_name": "v0_arm_1", "vas_intensity": "150"},
    ]
    with pytest.raises(redcap.RedcapError) as raised:
        project.import_records(batch)
    message = str(raised.value)
    assert '"vas_intensity","150"' in message and "100" in message
    form.refresh_from_db()
    assert (form.history.count(), form.vas_frequency) == (history, original)
    tas = Patient.objects.filter(site__code="TAS").first().study_id
    with pytest.raises(redcap.RedcapError, match=tas):
        project.import_records([{"study_id": tas, "redcap_event_name": "v0_arm_1"}])
