"""Data managers create and revoke API tokens here; a new token is shown once."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from api.models import ApiCall, ApiToken
from api.tokens import token_digest, token_revoke
from hfs_ecrf.access import role_of
from hfs_ecrf.admin import ReadOnlyAdmin
from hfs_ecrf.roles import Role


def _is_data_manager(request: HttpRequest) -> bool:
    return role_of(request.user) == Role.DATA_MANAGER


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = [
        "prefix",
        "user",
        "name",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    ]
    list_filter = ["revoked_at"]
    fields = ["user", "name", "expires_at"]
    readonly_fields = ["prefix", "created_at", "created_by", "revoked_at", "last_used_at"]
    actions = ["revoke"]
    list_select_related = ["user"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return self.fields if obj is None else ["user", "name", "expires_at", *self.readonly_fields]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return self.readonly_fields + (["user"] if obj is not None else [])

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if not change:
            import secrets

            token = secrets.token_hex(16).upper()
            obj.token_hash, obj.prefix, obj.created_by = (
                token_digest(token),
                token[:4],
                request.user,
            )
            messages.warning(
                request,
                _("The new token (shown only now, copy it): %(token)s") % {"token": token},
            )
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request: HttpRequest, queryset: Any) -> None:
        for token in queryset:
            token_revoke(token=token)
        messages.success(request, _("Revoked."))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_data_manager(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _is_data_manager(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_data_manager(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_data_manager(request)


@admin.register(ApiCall)
class ApiCallAdmin(ReadOnlyAdmin):
    list_display = ["at", "user", "method", "status", "records", "ip_address"]
    list_filter = ["method", "status"]
    date_hierarchy = "at"

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_data_manager(request)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_data_manager(request)
