"""The list pages' filter widgets rendered in Python, byte for byte as Django's widget templates
render them.

Django renders a ``<select>`` through a template per option and another per option's
attributes: a filter form of a few selects cost more CPU than a page of rows. ``FastWidgets``
writes the same HTML (``django/forms/widgets/{input,text,checkbox,select,select_option,
attrs}.html``) directly; any widget or value it does not know (another template, an option
group, a label that is not text) goes to Django's templates as before.
tests/hfs_ecrf/test_widget_html.py holds the two equal on every list filter form.
"""

from __future__ import annotations

from typing import Any

from django.forms.renderers import DjangoTemplates
from django.utils.functional import Promise
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData, mark_safe

_WIDGETS = "django/forms/widgets/"
_INPUT = _WIDGETS + "input.html"
_OPTION = _WIDGETS + "select_option.html"


class _NotPlain(Exception):
    """A value this module does not write as Django's templates would: use the templates."""


def _text(value: Any) -> str:
    """``{{ value }}`` for text: escaped unless already safe (other types are localised by the
    template engine: not handled here)."""
    if not isinstance(value, str | Promise):
        raise _NotPlain
    return conditional_escape(value)


def _formatted(value: Any) -> str:
    """``{{ value|stringformat:'s' }}``: ``"%s" % value``, escaped unless the value was safe."""
    text = "%s" % (value,)  # noqa: UP031 - what the stringformat filter does
    return conditional_escape(mark_safe(text) if isinstance(value, SafeData) else text)  # noqa: S308


def _attrs(attrs: dict[str, Any]) -> str:
    """``django/forms/widgets/attrs.html``."""
    html = []
    for name, value in attrs.items():
        if value is False:
            continue
        html.append(" " + _text(name))
        if value is not True:
            html.append('="' + _formatted(value) + '"')
    return "".join(html)


def _input(widget: dict[str, Any]) -> str:
    value = "" if widget["value"] is None else ' value="' + _formatted(widget["value"]) + '"'
    return (
        f'<input type="{_text(widget["type"])}" name="{_text(widget["name"])}"{value}'
        f"{_attrs(widget['attrs'])}>"
    )


def _option(option: dict[str, Any]) -> str:
    if option.get("template_name") != _OPTION:
        raise _NotPlain
    return (
        f'<option value="{_formatted(option["value"])}"{_attrs(option["attrs"])}>'
        f"{_text(option['label'])}</option>\n"
    )


def _select(widget: dict[str, Any]) -> str:
    html = [f'<select name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            raise _NotPlain
        html.extend("\n  " + _option(option) for option in group_choices)
    html.append("\n</select>")
    return "".join(html)


_RENDER = {
    _INPUT: _input,
    _WIDGETS + "text.html": _input,
    _WIDGETS + "checkbox.html": _input,
    _WIDGETS + "select.html": _select,
}


class FastWidgets(DjangoTemplates):
    """A form renderer writing plain inputs and selects in Python (see the module's text); as
    every renderer, it strips the outer whitespace of what a widget's template wrote."""

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        render = _RENDER.get(template_name)
        widget = context.get("widget") if render is not None else None
        if widget is not None:
            try:
                return render(widget)
            except _NotPlain:
                pass
        return super().render(template_name, context, request)


FAST_WIDGETS = FastWidgets()
