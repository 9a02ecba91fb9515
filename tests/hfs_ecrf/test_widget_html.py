"""The list filters' widgets written in Python (hfs_ecrf/widget_html.py) are byte for byte what
Django's widget templates write, for every list filter form, bound or not, valid or not, in both
languages; widgets it does not know still go through the templates."""

from __future__ import annotations

import pytest
from django import forms
from django.forms.renderers import get_default_renderer
from django.utils import translation
from django.utils.safestring import mark_safe

from assessments.filters import PatientFilter
from hfs_ecrf.widget_html import FAST_WIDGETS
from patients.filters import ScreeningFilter
from patients.models import Patient, Screening

QUERIES = [
    None,
    {},
    {"q": "SMR-0", "site": "SMR", "status": "withdrawn", "visit": "V1", "visit_state": "done"},
    {"q": "<b>\"x\" & 'y'", "site": "nowhere", "arm": "<script>", "open_queries": "on"},
    {"q": "ж", "outcome": "eligible", "enrolled": "no", "page": "3"},
    {"visit_state": "not_started"},
]


def _filtersets(data, user):
    yield PatientFilter(data, queryset=Patient.objects.all(), user=user)
    yield ScreeningFilter(data, queryset=Screening.objects.all(), user=user)


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize("data", QUERIES)
def test_fast_widgets_write_what_the_templates_write(data, language, dana, site_a):
    templates = get_default_renderer()
    with translation.override(language):
        for filterset in _filtersets(data, dana):
            form = filterset.form
            assert form.renderer is FAST_WIDGETS
            form.is_valid()
            assert len(form.fields) >= 4
            for bound in form:
                fast = bound.as_widget()
                form.renderer = templates
                slow = bound.as_widget()
                form.renderer = FAST_WIDGETS
                assert fast == slow, bound.name
                assert bound.auto_id and f'id="{bound.auto_id}"' in fast


def test_what_it_does_not_know_goes_to_the_templates():
    grouped = forms.Select(choices=[("Group", [("a", "A")]), ("b", "B")])
    numbers = forms.Select(choices=[(1, 1000), (2, mark_safe("<i>two</i>"))])
    radios = forms.RadioSelect(choices=[("a", "A")])
    templates = get_default_renderer()
    for widget in (grouped, numbers, radios, forms.Textarea(), forms.DateInput()):
        for value in ("a", 1, None):
            assert widget.render("f", value, {"id": "id_f"}, renderer=FAST_WIDGETS) == (
                widget.render("f", value, {"id": "id_f"}, renderer=templates)
            )
