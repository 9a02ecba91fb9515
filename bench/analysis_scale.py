"""Benchmark: ``manage.py analysis_results`` (time and peak memory) and the dataset build
against its floor (bench/_dataset_floor.py: one SQL query read into pandas giving the same
frame — same columns, order and values, checked equal first) at 62, 1 000, 10 000 and 50 000
patients. Each size gets a database of its own, loaded by bench/_synthetic_trial.py; each
measurement runs in a fresh process (its own peak RSS, VmHWM). Prints figures; not a test.

    .venv/bin/python -m tests.pgcluster -- .venv/bin/python bench/analysis_scale.py
    (--sizes 62,1000,10000,50000 by default)

Targets: analysis_results at 50 000 patients < 60 s and < 1 GB.
"""

from __future__ import annotations

import argparse
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
from bench.export_scale import _peak_rss_mb  # noqa: E402


def same_frame(ours, floor) -> None:
    """Same columns in the same order, same rows, same values (missing = missing)."""
    if list(ours.columns) != list(floor.columns):
        sys.exit(f"columns differ:\n{list(ours.columns)}\n{list(floor.columns)}")
    if len(ours) != len(floor):
        sys.exit(f"rows differ: {len(ours)} against {len(floor)}")
    for column in ours.columns:
        a, b = ours[column].reset_index(drop=True), floor[column].reset_index(drop=True)
        gaps_a, gaps_b = a.isna().to_numpy(), b.isna().to_numpy()
        if (gaps_a != gaps_b).any():
            sys.exit(
                f"{column}: missing values differ at rows {(gaps_a != gaps_b).nonzero()[0][:5]}"
            )
        x, y = a[~gaps_a].astype(object).tolist(), b[~gaps_b].astype(object).tolist()
        if x != y:
            bad = [(i, p, q) for i, (p, q) in enumerate(zip(x, y, strict=True)) if p != q]
            sys.exit(f"{column}: values differ (row, ours, floor): {bad[:5]}")


def worker(kind: str, patients: int) -> None:
    """Runs in a fresh process on DATABASE_URL: one step, its figures printed as JSON."""
    import django

    django.setup()
    out: dict = {}
    start = time.perf_counter()
    if kind == "prepare":
        from django.contrib.auth.models import User
        from django.core.management import call_command

        from bench._synthetic_trial import load

        call_command("migrate", verbosity=0)
        out["patients"] = load(User.objects.create_user("bench").pk, patients=patients)
    elif kind == "check":
        from analysis.dataset import build_dataset
        from bench._dataset_floor import floor_frame

        floor = floor_frame()
        same_frame(build_dataset().long, floor)
        out["columns"] = len(floor.columns)
    elif kind == "floor":
        from bench._dataset_floor import floor_frame

        out["rows"] = len(floor_frame())
    elif kind == "dataset":
        from analysis.dataset import build_dataset

        out["rows"] = len(build_dataset().long)
    elif kind == "results":
        from django.core.management import call_command

        with tempfile.TemporaryDirectory() as tmp:
            call_command("analysis_results", out=f"{tmp}/results.json")
    elif kind == "profile":
        import cProfile
        import pstats

        from django.core.management import call_command

        profiler = cProfile.Profile()
        with tempfile.TemporaryDirectory() as tmp:
            profiler.enable()
            call_command("analysis_results", out=f"{tmp}/results.json")
            profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(40)
    out.update(seconds=time.perf_counter() - start, peak_mb=_peak_rss_mb())
    print(json.dumps(out))


def step(kind: str, url: str, patients: int = 0) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--worker", kind, str(patients)],
        check=False,
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": url},
    )
    if done.returncode:
        sys.exit(f"{kind} failed:\n{done.stderr[-4000:]}{done.stdout[-2000:]}")
    if kind == "profile":
        print(done.stderr[:12000])
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(sizes: list[int]) -> None:
    print(
        f"{'patients':>9} {'cols':>5} {'floor s':>8} {'dataset s':>10} {'ratio':>6} "
        f"{'results s':>10} {'results MB':>11}",
        flush=True,
    )
    for n in sizes:
        url = fresh_database(os.environ["DATABASE_URL"])
        loaded = step("prepare", url, n)
        checked = step("check", url)
        floor = min((step("floor", url) for _ in range(2)), key=lambda r: r["seconds"])
        ours = min((step("dataset", url) for _ in range(2)), key=lambda r: r["seconds"])
        results = step("results", url)
        print(
            f"{loaded['patients']:>9} {checked['columns']:>5} {floor['seconds']:>8.2f} "
            f"{ours['seconds']:>10.2f} {ours['seconds'] / floor['seconds']:>6.2f} "
            f"{results['seconds']:>10.1f} {results['peak_mb']:>11.0f}",
            flush=True,
        )
        if n == sizes[-1] and os.environ.get("BENCH_PROFILE"):
            step("profile", url)


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hfs_ecrf.settings")
    if len(sys.argv) > 2 and sys.argv[1] == "--worker":
        worker(sys.argv[2], int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="62,1000,10000,50000", help="patients, comma-separated")
    args = parser.parse_args()
    on_postgres(lambda: run([int(n) for n in args.sizes.split(",")]))


if __name__ == "__main__":
    main()
