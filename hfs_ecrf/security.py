"""Writes account and access events to the security log.

Django and django-axes announce logins, failures and lockouts only through signals, so this is
the one place where the project listens to signals (patients/apps.py adds the site-membership
handlers, which call ``log_event``); the handlers only record, never decide.
"""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed, post_save
from simple_history.models import HistoricalRecords

from hfs_ecrf.models import SecurityEvent


def client_ip(request: Any) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def current_user() -> Any:
    """The user of the request being served, if any (set by simple-history's middleware)."""
    request = getattr(HistoricalRecords.context, "request", None)
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def log_event(
    kind: str,
    *,
    user: Any = None,
    username: str = "",
    request: Any = None,
    detail: str = "",
    actor: Any = None,
) -> SecurityEvent:
    if request is None:
        request = getattr(HistoricalRecords.context, "request", None)
    return SecurityEvent.objects.create(
        kind=kind,
        user=user if user is not None and user.pk else None,
        username=username or (user.get_username() if user is not None else ""),
        actor=actor if actor is not None else current_user(),
        ip_address=client_ip(request),
        detail=detail,
    )


def _on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    log_event(SecurityEvent.Kind.LOGIN, user=user, request=request, actor=user)


def _on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        log_event(SecurityEvent.Kind.LOGOUT, user=user, request=request, actor=user)


def _on_login_failed(sender: Any, credentials: dict, request: Any = None, **kwargs: Any) -> None:
    log_event(
        SecurityEvent.Kind.LOGIN_FAILED, username=credentials.get("username", ""), request=request
    )


def _on_locked_out(
    sender: Any, request: Any, username: str, ip_address: str, **kwargs: Any
) -> None:
    log_event(SecurityEvent.Kind.LOCKED_OUT, username=username or "", request=request)


def _on_user_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    if created and not kwargs.get("raw"):
        log_event(SecurityEvent.Kind.ACCOUNT_CREATED, user=instance)


def _on_groups_changed(sender: Any, instance: Any, action: str, pk_set: Any, **kwargs: Any) -> None:
    if action not in {"post_add", "post_remove", "post_clear"}:
        return
    from django.contrib.auth.models import Group

    if isinstance(instance, Group):
        return
    names = ", ".join(instance.groups.order_by("name").values_list("name", flat=True))
    log_event(SecurityEvent.Kind.ROLE_CHANGED, user=instance, detail=f"groups now: {names}")


def connect() -> None:
    user_model = get_user_model()
    user_logged_in.connect(_on_login, dispatch_uid="security_login")
    user_logged_out.connect(_on_logout, dispatch_uid="security_logout")
    user_login_failed.connect(_on_login_failed, dispatch_uid="security_login_failed")
    user_locked_out.connect(_on_locked_out, dispatch_uid="security_locked_out")
    post_save.connect(_on_user_saved, sender=user_model, dispatch_uid="security_user_saved")
    m2m_changed.connect(
        _on_groups_changed, sender=user_model.groups.through, dispatch_uid="security_groups"
    )
