"""Capabilities and role are read by one query per request, and give what Django's own
ModelBackend reading (the backend's two permission querysets) gives."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission, User

from hfs_ecrf.access import can, role_of
from hfs_ecrf.backends import StudyRoleBackend
from hfs_ecrf.roles import Role
from tests.conftest import make_user


def _by_querysets(user: User) -> set[str]:
    backend = StudyRoleBackend()
    return {
        f"{ct}.{name}"
        for qs in (backend._get_user_permissions(user), backend._get_group_permissions(user))
        for ct, name in qs.values_list("content_type__app_label", "codename")
    }


@pytest.fixture
def mixed_user(db) -> User:
    user = make_user("mixed", Role.MONITOR)
    direct = Permission.objects.get(content_type__app_label="hfs_ecrf", codename="view_identity")
    admin_perm = Permission.objects.get(content_type__app_label="auth", codename="view_user")
    user.user_permissions.add(direct, admin_perm)  # the study one is ignored, the admin one kept
    other = Group.objects.create(name="Identity readers")
    other.permissions.add(
        direct, Permission.objects.get(content_type__app_label="auth", codename="change_user")
    )
    user.groups.add(other)
    return User.objects.get(pk=user.pk)


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role))
def test_each_role_has_the_same_permissions_as_by_the_querysets(role):
    user = User.objects.get(pk=make_user(f"u_{role}", role).pk)
    assert user.get_all_permissions() == _by_querysets(user)
    assert role_of(user) == role


def test_direct_and_non_study_group_permissions_as_by_the_querysets(mixed_user):
    perms = mixed_user.get_all_permissions()
    assert perms == _by_querysets(mixed_user)
    assert "auth.view_user" in perms and "auth.change_user" in perms
    assert "hfs_ecrf.view_identity" not in perms
    assert role_of(mixed_user) == Role.MONITOR


def test_capabilities_and_role_cost_one_query(mixed_user, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert role_of(mixed_user) == Role.MONITOR
        assert can(mixed_user, "verify_data") and not can(mixed_user, "enter_data")
        assert mixed_user.has_perm("auth.view_user")


@pytest.mark.django_db
def test_inactive_and_groupless_users():
    user = make_user("nobody", None)
    assert user.get_all_permissions() == set() and role_of(user) is None
    user = User.objects.get(pk=make_user("gone", Role.CLINICIAN).pk)
    user.is_active = False
    assert user.get_all_permissions() == set() and not can(user, "view_study_data")
