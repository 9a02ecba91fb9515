"""Creates the four study groups with their permissions (used by a data migration)."""

from __future__ import annotations

from typing import Any

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions

from hfs_ecrf.roles import DATA_MANAGER_ADMIN_PERMISSIONS, GROUP_NAMES, ROLE_CAPABILITIES, Role


def sync_study_groups(apps: Any = global_apps, schema_editor: Any = None) -> None:
    """Create or update the groups. Idempotent; also run by seed_demo, since a flushed test
    database loses what data migrations wrote."""
    # Permissions are normally created after migrate; create them now so groups can hold them.
    for app_config in apps.get_app_configs():
        previous = getattr(app_config, "models_module", None)
        app_config.models_module = previous or True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = previous

    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for role, name in GROUP_NAMES.items():
        group, _ = group_model.objects.get_or_create(name=name)
        wanted = [("hfs_ecrf", codename) for codename in ROLE_CAPABILITIES[role]]
        if role == Role.DATA_MANAGER:
            wanted += DATA_MANAGER_ADMIN_PERMISSIONS
        # An earlier migration runs before later capabilities exist; the migration that adds
        # them runs this again (``wanted`` always comes from roles.py, the current list).
        permissions = [
            permission
            for app, codename in wanted
            for permission in permission_model.objects.filter(
                content_type__app_label=app, codename=codename
            )
        ]
        group.permissions.set(permissions)
