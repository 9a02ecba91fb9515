"""Reading the files of an import: a bundle (ZIP or folder) or a single long CSV, as the export
writes them (UTF-8, commas). Anything else is refused with the file, row and what was wrong;
nothing here guesses an encoding or a delimiter. No database access."""

from __future__ import annotations

import csv
import io
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

from analysis.exports.bundle import BUNDLE_FILES
from analysis.exports.import_report import Problem, SourceUnreadable
from analysis.exports.shaping import DANGEROUS_PREFIXES

# the tables the importer reads (the wide table and patients.csv repeat the long table)
IMPORTED_TABLES = ("long", "adverse_events", "treatment_exposure", "concomitant_medication")
MAX_PROBLEMS_PER_FILE = 50


@dataclass
class Table:
    file: str
    columns: list[str]
    rows: list[dict[str, str]]  # rows[i] is row i + 2 of the file (the header is row 1)


def read_source(path: Path) -> dict[str, Table]:
    """The CSV tables of a bundle (ZIP or folder) or of a single long CSV file."""
    raw = _raw_files(path)
    problems: list[Problem] = []
    tables: dict[str, Table] = {}
    for key, (file, data) in raw.items():
        table, found = _table(file, data)
        problems += found
        if table is not None:
            tables[key] = table
    if problems:
        raise SourceUnreadable(problems)
    return tables


def _raw_files(path: Path) -> dict[str, tuple[str, bytes]]:
    wanted = {BUNDLE_FILES[key]: key for key in IMPORTED_TABLES}
    raw: dict[str, tuple[str, bytes]] = {}
    if path.is_dir():
        for filename, key in wanted.items():
            if (path / filename).is_file():
                raw[key] = (filename, (path / filename).read_bytes())
    elif not path.exists():
        raise FileNotFoundError(_("%(path)s: no such file or folder") % {"path": path})
    elif path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    if member in wanted:
                        raw[wanted[member]] = (member, archive.read(member))
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as error:
            raise SourceUnreadable(
                [_problem(path.name, 0, _("not a readable ZIP archive (%(error)s)"), error)]
            ) from None
    else:
        raw["long"] = (path.name, path.read_bytes())
    if "long" not in raw:
        message = _("no %(file)s found in it") % {"file": BUNDLE_FILES["long"]}
        raise SourceUnreadable([Problem(path.name, 0, "", "", message)])
    return raw


def _problem(file: str, row: int, message: str, error: object = "") -> Problem:
    return Problem(file, row, "", "", message % {"error": error} if error != "" else message)


def _table(file: str, data: bytes) -> tuple[Table | None, list[Problem]]:
    if b"\x00" in data:
        return None, [_problem(file, 0, _("not a text file (it contains binary data)"))]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        row = data[: error.start].count(b"\n") + 1
        message = _(
            "not UTF-8 text (byte 0x%(byte)02x); save the file as CSV in UTF-8 encoding"
        ) % {"byte": data[error.start]}
        return None, [_problem(file, row, message)]
    if not text.strip():
        return None, [_problem(file, 0, _("the file is empty"))]
    reader = csv.reader(io.StringIO(text, newline=""))
    problems: list[Problem] = []
    try:
        header = next(reader)
        header_problem = _header_problem(header)
        if header_problem:
            return None, [_problem(file, 1, header_problem)]
        rows = []
        for number, cells in enumerate(reader, start=2):
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue  # a blank line
            if len(cells) != len(header):
                message = _("this row has %(cells)d values; the header has %(columns)d columns")
                problems.append(
                    _problem(file, number, message % {"cells": len(cells), "columns": len(header)})
                )
                if len(problems) >= MAX_PROBLEMS_PER_FILE:
                    break
                continue
            rows.append(dict(zip(header, map(clean_cell, cells), strict=True)))
    except csv.Error as error:
        problems.append(
            _problem(file, reader.line_num, _("not readable as CSV (%(error)s)"), error)
        )
        return None, problems
    return Table(file, header, rows), problems


def _header_problem(header: list[str]) -> str:
    if len(header) == 1 and any(sep in header[0] for sep in ";\t|"):
        sep = next(s for s in ";\t|" if s in header[0])
        name = {";": _("semicolons"), "\t": _("tabs"), "|": _("vertical bars")}[sep]
        return _("the columns are separated by %(separator)s; the export's CSV uses commas") % {
            "separator": name
        }
    if any(not name.strip() for name in header):
        return _("the header has a column without a name")
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        return _("the header repeats the column(s) %(columns)s") % {
            "columns": ", ".join(duplicates)
        }
    return ""


def clean_cell(value: str) -> str:
    """Undo the export's formula neutralisation ('= → =)."""
    if value.startswith("'") and value[1:].startswith(DANGEROUS_PREFIXES):
        return value[1:]
    return value
