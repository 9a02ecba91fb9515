"""Site-membership changes go to the security log (hfs_ecrf.security records; it imports no app)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from hfs_ecrf.models import SecurityEvent
from hfs_ecrf.security import log_event
from patients.models import SiteMembership


def _on_membership_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    action = "removed from" if kwargs.get("signal") is post_delete else "added to"
    log_event(
        SecurityEvent.Kind.SITE_CHANGED,
        user=instance.user,
        detail=f"{action} site {instance.site.code}",
    )


def connect() -> None:
    post_save.connect(
        _on_membership_changed, sender=SiteMembership, dispatch_uid="security_membership_saved"
    )
    post_delete.connect(
        _on_membership_changed, sender=SiteMembership, dispatch_uid="security_membership_deleted"
    )
