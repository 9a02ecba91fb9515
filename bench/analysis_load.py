"""Benchmark: `/analysis/` under load, at 1 000 and 10 000 patients, against its floor.

    .venv/bin/python bench/analysis_load.py [--seconds 40] [--clients 20]

For each size a fresh database on the throwaway PostgreSQL cluster (tests/pgcluster.py; or the
server DATABASE_URL names) is loaded with the synthetic trial (bench/_synthetic_trial.py), the
results of its data version are stored, then gunicorn (DEBUG=0, 3 sync workers) serves the project
with `db_worker` beside it, as in production. 20 client threads (loopback only; bounded by time
and by request count) mix dashboard views (the analysis pages and results.json) with saves of the
spasm form (the real CRF view: every save moves the data version and queues a recomputation that
the worker runs meanwhile). The floor does the same work with nothing in between: a bare WSGI app
on the same gunicorn that reads the same stored JSON row for a view and updates the same form row
for a save. Prints p50/p95/p99 (ms), requests/s and the CPU time per request of gunicorn, the
worker, PostgreSQL (every backend, the worker's included) and this script, read from /proc.
``--no-worker``: the same load without the worker. Target: /analysis/ p95 < 300 ms at 10 000.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PAGES = [
    "/analysis/",
    "/analysis/primary/",
    "/analysis/secondary/",
    "/analysis/correlations/",
    "/analysis/mixed/",
    "/analysis/subgroups/",
    "/analysis/safety/",
    "/analysis/results.json",
]
SAVE_SHARE = 0.2
MAX_REQUESTS = 6000  # per run, whatever the time


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(size: int) -> None:
    """In a child process on DATABASE_URL: migrate, load `size` patients, store the results,
    make the bench users; writes the sessions and the forms to save to stdout as lines."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hfs_ecrf.settings")
    django.setup()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command

    import bench._synthetic_trial as trial
    from analysis.services import results_refresh
    from bench import _floor_app
    from hfs_ecrf.audit import FLAG

    assert _floor_app.FLAG == FLAG
    from assessments.models import SpasmAssessment
    from hfs_ecrf.roles import Role
    from patients.models import Site
    from tests.conftest import make_user

    call_command("migrate", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)  # DEBUG=0 serves the manifest
    sites, total = {}, 0
    for code, n in trial.SITES.items():
        if total + n <= size:
            sites[code], total = n, total + n
    trial.SITES = sites
    loader = make_user("bench_loader", Role.DATA_MANAGER)
    start = time.perf_counter()
    trial.load(loader.pk)
    from django.db import connection

    with connection.cursor() as cursor:  # the loader used fixed ids: move the sequences on
        for table in ("patients_site", "patients_patient", "assessments_visit"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
    print(f"# loaded {total} patients in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    start = time.perf_counter()
    result = results_refresh()
    print(
        f"# results of data version {result.data_version} stored in "
        f"{time.perf_counter() - start:.1f} s",
        file=sys.stderr,
    )
    investigator = make_user("bench_investigator", Role.INVESTIGATOR)
    clinician = make_user("bench_clinician", Role.CLINICIAN, list(Site.objects.all()))

    def session(user) -> str:
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "hfs_ecrf.backends.StudyRoleBackend"  # as the login sets
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.set_expiry(3600)
        store.create()
        return store.session_key

    print("SESSIONS", session(investigator), session(clinician))
    from monitoring.models import RecordLock

    # the forms a clinician can edit: the synthetic trial locks 1 % of its patients (and some
    # forms), and a locked form's save is refused (the form shown again, naming the lock), as
    # it must be; they were the "saves answered 200" of the earlier runs
    locked = RecordLock.objects.filter(unlocked_at__isnull=True).values("patient_id")
    forms = (
        SpasmAssessment.objects.filter(visit__code="V3")
        .exclude(visit__patient_id__in=locked)
        .select_related("visit__patient")
    )
    for form in forms.order_by("?")[:200]:
        print("FORM", form.pk, form.visit.patient.study_id, form.vas_frequency)


class Client:
    """One client thread's connection-per-request HTTP/1.1 to loopback."""

    def __init__(self, port: int, sessions: tuple[str, str]):
        self.port, self.sessions = port, sessions
        self.csrf = secrets.token_hex(16)  # 32 characters: an unmasked CSRF secret

    def request(self, method: str, path: str, body: dict | None, clinician: bool) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        cookie = f"sessionid={self.sessions[clinician]}; csrftoken={self.csrf}"
        headers = {"Cookie": cookie, "Host": "127.0.0.1"}
        data = None
        if body is not None:
            data = urlencode({**body, "csrfmiddlewaretoken": self.csrf})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, data, headers)
        response = conn.getresponse()
        response.read()
        conn.close()
        if response.status == 302 and "/login" in (response.getheader("Location") or ""):
            return 401  # sent to the login page: the session is not valid, nothing was done
        return response.status


def load_run(
    port: int, sessions, forms, clients: int, seconds: float, project: bool, processes: dict
) -> dict:
    """`clients` threads for `seconds` (at most MAX_REQUESTS): latency lists per kind, and the CPU
    seconds each of ``processes`` (name: pid, descendants included) and this script used."""
    lat: dict[str, list[float]] = {"view": [], "save": []}
    status: dict[int, int] = {}
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    budget = iter(range(MAX_REQUESTS))

    def worker(k: int) -> None:
        rng = random.Random(k)
        client = Client(port, sessions)
        mine = forms[k::clients]  # each client saves its own forms: no edit conflicts
        versions = {pk: None for pk, *_ in mine}
        while time.monotonic() < stop and next(budget, None) is not None:
            if rng.random() < SAVE_SHARE and mine:
                pk, study_id, value = rng.choice(mine)
                value = max(0, min(100, value + rng.choice((-1, 1))))
                if project:
                    path = f"/visits/{study_id}/V3/spasm/"
                    if versions[pk] is None:
                        versions[pk] = _form_version(pk)
                    body = {
                        "vas_frequency": value,
                        "vas_intensity": 40,
                        "jankovic_severity": 2,
                        "jankovic_frequency": 2,
                        "action": "complete",
                        "base_version": versions[pk],
                        "reason_for_change": "bench",
                    }
                else:
                    path, body = f"/save/{pk}/{value}", {}
                kind, start = "save", time.perf_counter()
                code = client.request("POST", path, body, clinician=True)
                if project and code == 302:
                    versions[pk] += 1
            else:
                kind, start = "view", time.perf_counter()
                code = client.request("GET", rng.choice(PAGES), None, clinician=False)
            elapsed = time.perf_counter() - start
            with lock:
                lat[kind].append(elapsed)
                key = code if kind == "view" else -code
                status[key] = status.get(key, 0) + 1

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    cpu_before = _cpu(processes)
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    cpu = {name: used - cpu_before[name] for name, used in _cpu(processes).items()}
    return {"lat": lat, "status": status, "wall": wall, "cpu": cpu}


def _cpu(processes: dict) -> dict[str, float]:
    from bench.lists_load import _cpu_seconds

    return {
        **{name: _cpu_seconds(pid) for name, pid in processes.items()},
        "load script": time.process_time(),
    }


_FORM_DSN = ""


def _form_version(pk: int) -> int:
    import psycopg2

    with psycopg2.connect(_FORM_DSN) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT version FROM assessments_spasmassessment WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))] * 1000


