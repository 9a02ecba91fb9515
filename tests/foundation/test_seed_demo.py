from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from hfs_ecrf.access import role_of, sites_for
from hfs_ecrf.roles import Role

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
