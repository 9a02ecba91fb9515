"""Pages every app shares; the pages themselves live in the apps (home: monitoring)."""

from __future__ import annotations

from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from hfs_ecrf.audit import history_rows


def render_history(request: HttpRequest, obj: Model, label: str) -> HttpResponse:
    """The audit-trail page of one object; callers have already checked access to it."""
    return render(request, "audit/history.html", {"object_label": label, "rows": history_rows(obj)})
