"""Reads of patients and sites shared by list pages, detail pages and the analysis."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from hfs_ecrf.access import scope_to_sites, site_codes_for
from patients.models import Patient, Screening, Site


def sites_for(user: Any) -> QuerySet[Site]:
    """The sites the user works at (every site for roles that see all)."""
    return scope_to_sites(Site.objects.all(), user, site_path="pk")


def site_codes(user: Any) -> list[str]:
    """Codes of the user's sites, for filters; no query beyond the user's memberships."""
    codes = site_codes_for(user)
    if codes is None:
        codes = list(Site.objects.order_by("code").values_list("code", flat=True))
    return codes


def patient_list(user: Any) -> QuerySet[Patient]:
    """The user's patients with their site, screening, allocation, withdrawal and consent in one
    query; pages that show visits add them (assessments.selectors.patients_with_visits)."""
    return scope_to_sites(
        Patient.objects.select_related("site", "screening", "allocation", "withdrawal", "consent"),
        user,
    )


def patient_get(user: Any, study_id: str) -> Patient:
    """The patient if the user may see them; 404 otherwise (another site looks like no one)."""
    return get_object_or_404(patient_list(user), study_id=study_id)


def screening_list(user: Any) -> QuerySet[Screening]:
    return scope_to_sites(Screening.objects.select_related("site", "screened_by", "patient"), user)


def screening_log(user: Any) -> QuerySet[Screening]:
    """``screening_list`` as the screening log shows it: with the site and the patient, not who
    screened (a join and a user row fewer per screening), and only the columns its rows show
    (``patients.views._screening_rows``)."""
    return (
        screening_list(user)
        .select_related(None)
        .select_related("site", "patient")
        .only(
            "screening_number",
            "screened_on",
            "outcome",
            "failure_reasons",
            "site__code",
            "patient__study_id",
        )
    )
