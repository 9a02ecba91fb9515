"""Reads of patients shared by list pages, detail pages and the analysis."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from assessments.models import Visit
from hfs_ecrf.access import scope_to_sites
from patients import allocation as allocation_rules
from patients.models import AllocationList, AllocationSlot, Patient, Screening


def patient_list(user: Any) -> QuerySet[Patient]:
    """The user's patients with everything the list shows, in a fixed number of queries."""
    return scope_to_sites(
        Patient.objects.select_related(
            "site", "screening", "allocation", "withdrawal", "consent"
        ).prefetch_related(Prefetch("visits", queryset=Visit.objects.order_by("code"))),
        user,
    )


def patient_get(user: Any, study_id: str) -> Patient:
    """The patient if the user may see them; 404 otherwise (another site looks like no one)."""
    return get_object_or_404(patient_list(user), study_id=study_id)


def screening_list(user: Any) -> QuerySet[Screening]:
    return scope_to_sites(Screening.objects.select_related("site", "screened_by", "patient"), user)


def exhausted_strata() -> list[dict[str, Any]]:
    """Strata of the active list with at most 2 free slots (for the data managers' home)."""
    active = AllocationList.objects.filter(is_active=True).first()
    if active is None:
        return []
    rows = (
        AllocationSlot.objects.filter(allocation_list=active)
        .values("site__code", "b12_deficient")
        .annotate(total=Count("id"), free=Count("id", filter=Q(allocation__isnull=True)))
        .order_by("site__code", "-b12_deficient")
    )
    return [
        {
            "stratum": allocation_rules.stratum_label(r["site__code"], r["b12_deficient"]),
            "free": r["free"],
            "total": r["total"],
        }
        for r in rows
        if r["free"] <= 2
    ]
