"""The values of an import file read strictly: nothing is guessed. A blank cell is a missing
value; a yes/no cell accepts only the words listed; a day is a whole number. No database
access."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.utils.translation import gettext as _

TRUE_WORDS = ("true", "yes", "1", "да", "истина")
FALSE_WORDS = ("false", "no", "0", "нет", "ложь")


class BadValue(ValueError):
    """A cell that cannot be read; the message says what is allowed."""


def yes_no(text: str) -> str:
    """'true', 'false' or '' (missing) for a yes/no cell; anything else is refused."""
    word = text.strip().casefold()
    if word == "":
        return ""
    if word in TRUE_WORDS:
        return "true"
    if word in FALSE_WORDS:
        return "false"
    raise BadValue(
        _("not a yes/no value; allowed: %(true)s (yes) or %(false)s (no), or blank if missing")
        % {"true": ", ".join(TRUE_WORDS), "false": ", ".join(FALSE_WORDS)}
    )


def whole_number(text: str) -> int | None:
    """A whole number (None when blank); '12.5' or 'twelve' is refused."""
    text = text.strip()
    if text == "":
        return None
    digits = text[1:] if text[:1] in "+-" else text
    if not digits.isascii() or not digits.isdigit() or len(digits) > 9:
        raise BadValue(_("not a whole number"))
    return int(text)


def day_to_date(day0: date, text: str) -> str:
    """The ISO date of a relative day ('' when blank)."""
    days = whole_number(text)
    if days is None:
        return ""
    if abs(days) > 36_500:
        raise BadValue(_("a day more than 100 years from day 0"))
    return (day0 + timedelta(days=days)).isoformat()


def iso_date(text: str) -> date | None:
    text = text.strip()
    if text == "":
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadValue(_("not a date; write it as YYYY-MM-DD")) from None


def is_yes_no(field: forms.Field) -> bool:
    return isinstance(field, forms.BooleanField | forms.NullBooleanField)
