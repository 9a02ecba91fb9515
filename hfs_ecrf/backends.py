"""Authentication backend: study capabilities come only from the study role groups.

A capability of the study (``hfs_ecrf.view_identity``, ``hfs_ecrf.enter_data`` …) granted to a
user directly, or through a group that is not one of the four study roles, is ignored: who may
see identities or enter data is decided by the role alone, which is logged and reviewable.
Superusers keep every permission; other apps' permissions (the admin's) work as in Django.

Every page asks for capabilities (the views' guard, the navigation) and for the role: the
permissions and the group names are read together by one query per request
(:func:`load_access`) instead of three.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Q, QuerySet

from hfs_ecrf.roles import GROUP_NAMES

STUDY_APP = "hfs_ecrf"


class StudyRoleBackend(ModelBackend):
    def _get_user_permissions(self, user_obj: Any) -> QuerySet:
        return user_obj.user_permissions.exclude(content_type__app_label=STUDY_APP)

    def _get_group_permissions(self, user_obj: Any) -> QuerySet:
        groups = user_obj.groups.all()
        study_groups = groups.filter(name__in=list(GROUP_NAMES.values()))
        return Permission.objects.filter(
            Q(group__in=groups) & ~Q(content_type__app_label=STUDY_APP)
            | Q(group__in=study_groups, content_type__app_label=STUDY_APP)
        ).distinct()

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        """ModelBackend's set (the two methods above, united), read by :func:`load_access`."""
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if user_obj.is_superuser:
            return super().get_all_permissions(user_obj, obj)
        if not hasattr(user_obj, "_perm_cache"):
            load_access(user_obj)
        return user_obj._perm_cache


def group_names(user: Any) -> set[str]:
    """Names of the user's groups (read with the permissions, once per request)."""
    if getattr(user, "_group_names", None) is None:
        load_access(user)
    return user._group_names


def load_access(user: Any) -> None:
    """One query: the user's permissions ``app_label.codename`` (as ``get_all_permissions``,
    kept in ``_perm_cache`` for active users who are not superusers) and group names."""
    perms, names = set(), set()
    with connection.cursor() as cursor:
        cursor.execute(_access_sql(), [user.pk, STUDY_APP, user.pk, STUDY_APP, user.pk])
        for app_label, codename, group in cursor.fetchall():
            if group is None:
                perms.add(f"{app_label}.{codename}")
            else:
                names.add(group)
    user._group_names = names
    if user.is_active and not user.is_superuser:
        user._perm_cache = perms


@cache
def _access_sql() -> str:
    user_model = get_user_model()
    perm, ct, group = (m._meta.db_table for m in (Permission, ContentType, Group))
    user_perm = user_model.user_permissions.through._meta.db_table
    user_group = user_model.groups.through._meta.db_table
    group_perm = Group.permissions.through._meta.db_table
    user_fk = user_model.groups.field.m2m_column_name()
    user_perm_fk = user_model.user_permissions.field.m2m_column_name()
    study_groups = ", ".join("'" + name.replace("'", "''") + "'" for name in GROUP_NAMES.values())
    return f"""
        SELECT ct.app_label, p.codename, NULL
          FROM {perm} p
          JOIN {ct} ct ON ct.id = p.content_type_id
          JOIN {user_perm} up ON up.permission_id = p.id
         WHERE up.{user_perm_fk} = %s AND ct.app_label <> %s
        UNION
        SELECT ct.app_label, p.codename, NULL
          FROM {perm} p
          JOIN {ct} ct ON ct.id = p.content_type_id
          JOIN {group_perm} gp ON gp.permission_id = p.id
          JOIN {user_group} ug ON ug.group_id = gp.group_id
          JOIN {group} g ON g.id = ug.group_id
         WHERE ug.{user_fk} = %s AND (ct.app_label <> %s OR g.name IN ({study_groups}))
        UNION
        SELECT NULL, NULL, g.name
          FROM {group} g
          JOIN {user_group} ug ON ug.group_id = g.id
         WHERE ug.{user_fk} = %s
    """  # noqa: S608 - table names from the models, values as parameters
