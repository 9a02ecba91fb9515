"""Helpers of the export and import tests."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable

from django.contrib.auth.models import User

from analysis.exports.bundle import bundle_bytes
from analysis.exports.options import ExportOptions


def dm() -> User:
    return User.objects.get(username="datamanager")


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def csv_text(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, list(rows[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def bundle_with(tmp_path, edit: Callable[[str], str]) -> str:
    """An export bundle of the stored data whose long CSV went through ``edit``."""
    data, _rows = bundle_bytes(ExportOptions(), data_cut="test")
    source = zipfile.ZipFile(io.BytesIO(data))
    path = tmp_path / "edited.zip"
    with zipfile.ZipFile(path, "w") as target:
        for name in source.namelist():
            content = source.read(name)
            if name == "hfs_b12_long.csv":
                content = edit(content.decode("utf-8")).encode("utf-8")
            target.writestr(name, content)
    return str(path)
