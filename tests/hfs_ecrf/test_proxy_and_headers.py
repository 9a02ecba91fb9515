"""Client address behind a proxy (issue 10, point 8) and security headers (point 9)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from hfs_ecrf.models import SecurityEvent
from tests.conftest import login

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct-horse-battery-1"
PROXY = "10.0.0.1"  # every request reaches the app from the proxy


def _attempt(username: str, password: str, forwarded_for: str | None):
    headers = {"REMOTE_ADDR": PROXY}
    if forwarded_for is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return Client().post(reverse("login"), {"username": username, "password": password}, **headers)


# --- point 8: the client's address ----------------------------------------------------------


def test_the_trusted_proxy_count_is_a_documented_setting():
    assert settings.TRUSTED_PROXY_COUNT == 0  # default: no proxy, the header is ignored
    assert settings.AXES_CLIENT_IP_CALLABLE == "hfs_ecrf.security.client_ip"
    assert "TRUSTED_PROXY_COUNT" in (ROOT / "README.md").read_text()


def test_behind_one_proxy_the_lockout_keys_on_the_client_address(settings, alice):
    settings.TRUSTED_PROXY_COUNT = 1
    # An attacker at 203.0.113.5 fails five times for alice (and forges a header to blame
    # someone else: the proxy appends the real address, which is the one used).
    for _ in range(5):
        _attempt("alice", "wrong-password-xx", forwarded_for="198.51.100.7, 203.0.113.5")
    assert _attempt("alice", PASSWORD, forwarded_for="203.0.113.5").status_code == 429
    # Alice, at another address through the same proxy, still logs in.
    assert _attempt("alice", PASSWORD, forwarded_for="192.0.2.44").status_code == 302
    failed = SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOGIN_FAILED)
    assert set(failed.values_list("ip_address", flat=True)) == {"203.0.113.5"}
    login_event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.LOGIN)
    assert login_event.ip_address == "192.0.2.44"
    locked = SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOCKED_OUT)
    assert set(locked.values_list("ip_address", flat=True)) == {"203.0.113.5"}


def test_without_a_trusted_proxy_a_forwarded_header_is_ignored(settings, alice):
    settings.TRUSTED_PROXY_COUNT = 0
    # Each attempt claims another address; all come from the same peer, so they add up.
    for n in range(5):
        _attempt("alice", "wrong-password-xx", forwarded_for=f"192.0.2.{n + 1}")
    assert _attempt("alice", PASSWORD, forwarded_for="192.0.2.99").status_code == 429
    addresses = SecurityEvent.objects.filter(
        kind__in=[SecurityEvent.Kind.LOGIN_FAILED, SecurityEvent.Kind.LOCKED_OUT]
    ).values_list("ip_address", flat=True)
    assert set(addresses) == {PROXY}


def test_a_header_shorter_than_the_proxy_chain_or_garbage_falls_back_to_the_peer(settings, alice):
    settings.TRUSTED_PROXY_COUNT = 2
    _attempt("alice", "wrong-password-xx", forwarded_for="192.0.2.1")
    settings.TRUSTED_PROXY_COUNT = 1
    _attempt("alice", "wrong-password-xx", forwarded_for="not-an-address")
    failed = SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOGIN_FAILED)
    assert list(failed.values_list("ip_address", flat=True)) == [PROXY, PROXY]


# --- point 9: headers -----------------------------------------------------------------------


def _directives(header: str) -> dict[str, list[str]]:
    parts = (part.strip().split() for part in header.split(";") if part.strip())
    return {words[0]: words[1:] for words in parts}


@pytest.mark.parametrize("url", ["home", "login", "monitoring:patient_list", "admin:index"])
def test_pages_carry_a_strict_csp_and_a_permissions_policy(dana, url):
    response = login(dana).get(reverse(url), follow=True)
    assert response.status_code == 200
    csp = _directives(response["Content-Security-Policy"])
    assert csp["script-src"] == ["'self'"]
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert all("unsafe" not in value for values in csp.values() for value in values)
    policy = response["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in policy


INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
JS_URL = re.compile(r"""(href|src|action)\s*=\s*["']\s*javascript:""", re.IGNORECASE)


def _templates() -> list[Path]:
    roots = [ROOT / "templates", *ROOT.glob("*/templates")]
    return sorted(path for root in roots for path in root.rglob("*.html"))


def test_templates_have_no_inline_script():
    templates = _templates()
    assert len(templates) > 10
    offenders = [
        f"{path.relative_to(ROOT)}: {match.group(0)[:80]}"
        for path in templates
        for pattern in (INLINE_SCRIPT, EVENT_HANDLER, JS_URL)
        for match in pattern.finditer(path.read_text())
    ]
    assert not offenders, offenders


def test_the_inline_script_scan_finds_what_it_looks_for():
    assert INLINE_SCRIPT.search("<script>alert(1)</script>")
    assert not INLINE_SCRIPT.search('<script src="/static/x.js"></script>')
    assert EVENT_HANDLER.search('<button type=submit onclick="go()">')
    assert JS_URL.search('<a href="javascript:void(0)">')
