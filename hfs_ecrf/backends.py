"""Authentication backend: study capabilities come only from the study role groups.

A capability of the study (``hfs_ecrf.view_identity``, ``hfs_ecrf.enter_data`` …) granted to a
user directly, or through a group that is not one of the four study roles, is ignored: who may
see identities or enter data is decided by the role alone, which is logged and reviewable.
Superusers keep every permission; other apps' permissions (the admin's) work as in Django.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
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
