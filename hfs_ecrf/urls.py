"""The project's URLs: each app's by string (include), so the core imports no app."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from hfs_ecrf.language import set_language

urlpatterns = [
    # The role home pages live in monitoring (worklists); included by name, not imported.
    path("", include("monitoring.home_urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("i18n/setlang/", set_language, name="set_language"),
    path("sites/", include("patients.site_urls")),
    path("admin/", admin.site.urls),
    path("patients/", include("randomisation.urls")),
    path("patients/", include("patients.urls")),
    path("visits/", include("assessments.urls")),
    path("analysis/", include("analysis.urls")),
    path("api/", include("api.urls")),
    # Last: its patient page ("patients/<study_id>/") would match "patients/allocation/" and
    # "patients/screening/" otherwise. Every URL is unchanged by the split into apps.
    path("", include("monitoring.urls")),
]
