from django.db import migrations

from hfs_ecrf.audit import protect_history_tables


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0001_initial")]

    operations = [
        protect_history_tables(
            "monitoring.HistoricalDataQuery",
            "monitoring.HistoricalQueryMessage",
            "monitoring.HistoricalFormVerification",
            "monitoring.HistoricalRecordLock",
            "monitoring.HistoricalSignature",
            "monitoring.HistoricalStudyLock",
        )
    ]
