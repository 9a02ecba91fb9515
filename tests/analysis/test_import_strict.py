"""The importer never guesses: blank is missing, yes/no is strict, unreadable files and missing
columns are errors naming the file, row and column as written, and no file gives a traceback
(a deterministic corpus of mutated files)."""

from __future__ import annotations

import csv
import io
import random

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.utils import translation

from assessments.models import SpasmAssessment, Visit
from patients.models import MedicalHistory, Patient, Site

HEADER = [
    "study_id",
    "site",
    "arm",
    "age",
    "sex",
    "disease_duration_months",
    "affected_side",
    "prior_botulinum_toxin",
    "prior_carbamazepine",
    "diabetes",
    "hypertension",
    "consent_day",
    "information_sheet_version",
    "stratum",
    "visit",
    "visit_day",
    "visit_status",
    "visit_missed_reason",
    "vas_frequency",
    "vas_intensity",
]


def _row(study_id: str, visit: str = "V0", day: str = "0", **changes: str) -> dict[str, str]:
    row = {
        "study_id": study_id,
        "site": "SMR",
        "arm": "b12",
        "age": "45",
        "sex": "female",
        "disease_duration_months": "12",
        "affected_side": "left",
        "prior_botulinum_toxin": "False",
        "prior_carbamazepine": "no",
        "diabetes": "False",
        "hypertension": "False",
        "consent_day": "-3",
        "information_sheet_version": "1.0",
        "stratum": "SMR/B12-not-deficient",
        "visit": visit,
        "visit_day": day,
        "visit_status": "done",
        "visit_missed_reason": "",
        "vas_frequency": "40",
        "vas_intensity": "30",
    }
    row.update(changes)
    return row


def _text(rows: list[dict[str, str]], header: list[str] | None = None) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, header or HEADER, lineterminator="\r\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _valid_rows() -> list[dict[str, str]]:
    return [
        _row("SMR-0001"),
        _row("SMR-0001", "V1", "28", vas_frequency="35"),
        _row("SMR-0002", diabetes="1"),
    ]


@pytest.fixture
def target(db):
    Site(code="SMR", name="Samara").save_audited(user=None, reason="test")
    User.objects.create_user("importer")


def _import(path, *extra: str) -> None:
    with translation.override("en"):
        call_command("import_data", str(path), "--user", "importer", "--accept-warnings", *extra)


def _refused(path, capsys) -> str:
    with pytest.raises(CommandError, match="nothing saved"):
        _import(path)
    assert not Patient.objects.exists()
    return capsys.readouterr().err


def test_the_strict_file_imports(target, tmp_path):
    path = tmp_path / "long.csv"
    path.write_text(_text(_valid_rows()), encoding="utf-8")
    _import(path)
    assert Patient.objects.count() == 2
    assert Visit.objects.count() == 3 and SpasmAssessment.objects.count() == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0", False), ("1", True), ("да", True), ("Нет", False), ("ЛОЖЬ", False), ("yes", True)],
)
def test_yes_no_cells_read_exactly(target, tmp_path, text, expected):
    path = tmp_path / "long.csv"
    path.write_text(_text([_row("SMR-0001", diabetes=text)]), encoding="utf-8")
    _import(path)
    assert MedicalHistory.objects.get().diabetes is expected


@pytest.mark.parametrize("text", ["2", "y", "maybe", "0.0", "ja"])
def test_other_yes_no_words_are_refused(target, tmp_path, capsys, text):
    path = tmp_path / "long.csv"
    path.write_text(_text([_row("SMR-0001", diabetes=text)]), encoding="utf-8")
    err = _refused(path, capsys)
    assert f"long.csv row 2: diabetes={text!r}: not a yes/no value" in err
    assert "да" in err and "ложь" in err  # the allowed words are listed


def test_a_blank_age_is_missing_not_zero(target, tmp_path, capsys):
    path = tmp_path / "long.csv"
    path.write_text(_text([_row("SMR-0001", age="")]), encoding="utf-8")
    err = _refused(path, capsys)
    assert "long.csv row 2: age='': blank: the age at consent is required" in err