def report(label: str, run: dict) -> None:
    lat = run["lat"]
    total = sum(len(v) for v in lat.values())
    for kind in ("view", "save"):
        v = lat[kind]
        print(
            f"  {label:<8} {kind:<5} n={len(v):>5}  p50 {pct(v, 50):7.1f}  p95 {pct(v, 95):7.1f}"
            f"  p99 {pct(v, 99):7.1f} ms"
        )
    print(f"  {label:<8} all   {total / run['wall']:.1f} requests/s; status {run['status']}")
    cpu = ", ".join(f"{seconds / total * 1000:.1f} {name}" for name, seconds in run["cpu"].items())
    print(f"  {label:<8} CPU ms per request: {cpu}")
    # a view is 200, a save redirects (302; saves counted negative). A save answered 200 shows
    # the form again (not saved: e.g. an edit conflict), counted and reported; anything else
    # (a login redirect, an error) makes the figures meaningless.
    failed = {code: n for code, n in run["status"].items() if code not in (200, -302, -200)}
    if failed:
        raise SystemExit(f"{label}: failed requests (status: count; saves negative): {failed}")
    if run["status"].get(-200):  # none expected: the forms saved are not locked
        print(f"  {label:<8} {run['status'][-200]} saves refused (form shown again)")


def gunicorn(app: str, port: int, env: dict) -> subprocess.Popen:
    cmd = [
        str(ROOT / ".venv/bin/gunicorn"),
        app,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "3",
        "--timeout",
        "300",
        "--log-level",
        "warning",
    ]
    log = open(Path(tempfile.gettempdir()) / "analysis_load_gunicorn.log", "a")  # noqa: SIM115
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True, stderr=log)
    for _ in range(200):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/accounts/login/")
            c.getresponse().read()
            return proc
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{app} did not start")


def stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def run(seconds: float, clients: int, with_worker: bool = True) -> None:
    import psycopg2

    from bench.lists_load import _postmaster

    global _FORM_DSN
    base = os.environ["DATABASE_URL"]
    for size in (1000, 10000):
        name = f"bench_load_{size}"
        admin = psycopg2.connect(base)
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name}")
            cursor.execute(f"CREATE DATABASE {name}")
        admin.close()
        url = urlparse(base)._replace(path=f"/{name}").geturl()
        _FORM_DSN = url
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "0",
            "DJANGO_SETTINGS_MODULE": "bench._settings",
            "PYTHONPATH": str(ROOT),
        }
        out = subprocess.run(
            [sys.executable, __file__, "--prepare", str(size)],
            env=env,
            cwd=ROOT,
            check=True,
            stdout=subprocess.PIPE,
            text=True,
        )
        lines = out.stdout.splitlines()
        sessions = tuple(next(x for x in lines if x.startswith("SESSIONS")).split()[1:3])
        forms = [
            (int(a), b, int(c)) for _f, a, b, c in (x.split() for x in lines if x[:4] == "FORM")
        ]
        print(f"\n{size} patients, {clients} clients, {seconds:.0f} s each, {SAVE_SHARE:.0%} saves")
        postmaster = _postmaster(base)
        port = _free_port()
        server = gunicorn("hfs_ecrf.wsgi", port, env)
        worker = with_worker and subprocess.Popen(
            # as production runs it, under a supervisor (its own session): the worker itself
            # yields the cores to the requests (analysis/tasks.py lowest_cpu_priority)
            [sys.executable, "manage.py", "db_worker", "--no-reload"] + ["--interval", "0.5"],
            cwd=ROOT,
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            processes = {"gunicorn": server.pid, "worker": worker.pid if worker else None}
            processes = {k: v for k, v in {**processes, "postgres": postmaster}.items() if v}
            project = load_run(port, sessions, forms, clients, seconds, True, processes)
        finally:
            if worker:
                stop(worker)
            stop(server)
        port = _free_port()
        floor_server = gunicorn("bench._floor_app:application", port, env)
        try:
            processes = {"gunicorn": floor_server.pid, "postgres": postmaster}
            processes = {name: pid for name, pid in processes.items() if pid}
            floor = load_run(port, sessions, forms, clients, seconds, False, processes)
        finally:
            stop(floor_server)
        report("project", project)
        report("floor", floor)
        with psycopg2.connect(url) as conn, conn.cursor() as cursor:
            cursor.execute("SELECT version FROM hfs_ecrf_dataversion")
            version = cursor.fetchone()[0]
            cursor.execute(
                "SELECT count(*), max(data_version), max(duration_seconds) "
                "FROM analysis_analysisresult"
            )
            stored, latest, slowest = cursor.fetchone()
        print(
            f"  data version now {version}; results stored during the run: {stored} rows "
            f"(kept), latest of version {latest}; slowest computation {slowest:.1f} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prepare", type=int)
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument(
        "--no-worker",
        action="store_true",
        help="no analysis worker beside gunicorn: what the recomputations cost the requests",
    )
    args = parser.parse_args()
    if args.prepare:
        prepare(args.prepare)
        return
    from bench._cluster import on_postgres

    on_postgres(lambda: run(min(args.seconds, 120), min(args.clients, 50), not args.no_worker))


if __name__ == "__main__":
    main()
