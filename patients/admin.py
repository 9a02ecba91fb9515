from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User

from hfs_ecrf.admin import AuditedAdmin
from patients.models import Site, SiteMembership


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
class StudyUserAdmin(UserAdmin):
    inlines = [SiteMembershipInline]
