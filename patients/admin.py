from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.models import User

from hfs_ecrf.admin import AuditedAdmin, ReadOnlyAdmin, StudyUserAdminBase
from patients.models import Patient, Site, SiteMembership


@admin.register(Site)
class SiteAdmin(AuditedAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(SiteMembership)
class SiteMembershipAdmin(AuditedAdmin):
    list_display = ["user", "site"]
    list_filter = ["site"]
    autocomplete_fields = ["user"]
    list_select_related = ["user", "site"]

    def has_delete_permission(self, request, obj=None) -> bool:
        # Removing someone from a site is a normal change; the history keeps it.
        return request.user.has_perm("patients.delete_sitemembership")


class SiteMembershipInline(admin.TabularInline):
    model = SiteMembership
    extra = 1


admin.site.unregister(User)


@admin.register(User)
class StudyUserAdmin(StudyUserAdminBase):
    inlines = [SiteMembershipInline]


@admin.register(Patient)
class PatientAdmin(ReadOnlyAdmin):
    """Read-only list of patients; the analysis app adds the data managers' export action."""

    list_display = ["study_id", "site", "age_at_consent", "enrolled_at"]
    list_filter = ["site"]
    search_fields = ["study_id"]

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("hfs_ecrf.export_data")

    def get_actions(self, request):
        # actions added by other apps stay; a bulk delete never
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions
