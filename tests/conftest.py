"""Shared fixtures: named personas, a client per persona, the browser.

Alice is a clinician at site A (SMR), Bob a clinician at site B (TAS), Mona monitors site A,
Ivan is an investigator, Dana the data manager.
"""

from __future__ import annotations

import html
import os
import re
import shutil

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test import Client

from hfs_ecrf.groups import sync_study_groups
from hfs_ecrf.roles import GROUP_NAMES, Role
from patients.models import Site, SiteMembership
from tests import dbroles

IN_CI = os.environ.get("CI", "").lower() == "true"


def pytest_report_header(config):
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    return f"database: {engine}"


def pytest_collection_modifyitems(config, items):
    from django.conf import settings

    on_postgres = "postgresql" in settings.DATABASES["default"]["ENGINE"]
    skip_pg = pytest.mark.skip(reason="guarantee holds only on PostgreSQL; runs in the PG pass")
    for item in items:
        if "postgres_only" in item.keywords and not on_postgres:
            item.add_marker(skip_pg)


@pytest.fixture(autouse=True)
def _fresh_list_cache():
    """Each test starts without list pages kept by an earlier one (hfs_ecrf/list_cache.py)."""
    from django.core.cache import caches

    caches["lists"].clear()
    caches["analysis"].clear()  # and the analysis pages' (analysis/dashboard/kept.py)
    caches["default"].clear()  # and what the layout keeps (patients/context_processors.py)
    yield


@pytest.fixture(autouse=True)
def _test_process_keeps_its_priority(settings):
    """A test that runs `db_worker` in process must not lower the test process's CPU priority for
    the rest of the run (analysis/tasks.py lowest_cpu_priority; tested in a child process)."""
    settings.ANALYSIS_WORKER_LOWEST_PRIORITY = False


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_modify_db_settings, django_db_blocker):
    """…and the tests run as the application's role; the owner drops the database.
    At the end no other session may still be connected to the test database: PostgreSQL
    connections are kept (CONN_MAX_AGE), so one opened by a thread that never closed it would
    stay open until the process ends and block dropping the database (tests/dbroles.py)."""
    dbroles.use_app()
    yield
    with django_db_blocker.unblock():
        leaked = dbroles.other_sessions()
    dbroles.use_owner()
    assert not leaked, f"sessions still connected to the test database at the end: {leaked}"


def make_user(username: str, role: Role | None, sites: list[Site] = ()) -> User:
    user = User.objects.create_user(username=username, password="correct-horse-battery-1")
    if role is not None:
        if not Group.objects.filter(name=GROUP_NAMES[role]).exists():
            sync_study_groups()  # a transactional test flushed what the migration wrote
        user.groups.add(Group.objects.get(name=GROUP_NAMES[role]))
        user.is_staff = role == Role.DATA_MANAGER
        user.save()
    for site in sites:
        SiteMembership(user=user, site=site).save_audited(user=None)
    return user


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


_HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)"')


def post_form(client: Client, url: str, data: dict, **kwargs):
    """POST as a browser does: GET the page first and send back its hidden fields (the version
    the record was opened at, the submission token), then the user's values."""
    page = client.get(url).content.decode()
    hidden = {name: html.unescape(value) for name, value in _HIDDEN.findall(page)}
    hidden.pop("csrfmiddlewaretoken", None)
    return client.post(url, {**hidden, **data}, **kwargs)


@pytest.fixture
def site_a(db) -> Site:
    site = Site(code="SMR", name="Site A")
    site.save_audited(user=None)
    return site


@pytest.fixture
def site_b(db) -> Site:
    site = Site(code="TAS", name="Site B")
    site.save_audited(user=None)
    return site


@pytest.fixture
def alice(site_a) -> User:
    return make_user("alice", Role.CLINICIAN, [site_a])


@pytest.fixture
def bob(site_b) -> User:
    return make_user("bob", Role.CLINICIAN, [site_b])


@pytest.fixture
def mona(site_a) -> User:
    return make_user("mona", Role.MONITOR, [site_a])


@pytest.fixture
def ivan(db) -> User:
    return make_user("ivan", Role.INVESTIGATOR)


@pytest.fixture
def dana(db) -> User:
    return make_user("dana", Role.DATA_MANAGER)


@pytest.fixture
def nobody(db) -> User:
    return make_user("nobody", None)


@pytest.fixture
def personas(alice, bob, mona, ivan, dana, nobody) -> dict[str, User]:
    return {"alice": alice, "bob": bob, "mona": mona, "ivan": ivan, "dana": dana, "nobody": nobody}


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    request, tmp_path_factory, django_db_modify_db_settings_parallel_suffix
):
    """Browser runs on SQLite use a file database, as the quickstart does: the page's own
    requests (htmx live scores, navigation) overlap, and Django's in-memory test database
    (shared cache) answers overlapping ones with "database table is locked" at once, where a
    file database in WAL mode waits for its turn.
    On PostgreSQL the test database is created and migrated as the owner (tests/dbroles.py)."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    browser_run = any(item.get_closest_marker("browser") for item in request.session.items)
    if browser_run and database["ENGINE"].endswith("sqlite3"):
        name = tmp_path_factory.mktemp("browser-db") / "test.sqlite3"
        database.setdefault("TEST", {})["NAME"] = str(name)
    dbroles.use_owner()
    dbroles.flush_as_owner()


@pytest.fixture
def on_postgres() -> bool:
    return connection.vendor == "postgresql"


# --- browser -------------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM) and shutil.which("chromium") is None:
        if IN_CI:
            pytest.fail("Chromium is required under CI=true (apt-get install chromium)")
        pytest.skip("Chromium not installed (apt-get install chromium)")
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the
    # test itself (fixtures, assertions) are synchronous and safe here.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium"),
            headless=True,
            args=CHROMIUM_ARGS,
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(locale="ru-RU")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.base_url = live_server.url
    yield page
    context.close()


def browser_login(page, username: str, password: str) -> None:
    page.goto(f"{page.base_url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("#login-form button[type=submit]")
    page.wait_for_load_state()
