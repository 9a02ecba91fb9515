from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from hfs_ecrf.hooks import WriteRefused
from hfs_ecrf.models import SecurityEvent
from hfs_ecrf.roles import GROUP_NAMES, Role
from hfs_ecrf.security import user_m2m_changes

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

    def changeform_view(
        self, request: HttpRequest, object_id: Any = None, form_url: str = "", extra_context=None
    ) -> Any:
        # A lock (hooks.WriteRefused) refuses the save: say so instead of failing the request.
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except WriteRefused as refusal:
            self.message_user(request, " ".join(refusal.messages), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


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


# Fields of a user that only a superuser may set; a data manager's form never contains them.
PRIVILEGED_USER_FIELDS = ("is_superuser", "is_staff", "user_permissions")


class StudyUserAdminBase(UserAdmin):
    """User administration: superusers have Django's full form; data managers (staff, not
    superusers) may create users, (de)activate them and assign study roles (and sites, through
    the membership inline), nothing else. They cannot change superusers or their own account,
    and is_staff follows the role (staff exactly when Data manager). Every change is logged by
    hfs_ecrf.security with before and after."""

    # Django's own sections (translated by Django) around the one section a data manager edits.
    limited_fieldsets = (
        UserAdmin.fieldsets[0],
        UserAdmin.fieldsets[1],
        (_("Study access"), {"fields": ("is_active", "groups")}),
        UserAdmin.fieldsets[3],
    )

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None and not request.user.is_superuser:
            return self.limited_fieldsets
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if request.user.is_superuser:
            return super().get_readonly_fields(request, obj)
        return ("last_login", "date_joined")

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "groups" and not request.user.is_superuser:
            # Only the study roles: any other group may carry arbitrary permissions.
            kwargs["queryset"] = Group.objects.filter(name__in=list(GROUP_NAMES.values()))
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        limited = obj is not None and not request.user.is_superuser
        if limited and (obj.is_superuser or obj.pk == request.user.pk):
            return False
        return super().has_change_permission(request, obj)

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: Any = None,
    ) -> Any:
        # The form of a data manager never shows these fields; a POST carrying them is forged.
        forged = any(name in request.POST for name in PRIVILEGED_USER_FIELDS)
        if request.method == "POST" and not request.user.is_superuser and forged:
            raise PermissionDenied
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # One security-log entry per relation, before and after the whole form.
        with user_m2m_changes(form.instance):
            super().save_related(request, form, formsets, change)
        user = form.instance
        if request.user.is_superuser or user.is_superuser:
            return
        staff = user.groups.filter(name=GROUP_NAMES[Role.DATA_MANAGER]).exists()
        if user.is_staff != staff:
            user.is_staff = staff
            user.save(update_fields=["is_staff"])
