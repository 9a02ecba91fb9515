from __future__ import annotations

from collections.abc import Callable
from functools import update_wrapper
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from hfs_ecrf.access import role_of
from hfs_ecrf.roles import Role


class StudyAdminSite(admin.AdminSite):
    """The Django admin, open to data managers only."""

    site_header = _("HFS-B12 eCRF administration")
    site_title = _("HFS-B12 eCRF")
    index_title = _("Data management")

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff and role_of(user) == Role.DATA_MANAGER)

    def admin_view(self, view: Callable, cacheable: bool = False) -> Callable:
        inner = super().admin_view(view, cacheable)

        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            # A logged-in user of another role is refused outright rather than sent to a login
            # page they cannot pass.
            if request.user.is_authenticated and not self.has_permission(request):
                raise PermissionDenied
            return inner(request, *args, **kwargs)

        return update_wrapper(guarded, view)

    def login(self, request: HttpRequest, extra_context: Any = None) -> Any:
        if request.user.is_authenticated and not self.has_permission(request):
            raise PermissionDenied
        return super().login(request, extra_context)
