from django.db import migrations

from hfs_ecrf.audit import protect_history_tables


class Migration(migrations.Migration):
    dependencies = [("patients", "0001_initial")]

    operations = [
        protect_history_tables("patients.HistoricalSite", "patients.HistoricalSiteMembership")
    ]
