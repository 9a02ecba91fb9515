"""CPU per request of the list pages and ``/analysis/``, measured in-process (no HTTP, no load).

    .venv/bin/python bench/lists_profile.py [--patients 1000] [--repeat 20] [--profile KIND]

A throwaway PostgreSQL cluster, the synthetic trial of bench/lists_load.py (withdrawals and open
queries included), production settings (DEBUG=0: cached templates, no debug toolbar), a data
manager logged in through the session. Each page of bench/lists_load.py's plan is requested
``--repeat`` times by Django's test client after a warm-up; the script prints, per page, the
process CPU time per request (median over the plan's querystrings) and the queries per request.
``--profile patients|screening|status|analysis`` prints the cProfile of that page's requests
(cumulative, top 40). Prints figures; not a test.
With ``LIST_CACHE_SECONDS=0`` in the environment the list pages are rendered on every request
(hfs_ecrf/list_cache.py off): the cost of the first request after a write.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import secrets
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.lists_load import PATHS, REQUESTS, extras, sites_for  # noqa: E402

PAGES = {**REQUESTS, "analysis": [{}]}
ALL_PATHS = {**PATHS, "analysis": "/analysis/"}


def _setup(patients: int) -> None:
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.db import connection

    from bench import _synthetic_trial
    from hfs_ecrf.roles import GROUP_NAMES, Role

    call_command("migrate", verbosity=0)
    loader = User.objects.create_user("bench")
    dm = User.objects.create_user("bench_dm", is_staff=True)
    dm.groups.add(Group.objects.get(name=GROUP_NAMES[Role.DATA_MANAGER]))
    _synthetic_trial.SITES = sites_for(patients)
    _synthetic_trial.load(loader.pk)
    extras(loader.pk)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    from analysis.services import results_refresh

    start = time.perf_counter()
    results_refresh()
    print(f"analysis results stored in {time.perf_counter() - start:.1f} s")


def run(patients: int, repeat: int, profile: str | None) -> None:
    import django

    os.environ.update(
        DJANGO_SETTINGS_MODULE="bench._settings",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="testserver",
        SECURE_SSL_REDIRECT="0",
        LANGUAGE_CODE="en",
    )
    django.setup()
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    # no setup_test_environment(): its instrumented template rendering would be measured too
    _setup(patients)
    client = Client(HTTP_HOST="testserver", secure=True)
    client.force_login(User.objects.get(username="bench_dm"))
    profiler = cProfile.Profile() if profile else None
    if os.environ.get("PROBE"):  # experiments: a script run with the logged-in client
        exec(Path(os.environ["PROBE"]).read_text(), {"client": client, "__name__": "probe"})  # noqa: S102
        return
    print(f"{patients} patients, {repeat} requests per querystring, DEBUG=0, in-process")
    print(f"{'page':<10} {'CPU ms/request':>15} {'min':>6} {'max':>6} {'queries':>8}")
    for kind, options in PAGES.items():
        per_option, queries = [], []
        for params in options:
            path = ALL_PATHS[kind] + ("?" + urlencode(params) if params else "")
            for _ in range(3):  # warm-up: templates compiled, translations loaded
                assert client.get(path).status_code == 200, path
            with CaptureQueriesContext(connection) as captured:
                client.get(path)
            queries.append(len(captured))
            if os.environ.get("SHOW_QUERIES") == kind:
                for q in captured.captured_queries:
                    print("   ", q["sql"][:300])
            times = []
            for _ in range(repeat):
                if profiler and kind == profile:
                    profiler.enable()
                start = time.process_time()
                response = client.get(path)
                times.append(time.process_time() - start)
                if profiler and kind == profile:
                    profiler.disable()
                assert response.status_code == 200, path
            per_option.append(statistics.median(times) * 1000)
        print(
            f"{kind:<10} {statistics.median(per_option):>15.1f} {min(per_option):>6.1f}"
            f" {max(per_option):>6.1f} {max(queries):>8}"
        )
    if profiler:
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(60)
        stats.sort_stats("tottime").print_stats(30)
        for name in filter(None, os.environ.get("CALLERS", "").split(",")):
            stats.print_callers(name)
        by_area: dict[str, float] = {}
        for (filename, _line, _name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():
            by_area[_area(filename)] = by_area.get(_area(filename), 0.0) + tottime
        calls = sum(len(v) for v in [PAGES[profile]]) * repeat
        print("CPU ms per request by where the time is spent (own time):")
        for area, seconds in sorted(by_area.items(), key=lambda kv: -kv[1])[:20]:
            print(f"  {seconds / calls * 1000:7.2f}  {area}")


def _area(filename: str) -> str:
    if "site-packages/" in filename:
        parts = filename.split("site-packages/", 1)[1].split("/")
        return "/".join(parts[:2]) if parts[0] == "django" else parts[0]
    if str(ROOT) in filename:
        return filename.replace(str(ROOT) + "/", "")
    return "python stdlib/builtins"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=1000, choices=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--profile", choices=list(PAGES))
    args = parser.parse_args()
    from bench._cluster import on_postgres

    on_postgres(lambda: run(args.patients, args.repeat, args.profile))


if __name__ == "__main__":
    main()
