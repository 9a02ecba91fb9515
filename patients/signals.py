"""Site-membership changes go to the security log with the user's sites before and after
(hfs_ecrf.security records; the core imports no app, so the signals are connected from here)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save, pre_save

from hfs_ecrf.models import SecurityEvent
from hfs_ecrf.security import before_after, log_event
from patients.models import SiteMembership


def _site_codes(user: Any) -> list[str]:
    return sorted(user.site_memberships.values_list("site__code", flat=True))


def _on_membership_saving(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if raw:
        return
    previous = None
    if instance.pk is not None:
        previous = sender.objects.filter(pk=instance.pk).select_related("user").first()
    instance._security_before = {
        user.pk: (user, _site_codes(user))
        for user in {instance.user, previous.user if previous else instance.user}
    }


def _on_membership_saved(
    sender: Any, instance: Any, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    if raw:
        return
    prefix = f"added to site {instance.site.code}; " if created else ""
    for user, before in instance.__dict__.pop("_security_before", {}).values():
        after = _site_codes(user)
        if after != before:
            log_event(
                SecurityEvent.Kind.SITE_CHANGED,
                user=user,
                detail=prefix + before_after("sites", before, after),
            )


def _on_membership_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    after = _site_codes(instance.user)
    before = sorted({*after, instance.site.code})
    log_event(
        SecurityEvent.Kind.SITE_CHANGED,
        user=instance.user,
        detail=f"removed from site {instance.site.code}; " + before_after("sites", before, after),
    )


def connect() -> None:
    pre_save.connect(
        _on_membership_saving, sender=SiteMembership, dispatch_uid="security_membership_saving"
    )
    post_save.connect(
        _on_membership_saved, sender=SiteMembership, dispatch_uid="security_membership_saved"
    )
    post_delete.connect(
        _on_membership_deleted, sender=SiteMembership, dispatch_uid="security_membership_deleted"
    )
