from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.management import CommandError, call_command

from assessments.selectors import patient_progress
from hfs_ecrf.access import role_of
from hfs_ecrf.roles import Role
from patients.context_processors import DEMO_SITES_KEY
from patients.selectors import sites_for

ROLES = {
    "clinician_a": Role.CLINICIAN,
    "clinician_b": Role.CLINICIAN,
    "monitor": Role.MONITOR,
    "investigator": Role.INVESTIGATOR,
    "datamanager": Role.DATA_MANAGER,
}


def test_it_creates_one_account_per_role_with_the_password(db, settings):
    settings.DEBUG = True
    call_command("seed_demo", "--patients", "0", "--password", "a-demo-password-9")
    for username, role in ROLES.items():
        user = User.objects.get(username=username)
        assert role_of(user) == role
        assert user.check_password("a-demo-password-9")
    a, b = User.objects.get(username="clinician_a"), User.objects.get(username="clinician_b")
    assert [s.code for s in sites_for(a)] == ["SMR"]
    assert [s.code for s in sites_for(b)] == ["TAS"]


def test_a_rerun_is_idempotent_and_resets_passwords(db, settings):
    settings.DEBUG = True
    call_command("seed_demo", "--patients", "0", "--password", "first-password-11")
    call_command("seed_demo", "--patients", "0", "--password", "second-password-22")
    assert User.objects.filter(username__in=ROLES).count() == 5
    assert User.objects.get(username="monitor").check_password("second-password-22")
    assert User.objects.get(username="clinician_a").site_memberships.count() == 1


def test_it_refuses_to_run_with_debug_off(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo", "--patients", "0")
    assert not User.objects.exists()


def test_the_cohort_covers_every_status_and_goes_through_the_services(db, settings):
    from patients.models import Allocation, Patient, Screening, Withdrawal

    settings.DEBUG = True
    call_command("seed_demo", "--patients", "12", "--seed", "3")
    assert Patient.objects.count() == 14  # 12 randomised + 2 awaiting randomisation
    assert Allocation.objects.count() == 12
    assert set(Allocation.objects.values_list("arm", flat=True)) == {"standard", "b12"}
    assert Withdrawal.objects.count() == 2  # one in each arm
    assert set(Withdrawal.objects.values_list("patient__allocation__arm", flat=True)) == {
        "standard",
        "b12",
    }
    outcomes = set(Screening.objects.values_list("outcome", flat=True))
    assert outcomes == {"eligible", "not_eligible", "declined"}
    statuses = {patient_progress(p).status for p in Patient.objects.all()}
    assert {"enrolled", "completed", "withdrawn"} <= statuses
    from assessments.models import Rand36, SpasmAssessment, Visit

    # every randomised patient has visits with forms; withdrawn ones stop after V1
    assert SpasmAssessment.objects.filter(visit__code="V3").count() == 10
    assert not Visit.objects.filter(patient__withdrawal__isnull=False, code="V3").exists()
    assert Rand36.objects.exclude(pcs=None).exists()
    # written through the audited services, not raw inserts
    assert all(a.history.exists() for a in Allocation.objects.all())
    call_command("seed_demo", "--patients", "12", "--seed", "3")
    assert Patient.objects.count() == 14


def test_the_ui_labels_demo_data_as_synthetic(db, settings):
    from django.test import Client
    from django.urls import reverse

    settings.DEBUG = True
    call_command("seed_demo", "--patients", "0")
    client = Client()
    client.force_login(User.objects.get(username="clinician_a"))
    assert 'data-testid="demo-banner"' in client.get(reverse("home")).content.decode()


def test_no_demo_banner_without_demo_data(alice):
    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(alice)
    assert 'data-testid="demo-banner"' not in client.get(reverse("home")).content.decode()


def test_the_layout_reads_whether_demo_sites_exist_once_a_minute_not_on_every_page(alice, settings):
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    client = Client()
    client.force_login(alice)

    def demo_queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("home")).status_code == 200
        return sum('WHERE "patients_site"."is_demo"' in q["sql"] for q in captured.captured_queries)

    assert demo_queries() == 1
    assert demo_queries() == 0  # kept (DEMO_SITES_SECONDS) in the worker's cache
    settings.DEBUG = True  # seed_demo refuses to run without it
    call_command("seed_demo", "--patients", "0")
    cache.delete(DEMO_SITES_KEY)  # what the minute's end does
    assert demo_queries() == 1
    assert 'data-testid="demo-banner"' in client.get(reverse("home")).content.decode()


def test_the_cohort_is_a_registry_of_small_steps():
    import inspect

    from demo.seed import COHORT_STEPS, seed_cohort

    names = [step.__name__ for step in COHORT_STEPS]
    assert names.index("_enrol") < names.index("_randomise") < names.index("_visits")
    assert names[-1] == "_withdrawals"  # nothing new may be entered for a withdrawn patient
    assert "_serious_event" in names
    for step in [*COHORT_STEPS, seed_cohort]:
        assert len(inspect.getsource(step).splitlines()) <= 45, step.__name__


def test_the_demo_always_has_a_serious_adverse_event_with_its_criterion(db, settings):
    from assessments.models import AdverseEvent

    settings.DEBUG = True
    call_command("seed_demo", "--patients", "4", "--seed", "3")
    serious = AdverseEvent.objects.filter(serious=True)
    assert serious.exists()
    event = serious.first()
    assert any(event.criteria().values()) and event.serious_since is not None
    assert event.history.exists()  # through the audited service
