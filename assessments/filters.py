"""The filters of the patient lists (the patient list and the record status grid), all in SQL.

Search by study ID; site; arm (only for roles that may see it); progress status (the SQL form
of ``selectors.patient_progress``); the state of a visit; and whatever upper layers register in
``hfs_ecrf.hooks`` (monitoring adds "with open queries").
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from assessments.models import Visit
from assessments.schedule import VISIT_CODES
from assessments.selectors import progress_status_q
from hfs_ecrf.access import arm_visible
from hfs_ecrf.hooks import patient_list_filters
from hfs_ecrf.lists import ListFilterSet
from patients.models import Arm, Patient, PatientStatus
from patients.selectors import site_codes

NOT_STARTED = "not_started"
OUT_OF_WINDOW = "out_of_window"
VISIT_STATES = [
    (NOT_STARTED, _("not started")),
    *Visit.Status.choices,
    (OUT_OF_WINDOW, _("out of window")),
]
STATUSES = [(value, label) for value, label in PatientStatus.choices if value != "screened"]


class PatientFilterForm(forms.Form):
    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("visit_state") == NOT_STARTED and not data.get("visit"):
            self.add_error(
                "visit",
                gettext("Choose which visit has not started: one of %(codes)s.")
                % {"codes": ", ".join(VISIT_CODES)},
            )
        return data


class PatientFilter(ListFilterSet):
    q = django_filters.CharFilter(
        field_name="study_id", lookup_expr="icontains", label=_("Study ID contains")
    )
    site = django_filters.ChoiceFilter(field_name="site__code", label=_("Site"))
    arm = django_filters.ChoiceFilter(
        field_name="allocation__arm", choices=Arm.choices, label=_("Arm")
    )
    status = django_filters.ChoiceFilter(
        choices=STATUSES, method="filter_status", label=_("Status")
    )
    visit = django_filters.ChoiceFilter(
        choices=[(code, code) for code in VISIT_CODES], method="filter_none", label=_("Visit")
    )
    visit_state = django_filters.ChoiceFilter(
        choices=VISIT_STATES, method="filter_none", label=_("Visit state")
    )

    class Meta:
        model = Patient
        fields: list[str] = []
        form = PatientFilterForm

    def __init__(self, data: Any = None, *, user: Any, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.filters["site"].extra["choices"] = [(code, code) for code in site_codes(user)]
        if not arm_visible(user):
            del self.filters["arm"]  # a role blind to the arm can neither see nor filter by it
        self.extra_filters = patient_list_filters()
        for name, extra in self.extra_filters.items():
            added = django_filters.BooleanFilter(
                field_name=name,
                label=extra.label,
                method="filter_registered",
                widget=forms.CheckboxInput,
            )
            added.parent = self
            self.filters[name] = added

    def filter_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(progress_status_q(value))

    def filter_none(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        return queryset  # visit and visit state act together (filter_queryset)

    def filter_registered(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        return self.extra_filters[name].apply(queryset) if value else queryset

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter_queryset(queryset)
        state = self.form.cleaned_data.get("visit_state")
        if not state:
            return queryset
        visits = Visit.objects.filter(patient_id=OuterRef("pk"))
        code = self.form.cleaned_data.get("visit")
        if code:
            visits = visits.filter(code=code)
        if state == NOT_STARTED:
            return queryset.exclude(Exists(visits))
        if state == OUT_OF_WINDOW:
            return queryset.filter(Exists(visits.filter(out_of_window=True)))
        return queryset.filter(Exists(visits.filter(status=state)))
