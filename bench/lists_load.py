"""Benchmark: the three list pages under load, at 1 000 and 10 000 patients, against their floor.

    .venv/bin/python bench/lists_load.py [--seconds 30] [--clients 20]

A throwaway PostgreSQL cluster (tests/pgcluster.py), the synthetic trial (bench/_synthetic_trial.py;
plus withdrawals and open queries so that filters have something to find), then the production
path: DEBUG=0, collectstatic, gunicorn as the README runs it. ``--clients`` threads, each logged
in as a data manager through the login form, fetch the patient list, the screening log and the
record status grid (pages and filters from the querystring) for ``--seconds``; the script prints
requests/s and p50/p95/p99 per page. Floor: each page's rows fetched by one hand-written SQL
query (same rows, same columns, same order: asserted equal to what the page shows, before any
timing). Target: p95 < 300 ms at 10 000 patients. Also printed: the CPU time gunicorn (master and
workers) and PostgreSQL (every backend and background process) used per request during the run,
read from /proc: the server's cost of a page, whatever else the machine runs (latencies and
requests/s depend on that). Prints figures; not a test.
With ``LIST_CACHE_SECONDS=0`` in the environment the list pages are rendered on every request
(hfs_ecrf/list_cache.py off): the cost of the first request after a write.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from html import unescape
from pathlib import Path
from urllib.parse import urlencode, urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.lists_floor import FORMS, floor_rows  # noqa: E402
from tests.hfs_ecrf.http_client import HOST, Browser  # noqa: E402

PASSWORD = "bench-lists-pass-2026"
PER_PAGE = 50

# (page, querystring) pairs the clients cycle through: first pages, deep pages and filters.
REQUESTS = {
    "patients": [
        {},
        {"page": "7"},
        {"status": "withdrawn"},
        {"open_queries": "on", "site": "BBB"},
        {"q": "BBB-00", "arm": "b12"},
        {"visit": "V1", "visit_state": "done", "page": "3"},
    ],
    "screening": [{}, {"page": "9"}, {"q": "S1", "site": "BBB"}, {"outcome": "eligible"}],
    "status": [
        {},
        {"page": "5"},
        {"status": "completed", "site": "AAA"},
        {"open_queries": "on"},
        {"q": "AAA-000"},
    ],
}
PATHS = {"patients": "/patients/", "screening": "/patients/screening/", "status": "/visits/status/"}


def sites_for(size: int) -> dict[str, int]:
    """The synthetic trial's first sites holding ``size`` patients in all (1 000: AAA and BBB;
    10 000: and CCC), as bench/analysis_load.py chooses them."""
    from bench import _synthetic_trial

    sites, total = {}, 0
    for code, n in _synthetic_trial.SITES.items():
        if total + n <= size:
            sites[code], total = n, total + n
    assert total == size, f"the synthetic trial's sites do not add up to {size}"
    return sites


def extras(user_id: int) -> None:
    """Unresolved queries (every 17th patient on a form, every 23rd on the record) on top of the
    synthetic trial (which has its own withdrawals), written with the loader's COPY."""
    from django.utils import timezone

    from bench._synthetic_trial import copy_rows, guarded_copy
    from monitoring.models import DataQuery
    from patients.models import Patient

    now = timezone.now()
    ids = list(Patient.objects.order_by("pk").values_list("pk", flat=True))
    queries = [
        {"patient_id": pk, "visit_id": (pk - 1) * 4 + 2, "form_code": "spasm"} for pk in ids[::17]
    ] + [{"patient_id": pk, "visit_id": None, "form_code": ""} for pk in ids[::23]]
    with guarded_copy():
        copy_rows(
            DataQuery,
            [
                {**q, "id": n, "raised_by_id": user_id, "raised_at": now, "status": "open"}
                for n, q in enumerate(queries, start=1)
            ],
        )


# --- what the page shows, read back from its HTML ----------------------------------------------


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _cells(row_html: str) -> list[str]:
    return re.findall(r"<td[^>]*>(.*?)</td>", row_html, re.S)


