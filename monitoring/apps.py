from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitoringConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "monitoring"
    verbose_name = _("Monitoring")

    def ready(self) -> None:
        # Locks and the after-save reactions join every audited write (see hfs_ecrf/hooks.py).
        from monitoring import guards

        guards.register()
