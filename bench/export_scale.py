"""Benchmark: the long CSV export at 1 000 and 10 000 patients against the floor, PostgreSQL's
``COPY (SELECT …) TO STDOUT WITH CSV`` of the same rows. Prints time and peak memory (RSS of a
fresh process for each measurement) and the ratios. Not a test.

    .venv/bin/python bench/export_scale.py

Targets: export within 3 × the floor's time, peak memory under 300 MB at 10 000 patients.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._floor import FLOOR_FROM  # noqa: E402

FLOOR_SQL = """
COPY (
  SELECT p.study_id, s.code, a.arm, p.age_at_consent, h.sex, v.code, v.visit_date, v.status,
         sp.*, l.*, r.*, hd.*, hr.*
  {joins}
  WHERE s.code IN ({codes})
  ORDER BY p.study_id, v.code
) TO STDOUT WITH CSV HEADER
""".replace("{joins}", FLOOR_FROM.strip())


def worker(kind: str, codes: list[str]) -> None:
    """Runs in a fresh process: one measurement, printed as JSON."""
    import django

    django.setup()
    from django.db import connection

    from analysis.exports.csv_tables import stream_csv
    from analysis.exports.options import ExportOptions, ExportResult

    start = time.perf_counter()
    with open(os.devnull, "w") as sink:
        if kind == "export":
            result = ExportResult()
            options = ExportOptions(sites=codes)
            for text in stream_csv("long", options, result):
                sink.write(text)
            rows = result.rows["long"]
        else:
            quoted = ",".join(f"'{c}'" for c in codes)
            with connection.cursor() as cursor:
                cursor.cursor.copy_expert(FLOOR_SQL.format(codes=quoted), sink)
            rows = None
    seconds = time.perf_counter() - start
    peak_mb = _peak_rss_mb()
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "rows": rows}))


def _peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM); ru_maxrss would include what the parent used
    before exec on Linux."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(kind: str, codes: list[str]) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--worker", kind, ",".join(codes)],
        check=True,
        capture_output=True,
        text=True,
        env=os.environ.copy(),
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def run() -> None:
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command

    from bench._synthetic_trial import SITES, load

    call_command("migrate", verbosity=0)
    load(User.objects.create_user("bench").pk)
    print(
        f"{'patients':>9} {'rows':>7} {'floor s':>8} {'export s':>9} {'ratio':>6} "
        f"{'floor MB':>9} {'export MB':>10}"
    )
    if os.environ.get("BENCH_PROFILE"):
        import cProfile
        import pstats

        from analysis.exports.csv_tables import stream_csv
        from analysis.exports.options import ExportOptions, ExportResult

        result = ExportResult()
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in stream_csv("long", ExportOptions(), result):
            pass
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        return
    for codes in (["AAA", "BBB"], list(SITES)):
        n = sum(SITES[c] for c in codes)
        floor = min((measure("floor", codes) for _ in range(2)), key=lambda r: r["seconds"])
        ours = min((measure("export", codes) for _ in range(2)), key=lambda r: r["seconds"])
        print(
            f"{n:>9} {ours['rows']:>7} {floor['seconds']:>8.2f} {ours['seconds']:>9.2f} "
            f"{ours['seconds'] / floor['seconds']:>6.1f} {floor['peak_mb']:>9.0f} "
            f"{ours['peak_mb']:>10.0f}"
        )


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hfs_ecrf.settings")
    if len(sys.argv) > 2 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3].split(","))
        return
    from bench._cluster import on_postgres

    on_postgres(run)


if __name__ == "__main__":
    main()
