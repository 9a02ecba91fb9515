from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class HfsEcrfConfig(AppConfig):
    default = True
    name = "hfs_ecrf"
    verbose_name = _("Trial administration")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import post_migrate

        from hfs_ecrf import dbguard, language, security

        security.connect()
        user_logged_in.connect(language.on_login, dispatch_uid="language_login")
        post_migrate.connect(dbguard.enforce_after_migrate, sender=self)


class StudyAdminConfig(admin_apps.AdminConfig):
    default = False
    default_site = "hfs_ecrf.admin_site.StudyAdminSite"
