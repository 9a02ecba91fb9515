from __future__ import annotations

from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from hfs_ecrf.access import requires, sites_for
from hfs_ecrf.audit import history_rows


def render_history(request: HttpRequest, obj: Model, label: str) -> HttpResponse:
    """The audit-trail page of one object; callers have already checked access to it."""
    return render(request, "audit/history.html", {"object_label": label, "rows": history_rows(obj)})


@require_GET
@requires("view_study_data")
def site_history(request: HttpRequest, code: str) -> HttpResponse:
    site = get_object_or_404(sites_for(request.user), code=code)
    return render_history(request, site, str(site))
