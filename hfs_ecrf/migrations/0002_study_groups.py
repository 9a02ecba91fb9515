from django.db import migrations

from hfs_ecrf.groups import sync_study_groups


class Migration(migrations.Migration):
    dependencies = [
        ("hfs_ecrf", "0001_initial"),
        ("patients", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(sync_study_groups, migrations.RunPython.noop)]
