from django.db import migrations

from hfs_ecrf.audit import protect_history_tables


class Migration(migrations.Migration):
    dependencies = [("assessments", "0001_initial")]

    operations = [
        protect_history_tables("assessments.HistoricalVisit", "assessments.HistoricalLabPanel")
    ]
