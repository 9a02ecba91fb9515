"""The README's production section, run for real (issue 10, point 1).

DEBUG=0, a generated SECRET_KEY, `migrate`, `collectstatic`, `check --deploy`, gunicorn on a
free loopback port and the background worker (`db_worker`), against a database of its own in the
PostgreSQL cluster of the test run.
Then a plain HTTP client, playing the TLS proxy (X-Forwarded-Proto, X-Forwarded-For, Host) and the
browser (cookie jar, CSRF), logs in, loads the patient list, saves a visit form, opens /analysis/
once the worker has stored the results, and fetches a static file that whitenoise serves
compressed under its hashed name.
"""

from __future__ import annotations

import gzip
import os
import re
import secrets
import shlex
import socket
import subprocess
import sys
import time
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.hfs_ecrf.http_client import CLIENT_IP, DEMO_PASSWORD, HOST, Browser

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.postgres_only


def readme_commands() -> list[str]:
    """The `python manage.py …` and `gunicorn …` lines of the README's production section."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Production", 1)[1]
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    commands = []
    for line in block.splitlines():
        words = line.split("#", 1)[0].split()
        while words and "=" in words[0]:  # VAR=value before a command: its own environment
            words.pop(0)
        command = " ".join(words)
        if command.startswith(("python manage.py", "gunicorn")):
            commands.append(command)
    return commands


def test_the_readme_production_commands_are_the_ones_this_test_runs():
    assert readme_commands() == [
        "python manage.py migrate",
        "python manage.py collectstatic --noinput",
        "python manage.py check --deploy",
        "gunicorn hfs_ecrf.wsgi --bind 127.0.0.1:8000 --workers 3 --timeout 120",
        "python manage.py db_worker --no-reload",
    ]
    exported = (ROOT / "README.md").read_text().split("## Production", 1)[1]
    for name in (
        "DEBUG=0",
        "SECRET_KEY=",
        "ALLOWED_HOSTS=",
        "TRUSTED_PROXY_COUNT=1",
        "STATIC_ROOT=",
    ):
        assert name in exported


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def prod_database():
    """A database of its own in the test run's cluster, dropped afterwards."""
    import psycopg2
    from psycopg2 import sql

    # Created by the owner role (the PG pass runs as an app role that may not create databases).
    base = os.environ.get("DATABASE_OWNER_URL") or os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        pytest.skip("needs DATABASE_URL of a PostgreSQL server (the PG pass sets it)")
    name = f"hfs_prod_{secrets.token_hex(4)}"
    admin = psycopg2.connect(base)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    owner = urllib.parse.urlsplit(base)._replace(path=f"/{name}").geturl()
    app = os.environ.get("DATABASE_URL", "")
    app = urllib.parse.urlsplit(app)._replace(path=f"/{name}").geturl() if app else owner
    yield {"owner": owner, "app": app}
    with admin.cursor() as cur:
        cur.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name]
        )
        cur.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
    admin.close()


def _run(args: list[str], env: dict[str, str], timeout: int = 300) -> str:
    result = subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, f"{shlex.join(args)}\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


