"""Reads of the allocation list and of what randomisation depends on."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q

from assessments.models import LabPanel
from assessments.schedule import BASELINE_VISIT
from patients.models import AllocationList, AllocationSlot, Patient
from randomisation import allocation


def baseline_panel(patient: Patient) -> LabPanel | None:
    return LabPanel.objects.filter(visit__patient=patient, visit__code=BASELINE_VISIT).first()


def baseline_b12(patient: Patient) -> Any:
    """The baseline B12 in pmol/L, or None when not entered."""
    panel = baseline_panel(patient)
    return None if panel is None else panel.b12_pmol_l


def active_list() -> AllocationList | None:
    return AllocationList.objects.filter(is_active=True).first()


def exhausted_strata() -> list[dict[str, Any]]:
    """Strata of the active list with at most 2 free slots (for the data managers' home)."""
    active = active_list()
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
            "stratum": allocation.stratum_label(r["site__code"], r["b12_deficient"]),
            "free": r["free"],
            "total": r["total"],
        }
        for r in rows
        if r["free"] <= 2
    ]


def list_slots(allocation_list: AllocationList) -> list[allocation.Slot]:
    """The slots of a stored list, in the generator's order (site, deficient first, sequence)."""
    rows = allocation_list.slots.select_related("site").order_by(
        "site__code", "-b12_deficient", "sequence"
    )
    return [
        allocation.Slot(r.site.code, r.b12_deficient, r.sequence, r.block, r.block_size, r.arm)
        for r in rows
    ]
