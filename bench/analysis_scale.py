"""Benchmark: dataset build and the full results document at 62, 1 000 and 10 000 patients,
against the floor (a bare SQL fetch of the same rows into pandas). Prints figures; not a test.

    .venv/bin/python bench/analysis_scale.py

Uses DATABASE_URL when it names PostgreSQL, else starts a throwaway cluster
(tests/pgcluster.py). Targets: results for 62 patients < 1 s; dataset build ≤ 2 × floor at
10 000; full results at 10 000 < 15 s.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._floor import FLOOR_FROM  # noqa: E402

FLOOR_SQL = f"""
SELECT p.study_id, s.code, a.arm, a.randomised_on, p.age_at_consent, h.sex,
       h.disease_duration_months, v.code, v.visit_date, v.status,
       sp.vas_frequency, sp.vas_intensity, sp.jankovic_severity, sp.jankovic_frequency,
       sp.jankovic_total, sp.spasm_rate_per_min,
       l.b12_pmol_l, l.cortisol_nmol_l, l.dopamine_pmol_l,
       r.*, hd.*, hr.*
{FLOOR_FROM.strip()}
WHERE s.code = ANY(%s)
"""


def best_of(fn, repeat: int = 3) -> tuple[float, object]:
    best, value = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - start)
    return best, value


def run() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hfs_ecrf.settings")
    django.setup()
    import pandas as pd
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection

    from analysis.dataset import build_dataset
    from analysis.results import compute_results
    from bench._synthetic_trial import SITES, load

    call_command("migrate", verbosity=0)
    user = User.objects.create_user("bench")
    start = time.perf_counter()
    total = load(user.pk)
    print(f"loaded {total} patients x 4 visits in {time.perf_counter() - start:.1f} s")

    def floor(codes):
        with connection.cursor() as cursor:
            cursor.execute(FLOOR_SQL, [codes])
            columns = [c.name for c in cursor.description]
            return pd.DataFrame.from_records(cursor.fetchall(), columns=columns)

    print(f"{'patients':>9} {'floor s':>8} {'dataset s':>10} {'ratio':>6} {'results s':>10}")
    codes: list[str] = []
    for code in SITES:
        codes = [*codes, code]
        n = sum(SITES[c] for c in codes)
        floor_s, _ = best_of(lambda codes=codes: floor(codes))
        build_s, dataset = best_of(lambda codes=codes: build_dataset(site_codes=codes))
        results_s, _ = best_of(lambda dataset=dataset: compute_results(dataset), repeat=1)
        print(
            f"{n:>9} {floor_s:>8.3f} {build_s:>10.3f} {build_s / floor_s:>6.2f} {results_s:>10.2f}"
        )


def main() -> None:
    from bench._cluster import on_postgres

    on_postgres(run)


if __name__ == "__main__":
    main()
