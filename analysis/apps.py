from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalysisConfig(AppConfig):
    name = "analysis"
    verbose_name = _("Analysis and exports")

    def ready(self) -> None:
        from analysis.tasks import results_refresh_request
        from hfs_ecrf.data_version import data_changed

        data_changed.connect(results_refresh_request, dispatch_uid="analysis-results-refresh")