def page_rows(kind: str, html: str) -> tuple[int, list[tuple]]:
    """(total, rows) as the page shows them, in the floor's terms (codes, not labels)."""
    from patients.models import Arm, PatientStatus, Screening

    summary = re.search(r'data-testid="page-summary">([^<]*)<', html).group(1)
    total = int(summary.rsplit(" ", 1)[1]) if "of" in summary else 0
    testid = {"patients": "patient-row", "screening": "screening-row", "status": "status-row"}
    rows_html = re.findall(rf'<tr data-testid="{testid[kind]}"[^>]*>(.*?)</tr>', html, re.S)
    status_of = {str(label): value for value, label in PatientStatus.choices}
    arm_of = {str(label): value for value, label in Arm.choices}
    outcome_of = {str(label): value for value, label in Screening.Outcome.choices}
    rows = []
    for row in rows_html:
        if kind == "patients":
            study_id, site, status, arm, nxt, queries = (_text(c) for c in _cells(row))
            code, due = nxt.split(" · ") if nxt != "—" else (None, None)
            rows.append(
                (
                    study_id,
                    site,
                    status_of[status],
                    arm_of.get(arm),
                    code,
                    date.fromisoformat(due) if due else None,
                    int(queries or 0),
                )
            )
        elif kind == "screening":
            site, number, screened_on, outcome, reasons, patient = (_text(c) for c in _cells(row))
            rows.append(
                (
                    site,
                    number,
                    date.fromisoformat(screened_on),
                    outcome_of[outcome],
                    reasons,
                    None if patient in ("", "Enrol") else patient,
                )
            )
        else:
            first, *visit_cells = _cells(row)
            badge = re.search(r'data-testid="row-queries">(\d+)<', first)
            cells = []
            for cell in re.findall(r'<td class="status-cell ([^"]*)">(.*?)</td>', row, re.S):
                classes, body = cell
                states = tuple(re.findall(r'class="badge state-(\w+) ', body))
                open_n = re.search(r">\?(\d+)<", body)
                cells.append(
                    (
                        states,
                        "state-out_of_window" in classes,
                        int(open_n.group(1)) if open_n else 0,
                    )
                )
            rows.append((_text(first).split(" ")[0], int(badge.group(1)) if badge else 0, *cells))
    return total, rows