def test_a_file_without_visit_status_is_an_error(target, tmp_path, capsys):
    path = tmp_path / "long.csv"
    header = [c for c in HEADER if c != "visit_status"]
    path.write_text(_text(_valid_rows(), header), encoding="utf-8")
    err = _refused(path, capsys)
    assert "long.csv row 1: visit_status='': required column missing from the header" in err


def test_an_unknown_visit_code_names_row_and_column(target, tmp_path, capsys):
    path = tmp_path / "long.csv"
    rows = _valid_rows()
    rows[1]["visit"] = "V9"
    path.write_text(_text(rows), encoding="utf-8")
    err = _refused(path, capsys)
    assert "long.csv row 3: visit='V9': no such visit; visits: V0, V1" in err


def test_errors_name_the_column_as_written(target, tmp_path, capsys):
    path = tmp_path / "long.csv"
    rows = _valid_rows()
    rows[1]["visit_day"] = ""  # a visit done without its day
    rows[2]["visit_day"] = "twelve"
    path.write_text(_text(rows), encoding="utf-8")
    err = _refused(path, capsys)
    assert "long.csv row 3: visit_day='': Give the date of a visit that was done." in err
    assert "long.csv row 4: visit_day='twelve': not a whole number" in err
    assert "visit_date" not in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "long.csv: the file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "long.csv: not a text file"),
        (_text(_valid_rows()).replace(",", ";").encode(), "separated by semicolons"),
        ("study_id,site\r\nSMR-0001,Самара\r\n".encode("cp1251"), "long.csv row 2: not UTF-8"),
        (b"study_id,site,age\r\nSMR-0001,SMR\r\n", "row 2: this row has 2 values"),
    ],
)
def test_unreadable_files_are_refused_with_the_reason(target, tmp_path, capsys, content, message):
    path = tmp_path / "long.csv"
    path.write_bytes(content)
    assert message in _refused(path, capsys)


def test_a_broken_zip_is_refused(target, tmp_path, capsys):
    path = tmp_path / "bundle.zip"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    assert "bundle.zip: not a readable ZIP archive" in _refused(path, capsys)


def _mutations(seed: int = 12) -> list[tuple[str, bytes]]:
    """A deterministic corpus of damaged versions of a valid file."""
    rng = random.Random(seed)
    good = _text(_valid_rows())
    data = good.encode()
    corpus: list[tuple[str, bytes]] = []
    for cut in sorted(rng.sample(range(1, len(data)), 12)):
        corpus.append((f"truncated at {cut}", data[:cut]))
    for k in range(4):
        header = HEADER[:]
        rng.shuffle(header)
        corpus.append((f"shuffled columns {k}", _text(_valid_rows(), header).encode()))
    for k in range(6):
        corpus.append((f"random bytes {k}", rng.randbytes(rng.randint(1, 400))))
    for k in range(6):
        mutated = bytearray(data)
        for _ in range(5):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        corpus.append((f"flipped bytes {k}", bytes(mutated)))
    huge = _valid_rows()
    huge[0]["information_sheet_version"] = "x" * 200_000
    corpus.append(("huge field", _text(huge).encode()))
    long_id = _valid_rows()
    long_id[0]["study_id"] = "SMR-" + "9" * 40
    corpus.append(("huge study id", _text(long_id).encode()))
    junk = ["2026-13-45", "-999999999", "1e9", "nan", "=cmd()", "\x7f", "9" * 30, " ", "'"]
    columns = [c for c in HEADER if c not in {"study_id"}]
    for k in range(24):
        rows = _valid_rows()
        row = rows[rng.randrange(len(rows))]
        row[rng.choice(columns)] = rng.choice(junk)
        corpus.append((f"bad cell {k}", _text(rows).encode()))
    return corpus


@pytest.mark.parametrize(("name", "content"), _mutations(), ids=[n for n, _ in _mutations()])
def test_no_file_gives_a_traceback(target, tmp_path, capsys, name, content):
    """Every damaged file ends in a report (or imports, if still valid); nothing is saved on
    error, and no error comes from the catch-all: each is found by a rule."""
    path = tmp_path / "long.csv"
    path.write_bytes(content)
    try:
        _import(path, "--dry-run")
    except CommandError as error:
        assert "nothing saved" in str(error), name
        assert "could not be imported" not in capsys.readouterr().err, name
    assert not Patient.objects.exists()
