"""What an import reports: each problem with the file, row and column as written in the file."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Problem:
    file: str
    row: int  # the line in the file (the header is row 1); 0 for the file as a whole
    variable: str  # the column as written in the file ("" for the file or the row as a whole)
    value: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file} row {self.row}" if self.row else self.file
        if self.variable:
            return f"{where}: {self.variable}={self.value!r}: {self.message}"
        return f"{where}: {self.message}"


@dataclass
class ImportReport:
    patients: int = 0
    visits: int = 0
    forms: int = 0
    records: int = 0
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    saved: bool = False


class ImportAborted(Exception):
    def __init__(self, report: ImportReport):
        super().__init__(f"{len(report.errors)} errors, {len(report.warnings)} warnings")
        self.report = report


class SourceUnreadable(Exception):
    """The files cannot be read as the export's CSV tables; ``problems`` says where and why."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems
