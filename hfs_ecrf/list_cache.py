"""Rendered list pages kept per data version: a page asked again before the data changed is
served without reading or rendering its rows again.

What is kept is the page's content block (filters, pagination, rows), never the layout around
it (user name, messages, CSRF tokens, the language form). The key holds everything that content
depends on besides the study data:

- the data version and the time it changed (``hfs_ecrf.data_version``): every audited write to
  any study table (patients, screening, visits, every form, queries, SDV, locks, withdrawals,
  sites and site memberships) moves it, in the transaction of the write;
- who asks: the sites the user sees, the user's capabilities (and superuser flag) and role,
  whether the arm is shown; not the user's identity, so users with the same scope share pages;
- the language, the time zone and today's date (due and out-of-window states depend on it);
- the page and its whole querystring.

The version is read before the page's rows, so a page kept under a version never holds data
older than that version. Per process, in memory (the ``lists`` cache): nothing to run beside
the web server; each worker keeps its own copy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest
from django.template import Context
from django.template.loader import get_template
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe

from hfs_ecrf.access import arm_visible, role_context, role_of, site_ids_for
from hfs_ecrf.data_version import data_version_stamp

CACHE = "lists"


def list_page_key(request: HttpRequest, page: str) -> str:
    """The cache key of ``page`` as ``request.user`` sees it now (reads the data version)."""
    user = request.user
    site_ids = site_ids_for(user)
    parts: list[Any] = [
        page,
        data_version_stamp(),
        None if site_ids is None else sorted(site_ids),
        bool(user.is_superuser),
        sorted(user.get_all_permissions()),
        str(role_of(user)),
        arm_visible(user),
        translation.get_language(),
        timezone.get_current_timezone_name(),
        timezone.localdate().isoformat(),
        sorted((name, values) for name, values in request.GET.lists()),
    ]
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()
    return f"list:{page}:{digest}"


def cached_list_content(request: HttpRequest, page: str, render: Callable[[], str]) -> SafeString:
    """The content of ``page``: kept if this key was rendered before, else ``render()`` (kept for
    ``LIST_CACHE_SECONDS``; a new data version makes a new key, old entries age out)."""
    if not settings.LIST_CACHE_SECONDS:
        return mark_safe(render())  # noqa: S308 - rendered by the page's own template
    key = list_page_key(request, page)
    cache = caches[CACHE]
    content = cache.get(key)
    if content is None:
        content = str(render())
        cache.set(key, content, settings.LIST_CACHE_SECONDS)
    return mark_safe(content)  # noqa: S308 - rendered by the page's own template


def render_content(request: HttpRequest, template_name: str, context: dict[str, Any]) -> str:
    """The page's content template with ``context``, the user's capabilities (``study_can``) and
    the request (``{% querystring %}``), without the layout's context processors (the layout
    runs them once, around the content)."""
    template = get_template(template_name).template
    bound = Context({**role_context(request), "request": request, **context})
    bound.request = request  # read by {% querystring %}
    return template.render(bound)
