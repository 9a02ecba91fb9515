"""Template context the patients app adds to every page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from patients.models import Site


def demo_data(request: HttpRequest) -> dict[str, Any]:
    """Whether demo (synthetic) sites exist: the layout then shows the demo banner."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"demo_data": Site.objects.filter(is_demo=True).exists()}
