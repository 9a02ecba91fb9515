"""Form states in words and with an icon (never a code, never colour alone)."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

from assessments import bands
from assessments.flow import STATE_ICONS, STATE_LABELS
from assessments.models import CRF_MODELS

register = template.Library()


@register.filter
def state_label(state: str) -> str:
    return str(STATE_LABELS.get(state, state))


@register.simple_tag
def state_badge(state: str, text: str = "", testid: str = "") -> str:
    """A badge with the state's icon and, unless ``text`` replaces it, the state's words."""
    label = STATE_LABELS.get(state, state)
    return format_html(
        '<span class="badge state-{} text-dark" title="{}"><span aria-hidden="true">{}</span> '
        "<span{}>{}</span></span>",
        state,
        label,
        STATE_ICONS.get(state, ""),
        format_html(' data-testid="{}"', testid) if testid else "",
        text or label,
    )


@register.filter
def form_title(form_code: str) -> str:
    model = CRF_MODELS.get(form_code)
    return str(model.TITLE) if model is not None else form_code


@register.filter
def unit_label(unit: str) -> str:
    return bands.unit_label(unit)


@register.filter
def band_label(code: str | None, kind: str) -> str:
    return bands.band_label(kind, code)


@register.filter
def code_control(form, name: str):
    """The missing-data code control next to field ``name`` of a case report form."""
    return form.code_field(name) if hasattr(form, "code_field") else None
