"""Authentication as a trial system needs it, and the security log of account events."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import identify_hasher
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hfs_ecrf.models import SecurityEvent
from hfs_ecrf.sessions import REFRESHED_AT
from patients.models import SiteMembership
from tests.conftest import login

PASSWORD = "correct-horse-battery-1"


def _attempt(client: Client, username: str, password: str, ip: str = "10.0.0.7"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def test_passwords_are_hashed_with_argon2(alice):
    assert identify_hasher(alice.password).algorithm == "argon2"


def test_passwords_shorter_than_12_characters_are_refused():
    try:
        validate_password("Sh0rt-pass!")
    except ValidationError as error:
        assert any("12" in message for message in error.messages)
    else:
        raise AssertionError("an 11-character password was accepted")


def test_login_with_the_right_password_works_and_is_logged(alice):
    response = _attempt(Client(), "alice", PASSWORD)
    assert response.status_code == 302
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.LOGIN)
    assert event.user == alice
    assert event.ip_address == "10.0.0.7"


def test_a_failed_login_is_logged_with_username_and_ip(alice):
    response = _attempt(Client(), "alice", "wrong-password-xx")
    assert response.status_code == 200
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.LOGIN_FAILED)
    assert (event.username, event.ip_address) == ("alice", "10.0.0.7")


def test_five_failures_lock_the_account_even_for_the_right_password(alice):
    client = Client()
    for _ in range(5):
        _attempt(client, "alice", "wrong-password-xx")
    response = _attempt(client, "alice", PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOCKED_OUT).exists()


def test_lockout_is_per_username_and_ip(alice):
    for _ in range(5):
        _attempt(Client(), "alice", "wrong-password-xx", ip="10.0.0.8")
    assert _attempt(Client(), "alice", PASSWORD, ip="10.0.0.9").status_code == 302


def test_four_failures_do_not_lock(alice):
    for _ in range(4):
        _attempt(Client(), "alice", "wrong-password-xx")
    assert _attempt(Client(), "alice", PASSWORD).status_code == 302


def test_lockout_cools_off_after_15_minutes():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60


def _stored_session(client: Client) -> Session:
    return Session.objects.get(pk=client.session.session_key)


def test_sessions_expire_after_30_idle_minutes(alice):
    client = login(alice)
    assert client.get(reverse("home")).status_code == 200
    assert client.session.get_expiry_age() == 30 * 60
    expiry = _stored_session(client).expire_date
    assert timedelta(minutes=29) < expiry - timezone.now() <= timedelta(minutes=30)
    # 30 minutes without a request: the stored session has expired, the next page is the login
    Session.objects.filter(pk=client.session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_activity_extends_the_session(alice):
    client = login(alice)
    assert client.get(reverse("home")).status_code == 200
    stored = _stored_session(client)
    # the expiry was last moved on a minute ago and is now 5 s away
    data = stored.get_decoded()
    data[REFRESHED_AT] -= settings.SESSION_REFRESH_SECONDS
    Session.objects.filter(pk=stored.pk).update(
        session_data=SessionStore().encode(data),
        expire_date=timezone.now() + timedelta(seconds=5),
    )
    assert client.get(reverse("home")).status_code == 200
    assert _stored_session(client).expire_date > timezone.now() + timedelta(minutes=29)
    assert client.get(reverse("home")).status_code == 200  # still logged in


def test_the_session_is_written_at_most_once_a_minute(alice):
    client = login(alice)
    assert client.get(reverse("home")).status_code == 200
    before = _stored_session(client)
    assert client.get(reverse("home")).status_code == 200
    after = _stored_session(client)
    assert (after.expire_date, after.session_data) == (before.expire_date, before.session_data)
    assert settings.SESSION_REFRESH_SECONDS == 60


def test_logout_leaves_no_session_behind(alice):
    client = login(alice)
    key = client.session.session_key
    client.post(reverse("logout"))
    assert not Session.objects.filter(pk=key).exists()
    assert client.get(reverse("home")).status_code == 302


def test_logout_is_a_post_and_is_logged(alice):
    client = login(alice)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOGOUT, user=alice).exists()
    assert client.get(reverse("home")).status_code == 302


def test_password_change_needs_the_old_password(alice):
    client = login(alice)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": "nope",
            "new_password1": "a-new-long-pass-42",
            "new_password2": "a-new-long-pass-42",
        },
    )
    assert response.status_code == 200
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_account_creation_and_role_change_are_logged(dana, site_a):
    client = login(dana)
    response = client.post(
        reverse("admin:auth_user_add"),
        {
            "username": "newdoc",
            "password1": "a-long-password-77",
            "password2": "a-long-password-77",
            "usable_password": "true",
            "site_memberships-TOTAL_FORMS": "0",
            "site_memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    created = SecurityEvent.objects.get(kind=SecurityEvent.Kind.ACCOUNT_CREATED, username="newdoc")
    assert created.actor == dana
    from django.contrib.auth.models import User

    newdoc = User.objects.get(username="newdoc")
    newdoc.groups.add(Group.objects.get(name="Clinician"))
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.ROLE_CHANGED, user=newdoc).exists()


def test_site_membership_change_is_logged(alice, site_b):
    SiteMembership(user=alice, site=site_b).save_audited(user=None, reason="cover")
    details = SecurityEvent.objects.filter(
        kind=SecurityEvent.Kind.SITE_CHANGED, user=alice
    ).values_list("detail", flat=True)
    assert any(d.startswith("added to site TAS") for d in details)


def test_security_log_cannot_be_edited_in_admin(dana, alice):
    event = SecurityEvent.objects.create(kind=SecurityEvent.Kind.LOGIN, username="alice")
    client = login(dana)
    url = reverse("admin:hfs_ecrf_securityevent_change", args=[event.pk])
    assert client.post(url, {"kind": "logout"}).status_code == 403
    event.refresh_from_db()
    assert event.kind == SecurityEvent.Kind.LOGIN
