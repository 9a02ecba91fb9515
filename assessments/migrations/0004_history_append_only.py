from django.db import migrations

from hfs_ecrf.audit import protect_history_tables


class Migration(migrations.Migration):
    dependencies = [("assessments", "0003_adverseevent_concomitantmedication_hads_hdrs17_and_more")]

    operations = [
        protect_history_tables(
            "assessments.HistoricalSpasmAssessment",
            "assessments.HistoricalRand36",
            "assessments.HistoricalHads",
            "assessments.HistoricalHdrs17",
            "assessments.HistoricalTreatmentExposure",
            "assessments.HistoricalConcomitantMedication",
            "assessments.HistoricalAdverseEvent",
        )
    ]
