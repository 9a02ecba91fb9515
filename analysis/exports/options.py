"""What an export covers: the user's choices, the patients they select, the rows written."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from assessments.models import CRF_MODELS
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


def describe_filters(filters: dict[str, Any]) -> list[tuple[str, str]]:
    """The filters of a logged export in words, (what, which): "every site" rather than None."""

    def listed(values: list[str] | None, every: str, names: dict | None = None) -> str:
        if not values:
            return every
        return ", ".join(str(names.get(v, v)) if names else str(v) for v in values)

    titles = {code: model.TITLE for code, model in CRF_MODELS.items()}
    dates = (
        _("days since randomisation")
        if filters.get("relative_dates", True)
        else _("calendar dates")
    )
    return [
        (_("sites"), listed(filters.get("sites"), _("every site"))),
        (_("visits"), listed(filters.get("visits"), _("every visit"))),
        (_("forms"), listed(filters.get("forms"), _("every form"), titles)),
        (_("patients"), listed(filters.get("study_ids"), _("every patient"))),
        (_("dates"), dates),
    ]


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