# --- load --------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(database_url: str, workdir: Path) -> tuple[subprocess.Popen, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    env.update(
        DJANGO_SETTINGS_MODULE="hfs_ecrf.settings",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS=HOST,
        TRUSTED_PROXY_COUNT="1",
        STATIC_ROOT=str(workdir / "static"),
        DATABASE_URL=database_url,
        LANGUAGE_CODE="en",
    )
    python = sys.executable
    subprocess.run(
        [python, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    port = _free_port()
    log = (workdir / "gunicorn.log").open("a")
    server = subprocess.Popen(  # noqa: S603
        [
            str(Path(python).parent / "gunicorn"),
            "hfs_ecrf.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "3",
            "--timeout",
            "120",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
    )
    deadline = time.monotonic() + 90
    while True:
        if server.poll() is not None:
            raise RuntimeError((workdir / "gunicorn.log").read_text()[-3000:])
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server, f"http://127.0.0.1:{port}"
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start within 90 s") from None
            time.sleep(0.5)


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of process ``pid``, of its children it has reaped and of its live
    descendants, from /proc (0 where a process is gone)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
        pending += [int(child) for child in children]
    return total / ticks


def _postmaster(database_url: str) -> int | None:
    """The pid of the PostgreSQL server listening on ``database_url``'s port, if it runs here."""
    port = f"-p {urlparse(database_url).port}"
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if args.split(" ", 1)[0].endswith("/postgres") and f"{port} " in args + " ":
            return int(cmdline.parent.name)
    return None


def server_cpu(server: subprocess.Popen, database_url: str) -> dict[str, float]:
    """CPU seconds used so far by gunicorn (master and workers) and by PostgreSQL (postmaster,
    its background processes and every backend, ended or live): the cost of the requests on the
    server's side, whatever else runs on the machine."""
    postmaster = _postmaster(database_url)
    return {
        "gunicorn": _cpu_seconds(server.pid),
        "postgres": _cpu_seconds(postmaster) if postmaster else float("nan"),
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def logged_in(base: str, username: str, clients: int) -> list[Browser]:
    browsers = []
    for _ in range(clients):
        browser = Browser(base, password=PASSWORD)
        browser.login(username)
        browsers.append(browser)
    return browsers


def load(browsers: list[Browser], seconds: float) -> dict[str, list[float]]:
    plan = [(kind, params) for kind, options in REQUESTS.items() for params in options]
    latencies: dict[str, list[float]] = {kind: [] for kind in REQUESTS}
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(n: int, browser: Browser) -> None:
        i = n
        while time.monotonic() < deadline:
            kind, params = plan[i % len(plan)]
            i += 1
            path = PATHS[kind] + ("?" + urlencode(params) if params else "")
            start = time.perf_counter()
            status, _, _ = browser.get(path)
            elapsed = time.perf_counter() - start
            with lock:
                if status != 200:
                    errors.append(f"{status} {path}")
                latencies[kind].append(elapsed)

    threads = [threading.Thread(target=client, args=(n, b)) for n, b in enumerate(browsers)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies["_wall"] = [time.perf_counter() - started]
    if errors:
        raise RuntimeError(f"{len(errors)} failed requests, e.g. {errors[:3]}")
    return latencies


def check_and_time_floor(base: str, username: str) -> dict[str, list[float]]:
    """Every planned page equals its floor (rows, columns, order, total); then the floor's time."""
    from django.db import connection

    browser = Browser(base, password=PASSWORD)
    browser.login(username)
    timings: dict[str, list[float]] = {kind: [] for kind in REQUESTS}
    for kind, options in REQUESTS.items():
        for params in options:
            path = PATHS[kind] + ("?" + urlencode(params) if params else "")
            status, _, body = browser.get(path)
            assert status == 200, path
            shown = page_rows(kind, body.decode())
            floor = floor_rows(connection, kind, params, PER_PAGE)
            assert shown == floor, f"{path}: page {shown[1][:2]} != floor {floor[1][:2]}"
            assert shown[1], f"{path} shows no rows: choose filters that find some"
            for _ in range(5):
                start = time.perf_counter()
                floor_rows(connection, kind, params, PER_PAGE)
                timings[kind].append(time.perf_counter() - start)
    return timings


def run(seconds: float, clients: int) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hfs_ecrf.settings")
    os.environ["LANGUAGE_CODE"] = "en"
    django.setup()
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.db import connection
    from django.utils import translation

    from bench import _synthetic_trial
    from hfs_ecrf.roles import GROUP_NAMES, Role

    translation.activate("en")
    call_command("migrate", verbosity=0)
    loader = User.objects.create_user("bench")
    dm = User.objects.create_user("bench_dm", password=PASSWORD, is_staff=True)
    dm.groups.add(Group.objects.get(name=GROUP_NAMES[Role.DATA_MANAGER]))
    workdir = Path(tempfile.mkdtemp(prefix="lists-load-"))
    full_sites = dict(_synthetic_trial.SITES)
    print(f"{clients} clients, {seconds:.0f} s per size, gunicorn --workers 3, DEBUG=0")
    header = (
        f"{'patients':>8} {'page':<10} {'req/s':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}"
        f" {'floor p50':>9} {'floor p95':>9}"
    )
    for sites in (sites_for(1000), sites_for(10000)):
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE patients_site, patients_allocationlist CASCADE")
        _synthetic_trial.SITES = sites
        start = time.perf_counter()
        total = _synthetic_trial.load(loader.pk)
        extras(loader.pk)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(f"loaded {total} patients in {time.perf_counter() - start:.1f} s")
        server, base = start_gunicorn(os.environ["DATABASE_URL"], workdir)
        try:
            floor = check_and_time_floor(base, "bench_dm")
            browsers = logged_in(base, "bench_dm", clients)
            load(browsers, 3)  # warm the workers
            # after the logins: their password hashing is not the cost of a page
            cpu_before = server_cpu(server, os.environ["DATABASE_URL"])
            latencies = load(browsers, seconds)
            cpu_after = server_cpu(server, os.environ["DATABASE_URL"])
        finally:
            server.terminate()
            server.wait(timeout=30)
        wall = latencies.pop("_wall")[0]
        print(header)
        for kind, values in latencies.items():
            if not values:
                print(f"{total:>8} {kind:<10} no request finished in time")
                continue
            ms = [v * 1000 for v in values]
            floor_ms = [v * 1000 for v in floor[kind]]
            print(
                f"{total:>8} {kind:<10} {len(values) / wall:>6.1f} {statistics.median(ms):>7.0f}"
                f" {percentile(ms, 95):>7.0f} {percentile(ms, 99):>7.0f}"
                f" {statistics.median(floor_ms):>9.1f} {percentile(floor_ms, 95):>9.1f}"
            )
        every = [v for values in latencies.values() for v in values]
        print(
            f"{total:>8} {'all':<10} {len(every) / wall:>6.1f}"
            f" {statistics.median(every) * 1000:>7.0f} {percentile(every, 95) * 1000:>7.0f}"
            f" {percentile(every, 99) * 1000:>7.0f}"
        )
        cpu = {name: (cpu_after[name] - cpu_before[name]) / len(every) * 1000 for name in cpu_after}
        print(
            f"{total:>8} server CPU per request: {cpu['gunicorn']:.1f} ms gunicorn"
            f" + {cpu['postgres']:.1f} ms PostgreSQL (load average {os.getloadavg()[0]:.1f})"
        )
    _synthetic_trial.SITES = full_sites
    assert FORMS  # the grid floor covers every form of the schedule


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=20)
    args = parser.parse_args()
    from bench._cluster import on_postgres

    on_postgres(lambda: run(args.seconds, args.clients))


if __name__ == "__main__":
    main()
