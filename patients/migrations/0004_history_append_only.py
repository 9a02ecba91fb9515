from django.db import migrations

from hfs_ecrf.audit import protect_history_tables


class Migration(migrations.Migration):
    dependencies = [("patients", "0003_allocationlist_allocationslot_and_more")]

    operations = [
        protect_history_tables(
            "patients.HistoricalScreening",
            "patients.HistoricalPatient",
            "patients.HistoricalIdentity",
            "patients.HistoricalConsent",
            "patients.HistoricalMedicalHistory",
            "patients.HistoricalAllocationList",
            "patients.HistoricalAllocationSlot",
            "patients.HistoricalAllocation",
            "patients.HistoricalWithdrawal",
        )
    ]
