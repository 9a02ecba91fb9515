from django.db import migrations

from hfs_ecrf.audit import protect_history_tables


class Migration(migrations.Migration):
    dependencies = [("assessments", "0005_adverse_event_follow_up")]

    operations = [protect_history_tables("assessments.HistoricalSuicideItemReview")]
