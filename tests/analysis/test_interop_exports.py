"""Stata and SAS files: opened back with pyreadstat's readers and compared value by value with
the long CSV."""

from __future__ import annotations

import csv
import io
import zipfile

import pyreadstat
import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import reverse

from analysis.exports import csv_tables, options
from analysis.models import ExportLog
from demo.seed import seed_accounts, seed_cohort
from patients.models import Patient
from tests.conftest import login


@pytest.fixture
def cohort(db):
    sites = seed_accounts("cohort-password-1")
    seed_cohort(patients=6, seed=5, sites=sites)
    return sites


def _long_csv() -> list[dict[str, str]]:
    result = options.ExportResult()
    text = "".join(csv_tables.stream_csv("long", options.ExportOptions(), result))
    return list(csv.DictReader(io.StringIO(text)))


def _same(frame, rows) -> int:
    """Every cell of the file equals the CSV's (numbers numerically, blanks as missing)."""
    assert len(frame) == len(rows)
    assert list(frame.columns) == list(rows[0])
    compared = 0
    for index, row in enumerate(rows):
        for column, text in row.items():
            value = frame.iloc[index][column]
            if text == "":
                assert value == "" or value != value, (index, column, value)
            elif isinstance(value, str):
                assert value == text, (index, column)
            else:
                expected = {"True": 1.0, "False": 0.0}.get(text, text)
                assert float(value) == pytest.approx(float(expected), rel=1e-9), (index, column)
            compared += 1
    return compared


def test_stata_file_round_trips_with_labels(cohort, tmp_path):
    response = login(User.objects.get(username="datamanager")).get(
        reverse("analysis:export"), {"format": "stata"}
    )
    assert response.status_code == 200
    path = tmp_path / "x.dta"
    path.write_bytes(response.content)
    frame, meta = pyreadstat.read_dta(str(path))
    assert _same(frame, _long_csv()) > 1000
    assert len(frame) == Patient.objects.count() * 4
    assert meta.column_names_to_labels["vas_frequency"] == "VAS spasm frequency"
    assert meta.variable_value_labels["rand36_q01"][1] == "excellent"
    assert ExportLog.objects.get(export_format="stata").rows == len(frame)


def test_sas_xport_round_trips_with_labels_and_formats(cohort, tmp_path):
    out = tmp_path / "x.sas.zip"
    call_command("export_data", "--format", "sas", "--out", str(out))
    archive = zipfile.ZipFile(out)
    (tmp_path / "x.xpt").write_bytes(archive.read("hfs_b12_long.xpt"))
    frame, meta = pyreadstat.read_xport(str(tmp_path / "x.xpt"))
    assert _same(frame, _long_csv()) > 1000
    assert meta.column_names_to_labels["vas_frequency"] == "VAS spasm frequency"
    program = archive.read("hfs_b12_formats.sas").decode()
    assert "proc format;" in program and "1='excellent'" in program
    assert "format rand36_q01 " in program
