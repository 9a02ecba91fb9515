"""Template context the patients app adds to every page."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.http import HttpRequest

from patients.models import Site

DEMO_SITES_KEY = "patients:demo-sites"
# Demo sites come and go with `seed_demo` (a command, not a request), so each worker reads the
# flag again at most this often instead of on every page.
DEMO_SITES_SECONDS = 60


def demo_data(request: HttpRequest) -> dict[str, Any]:
    """Whether demo (synthetic) sites exist: the layout then shows the demo banner."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    shown = cache.get(DEMO_SITES_KEY)
    if shown is None:
        shown = Site.objects.filter(is_demo=True).exists()
        cache.set(DEMO_SITES_KEY, shown, DEMO_SITES_SECONDS)
    return {"demo_data": shown}
