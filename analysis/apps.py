from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalysisConfig(AppConfig):
    name = "analysis"
    verbose_name = _("Analysis and exports")

    def ready(self) -> None:
        from analysis.services import results_before_unlock, results_finalise
        from analysis.tasks import results_refresh_request
        from hfs_ecrf.data_version import data_changed
        from monitoring.services import STUDY_LOCK_LISTENERS, STUDY_UNLOCK_LISTENERS

        data_changed.connect(results_refresh_request, dispatch_uid="analysis-results-refresh")
        # the database lock stores the final results; the unlock makes sure they are computed
        STUDY_LOCK_LISTENERS["analysis-final-results"] = results_finalise
        STUDY_UNLOCK_LISTENERS["analysis-final-results"] = results_before_unlock
