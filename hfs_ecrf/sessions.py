"""The idle timeout of sessions without a database write on every request.

Sessions end ``SESSION_COOKIE_AGE`` (30 minutes) after they were last saved. Saving on every
request (``SESSION_SAVE_EVERY_REQUEST``) costs an UPDATE and a commit per page; this middleware
saves the session, and so moves its expiry on, at most once per ``SESSION_REFRESH_SECONDS``
(60 s): a session still ends after 30 minutes without a request, give or take that interval
(it can end up to 60 s earlier, never later).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

REFRESHED_AT = "_refreshed_at"


class SessionRefreshMiddleware:
    """Listed after SessionMiddleware: runs before it saves the session on the way out."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is None or session.is_empty():
            return response  # no session (or one just flushed, e.g. at logout): nothing to extend
        now = int(time.time())
        last = session.get(REFRESHED_AT)
        if not isinstance(last, int) or not 0 <= now - last < settings.SESSION_REFRESH_SECONDS:
            session[REFRESHED_AT] = now  # modified: SessionMiddleware saves it, expiry moves on
        return response
