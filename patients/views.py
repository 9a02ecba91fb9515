from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from hfs_ecrf.access import requires, sites_for


@require_GET
@requires("view_study_data")
def patient_list(request: HttpRequest) -> HttpResponse:
    return render(request, "patients/patient_list.html", {"sites": sites_for(request.user)})
