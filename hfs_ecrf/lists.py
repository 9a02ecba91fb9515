"""Server-side lists: one page of rows, and filter forms whose errors say what was wrong.

The list pages (patients, screening log, record status) load only the rows of the page asked
for; filters and the page number travel in the querystring (``{% querystring %}`` keeps the
filters on the page links).
"""

from __future__ import annotations

from functools import lru_cache
from math import ceil
from urllib.parse import quote

import django_filters
from django import forms
from django.core.paginator import Page, Paginator
from django.db.models import IntegerField, QuerySet, Subquery
from django.http import HttpRequest
from django.urls import reverse
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.translation import gettext as _

from hfs_ecrf.widget_html import FAST_WIDGETS

PER_PAGE = 50


class _CountOf(Subquery):
    """``(SELECT COUNT(*) FROM (<the list's query>))``: uncorrelated, so the database computes
    it once per query, while the page itself is still read with LIMIT/OFFSET."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) _counted)"
    output_field = IntegerField()


def paginate(request: HttpRequest, queryset: QuerySet, per_page: int = PER_PAGE) -> Page:
    """The requested page (``?page=``) of ``queryset``: its rows and the total in one query.

    A page number that is not a number gives the first page and one past the end gives the last
    (links to a shrinking list go stale), at the cost of a second query in that case only.
    """
    paginator = Paginator(queryset, per_page)
    try:
        number = max(1, int(request.GET.get("page") or 1))
    except ValueError:
        number = 1
    rows, total = _page_rows(queryset, number, per_page)
    if not rows and number > 1:
        total = queryset.count()
        number = max(1, ceil(total / per_page))
        rows, total = _page_rows(queryset, number, per_page)
    paginator.count = total  # known from the page's query; Paginator would count again
    return Page(rows, number, paginator)


def _page_rows(queryset: QuerySet, number: int, per_page: int) -> tuple[list, int]:
    counted = queryset.order_by().values("pk")
    offset = (number - 1) * per_page
    rows = list(queryset.annotate(list_total=_CountOf(counted))[offset : offset + per_page])
    return rows, rows[0].list_total if rows else 0


class UrlPattern:
    """Many URLs of one URL pattern for the rows of a list: ``reverse()`` once, then each URL by
    joining the pattern's fixed parts with the row's arguments, quoted as ``reverse()`` quotes
    them (``UrlPattern("assessments:crf")("AAA-001", "V1", "spasm")``).

    For ``<str:…>`` arguments only. An argument ``reverse()`` would refuse (empty, or holding a
    "/") goes through ``reverse()`` itself, which raises as it always did.
    """

    _MARK = "zq{}qz"
    _SAFE = RFC3986_SUBDELIMS + "/~:@"

    def __init__(self, name: str, nargs: int) -> None:
        self.name = name
        marks = [self._MARK.format(i) for i in range(nargs)]
        url = reverse(name, args=marks)
        self.parts: list[str] = []
        for mark in marks:
            head, url = url.split(mark, 1)
            self.parts.append(head)
        self.parts.append(url)

    def __call__(self, *args: object) -> str:
        texts = [str(arg) for arg in args]
        if len(texts) != len(self.parts) - 1 or any(not t or "/" in t for t in texts):
            return reverse(self.name, args=args)
        url = self.parts[0]
        for text, part in zip(texts, self.parts[1:], strict=True):
            url += _quoted(text) + part
        return url


@lru_cache(maxsize=4096)
def _quoted(text: str) -> str:
    """``text`` quoted for a URL path as ``reverse()`` quotes it (lists repeat their study IDs,
    visit and form codes: each is quoted once)."""
    return quote(text, safe=UrlPattern._SAFE)


class ListFilterSet(django_filters.FilterSet):
    """A FilterSet whose invalid values say the value given and the values allowed (the page
    shows them after the field's label).

    ``rows`` is the filtered queryset, or no rows at all while any filter is invalid: a list
    filtered by some of what was asked for would look like the answer to the whole question.
    """

    @property
    def form(self) -> forms.Form:
        form = super().form
        if not getattr(form, "_explained", False):
            for field in form.fields.values():
                if isinstance(field, forms.ChoiceField):
                    field.error_messages["invalid_choice"] = _invalid_choice(field)
                field.widget.attrs.setdefault("class", _css_class(field.widget))
            form.renderer = FAST_WIDGETS  # the same HTML as Django's widget templates, cheaper
            form._explained = True
        return form

    @property
    def rows(self) -> QuerySet:
        if self.is_bound and not self.is_valid():
            return self.queryset.none()
        return self.qs

    @property
    def active(self) -> bool:
        """Whether any filter narrows the list (to tell "no rows" from "no matches")."""
        return self.is_bound and any(
            value not in (None, "", False) for value in self.form.cleaned_data.values()
        )


def _invalid_choice(field: forms.ChoiceField) -> str:
    allowed = ", ".join(str(value) for value, _label in field.choices if value != "")
    # The allowed values are known now; the value given comes with the error (its %(value)s).
    return _("“%(value)s” is not allowed; allowed values: %(allowed)s.").replace(
        "%(allowed)s", allowed.replace("%", "%%")
    )


def _css_class(widget: forms.Widget) -> str:
    if isinstance(widget, forms.CheckboxInput):
        return "form-check-input"
    if isinstance(widget, forms.Select):
        return "form-select form-select-sm"
    return "form-control form-control-sm"
