"""Roles and site scoping: the one place that decides who sees what.

Views never filter by site themselves; they ask this module for a scoped queryset or object.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from hfs_ecrf.backends import group_names
from hfs_ecrf.roles import GROUP_NAMES, Role

ROLE_LABELS = {
    Role.CLINICIAN: _("Clinician"),
    Role.MONITOR: _("Monitor"),
    Role.INVESTIGATOR: _("Investigator"),
    Role.DATA_MANAGER: _("Data manager"),
}
_GROUP_TO_ROLE = {name: role for role, name in GROUP_NAMES.items()}
# When a user holds several groups, the widest role wins.
_ROLE_ORDER = [Role.DATA_MANAGER, Role.INVESTIGATOR, Role.MONITOR, Role.CLINICIAN]


def role_of(user: Any) -> Role | None:
    if not getattr(user, "is_authenticated", False):
        return None
    if user.is_superuser:
        return Role.DATA_MANAGER
    cached = getattr(user, "_study_role", False)
    if cached is not False:
        return cached
    names = group_names(user)  # read with the permissions (one query per request)
    roles = {_GROUP_TO_ROLE[n] for n in names if n in _GROUP_TO_ROLE}
    user._study_role = next((r for r in _ROLE_ORDER if r in roles), None)
    return user._study_role


def can(user: Any, capability: str) -> bool:
    return user.has_perm(f"hfs_ecrf.{capability}")


def requires(capability: str) -> Callable:
    """View decorator: login, then the capability (403 without it)."""

    def decorator(view: Callable) -> Callable:
        guarded = permission_required(f"hfs_ecrf.{capability}", raise_exception=True)(view)
        return wraps(view)(login_required(guarded))

    return decorator


def site_ids_for(user: Any) -> list[int] | None:
    """Ids of the sites the user works at, or None when the user sees every site."""
    if can(user, "view_all_sites"):
        return None
    cached = getattr(user, "_site_ids", None)
    if cached is None:
        _load_memberships(user)
        cached = user._site_ids
    return cached


def site_codes_for(user: Any) -> list[str] | None:
    """Codes of the sites the user works at (read with their ids, one query), or None when the
    user sees every site."""
    if site_ids_for(user) is None:
        return None
    if getattr(user, "_site_codes", None) is None:
        _load_memberships(user)
    return user._site_codes


def _load_memberships(user: Any) -> None:
    rows = list(user.site_memberships.values_list("site_id", "site__code"))
    user._site_ids = [site_id for site_id, _code in rows]
    user._site_codes = sorted(code for _site_id, code in rows)


def scope_to_sites(queryset: QuerySet, user: Any, site_path: str = "site") -> QuerySet:
    """Restrict a queryset to the user's sites; anyone without study access sees nothing."""
    if not can(user, "view_study_data"):
        return queryset.none()
    site_ids = site_ids_for(user)
    if site_ids is None:
        return queryset
    return queryset.filter(**{f"{site_path}__in": site_ids})


def arm_visible(user: Any) -> bool:
    role = role_of(user)
    return role is not None and role.value in settings.ARM_VISIBLE_TO_ROLES


def role_context(request: HttpRequest) -> dict[str, Any]:
    """Template context: the user's role and what the navigation may offer."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    role = role_of(user)
    return {
        "study_role": role,
        "study_role_label": ROLE_LABELS.get(role, ""),
        "study_can": {
            name: can(user, name)
            for name in (
                "view_study_data",
                "enter_data",
                "view_analysis",
                "export_data",
                "manage_allocation",
                "verify_data",
            )
        },
        "is_data_manager": role == Role.DATA_MANAGER,
    }
