"""Benchmark: the long CSV export (``export_file("csv-long", …)``, what ``export_data`` and the
web page run) against its floor, PostgreSQL's ``COPY (SELECT …) TO STDOUT WITH CSV`` writing the
same rows, columns, order and values (bench/_export_floor.py); and the SPSS export's time and
peak memory. Each size gets a database of its own, loaded by bench/_synthetic_trial.py; each
measurement runs in a fresh process (its own peak RSS, VmHWM). Before timing, both CSV outputs
are parsed and compared row by row: the run stops if they differ. Not a test.

    .venv/bin/python -m tests.pgcluster -- .venv/bin/python bench/export_scale.py
    (--sizes 10000,50000 by default; --repeat 2)
    BENCH_PROFILE=1 … : also the export's cProfile at the first size

Targets: export ≤ 3 × the floor; SPSS peak memory flat in the number of patients.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._cluster import fresh_database, on_postgres  # noqa: E402


def _peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM), not the parent's before exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def worker(kind: str, target: str, patients: int) -> None:
    """Runs in a fresh process on DATABASE_URL: one step, its figures printed as JSON."""
    import django

    django.setup()
    from django.db import connection

    from analysis.exports.files import export_file
    from analysis.exports.options import ExportOptions

    out: dict = {}
    start = time.perf_counter()
    if kind == "prepare":
        from django.contrib.auth.models import User
        from django.core.management import call_command

        from bench._synthetic_trial import load

        call_command("migrate", verbosity=0)
        out["patients"] = load(User.objects.create_user("bench").pk, patients=patients)
    elif kind == "export":
        with open(target, "wb") as sink:
            file = export_file("csv-long", ExportOptions(), user=None)
            for chunk in file.chunks:
                sink.write(chunk)
        out["rows"] = file.log.rows
    elif kind == "floor":
        from bench._export_floor import coded_variables_sql, floor_sql, header

        coded = coded_variables_sql()
        with (
            open(target, "w", encoding="utf-8", newline="") as sink,
            connection.cursor() as cursor,
        ):
            cursor.cursor.copy_expert(floor_sql(coded), sink)
        out["header"] = header(coded)
    elif kind == "spss":
        size = 0
        with open(target, "wb") as sink:
            file = export_file("spss", ExportOptions(), user=None)
            for chunk in file.chunks:
                size += sink.write(chunk)
        out.update(rows=file.log.rows, bytes=size)
    elif kind == "profile":
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        for _ in export_file("csv-long", ExportOptions(), user=None).chunks:
            pass
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(30)
    out.update(seconds=time.perf_counter() - start, peak_mb=_peak_rss_mb())
    print(json.dumps(out))


def step(kind: str, url: str, target: str = os.devnull, patients: int = 0) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--worker", kind, target, str(patients)],
        check=False,
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": url},
    )
    if done.returncode:
        sys.exit(f"{kind} failed:\n{done.stderr[-4000:]}")
    if kind == "profile":
        print(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def same_output(export_path: str, floor_path: str, header: list[str]) -> int:
    """Parse both files and compare them row by row (header, then every row); the row count."""
    with (
        open(export_path, encoding="utf-8-sig", newline="") as a,
        open(floor_path, encoding="utf-8", newline="") as b,
    ):
        ours, floor = csv.reader(a), csv.reader(b)
        theirs = next(ours)
        if theirs != header:
            sys.exit(f"the floor's columns differ from the export's:\n{theirs}\n{header}")
        count = 0
        for count, (x, y) in enumerate(zip(ours, floor, strict=True), start=1):
            if x != y:
                diff = [(h, p, q) for h, p, q in zip(header, x, y, strict=True) if p != q]
                sys.exit(f"row {count} differs (column, export, floor): {diff[:10]}")
        return count


def run(sizes: list[int], repeat: int) -> None:
    print(
        f"{'patients':>9} {'rows':>7} {'load s':>7} {'floor s':>8} {'export s':>9} {'ratio':>6} "
        f"{'floor MB':>9} {'export MB':>10} {'spss s':>7} {'spss MB':>8}",
        flush=True,
    )
    for i, n in enumerate(sizes):
        url = fresh_database(os.environ["DATABASE_URL"])
        loaded = step("prepare", url, patients=n)
        with tempfile.TemporaryDirectory() as tmp:
            mine, theirs = f"{tmp}/export.csv", f"{tmp}/floor.csv"
            ours = step("export", url, mine)
            floor = step("floor", url, theirs)
            rows = same_output(mine, theirs, floor["header"])
            assert rows == ours["rows"], (rows, ours["rows"])
        for _ in range(repeat - 1):
            floor = min(floor, step("floor", url), key=lambda r: r["seconds"])
            ours = min(ours, step("export", url), key=lambda r: r["seconds"])
        spss = step("spss", url)
        print(
            f"{loaded['patients']:>9} {rows:>7} {loaded['seconds']:>7.1f} "
            f"{floor['seconds']:>8.2f} {ours['seconds']:>9.2f} "
            f"{ours['seconds'] / floor['seconds']:>6.2f} {floor['peak_mb']:>9.0f} "
            f"{ours['peak_mb']:>10.0f} {spss['seconds']:>7.1f} {spss['peak_mb']:>8.0f}",
            flush=True,
        )
        if i == 0 and os.environ.get("BENCH_PROFILE"):
            step("profile", url)


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hfs_ecrf.settings")
    if len(sys.argv) > 2 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,50000", help="patients, comma-separated")
    parser.add_argument("--repeat", type=int, default=2, help="timed runs each (best kept)")
    args = parser.parse_args()
    on_postgres(lambda: run([int(n) for n in args.sizes.split(",")], args.repeat))


if __name__ == "__main__":
    main()
