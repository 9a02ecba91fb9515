"""Safety follow-up: editable adverse events, seriousness, the 24-hour clock and its alerts and
e-mail, HDRS item 3 (suicide), double submission of a new event."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from assessments import safety, services
from assessments.instruments import seriousness
from assessments.models import Hdrs17
from assessments.models.records import SERIOUSNESS_MESSAGES, AdverseEvent
from tests import factories
from tests.conftest import login

TODAY = timezone.localdate()
HOME_QUERIES = 24  # session, user, roles, sites, strata, safety alerts, worklists, study lock


@pytest.fixture
def patient(alice, site_a):
    factories.allocation_list(["SMR"])
    return factories.randomised(site_a, alice)


@pytest.fixture
def safety_team(ivan, dana):
    for user, address in ((ivan, "ivan@example.org"), (dana, "dana@example.org")):
        user.email = address
        user.save()
    return ivan, dana


def _ae(**overrides) -> dict:
    data = {
        "term": "syncope",
        "onset_on": (TODAY - timedelta(days=2)).isoformat(),
        "ended_on": "",
        "severity": "moderate",
        "relation": "unlikely",
        "action": "none",
        "outcome": "recovering",
        "submission_token": str(uuid.uuid4()),
    }
    return {**data, **overrides}


def _new_url(patient):
    return reverse("assessments:records", args=[patient.study_id, "ae"])


def _edit_url(event):
    return reverse("assessments:ae_edit", args=[event.patient.study_id, event.pk])


def _edit(client, event, **changes):
    current = AdverseEvent.objects.get(pk=event.pk)
    data = {
        "term": current.term,
        "onset_on": current.onset_on.isoformat(),
        "ended_on": current.ended_on.isoformat() if current.ended_on else "",
        "severity": current.severity,
        "relation": current.relation,
        "action": current.action,
        "outcome": current.outcome,
        "base_version": current.version,
        **{name: "on" for name in AdverseEvent.CRITERIA if getattr(current, name)},
    }
    data.update(changes)
    return client.post(_edit_url(event), {k: v for k, v in data.items() if v is not None})


# --- pure rules -------------------------------------------------------------------------------


def test_serious_is_derived_from_the_criteria():
    assert not seriousness.is_serious(dict.fromkeys(seriousness.CRITERIA, False))
    for name in seriousness.CRITERIA:
        assert seriousness.is_serious({name: True})


def test_contradictions_between_criteria_outcome_and_end_date_are_named():
    none = {}
    assert seriousness.consistency_problems(none, "fatal", True) == {
        "results_in_death": seriousness.FATAL_WITHOUT_DEATH
    }
    assert seriousness.consistency_problems({"results_in_death": True}, "recovered", True) == {
        "outcome": seriousness.DEATH_NOT_FATAL
    }
    assert seriousness.consistency_problems(none, "recovering", True) == {
        "ended_on": seriousness.ONGOING_WITH_END
    }
    assert seriousness.consistency_problems({"results_in_death": True}, "fatal", True) == {}
    assert seriousness.declared_problem(True, none) == seriousness.SERIOUS_WITHOUT_CRITERION
    assert (
        seriousness.declared_problem(False, {"hospitalisation": True})
        == seriousness.CRITERION_BUT_NOT_SERIOUS
    )
    assert seriousness.declared_problem(None, {"hospitalisation": True}) is None


def test_the_report_clock_runs_24_hours():
    start = timezone.now()
    assert seriousness.report_due(start) == start + timedelta(hours=24)
    assert seriousness.time_left(start, start + timedelta(hours=25)) == timedelta(hours=-1)


# --- editing ----------------------------------------------------------------------------------


def test_an_adverse_event_is_followed_up_with_version_and_reason(alice, patient):
    client = login(alice)
    assert client.post(_new_url(patient), _ae()).status_code == 302
    event = AdverseEvent.objects.get()
    assert event.version == 1
    assert client.get(_new_url(patient)).status_code == 200
    assert _edit_url(event) in client.get(_new_url(patient)).content.decode()

    ended = (TODAY - timedelta(days=1)).isoformat()
    response = _edit(client, event, outcome="recovered", ended_on=ended)
    assert response.status_code == 200
    assert response.context["form"].errors["reason_for_change"] == [
        str(services.AE_REASON_REQUIRED)
    ]
    assert AdverseEvent.objects.get().outcome == "recovering"

    response = _edit(
        client, event, outcome="recovered", ended_on=ended, reason_for_change="patient called"
    )
    assert response.status_code == 302
    event.refresh_from_db()
    assert (event.outcome, event.ended_on.isoformat(), event.version) == ("recovered", ended, 2)
    latest = event.history.order_by("-history_id").first()
    assert latest.history_change_reason == "patient called"
    assert latest.history_user == alice

    # A stale version is refused and shows what changed meanwhile.
    response = _edit(client, event, base_version=1, action="interrupted", reason_for_change="x")
    assert response.status_code == 200 and response.context["conflict"]
    assert AdverseEvent.objects.get().action == "none"


def test_end_date_rules_on_follow_up(alice, patient):
    client = login(alice)
    client.post(_new_url(patient), _ae())
    event = AdverseEvent.objects.get()
    before = (event.onset_on - timedelta(days=1)).isoformat()
    future = (TODAY + timedelta(days=1)).isoformat()
    for ended_on in (before, future):
        response = _edit(
            client, event, outcome="recovered", ended_on=ended_on, reason_for_change="follow-up"
        )
        assert "ended_on" in response.context["form"].errors
    response = _edit(
        client,
        event,
        outcome="recovering",
        ended_on=(TODAY - timedelta(days=1)).isoformat(),
        reason_for_change="follow-up",
    )
    assert response.context["form"].errors["ended_on"] == [
        str(SERIOUSNESS_MESSAGES[seriousness.ONGOING_WITH_END])
    ]
    assert AdverseEvent.objects.get().version == 1


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"serious_answer": "yes"}, "serious_answer", seriousness.SERIOUS_WITHOUT_CRITERION),
        (
            {"serious_answer": "no", "hospitalisation": "on"},
            "serious_answer",
            seriousness.CRITERION_BUT_NOT_SERIOUS,
        ),
        ({"outcome": "fatal"}, "results_in_death", seriousness.FATAL_WITHOUT_DEATH),
        ({"results_in_death": "on"}, "outcome", seriousness.DEATH_NOT_FATAL),
    ],
)
def test_seriousness_contradictions_are_field_errors_and_save_nothing(
    alice, patient, changes, field, code
):
    response = login(alice).post(_new_url(patient), _ae(**changes))
    assert response.status_code == 200
    assert str(SERIOUSNESS_MESSAGES[code]) in response.context["form"].errors[field]
    assert not AdverseEvent.objects.exists()


def test_a_monitor_reads_the_follow_up_but_cannot_save_and_other_site_gets_404(
    alice, bob, mona, patient
):
    login(alice).post(_new_url(patient), _ae())
    event = AdverseEvent.objects.get()
    assert login(mona).get(_edit_url(event)).status_code == 200
    assert _edit(login(mona), event, reason_for_change="x").status_code == 403
    assert login(bob).get(_edit_url(event)).status_code == 404


# --- serious events: clock, alerts, e-mail, acknowledgement ----------------------------------


def _home(user) -> str:
    return login(user).get(reverse("home")).content.decode()


def test_a_serious_event_alerts_dm_and_investigator_and_mails_them_once(
    alice, mona, patient, safety_team, mailoutbox, django_capture_on_commit_callbacks
):
    ivan, dana = safety_team
    with django_capture_on_commit_callbacks(execute=True):
        response = login(alice).post(
            _new_url(patient), _ae(term="syncope", serious_answer="yes", hospitalisation="on")
        )
    assert response.status_code == 302
    event = AdverseEvent.objects.get()
    assert event.serious and event.serious_since is not None
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert sorted(mail.to) == ["dana@example.org", "ivan@example.org"]
    assert patient.study_id in mail.subject and "syncope" in mail.body
    assert patient.identity.full_name not in mail.body

    for user in (ivan, dana):
        page = _home(user)
        assert 'data-testid="sae-alert"' in page and patient.study_id in page
        assert safety.serious_ae_alerts(user)[0]["hours"] == 23  # time left on the clock
        assert "осталось 23 ч" in page
    for user in (alice, mona):
        assert 'data-testid="sae-alert"' not in _home(user)

    # Follow-up of an event already serious sends nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        _edit(login(alice), event, life_threatening="on", reason_for_change="now life-threatening")
    assert AdverseEvent.objects.get().version == 2
    assert len(mailoutbox) == 1

    # Only the safety roles acknowledge; the investigator's acknowledgement clears both pages.
    ack = reverse("assessments:ae_acknowledge", args=[patient.study_id, event.pk])
    assert login(alice).post(ack).status_code == 403
    assert login(ivan).post(ack).status_code == 302
    event.refresh_from_db()
    assert event.acknowledged_by == ivan and event.acknowledged_at is not None
    assert event.history.order_by("-history_id").first().history_user == ivan
    for user in (ivan, dana):
        assert 'data-testid="sae-alert"' not in _home(user)
    assert login(dana).get(ack).status_code == 405


def test_a_clinician_edit_does_not_undo_an_acknowledgement_made_meanwhile(
    alice, patient, safety_team
):
    ivan, _ = safety_team
    event = AdverseEvent(
        patient=patient,
        term="fracture",
        onset_on=TODAY,
        severity="severe",
        relation="not_related",
        outcome="recovering",
        hospitalisation=True,
    )
    services.adverse_event_save(event=event, user=alice)
    opened = AdverseEvent.objects.get(pk=event.pk)  # the clinician opens the form
    services.adverse_event_acknowledge(event=event, user=ivan)
    opened.action = "interrupted"
    services.adverse_event_save(event=opened, user=alice, reason="treatment paused")
    assert AdverseEvent.objects.get().acknowledged_by == ivan


def test_an_event_that_becomes_serious_again_restarts_the_clock_and_mails_again(
    alice, patient, safety_team, mailoutbox, django_capture_on_commit_callbacks
):
    ivan, _ = safety_team
    event = AdverseEvent(
        patient=patient,
        term="chest pain",
        onset_on=TODAY,
        severity="moderate",
        relation="unlikely",
        outcome="recovering",
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.adverse_event_save(event=event, user=alice)
        assert len(mailoutbox) == 0
        event.other_medical_event = True
        services.adverse_event_save(event=event, user=alice, reason="reassessed")
    services.adverse_event_acknowledge(event=event, user=ivan)
    with django_capture_on_commit_callbacks(execute=True):
        event = AdverseEvent.objects.get()
        event.other_medical_event = False
        services.adverse_event_save(event=event, user=alice, reason="entered in error")
        assert event.serious_since is None and event.acknowledged_at is None
        event.other_medical_event = True
        services.adverse_event_save(event=event, user=alice, reason="serious after all")
    assert len(mailoutbox) == 2
    assert [a["event"].pk for a in safety.serious_ae_alerts(ivan)] == [event.pk]


def test_an_overdue_report_says_so(alice, patient, safety_team, django_assert_max_num_queries):
    ivan, dana = safety_team
    for term in ("syncope", "seizure", "fall", "stroke", "sepsis", "overdose"):
        event = AdverseEvent(
            patient=patient,
            term=term,
            onset_on=TODAY - timedelta(days=3),
            severity="severe",
            relation="unlikely",
            outcome="recovering",
            hospitalisation=True,
        )
        services.adverse_event_save(event=event, user=alice)
        if term == "fall":
            client = login(dana)
            client.get(reverse("home"))
            with django_assert_max_num_queries(HOME_QUERIES):
                page = client.get(reverse("home")).content.decode()
            assert page.count('data-testid="sae-alert"') == 3
    event.serious_since = timezone.now() - timedelta(hours=26, minutes=5)
    event.save_audited(user=None, reason="test: clock started 26 hours ago")
    alerts = safety.serious_ae_alerts(dana)
    assert alerts[0]["event"] == event and alerts[0]["overdue"]
    assert (alerts[0]["hours"], alerts[0]["minutes"]) == (2, 5)
    assert not alerts[1]["overdue"]
    # The alerts cost the same number of queries whatever their number.
    with django_assert_max_num_queries(HOME_QUERIES):
        page = client.get(reverse("home")).content.decode()
    assert page.count('data-testid="sae-alert"') == 6
    assert "overdue by 2 h 5 min" in page or "просрочено на 2 ч 5 мин" in page


# --- HDRS item 3 --------------------------------------------------------------------------------


def _hdrs(client, patient, q03: int, base_version: int, reason: str = ""):
    answers = {f"q{i:02d}": "1" for i in range(1, 18)}
    answers["q03"] = str(q03)
    url = reverse("assessments:crf", args=[patient.study_id, "V0", "hdrs"])
    data = {"action": "draft", "base_version": base_version, "reason_for_change": reason}
    return client.post(url, {**answers, **data}, follow=True)


def test_hdrs_item_3_of_two_or_more_prompts_the_clinician_and_alerts_the_investigator(
    alice, patient, ivan, dana
):
    client = login(alice)
    response = _hdrs(client, patient, q03=1, base_version=0)
    assert "HDRS item 3" not in response.content.decode()
    assert 'data-testid="suicide-alert"' not in _home(ivan)

    response = _hdrs(client, patient, q03=2, base_version=1)
    prompts = [str(m) for m in response.context["messages"] if m.level_tag == "warning"]
    assert prompts == [str(safety.SUICIDE_PROMPT % {"score": 2})]
    assert 'data-testid="suicide-alert"' in _home(ivan)
    assert 'data-testid="suicide-alert"' not in _home(dana)

    review = reverse("assessments:suicide_review", args=[patient.study_id, "V0"])
    assert login(alice).post(review).status_code == 403
    assert login(ivan).post(review).status_code == 302
    assert 'data-testid="suicide-alert"' not in _home(ivan)
    assert Hdrs17.objects.get().suicide_review.history.first().history_user == ivan

    _hdrs(client, patient, q03=3, base_version=2)
    assert 'data-testid="suicide-alert"' in _home(ivan)


# --- double submission ---------------------------------------------------------------------------


def test_a_double_submitted_new_event_makes_one_row(alice, patient, mailoutbox):
    client = login(alice)
    page = client.get(_new_url(patient))
    token = page.context["form"]["submission_token"].value()
    assert token and str(token) in page.content.decode()
    data = _ae(submission_token=str(token))
    assert client.post(_new_url(patient), data).status_code == 302
    assert client.post(_new_url(patient), data).status_code == 302
    assert AdverseEvent.objects.count() == 1
    assert AdverseEvent.objects.get().history.count() == 1
    # A new form has a new token: a second, real event is recorded.
    assert client.post(_new_url(patient), _ae()).status_code == 302
    assert AdverseEvent.objects.count() == 2


def test_a_token_cannot_touch_another_patients_event(alice, patient, site_a):
    other = factories.randomised(site_a, alice)
    data = _ae()
    login(alice).post(_new_url(patient), data)
    response = login(alice).post(_new_url(other), data)
    assert response.status_code == 200
    assert str(services.AE_TOKEN_OF_ANOTHER_PATIENT) in response.content.decode()
    assert AdverseEvent.objects.count() == 1


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_submissions_of_one_form_make_one_row(
    alice, patient, safety_team, mailoutbox
):
    data = _ae(serious_answer="yes", hospitalisation="on")
    barrier = threading.Barrier(2)
    statuses, errors = [], []

    def submit():
        try:
            client = Client(raise_request_exception=True)
            client.force_login(alice)
            barrier.wait(timeout=30)
            statuses.append(client.post(_new_url(patient), data).status_code)
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert statuses == [302, 302]
    assert AdverseEvent.objects.count() == 1
    assert len(mailoutbox) == 1


# --- configuration --------------------------------------------------------------------------------


def test_smtp_is_configured_from_the_environment():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "hfs_ecrf.settings",
        "EMAIL_HOST": "smtp.example.org",
        "EMAIL_PORT": "2525",
        "EMAIL_HOST_USER": "ecrf",
        "EMAIL_HOST_PASSWORD": "s3cret",
        "EMAIL_USE_TLS": "0",
        "DEFAULT_FROM_EMAIL": "safety@example.org",
    }
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_HOST_USER, "
        "s.EMAIL_HOST_PASSWORD, s.EMAIL_USE_TLS, s.DEFAULT_FROM_EMAIL)"
    )
    out = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == [
        "django.core.mail.backends.smtp.EmailBackend",
        "smtp.example.org",
        "2525",
        "ecrf",
        "s3cret",
        "False",
        "safety@example.org",
    ]
    env.pop("EMAIL_HOST")
    env["EMAIL_PORT"] = "not-a-port"
    failed = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], env=env, capture_output=True, text=True
    )
    assert failed.returncode != 0 and "EMAIL_PORT='not-a-port' is not an integer" in failed.stderr
