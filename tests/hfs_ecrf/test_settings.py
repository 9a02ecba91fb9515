"""Settings come from the environment and fail loudly on bad values."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from hfs_ecrf.env import envbool, envint, envlist

ROOT = Path(__file__).resolve().parents[2]


def _run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_envbool_reads_common_spellings(monkeypatch):
    monkeypatch.setenv("FLAG", "yes")
    assert envbool("FLAG", False) is True
    monkeypatch.setenv("FLAG", "0")
    assert envbool("FLAG", True) is False


def test_envbool_rejects_nonsense(monkeypatch):
    monkeypatch.setenv("FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="FLAG"):
        envbool("FLAG", False)


def test_envint_rejects_nonsense(monkeypatch):
    monkeypatch.setenv("N", "ten")
    with pytest.raises(ImproperlyConfigured, match="N='ten'"):
        envint("N", 1)


def test_envlist_splits_on_commas(monkeypatch):
    monkeypatch.setenv("HOSTS", "a.example, b.example,,")
    assert envlist("HOSTS", []) == ["a.example", "b.example"]


def test_it_refuses_to_start_without_secret_key_when_debug_is_off():
    result = _run_manage("check", DEBUG="0", ALLOWED_HOSTS="ecrf.example.org")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_deploy_check_passes_with_production_settings():
    result = _run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY="k" * 20 + "x7Qp!2zR@9mV#4tL$8wN%1bC^6yH&3",
        ALLOWED_HOSTS="ecrf.example.org",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_deploy_check_fails_with_development_defaults():
    result = _run_manage("check", "--deploy", "--fail-level", "WARNING", DEBUG="1")
    assert result.returncode != 0


def test_time_and_transactions(settings):
    assert settings.USE_TZ is True
    assert settings.DATABASES["default"]["ATOMIC_REQUESTS"] is True
    assert settings.TIME_ZONE == os.environ.get("TIME_ZONE", "Asia/Samarkand")


def test_server_database_connections_are_kept_per_worker(monkeypatch):
    """PostgreSQL: a worker keeps its connection (checked before reuse) instead of opening one
    per request; CONN_MAX_AGE overrides; SQLite opens its file per request as before."""
    from hfs_ecrf.settings import _database_from_url

    monkeypatch.delenv("CONN_MAX_AGE", raising=False)
    kept = _database_from_url("postgres://app@db:5432/ecrf")
    assert kept["CONN_MAX_AGE"] == 60 and kept["CONN_HEALTH_CHECKS"] is True
    assert _database_from_url("sqlite:///:memory:")["CONN_MAX_AGE"] == 0
    monkeypatch.setenv("CONN_MAX_AGE", "0")
    assert _database_from_url("postgres://app@db:5432/ecrf")["CONN_MAX_AGE"] == 0
