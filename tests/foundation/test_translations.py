"""The Russian catalogue is complete: every marked string has a translation, none fuzzy."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "locale" / "ru" / "LC_MESSAGES" / "django.po"
SOURCES = ["hfs_ecrf", "patients", "assessments", "analysis", "api", "templates", "manage.py"]
needs_gettext = pytest.mark.skipif(
    shutil.which("xgettext") is None and os.environ.get("CI", "").lower() != "true",
    reason="gettext tools not installed",
)


def test_every_message_is_translated_and_none_is_fuzzy():
    catalogue = polib.pofile(str(CATALOGUE))
    assert len(catalogue) > 0, "the catalogue is empty"
    untranslated = [e.msgid for e in catalogue.untranslated_entries()]
    fuzzy = [e.msgid for e in catalogue.fuzzy_entries()]
    assert not untranslated, f"untranslated: {untranslated}"
    assert not fuzzy, f"fuzzy: {fuzzy}"


@needs_gettext
def test_the_catalogue_holds_every_string_marked_in_the_source(tmp_path):
    for name in SOURCES:
        source = ROOT / name
        target = tmp_path / name
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, target)
    (tmp_path / "locale").mkdir()
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "ru", "--no-obsolete", "--no-location"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )
    extracted = {e.msgid for e in polib.pofile(str(tmp_path / "locale/ru/LC_MESSAGES/django.po"))}
    committed = {e.msgid for e in polib.pofile(str(CATALOGUE))}
    missing = sorted(extracted - committed)
    assert not missing, f"strings missing from locale/ru (run `make messages`): {missing}"


def test_the_compiled_catalogue_is_current():
    mo = CATALOGUE.with_suffix(".mo")
    assert mo.exists(), "compile the catalogue: make messages"
    compiled = {(e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural for e in polib.mofile(str(mo))}
    source = {
        (e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural
        for e in polib.pofile(str(CATALOGUE)).translated_entries()
    }
    assert compiled == source, "locale/ru django.mo is stale: run `make messages`"
