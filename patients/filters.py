"""The screening log's filters: search by screening number, site, outcome, enrolled or not."""

from __future__ import annotations

from typing import Any

import django_filters
from django.utils.translation import gettext_lazy as _

from hfs_ecrf.lists import ListFilterSet
from patients.models import Screening
from patients.selectors import site_codes

YES_NO = [("yes", _("yes")), ("no", _("no"))]


class ScreeningFilter(ListFilterSet):
    q = django_filters.CharFilter(
        field_name="screening_number", lookup_expr="icontains", label=_("Screening number contains")
    )
    site = django_filters.ChoiceFilter(field_name="site__code", label=_("Site"))
    outcome = django_filters.ChoiceFilter(choices=Screening.Outcome.choices, label=_("Outcome"))
    enrolled = django_filters.ChoiceFilter(
        choices=YES_NO, method="filter_enrolled", label=_("Enrolled")
    )

    class Meta:
        model = Screening
        fields: list[str] = []

    def __init__(self, data: Any = None, *, user: Any, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.filters["site"].extra["choices"] = [(code, code) for code in site_codes(user)]

    def filter_enrolled(self, queryset, name: str, value: str):
        return queryset.filter(patient__isnull=value == "no")
