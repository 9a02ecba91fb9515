"""No privilege escalation through the admin (issue 10, point 2).

Data managers are staff, not superusers: they may create users, (de)activate them and assign the
study roles and sites. Every path to more (superuser, staff, raw permissions, other groups, their
own account, a superuser's account) is refused and changes nothing. Study capabilities come only
from the study role groups. Every privilege change is in the security log with before and after.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.urls import reverse

from hfs_ecrf.access import can
from hfs_ecrf.models import SecurityEvent
from tests.conftest import login
from tests.factories import enrol

PASSWORD = "correct-horse-battery-1"


def _perm(codename: str) -> Permission:
    return Permission.objects.get(content_type__app_label="hfs_ecrf", codename=codename)


def _group(name: str) -> Group:
    return Group.objects.get(name=name)


def _change_form(user: User, **overrides) -> dict:
    """What the data manager's change form posts for `user`, plus the attacker's additions."""
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on",
        "groups": [str(g.pk) for g in user.groups.all()],
        "site_memberships-TOTAL_FORMS": "0",
        "site_memberships-INITIAL_FORMS": "0",
        "site_memberships-MIN_NUM_FORMS": "0",
        "site_memberships-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


def _privileges(user: User) -> tuple:
    user = User.objects.get(pk=user.pk)
    return (
        user.is_superuser,
        user.is_staff,
        user.is_active,
        sorted(user.groups.values_list("name", flat=True)),
        sorted(user.user_permissions.values_list("codename", flat=True)),
    )


@pytest.fixture
def root(db) -> User:
    return User.objects.create_superuser("root", "root@example.org", PASSWORD)


@pytest.fixture
def custom_group(db) -> Group:
    group = Group.objects.create(name="Identity readers")
    group.permissions.add(_perm("view_identity"))
    return group


ESCALATIONS = {
    "superuser": {"is_superuser": "on"},
    "staff": {"is_staff": "on"},
    "raw permission": {"user_permissions": ["<view_identity>"]},
}


@pytest.mark.parametrize("attack", list(ESCALATIONS))
def test_a_data_manager_cannot_escalate_their_own_account(dana, attack):
    before = _privileges(dana)
    data = _change_form(dana, **ESCALATIONS[attack])
    if "user_permissions" in data:
        data["user_permissions"] = [str(_perm("view_identity").pk)]
    response = login(dana).post(reverse("admin:auth_user_change", args=[dana.pk]), data)
    assert response.status_code == 403
    assert _privileges(dana) == before


def test_a_data_manager_cannot_edit_their_own_roles(dana, personas):
    before = _privileges(dana)
    data = _change_form(dana, groups=[str(g.pk) for g in Group.objects.all()])
    response = login(dana).post(reverse("admin:auth_user_change", args=[dana.pk]), data)
    assert response.status_code == 403
    assert _privileges(dana) == before


@pytest.mark.parametrize("attack", list(ESCALATIONS))
def test_a_data_manager_cannot_escalate_another_user(dana, mona, attack):
    before = _privileges(mona)
    data = _change_form(mona, **ESCALATIONS[attack])
    if "user_permissions" in data:
        data["user_permissions"] = [str(_perm("view_identity").pk)]
    response = login(dana).post(reverse("admin:auth_user_change", args=[mona.pk]), data)
    assert response.status_code == 403
    assert _privileges(mona) == before
    assert not SecurityEvent.objects.filter(user=mona, actor=dana).exists()


@pytest.mark.parametrize("attack", list(ESCALATIONS))
def test_a_data_manager_cannot_create_a_privileged_user(dana, attack):
    data = {
        "username": "mallory",
        "password1": "a-long-password-77",
        "password2": "a-long-password-77",
        "usable_password": "true",
        "site_memberships-TOTAL_FORMS": "0",
        "site_memberships-INITIAL_FORMS": "0",
        **ESCALATIONS[attack],
    }
    if "user_permissions" in data:
        data["user_permissions"] = [str(_perm("view_identity").pk)]
    response = login(dana).post(reverse("admin:auth_user_add"), data)
    assert response.status_code == 403
    assert not User.objects.filter(username="mallory").exists()


def test_a_group_that_is_not_a_study_role_cannot_be_assigned(dana, mona, custom_group):
    before = _privileges(mona)
    data = _change_form(mona, groups=[str(custom_group.pk)])
    response = login(dana).post(reverse("admin:auth_user_change", args=[mona.pk]), data)
    assert response.status_code == 200  # the form again, with the error on "groups"
    assert "groups" in response.context["adminform"].form.errors
    assert _privileges(mona) == before


def test_the_data_managers_form_offers_only_study_roles(dana, mona, custom_group):
    response = login(dana).get(reverse("admin:auth_user_change", args=[mona.pk]))
    form = response.context["adminform"].form
    assert set(form.fields) >= {"username", "is_active", "groups"}
    assert not set(form.fields) & {"is_superuser", "is_staff", "user_permissions"}
    assert custom_group not in form.fields["groups"].queryset


def test_a_data_manager_cannot_touch_a_superuser(dana, root):
    client = login(dana)
    before = _privileges(root)
    data = _change_form(root, is_active="")
    data.pop("is_active")  # untick "active": deactivate the superuser
    assert client.post(reverse("admin:auth_user_change", args=[root.pk]), data).status_code == 403
    password_url = reverse("admin:auth_user_password_change", args=[root.pk])
    new = {"password1": "taken-over-pass-99", "password2": "taken-over-pass-99"}
    assert client.post(password_url, new).status_code == 403
    root.refresh_from_db()
    assert root.check_password(PASSWORD)
    assert _privileges(root) == before


def test_a_data_manager_cannot_give_a_permission_to_a_role(dana):
    monitors = _group("Monitor")
    before = set(monitors.permissions.all())
    response = login(dana).post(
        reverse("admin:auth_group_change", args=[monitors.pk]),
        {"name": "Monitor", "permissions": [str(p.pk) for p in Permission.objects.all()]},
    )
    assert response.status_code == 403
    assert set(monitors.permissions.all()) == before


@pytest.mark.parametrize("who", ["alice", "mona", "ivan", "nobody"])
def test_other_roles_cannot_reach_the_user_admin(personas, who):
    target = personas["bob"]
    before = _privileges(target)
    data = _change_form(target, is_superuser="on")
    response = login(personas[who]).post(reverse("admin:auth_user_change", args=[target.pk]), data)
    assert response.status_code in {302, 403}
    assert _privileges(target) == before


def test_legitimate_changes_by_a_data_manager_are_logged_before_and_after(dana, mona):
    client = login(dana)
    clinician, manager = _group("Clinician"), _group("Data manager")
    # Monitor -> Clinician
    data = _change_form(mona, groups=[str(clinician.pk)])
    response = client.post(reverse("admin:auth_user_change", args=[mona.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert _privileges(mona) == (False, False, True, ["Clinician"], [])
    role = SecurityEvent.objects.get(kind=SecurityEvent.Kind.ROLE_CHANGED, user=mona, actor=dana)
    assert role.detail == "groups: before ['Monitor']; after ['Clinician']"
    assert role.actor == dana
    # promoted to data manager: staff follows the role, and is logged
    data = _change_form(User.objects.get(pk=mona.pk), groups=[str(manager.pk)])
    assert client.post(reverse("admin:auth_user_change", args=[mona.pk]), data).status_code == 302
    assert _privileges(mona)[:2] == (False, True)
    staff = SecurityEvent.objects.get(kind=SecurityEvent.Kind.ACCOUNT_CHANGED, user=mona)
    assert staff.detail == "is_staff: before False; after True"
    # deactivated
    data = _change_form(User.objects.get(pk=mona.pk))
    data.pop("is_active")
    assert client.post(reverse("admin:auth_user_change", args=[mona.pk]), data).status_code == 302
    assert _privileges(mona)[2] is False
    details = SecurityEvent.objects.filter(
        kind=SecurityEvent.Kind.ACCOUNT_CHANGED, user=mona
    ).values_list("detail", flat=True)
    assert "is_active: before True; after False" in details


def test_site_assignment_in_the_user_admin_is_logged_before_and_after(dana, mona, site_b):
    data = _change_form(
        mona,
        **{
            "site_memberships-TOTAL_FORMS": "1",
            "site_memberships-0-site": str(site_b.pk),
            "site_memberships-0-user": str(mona.pk),
        },
    )
    response = login(dana).post(reverse("admin:auth_user_change", args=[mona.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    event = SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SITE_CHANGED, user=mona).latest(
        "pk"
    )
    assert event.detail == "added to site TAS; sites: before ['SMR']; after ['SMR', 'TAS']"
    assert event.actor == dana


def test_superusers_remain_full_and_their_changes_are_logged(root, mona):
    client = login(root)
    data = _change_form(
        mona,
        is_superuser="on",
        is_staff="on",
        user_permissions=[str(_perm("export_data").pk)],
        date_joined_0="2026-01-05",
        date_joined_1="09:00:00",
    )
    response = client.post(reverse("admin:auth_user_change", args=[mona.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert _privileges(mona) == (True, True, True, ["Monitor"], ["export_data"])
    details = set(
        SecurityEvent.objects.filter(user=mona, actor=root).values_list("detail", flat=True)
    )
    assert {
        "is_superuser: before False; after True",
        "is_staff: before False; after True",
        "user_permissions: before []; after ['hfs_ecrf.export_data']",
    } <= details


def test_a_direct_user_permission_grants_no_study_capability(site_a, alice, mona):
    patient = enrol(site_a, alice, name="Ivanova Anna")
    mona.user_permissions.add(_perm("view_identity"))
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.PERMISSIONS_CHANGED, user=mona)
    assert event.detail == "user_permissions: before []; after ['hfs_ecrf.view_identity']"
    mona = User.objects.get(pk=mona.pk)
    assert not can(mona, "view_identity")
    page = login(mona).get(patient.get_absolute_url())
    assert page.status_code == 200
    assert "Ivanova Anna" not in page.content.decode()
    # the clinician, whose role holds the capability, does see it
    assert "Ivanova Anna" in login(alice).get(patient.get_absolute_url()).content.decode()


def test_a_group_that_is_not_a_study_role_grants_no_study_capability(mona, custom_group):
    mona.groups.add(custom_group)
    assert not can(User.objects.get(pk=mona.pk), "view_identity")


def test_a_superuser_keeps_every_capability(root):
    assert can(root, "view_identity") and can(root, "export_data")
