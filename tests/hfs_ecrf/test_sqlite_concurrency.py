"""The SQLite quickstart under a few simultaneous users (issue 10, point 3, SQLite half).

`make run`'s server (runserver, threaded) on a file database configured as the settings do (WAL,
busy timeout, immediate transactions). Eight people log in at the same instant, then submit a
screening at the same instant: no 500 ("database is locked"), every row written.
"""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.utils import timezone

from tests.hfs_ecrf.http_client import Browser

ROOT = Path(__file__).resolve().parents[2]
USERS = 8
PASSWORD = "sqlite-concurrency-pass-26"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def quickstart_server(tmp_path):
    database = tmp_path / "db.sqlite3"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DEBUG"))},
        "DATABASE_URL": f"sqlite:///{database}",
        "DEBUG": "1",
    }
    env.pop("SECRET_KEY", None)
    for args in (
        ["migrate", "--noinput"],
        ["seed_demo", "--patients", "0", "--password", PASSWORD],
    ):
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stderr[-3000:]
    port = _free_port()
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, (tmp_path / "server.log").read_text()
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, "runserver did not start within 60 s"
                time.sleep(0.3)
        yield f"http://127.0.0.1:{port}", database, tmp_path / "server.log"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        log.close()


def _all_at_once(jobs) -> list:
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def run(i, job):
        barrier.wait(timeout=60)
        try:
            results[i] = job()
        except Exception as error:  # noqa: BLE001 - reported below
            results[i] = error

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a request hung"
    return results


def test_simultaneous_users_get_no_database_is_locked(quickstart_server):
    base, database, log = quickstart_server
    host = base.removeprefix("http://")
    browsers = [Browser(base, host=host, proxy=False, password=PASSWORD) for _ in range(USERS)]
    for browser in browsers:
        assert browser.get("/accounts/login/")[0] == 200

    def login(browser):
        return browser.request(
            "/accounts/login/",
            {
                "username": "clinician_a",
                "password": PASSWORD,
                "csrfmiddlewaretoken": browser.csrf(),
            },
        )[0]

    statuses = _all_at_once([lambda b=b: login(b) for b in browsers])
    assert statuses == [302] * USERS, (statuses, log.read_text()[-3000:])

    form = browsers[0].get("/patients/screening/new/")[2].decode()
    site = re.search(r'<option value="(\d+)"[^>]*>', form).group(1)

    def screen(browser, n):
        data = {
            "site": site,
            "screening_number": f"CONC-{n:02d}",
            "screened_on": timezone.localdate().isoformat(),
            "inc_adult": "on",
            "inc_hfs_confirmed": "on",
            "inc_consent_able": "on",
            "csrfmiddlewaretoken": browser.csrf(),
        }
        return browser.request("/patients/screening/new/", data)[0]

    statuses = _all_at_once([lambda b=b, n=n: screen(b, n) for n, b in enumerate(browsers)])
    assert statuses == [302] * USERS, (statuses, log.read_text()[-3000:])
    with sqlite3.connect(database) as connection:
        (rows,) = connection.execute(
            "SELECT count(*) FROM patients_screening WHERE screening_number LIKE 'CONC-%'"
        ).fetchone()
        (mode,) = connection.execute("PRAGMA journal_mode").fetchone()
    assert rows == USERS
    assert mode == "wal"
