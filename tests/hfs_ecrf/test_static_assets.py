"""Vendored assets ship complete, and collectstatic with the production storage succeeds
(issue 10, point 1; runs on every pass, the full production path runs in the PG pass)."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "static"
SOURCE_MAP = re.compile(r"[#@] sourceMappingURL=(\S+?)(?:\s*\*/)?\s*$", re.MULTILINE)


def test_every_source_map_reference_in_the_vendored_files_exists():
    checked = 0
    for path in STATIC.rglob("*"):
        if path.suffix not in {".js", ".css"}:
            continue
        for reference in SOURCE_MAP.findall(path.read_text(errors="replace")):
            assert (path.parent / reference).is_file(), f"{path.relative_to(ROOT)} -> {reference}"
            checked += 1
    assert checked >= 2  # Bootstrap's CSS and JS bundles


def test_collectstatic_with_the_production_storage(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "ecrf.example.org",
        "STATIC_ROOT": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    names = {p.name for p in (tmp_path / "vendor" / "bootstrap").iterdir()}
    assert any(re.fullmatch(r"bootstrap\.min\.[0-9a-f]{12}\.css\.gz", n) for n in names)
    assert any(re.fullmatch(r"bootstrap\.bundle\.min\.js\.[0-9a-f]{12}\.map", n) for n in names)
