"""Writes account and access events to the security log.

Django and django-axes announce logins, failures and lockouts only through signals, so this is
the one place where the project listens to signals (patients/apps.py adds the site-membership
handlers, which call ``log_event``); the handlers only record, never decide.
"""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed, post_save, pre_save
from simple_history.models import HistoricalRecords

from hfs_ecrf.models import SecurityEvent


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: Any) -> str | None:
    """The client's address, as the lockout (AXES_CLIENT_IP_CALLABLE) and the log see it.

    With TRUSTED_PROXY_COUNT = N > 0, the N-th entry from the right of X-Forwarded-For is the
    address the outermost trusted proxy saw; entries left of it were sent by the client and may
    be forged, so they are never used. With N = 0, or when the header is shorter than N (the
    request did not pass through the proxies), the TCP peer (REMOTE_ADDR) is the client.
    """
    if request is None:
        return None
    remote = request.META.get("REMOTE_ADDR") or None
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < count:
        return remote
    return _valid_ip(forwarded[-count]) or remote


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


# Account fields whose every change is logged with the value before and after.
PRIVILEGE_FIELDS = ("is_superuser", "is_staff", "is_active")


def before_after(what: str, before: Any, after: Any) -> str:
    return f"{what}: before {before}; after {after}"


def _on_user_saving(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    update_fields = kwargs.get("update_fields")
    if raw or instance.pk is None:
        return
    if update_fields is not None and not set(update_fields) & set(PRIVILEGE_FIELDS):
        return  # e.g. last_login on every login
    previous = sender.objects.filter(pk=instance.pk).values(*PRIVILEGE_FIELDS).first()
    instance._security_before = previous


def _on_user_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    if created:
        flags = ", ".join(f"{name}={getattr(instance, name)}" for name in PRIVILEGE_FIELDS)
        log_event(SecurityEvent.Kind.ACCOUNT_CREATED, user=instance, detail=flags)
        return
    previous = instance.__dict__.pop("_security_before", None)
    if not previous:
        return
    for name in PRIVILEGE_FIELDS:
        if previous[name] != getattr(instance, name):
            log_event(
                SecurityEvent.Kind.ACCOUNT_CHANGED,
                user=instance,
                detail=before_after(name, previous[name], getattr(instance, name)),
            )


def _labels(user: Any, relation: str) -> list[str]:
    if relation == "groups":
        return sorted(user.groups.values_list("name", flat=True))
    return sorted(
        f"{app}.{codename}"
        for app, codename in user.user_permissions.values_list(
            "content_type__app_label", "codename"
        )
    )


# Users whose group and permission changes are being logged as one before/after entry per
# relation by user_m2m_changes() (a form's groups.set() is a remove and an add in the ORM).
_COALESCED: ContextVar[frozenset] = ContextVar("security_coalesced_users", default=frozenset())
_M2M_KINDS = {
    "groups": SecurityEvent.Kind.ROLE_CHANGED,
    "user_permissions": SecurityEvent.Kind.PERMISSIONS_CHANGED,
}


@contextlib.contextmanager
def user_m2m_changes(user: Any) -> Iterator[None]:
    """Log the user's groups and user permissions once each, before and after the block."""
    before = {relation: _labels(user, relation) for relation in _M2M_KINDS}
    token = _COALESCED.set(_COALESCED.get() | {user.pk})
    try:
        yield
    finally:
        _COALESCED.reset(token)
    for relation, kind in _M2M_KINDS.items():
        after = _labels(user, relation)
        if after != before[relation]:
            log_event(kind, user=user, detail=before_after(relation, before[relation], after))


def _m2m_logger(relation: str, kind: str) -> Any:
    """A handler logging a user's groups or user permissions before and after each change,
    whichever side (user.groups.add or group.user_set.add) made it."""

    def handler(
        sender: Any, instance: Any, action: str, reverse: bool, pk_set: Any, **kwargs: Any
    ) -> None:
        user_model = get_user_model()
        if action in {"pre_add", "pre_remove", "pre_clear"}:
            if not reverse:
                users = [instance]
            elif pk_set is not None:
                users = list(user_model.objects.filter(pk__in=pk_set))
            else:
                users = list(instance.user_set.all())
            instance._security_m2m = {u.pk: (u, _labels(u, relation)) for u in users}
            return
        if action not in {"post_add", "post_remove", "post_clear"}:
            return
        for user, before in instance.__dict__.pop("_security_m2m", {}).values():
            if user.pk in _COALESCED.get():
                continue
            after = _labels(user, relation)
            if after != before:
                log_event(kind, user=user, detail=before_after(relation, before, after))

    return handler


_on_groups_changed = _m2m_logger("groups", _M2M_KINDS["groups"])
_on_user_permissions_changed = _m2m_logger("user_permissions", _M2M_KINDS["user_permissions"])


def connect() -> None:
    user_model = get_user_model()
    user_logged_in.connect(_on_login, dispatch_uid="security_login")
    user_logged_out.connect(_on_logout, dispatch_uid="security_logout")
    user_login_failed.connect(_on_login_failed, dispatch_uid="security_login_failed")
    user_locked_out.connect(_on_locked_out, dispatch_uid="security_locked_out")
    pre_save.connect(_on_user_saving, sender=user_model, dispatch_uid="security_user_saving")
    post_save.connect(_on_user_saved, sender=user_model, dispatch_uid="security_user_saved")
    m2m_changed.connect(
        _on_groups_changed, sender=user_model.groups.through, dispatch_uid="security_groups"
    )
    m2m_changed.connect(
        _on_user_permissions_changed,
        sender=user_model.user_permissions.through,
        dispatch_uid="security_user_permissions",
    )