@pytest.fixture
def production(prod_database, tmp_path):
    """Runs the README's commands; yields the base URL of gunicorn, stopped in teardown."""
    port = _free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    env = {
        **clean,
        "DJANGO_SETTINGS_MODULE": "hfs_ecrf.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": HOST,
        "TRUSTED_PROXY_COUNT": "1",
        "STATIC_ROOT": str(tmp_path / "static"),
        "DATABASE_URL": prod_database["app"],
    }
    # As the README says: migrate as the owner, granting the app role; the rest as the app role.
    as_owner = {
        **env,
        "DATABASE_URL": prod_database["owner"],
        "DATABASE_APP_ROLE": os.environ.get("DATABASE_APP_ROLE", ""),
    }
    python = [sys.executable]
    commands = readme_commands()
    # the last two run side by side for good: gunicorn and the background worker
    *setup, serve, work = commands
    for command in setup:
        output = _run(python + shlex.split(command)[1:], as_owner if "migrate" in command else env)
        if "check --deploy" in command:
            assert "System check identified no issues" in output, output
    assert (tmp_path / "static" / "staticfiles.json").exists()
    # Test data only (seed_demo refuses DEBUG=0, as it should): a few synthetic patients.
    _run(
        [*python, "manage.py", "seed_demo", "--patients", "24", "--password", DEMO_PASSWORD],
        {**env, "DEBUG": "1"},
    )
    gunicorn = shlex.split(serve.replace("127.0.0.1:8000", f"127.0.0.1:{port}"))
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(  # noqa: S603
        [str(BIN / gunicorn[0]), *gunicorn[1:]], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    worker = subprocess.Popen(  # noqa: S603
        python + shlex.split(work)[1:],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
        start_new_session=True,  # as a supervisor starts a service: a session of its own
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not start within 90 s"
                time.sleep(0.5)
        yield base, prod_database, tmp_path / "gunicorn.log", worker.pid
    finally:
        for process in (server, worker):
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        log.close()


class _FormFields(HTMLParser):
    """The values a browser would submit for the form with id `form_id`."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id, self.inside, self.fields = form_id, False, []
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside or "name" not in a and tag != "option":
            return
        if tag == "input":
            kind = a.get("type", "text")
            if kind in {"checkbox", "radio"} and "checked" not in a:
                return
            if kind not in {"submit", "button"}:
                self.fields.append((a["name"], a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select and "selected" in a:
            self.fields.append((self._select, a.get("value", "")))
        elif tag == "textarea":
            self._textarea = a["name"]
            self.fields.append((a["name"], ""))

    def handle_data(self, data):
        if self._textarea:
            name, value = self.fields.pop()
            self.fields.append((name, value + data))

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def test_the_production_path_serves_the_app(production):
    base, database_url, log, worker = production
    clinician = Browser(base)
    status, headers, _ = clinician.get("/accounts/login/")
    assert status == 200
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert headers["Strict-Transport-Security"].startswith("max-age=")
    assert any(c.name == "csrftoken" and c.secure for c in clinician.jar)
    # plain http (no proxy header) is sent to https
    status, headers, _ = clinician.get("/accounts/login/", headers={"X-Forwarded-Proto": "http"})
    assert status == 301 and headers["Location"].startswith(f"https://{HOST}/")

    clinician.login("clinician_a")
    status, _, body = clinician.get("/patients/")
    assert status == 200, body.decode()[:2000]
    page = body.decode()
    study_id = re.search(r'href="/patients/(SMR-\d+)/"', page).group(1)

    # a visit form, saved
    status, _, body = clinician.get(f"/visits/{study_id}/V1/")
    assert status == 200, body.decode()[:2000]
    form_path = re.search(rf'href="(/visits/{study_id}/V1/[\w-]+/)"', body.decode()).group(1)
    status, _, body = clinician.get(form_path)
    assert status == 200, body.decode()[:2000]
    parser = _FormFields("crf-form")
    parser.feed(body.decode())
    fields = dict(parser.fields)
    fields.update(
        action="complete",
        reason_for_change="production smoke test",
        confirm_warnings="on",
        csrfmiddlewaretoken=clinician.csrf(),
    )
    status, headers, body = clinician.request(form_path, fields)
    assert status == 302, body.decode()[:3000]

    # analysis, as the investigator: the worker stores the results of the saved data
    investigator = Browser(base)
    investigator.login("investigator")
    deadline = time.monotonic() + 240
    while True:
        status, _, body = investigator.get("/analysis/")
        assert status == 200, log.read_text()[-5000:]
        if b'data-testid="results-version"' in body:
            break
        assert time.monotonic() < deadline, "no stored results: " + log.read_text()[-5000:]
        time.sleep(2)

    # the worker gave itself the lowest CPU priority once it computed (analysis/tasks.py): nice 19
    # and, as it leads its own session, its session's too (else it would get as much CPU as all
    # of gunicorn's workers together)
    autogroup = Path(f"/proc/{worker}/autogroup")
    deadline = time.monotonic() + 120
    while os.getpriority(os.PRIO_PROCESS, worker) != 19:
        assert time.monotonic() < deadline, "the worker kept its CPU priority"
        time.sleep(1)
    if autogroup.exists():  # Linux with autogroups
        assert autogroup.read_text().split()[-1] == "19", autogroup.read_text()

    # a static file under its hashed name, compressed by whitenoise
    css = re.search(r'href="(/static/vendor/bootstrap/bootstrap\.min\.[0-9a-f]{12}\.css)"', page)
    assert css, "the page links the hashed (manifest) name of the stylesheet"
    status, headers, body = clinician.get(css.group(1), headers={"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert "immutable" in headers["Cache-Control"]
    assert gzip.decompress(body).startswith(b'@charset "UTF-8";')
    status, _, _ = clinician.get("/static/vendor/bootstrap/bootstrap.bundle.min.js.map")
    assert status == 200

    # the security log has the client's address, not the proxy's (TRUSTED_PROXY_COUNT=1)
    import psycopg2

    with psycopg2.connect(database_url["owner"]) as connection, connection.cursor() as cur:
        cur.execute("SELECT DISTINCT ip_address FROM hfs_ecrf_securityevent WHERE kind = 'login'")
        assert [row[0] for row in cur.fetchall()] == [CLIENT_IP]
    connection.close()
