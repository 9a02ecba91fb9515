"""The interface language: the study's default (settings.LANGUAGE_CODE) unless the user chose
another, remembered per user. The browser's Accept-Language is not followed: a Russian site
shows Russian even on a browser set to English."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from hfs_ecrf.models import UserPreference

SESSION_KEY = "study_language"


def _valid(language: str | None) -> str | None:
    return language if language in dict(settings.LANGUAGES) else None


def language_for(request: HttpRequest) -> str:
    session = getattr(request, "session", None)
    return (
        _valid(session.get(SESSION_KEY) if session is not None else None)
        or _valid(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME))
        or settings.LANGUAGE_CODE
    )


class StudyLocaleMiddleware:
    """Replaces django.middleware.locale.LocaleMiddleware (which follows Accept-Language)."""

    def __init__(self, get_response: Any):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = language_for(request)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


@login_not_required
@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's set_language (cookie, redirect to ``next``), plus the session and the user's
    preference so that the choice follows the user to another browser."""
    response = django_set_language(request)
    language = _valid(request.POST.get("language"))
    if language is not None:
        request.session[SESSION_KEY] = language
        if request.user.is_authenticated:
            UserPreference.objects.update_or_create(
                user=request.user, defaults={"language": language}
            )
    return response


def on_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """At login, the user's remembered language becomes the session's."""
    if request is None or not hasattr(request, "session"):
        return
    language = UserPreference.objects.filter(user=user).values_list("language", flat=True).first()
    if language:
        request.session[SESSION_KEY] = language
