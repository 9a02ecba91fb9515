"""The schedule ahead on patient and visit pages, and the visits due on the home page."""

from __future__ import annotations

from django import template
from django.utils import timezone

from assessments.due import patient_schedule, visits_due

register = template.Library()


@register.simple_tag
def schedule_for(patient):
    """Visit code → target date, window and timing (None before randomisation)."""
    return patient_schedule(patient, timezone.localdate())


@register.simple_tag(takes_context=True)
def due_visits(context):
    return visits_due(context["request"].user, timezone.localdate())
