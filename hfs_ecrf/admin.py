from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from hfs_ecrf.models import SecurityEvent

ADMIN_REASON_REQUIRED = _("Give the reason for this change; it is kept in the audit trail.")


class AuditedAdminForm(forms.ModelForm):
    """Every admin change of an audited record says why (kept as the history's reason)."""

    reason_for_change = forms.CharField(
        label=_("reason for change"),
        max_length=500,
        required=False,
        help_text=_("required for a change; kept in the audit trail"),
    )

    def clean(self) -> dict:
        data = super().clean()
        if self.instance.pk and not (data.get("reason_for_change") or "").strip():
            self.add_error("reason_for_change", ADMIN_REASON_REQUIRED)
        return data


class AuditedAdmin(SimpleHistoryAdmin):
    """Admin for audited models: history visible, never editable; no bulk or direct deletes;
    every change carries a reason for change."""

    form = AuditedAdminForm

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        obj._change_reason = form.cleaned_data.get("reason_for_change", "").strip()
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: Any = None
    ) -> Any:
        # A past version may be looked at, never posted back ("revert").
        if request.method != "GET":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SecurityEvent)
class SecurityEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "kind", "username", "actor", "ip_address", "detail"]
    list_filter = ["kind"]
    search_fields = ["username", "detail"]
    date_hierarchy = "at"
