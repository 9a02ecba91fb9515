"""One flow through a visit: its forms as a checklist, progress, and the next form to open."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from assessments.models import CRF_MODELS, FormStatus, Visit
from assessments.schedule import VISITS
from assessments.selectors import NOT_STARTED, form_states

MISSED = "missed"
# Every state a form can show, with its words and an icon, so that no page shows a code and no
# state is told by colour alone.
STATE_LABELS = {
    NOT_STARTED: _("not started"),
    FormStatus.DRAFT.value: FormStatus.DRAFT.label,
    FormStatus.COMPLETE.value: FormStatus.COMPLETE.label,
    FormStatus.NOT_DONE.value: FormStatus.NOT_DONE.label,
    MISSED: _("missed"),
}
STATE_ICONS = {
    NOT_STARTED: "○",
    FormStatus.DRAFT.value: "✎",
    FormStatus.COMPLETE.value: "✓",
    FormStatus.NOT_DONE.value: "⊘",
    MISSED: "✗",
}
DONE_STATES = {FormStatus.COMPLETE.value, FormStatus.NOT_DONE.value}


def visit_checklist(visit: Visit | None, code: str) -> list[dict[str, Any]]:
    """The forms of one visit in order, each with its state (one query per form model)."""
    states = form_states([visit]) if visit is not None and visit.pk else {}
    rows = []
    for form_code in VISITS[code].forms:
        state = states.get((visit.pk, form_code), NOT_STARTED) if visit is not None else NOT_STARTED
        if visit is not None and visit.status == Visit.Status.MISSED:
            state = MISSED
        rows.append(
            {
                "code": form_code,
                "title": CRF_MODELS[form_code].TITLE,
                "state": state,
                "done": state in DONE_STATES,
            }
        )
    return rows


def progress(checklist: list[dict[str, Any]]) -> dict[str, int]:
    done = sum(1 for row in checklist if row["done"])
    return {"done": done, "total": len(checklist)}


def next_form_code(code: str, form_code: str) -> str | None:
    forms = VISITS[code].forms
    index = forms.index(form_code)
    return forms[index + 1] if index + 1 < len(forms) else None


def after_save_url(study_id: str, code: str, form_code: str) -> str:
    """'Save and next form': the next form of the visit, or the visit's checklist after the last."""
    following = next_form_code(code, form_code)
    if following is None:
        return reverse("assessments:visit", args=[study_id, code])
    return reverse("assessments:crf", args=[study_id, code, following])


def first_open_form_url(study_id: str, visit: Visit) -> str:
    """After the visit date: the first form not yet complete or not done (else the visit)."""
    for row in visit_checklist(visit, visit.code):
        if not row["done"]:
            return reverse("assessments:crf", args=[study_id, visit.code, row["code"]])
    return reverse("assessments:visit", args=[study_id, visit.code])


def crf_context(visit: Visit, form_code: str) -> dict[str, Any]:
    checklist = visit_checklist(visit, visit.code)
    return {
        "checklist": checklist,
        "progress": progress(checklist),
        "next_form": next_form_code(visit.code, form_code),
    }
