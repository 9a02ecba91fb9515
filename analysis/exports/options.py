"""What an export covers: the user's choices, the patients they select, the rows written."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from django.db.models import QuerySet

from patients.models import Patient


@dataclass
class ExportOptions:
    sites: list[str] | None = None
    visits: list[str] | None = None
    forms: list[str] | None = None  # form codes (spasm, labs, rand36, hads, hdrs)
    study_ids: list[str] | None = None
    relative_dates: bool = True

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ExportResult:
    """Rows written per table, filled in while the tables are produced."""

    rows: dict[str, int] = field(default_factory=dict)


def patient_queryset(options: ExportOptions) -> QuerySet[Patient]:
    """The selected patients, in study ID order."""
    qs = Patient.objects.order_by("study_id")
    if options.sites:
        qs = qs.filter(site__code__in=options.sites)
    if options.study_ids:
        qs = qs.filter(study_id__in=options.study_ids)
    return qs


def patient_pks(options: ExportOptions) -> list[int]:
    """The selected patients, in study ID order."""
    return list(patient_queryset(options).values_list("pk", flat=True))
